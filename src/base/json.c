/*
 * base/json.c
 *		jsonb members read and JSON text written the one way every part of
 *		cadence does it (see base/json.h).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/json.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "base/json.h"

/*
 * cadence_jsonb_member_len
 *		The member key[0..keylen) of a jsonb container, into *out (or a
 *		palloc'd value when out is NULL); NULL when c is not an object or has
 *		no such member.  Every read of a member goes through here.
 */
JsonbValue *
cadence_jsonb_member_len(JsonbContainer *c, const char *key, int keylen,
						 JsonbValue *out)
{
	if (c == NULL || !JsonContainerIsObject(c))
		return NULL;
	return getKeyJsonValueFromContainer(c, key, keylen, out);
}

/*
 * cadence_jsonb_member
 *		The same for a key that ends with NUL.
 */
JsonbValue *
cadence_jsonb_member(JsonbContainer *c, const char *key, JsonbValue *out)
{
	return cadence_jsonb_member_len(c, key, strlen(key), out);
}

/*
 * cadence_jsonb_string
 *		A string member of a jsonb object, palloc'd; NULL when absent, not a
 *		string, or empty.
 */
char *
cadence_jsonb_string(Jsonb *obj, const char *key)
{
	JsonbValue	v;

	if (obj == NULL || cadence_jsonb_member(&obj->root, key, &v) == NULL ||
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

	if (obj == NULL || cadence_jsonb_member(&obj->root, key, &v) == NULL ||
		v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
		return NULL;
	return JsonbValueToJsonb(&v);
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
 * cadence_jsonb_begin
 *		Start a jsonb object.
 */
void
cadence_jsonb_begin(CadenceJsonbObject *o)
{
	o->state = NULL;
	(void) pushJsonbValue(&o->state, WJB_BEGIN_OBJECT, NULL);
}

/* A member: its key, then its value. */
static void
jsonb_member(CadenceJsonbObject *o, const char *key, JsonbValue *value)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.len = strlen(key);
	k.val.string.val = (char *) key;
	(void) pushJsonbValue(&o->state, WJB_KEY, &k);
	(void) pushJsonbValue(&o->state, WJB_VALUE, value);
}

/* "key": "value", left out when value is NULL. */
void
cadence_jsonb_add_text(CadenceJsonbObject *o, const char *key, const char *value)
{
	JsonbValue	v;

	if (value == NULL)
		return;
	v.type = jbvString;
	v.val.string.len = strlen(value);
	v.val.string.val = (char *) value;
	jsonb_member(o, key, &v);
}

/* "key": value, a number. */
void
cadence_jsonb_add_int(CadenceJsonbObject *o, const char *key, int64 value)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(value);
	jsonb_member(o, key, &v);
}

/* "key": an instant as to_jsonb writes a timestamptz. */
void
cadence_jsonb_add_timestamptz(CadenceJsonbObject *o, const char *key, TimestampTz value)
{
	cadence_jsonb_add_text(o, key, JsonEncodeDateTime(NULL, TimestampTzGetDatum(value),
													  TIMESTAMPTZOID, NULL));
}

/*
 * cadence_jsonb_end
 *		The object, its members in jsonb's order whatever order they came in.
 */
Jsonb *
cadence_jsonb_end(CadenceJsonbObject *o)
{
	return JsonbValueToJsonb(pushJsonbValue(&o->state, WJB_END_OBJECT, NULL));
}
