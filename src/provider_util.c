/*
 * provider_util.c
 *		What the provider wire formats share: reading jsonb members, writing
 *		JSON and form bodies, URLs, base64, mailboxes, and keeping text that
 *		came from elsewhere fit for a mail header or a row.
 */
#include "postgres.h"

#include "common/base64.h"
#include "mb/pg_wchar.h"
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

/*
 * cadence_clean_text
 *		Text fit to keep where members read it (an action's last error, an
 *		event): what is valid in the database encoding, control characters
 *		turned into spaces, at most max_chars characters ("..." ends a text
 *		that was cut).
 */
char *
cadence_clean_text(const char *s, int max_chars)
{
	int			len = pg_encoding_verifymbstr(GetDatabaseEncoding(), s, strlen(s));
	char	   *out = pnstrdup(s, len);
	unsigned char *p;

	for (p = (unsigned char *) out; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (pg_mbstrlen_with_len(out, len) > max_chars)
		out = psprintf("%.*s...", pg_mbcharcliplen(out, len, Max(max_chars - 3, 0)), out);
	return out;
}

/*
 * has_control
 *		Does s hold a control character (a line break, a tab, NUL's kin)?
 */
static bool
has_control(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *) s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/*
 * check_mail_field
 *		One field of check_mail_fields; an address must be one word besides.
 */
static void
check_mail_field(const char *field, const char *value, bool address)
{
	if (value == NULL)
		return;
	if (has_control(value))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("the e-mail's %s \"%s\" holds a line break or another control character",
					   field, cadence_clean_text(value, 100)),
				errhint("A mail header or SMTP command would end there; the e-mail is not sent."));
	if (address && strpbrk(value, " <>") != NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("the e-mail's %s \"%s\" is not a plain address",
					   field, cadence_clean_text(value, 100)),
				errhint("Give the address alone, as in ana@example.com, and the name apart."));
}

/*
 * cadence_check_mail_fields
 *		Refuse an e-mail whose addresses, names or subject hold a line break
 *		or another control character, before any connection: over SMTP each
 *		would end a command or a header and start one of the sender's
 *		choosing, and no provider sends such a message as it was meant.
 *		Raises 22023 naming the field and its value.
 */
void
cadence_check_mail_fields(const CadenceMessage *msg, const char *from,
						  const char *from_name)
{
	check_mail_field("sender address", from, true);
	check_mail_field("sender name", from_name, false);
	check_mail_field("recipient address", msg->to, true);
	check_mail_field("recipient name", msg->to_name, false);
	check_mail_field("reply-to address", msg->reply_to, true);
	check_mail_field("subject", msg->subject, false);
}
