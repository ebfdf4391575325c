/*
 * webhooks/input.c
 *		What a webhook's sender controls, read in time linear in its size:
 *		URL-encoded form bodies (Twilio, SendGrid's Inbound Parse) and URL
 *		query values decoded in one pass, and the caps on one delivery
 *		(cadence.webhook_max_bytes, cadence.webhook_max_events), checked
 *		before anything in it is matched or applied.
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "base/gucs.h"

PG_FUNCTION_INFO_V1(cadence_url_decode);
PG_FUNCTION_INFO_V1(cadence_form_decode);
PG_FUNCTION_INFO_V1(cadence_check_webhook_size);

/*
 * hex_value
 *		The value of one hex digit, or -1.
 */
static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * url_decode_text
 *		Decode len bytes of URL-encoded text (buf is scratch space): '+' is
 *		a space, %XX the byte XX, a '%' not followed by two hex digits stays
 *		as it is.  The bytes are UTF-8 (what browsers and providers send)
 *		and come out in the database's encoding; invalid UTF-8 is an error.
 */
static text *
url_decode_text(const char *s, int len, StringInfo buf)
{
	const char *end = s + len;
	char	   *converted;
	text	   *result;

	resetStringInfo(buf);
	while (s < end)
	{
		if (*s == '+')
		{
			appendStringInfoChar(buf, ' ');
			s++;
		}
		else if (*s == '%' && end - s >= 3 && hex_value(s[1]) >= 0 && hex_value(s[2]) >= 0)
		{
			appendStringInfoChar(buf, (char) (hex_value(s[1]) * 16 + hex_value(s[2])));
			s += 3;
		}
		else
		{
			const char *run = s;

			/* Copy a run of plain bytes at once. */
			s++;
			while (s < end && *s != '+' && *s != '%')
				s++;
			appendBinaryStringInfo(buf, run, s - run);
		}
	}
	converted = pg_any_to_server(buf->data, buf->len, PG_UTF8);
	result = cstring_to_text_with_len(converted, strlen(converted));
	if (converted != buf->data)
		pfree(converted);
	return result;
}

/*
 * cadence.url_decode(s text) RETURNS text
 *		A URL-encoded string, decoded.
 */
Datum
cadence_url_decode(PG_FUNCTION_ARGS)
{
	text	   *s = PG_GETARG_TEXT_PP(0);
	StringInfoData buf;

	initStringInfo(&buf);
	PG_RETURN_TEXT_P(url_decode_text(VARDATA_ANY(s), VARSIZE_ANY_EXHDR(s), &buf));
}

/*
 * push_string
 *		Push one decoded string into a jsonb under construction as a key or
 *		a value.
 */
static void
push_string(JsonbParseState **state, JsonbIteratorToken token, text *t)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = VARDATA_ANY(t);
	v.val.string.len = VARSIZE_ANY_EXHDR(t);
	(void) pushJsonbValue(state, token, &v);
}

/*
 * cadence.form_decode(body text) RETURNS jsonb
 *		An application/x-www-form-urlencoded body as a JSON object of
 *		strings: fields split on '&' (empty ones skipped), each name and
 *		value URL-decoded; a field without '=' has the value ''.  A name
 *		given twice keeps its last value.  One pass over the body.
 */
Datum
cadence_form_decode(PG_FUNCTION_ARGS)
{
	text	   *body = PG_GETARG_TEXT_PP(0);
	const char *p = VARDATA_ANY(body);
	const char *end = p + VARSIZE_ANY_EXHDR(body);
	JsonbParseState *state = NULL;
	JsonbValue *object;
	StringInfoData buf;

	initStringInfo(&buf);
	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	while (p < end)
	{
		const char *field_end = memchr(p, '&', end - p);
		const char *eq;

		if (field_end == NULL)
			field_end = end;
		if (field_end > p)
		{
			eq = memchr(p, '=', field_end - p);
			push_string(&state, WJB_KEY, url_decode_text(p, (eq ? eq : field_end) - p, &buf));
			push_string(&state, WJB_VALUE,
						eq ? url_decode_text(eq + 1, field_end - eq - 1, &buf)
						: cstring_to_text(""));
		}
		p = field_end + 1;
	}
	object = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(object));
}

/*
 * cadence.check_webhook_size(provider text, bytes bigint, events integer)
 *		RETURNS void
 *		Refuse a delivery over the caps, with SQLSTATE 54000: bytes of body,
 *		headers and URL together over cadence.webhook_max_bytes, or more
 *		events than cadence.webhook_max_events.  NULL skips a check.
 */
Datum
cadence_check_webhook_size(PG_FUNCTION_ARGS)
{
	char	   *provider = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (!PG_ARGISNULL(1) && PG_GETARG_INT64(1) > (int64) cadence_webhook_max_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("this %s webhook is %lld bytes, more than cadence.webhook_max_bytes (%d)",
						provider, (long long) PG_GETARG_INT64(1), cadence_webhook_max_bytes),
				 errdetail("Nothing of it was applied."),
				 errhint("Leave out what cadence does not read (attachments), or have a superuser raise cadence.webhook_max_bytes.")));
	if (!PG_ARGISNULL(2) && PG_GETARG_INT32(2) > cadence_webhook_max_events)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("this %s webhook has %d events, more than cadence.webhook_max_events (%d)",
						provider, PG_GETARG_INT32(2), cadence_webhook_max_events),
				 errdetail("Nothing of it was applied."),
				 errhint("Have the provider send smaller batches, or have a superuser raise cadence.webhook_max_events.")));
	PG_RETURN_VOID();
}
