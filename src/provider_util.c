/*
 * provider_util.c
 *		What the provider wire formats share: reading jsonb members, writing
 *		JSON and form bodies, URLs, base64.
 */
#include "postgres.h"

#include "common/base64.h"
#include "utils/json.h"

#include "provider.h"
#include "provider_util.h"

/*
 * cadence_jsonb_string
 *		A string member of a jsonb object, palloc'd; NULL when absent, not a
 *		string, or empty.
 */
char *
cadence_jsonb_string(Jsonb *obj, const char *key)
{
	JsonbValue	v;

	if (obj == NULL || !JB_ROOT_IS_OBJECT(obj) ||
		getKeyJsonValueFromContainer(&obj->root, key, strlen(key), &v) == NULL ||
		v.type != jbvString || v.val.string.len == 0)
		return NULL;
	return pnstrdup(v.val.string.val, v.val.string.len);
}

/*
 * cadence_jsonb_require
 *		The same; absent is an error naming the key (and never its value).
 */
char *
cadence_jsonb_require(Jsonb *obj, const char *key, const char *what)
{
	char	   *s = cadence_jsonb_string(obj, key);

	if (s == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("%s has no %s", what, key));
	return s;
}

/*
 * cadence_jsonb_object
 *		An object member of a jsonb object as its own Jsonb, or NULL.
 */
Jsonb *
cadence_jsonb_object(Jsonb *obj, const char *key)
{
	JsonbValue	v;

	if (obj == NULL || !JB_ROOT_IS_OBJECT(obj) ||
		getKeyJsonValueFromContainer(&obj->root, key, strlen(key), &v) == NULL ||
		v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
		return NULL;
	return JsonbValueToJsonb(&v);
}

/*
 * cadence_join_url
 *		base_url and path with one slash between them.
 */
char *
cadence_join_url(const char *base_url, const char *path)
{
	size_t		len = strlen(base_url);

	while (len > 0 && base_url[len - 1] == '/')
		len--;
	while (*path == '/')
		path++;
	return psprintf("%.*s/%s", (int) len, base_url, path);
}

/*
 * json_sep
 *		A comma unless the buffer just opened an object or array.
 */
static void
json_sep(StringInfo buf)
{
	char		last = buf->len > 0 ? buf->data[buf->len - 1] : '{';

	if (last != '{' && last != '[')
		appendStringInfoChar(buf, ',');
}

/* "key": */
void
cadence_json_key(StringInfo buf, const char *key)
{
	json_sep(buf);
	escape_json(buf, key);
	appendStringInfoChar(buf, ':');
}

/* "key": "value", left out when value is NULL. */
void
cadence_json_string(StringInfo buf, const char *key, const char *value)
{
	if (value == NULL)
		return;
	cadence_json_key(buf, key);
	escape_json(buf, value);
}

/* "key": <raw JSON>, left out when json is NULL. */
void
cadence_json_raw(StringInfo buf, const char *key, const char *json)
{
	if (json == NULL)
		return;
	cadence_json_key(buf, key);
	appendStringInfoString(buf, json);
}

/* "key": <jsonb>, left out when value is NULL. */
void
cadence_json_jsonb(StringInfo buf, const char *key, Jsonb *value)
{
	if (value == NULL)
		return;
	cadence_json_key(buf, key);
	(void) JsonbToCString(buf, &value->root, VARSIZE(value));
}

/* An array element: "value". */
void
cadence_json_element(StringInfo buf, const char *value)
{
	json_sep(buf);
	escape_json(buf, value);
}

/*
 * cadence_form_field
 *		name=value of an application/x-www-form-urlencoded body, left out
 *		when value is NULL.
 */
void
cadence_form_field(StringInfo buf, const char *name, const char *value)
{
	const unsigned char *p;

	if (value == NULL)
		return;
	if (buf->len > 0)
		appendStringInfoChar(buf, '&');
	appendStringInfo(buf, "%s=", name);
	for (p = (const unsigned char *) value; *p; p++)
	{
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
			appendStringInfoChar(buf, (char) *p);
		else
			appendStringInfo(buf, "%%%02X", *p);
	}
}

/*
 * cadence_base64
 *		Base64 of len bytes, without line breaks.
 */
char *
cadence_base64(const char *data, int len)
{
	int			cap = pg_b64_enc_len(len) + 1;
	char	   *out = palloc(cap);
	int			n = pg_b64_encode(data, len, out, cap);

	if (n < 0)
		elog(ERROR, "could not encode base64");
	out[n] = '\0';
	return out;
}

/*
 * cadence_unbase64
 *		Decode base64; NULL when it is not base64.
 */
char *
cadence_unbase64(const char *text, int *len)
{
	int			tl = strlen(text);
	int			cap = pg_b64_dec_len(tl) + 1;
	char	   *out = palloc(cap);

	*len = pg_b64_decode(text, tl, out, cap);
	return *len < 0 ? NULL : out;
}

/*
 * cadence_mailbox
 *		"Name <address>" when there is a name, else the address.  The name
 *		is quoted when it has characters a mail header would read.
 */
char *
cadence_mailbox(const char *name, const char *address)
{
	if (name == NULL || name[0] == '\0')
		return pstrdup(address);
	if (strpbrk(name, "\"(),.:;<>@[\\]") != NULL)
	{
		StringInfoData buf;
		const char *p;

		initStringInfo(&buf);
		appendStringInfoChar(&buf, '"');
		for (p = name; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				appendStringInfoChar(&buf, '\\');
			appendStringInfoChar(&buf, *p);
		}
		appendStringInfo(&buf, "\" <%s>", address);
		return buf.data;
	}
	return psprintf("%s <%s>", name, address);
}

/*
 * cadence_email_message_id
 *		The Message-ID cadence gives an email: <idempotency-key@host of the
 *		sender>.  A reply names it in In-Reply-To and References, which is
 *		how ingest_webhook finds the step that was answered.
 */
char *
cadence_email_message_id(const CadenceMessage *msg, const char *from)
{
	const char *at = from ? strrchr(from, '@') : NULL;

	return psprintf("<%s@%s>", msg->idempotency_key, at ? at + 1 : "cadence.invalid");
}
