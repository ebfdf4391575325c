/*
 * schedule/members.c
 *		Reading the members of a schedule rule or of cadence settings
 *		(jsonb) for schedule/parse.c: times, counts and booleans, each
 *		checked, and the error that names the JSON path and the bad value,
 *		e.g.
 *			invalid days[0].actions[1].scheduleRule.timeOfDay: "25:00"
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "base/json.h"
#include "schedule/members.h"
#include "schedule/schedule.h"

/*
 * cadence_json_path
 *		"path.key", or "key" when path is empty.  Error paths only.
 */
char *
cadence_json_path(const char *path, const char *key)
{
	return path[0] == '\0' ? pstrdup(key) : psprintf("%s.%s", path, key);
}

/*
 * numeric_text
 *		A numeric as numeric_out writes it (never with an exponent).
 */
static char *
numeric_text(Numeric n)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));
}

/*
 * cadence_json_text
 *		A JSON value as JSON text, shortened for an error message.
 */
char *
cadence_json_text(const JsonbValue *v)
{
	StringInfoData buf;

	initStringInfo(&buf);
	switch (v->type)
	{
		case jbvNull:
			appendStringInfoString(&buf, "null");
			break;
		case jbvBool:
			appendStringInfoString(&buf, v->val.boolean ? "true" : "false");
			break;
		case jbvNumeric:
			appendStringInfoString(&buf, numeric_text(v->val.numeric));
			break;
		case jbvString:
			escape_json(&buf, pnstrdup(v->val.string.val, v->val.string.len));
			break;
		case jbvBinary:
			(void) JsonbToCString(&buf, v->val.binary.data, v->val.binary.len);
			break;
		default:
			appendStringInfoString(&buf, "?");
			break;
	}
	if (buf.len > 200)
	{
		buf.len = pg_mbcliplen(buf.data, buf.len, 197);
		buf.data[buf.len] = '\0';
		appendStringInfoString(&buf, "...");
	}
	return buf.data;
}

/*
 * cadence_invalid_member
 *		Raise "invalid <path>.<key>: <value>" with a detail.
 */
void
cadence_invalid_member(const char *path, const char *key, const JsonbValue *v,
			  const char *detail)
{
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("invalid %s: %s", cadence_json_path(path, key), cadence_json_text(v)),
			errdetail_internal("%s", detail));
}

/*
 * cadence_member_present
 *		Fetch key from an object; false when absent or JSON null.
 */
bool
cadence_member_present(JsonbContainer *obj, const char *key, JsonbValue *v)
{
	return cadence_jsonb_member(obj, key, v) != NULL &&
		v->type != jbvNull;
}

/*
 * cadence_parse_hhmm
 *		"HH:mm" to minutes after midnight, or -1.
 */
int
cadence_parse_hhmm(const char *s, int len)
{
	int			h;
	int			m;

	if (len != 5 || !isdigit((unsigned char) s[0]) ||
		!isdigit((unsigned char) s[1]) || s[2] != ':' ||
		!isdigit((unsigned char) s[3]) || !isdigit((unsigned char) s[4]))
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	return h * 60 + m;
}

/*
 * cadence_member_hhmm
 *		An "HH:mm" member as minutes, or -1 when absent and not required.
 */
int
cadence_member_hhmm(JsonbContainer *obj, const char *path, const char *key, bool required)
{
	JsonbValue	v;
	int			minutes;

	if (!cadence_member_present(obj, key, &v))
	{
		if (required)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("missing %s", cadence_json_path(path, key)),
					errdetail("A time is written \"HH:mm\", from \"00:00\" to \"23:59\"."));
		return -1;
	}
	if (v.type != jbvString ||
		(minutes = cadence_parse_hhmm(v.val.string.val, v.val.string.len)) < 0)
		cadence_invalid_member(path, key, &v,
					  "A time is written \"HH:mm\", from \"00:00\" to \"23:59\".");
	return minutes;
}

/*
 * cadence_member_count
 *		A whole-number member from 0 to CADENCE_RULE_MAX_NUMBER.
 */
int32
cadence_member_count(JsonbContainer *obj, const char *path, const char *key, bool required)
{
	JsonbValue	v;
	const char *s;
	int64		n = 0;

	if (!cadence_member_present(obj, key, &v))
	{
		if (required)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("missing %s", cadence_json_path(path, key)),
					errdetail("It must be a whole number from 0 to %d.",
							  CADENCE_RULE_MAX_NUMBER));
		return 0;
	}
	if (v.type != jbvNumeric)
		cadence_invalid_member(path, key, &v, "It must be a number.");

	/* numeric_out never uses exponents: accept digits, then .0* at most */
	s = numeric_text(v.val.numeric);
	for (; isdigit((unsigned char) *s) && n <= CADENCE_RULE_MAX_NUMBER; s++)
		n = n * 10 + (*s - '0');
	if (*s == '.')
		while (*++s == '0')
			;
	if (*s != '\0' || n > CADENCE_RULE_MAX_NUMBER)
		cadence_invalid_member(path, key, &v,
					  psprintf("It must be a whole number from 0 to %d.",
							   CADENCE_RULE_MAX_NUMBER));
	return (int32) n;
}

/*
 * cadence_member_bool
 *		A boolean member; absent is false.
 */
bool
cadence_member_bool(JsonbContainer *obj, const char *path, const char *key)
{
	JsonbValue	v;

	if (!cadence_member_present(obj, key, &v))
		return false;
	if (v.type != jbvBool)
		cadence_invalid_member(path, key, &v, "It must be true or false.");
	return v.val.boolean;
}
