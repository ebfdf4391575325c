/*
 * schedule/validate.c
 *		Validating a cadence's settings with the parser planning reads them
 *		with (schedule/parse.c), for cadence.validate_settings(), which the
 *		cadence contract's validation calls.  The parser reads what it does
 *		not need as absent; validation also refuses, beyond what the parser
 *		refuses, a value of the wrong JSON type, a channel of quietHours
 *		that is not one, a key of a channel's quiet hours other than start
 *		and end, and a daily cap below 1.  Each error names the JSON path
 *		and the value, under the SQLSTATE the SQL validators use for the
 *		same kind of error (22023, 22003, 23514).
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "base/json.h"
#include "schedule/schedule.h"

/* Longest value quoted in a message, in characters. */
#define MAX_QUOTED	60

/*
 * describe
 *		A JSON value as messages name it: "an object", "an array", "null",
 *		else its type and text ("number 1.5", "string \"x\""), cut at
 *		MAX_QUOTED characters.
 */
static const char *
describe(JsonbValue *v)
{
	char	   *text;
	const char *type;

	if (v->type == jbvBinary)
		return JsonContainerIsObject(v->val.binary.data) ? "an object" : "an array";
	if (v->type == jbvNull)
		return "null";
	type = v->type == jbvString ? "string" : v->type == jbvBool ? "boolean" : "number";
	text = JsonbToCString(NULL, &JsonbValueToJsonb(v)->root, -1);
	if (pg_mbstrlen(text) > MAX_QUOTED)
		text = psprintf("%.*s...", pg_mbcharcliplen(text, strlen(text), MAX_QUOTED - 3), text);
	return psprintf("%s %s", type, text);
}

/*
 * member
 *		The member key of obj in *v; false when absent or JSON null, which
 *		validation reads alike.
 */
static bool
member(JsonbContainer *obj, const char *key, JsonbValue *v)
{
	return cadence_jsonb_member(obj, key, v) != NULL && v->type != jbvNull;
}

/*
 * wrong_type
 *		22023: the value at path is not of the type expected.
 */
static void pg_attribute_noreturn()
wrong_type(const char *path, JsonbValue *v, const char *article,
		   const char *expected)
{
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("%s must be %s %s, got %s", path, article, expected, describe(v)));
}

/*
 * check_string
 *		settings.key, when present, is a string.
 */
static void
check_string(Jsonb *settings, const char *path, const char *key)
{
	JsonbValue	v;

	if (member(&settings->root, key, &v) && v.type != jbvString)
		wrong_type(psprintf("%s.%s", path, key), &v, "a", "string");
}

/*
 * check_hours_keys
 *		The quiet hours of a channel, at path, hold start and end only.
 */
static void
check_hours_keys(JsonbContainer *hours, const char *path)
{
	JsonbIterator *it = JsonbIteratorInit(hours);
	JsonbValue	key;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		char	   *name;

		if (tok != WJB_KEY)
			continue;
		name = pnstrdup(key.val.string.val, key.val.string.len);
		if (strcmp(name, "start") != 0 && strcmp(name, "end") != 0)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("unknown field %s.%s", path, name),
					errhint("Valid fields here: start, end."));
	}
}

/*
 * check_quiet_hours
 *		quietHours, when present, is an object keyed by the channels the
 *		parser knows; each channel's value that is not null or false holds
 *		start and end and nothing else (the parser checks those two).
 */
static void
check_quiet_hours(Jsonb *settings, const char *path)
{
	JsonbValue	quiet;
	JsonbIterator *it;
	JsonbValue	key;
	JsonbValue	hours;
	JsonbIteratorToken tok;
	char	   *quiet_path = psprintf("%s.quietHours", path);

	if (!member(&settings->root, "quietHours", &quiet))
		return;
	if (quiet.type != jbvBinary || !JsonContainerIsObject(quiet.val.binary.data))
		wrong_type(quiet_path, &quiet, "an", "object");
	it = JsonbIteratorInit(quiet.val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		char	   *channel;
		int			c;

		if (tok != WJB_KEY)
			continue;
		(void) JsonbIteratorNext(&it, &hours, true);
		channel = pnstrdup(key.val.string.val, key.val.string.len);
		for (c = 0; c < CADENCE_QUIET_CHANNELS; c++)
			if (strcmp(channel, cadence_quiet_channels[c]) == 0)
				break;
		if (c == CADENCE_QUIET_CHANNELS)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("unknown channel \"%s\" at %s.%s", channel, quiet_path, channel),
					errhint("Quiet hours are set per channel: sms, email, whatsapp."));
		if (hours.type == jbvBinary)
			check_hours_keys(hours.val.binary.data,
							 psprintf("%s.%s", quiet_path, channel));
	}
}

/*
 * check_daily_cap
 *		maxContactsPerDay, when present, is a whole number from 1 to
 *		2147483647.
 */
static void
check_daily_cap(Jsonb *settings, const char *path)
{
	JsonbValue	v;
	char	   *cap_path = psprintf("%s.maxContactsPerDay", path);
	Datum		n;
	bool		overflow = false;

	if (!member(&settings->root, "maxContactsPerDay", &v))
		return;
	if (v.type != jbvNumeric)
		wrong_type(cap_path, &v, "an", "integer");
	n = NumericGetDatum(v.val.numeric);
	if (!DatumGetBool(DirectFunctionCall2(numeric_eq, n,
										  DirectFunctionCall2(numeric_trunc, n,
															  Int32GetDatum(0)))))
		wrong_type(cap_path, &v, "an", "integer");
	(void) numeric_int4_opt_error(v.val.numeric, &overflow);
	if (overflow)
		ereport(ERROR,
				errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				errmsg("%s is out of range, got %s", cap_path, describe(&v)),
				errhint("Integers here go up to 2147483647."));
	if (cadence_parse_daily_cap(settings) < 1)
		ereport(ERROR,
				errcode(ERRCODE_CHECK_VIOLATION),
				errmsg("%s must be at least 1, got %s", cap_path,
					   JsonbToCString(NULL, &JsonbValueToJsonb(&v)->root, -1)),
				errhint("Leave it out for no daily cap."));
}

/*
 * cadence_check_cadence_settings
 *		Validate the settings of a cadence (an object) at path: what the
 *		parser refuses, that some weekday is open, and the checks above, in
 *		the order of the keys the contract lists them in.
 */
void
cadence_check_cadence_settings(Jsonb *settings, const char *path)
{
	CadenceSettings parsed;

	cadence_validate_settings(settings, path);
	if (!JB_ROOT_IS_OBJECT(settings))
		return;
	check_quiet_hours(settings, path);
	check_daily_cap(settings, path);
	check_string(settings, path, "timezoneMode");
	cadence_parse_cadence_settings(settings, path, &parsed);
	check_string(settings, path, "holidayCalendar");
}
