/*
 * schedule/parse.c
 *		Parse and validate schedule rules and cadence settings (jsonb) into
 *		the structs schedule/math.c computes with.  Runs once per distinct
 *		value; every error is 22023 and names the JSON path and the bad value
 *		(schedule/members.c).
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/numeric.h"

#include "base/json.h"
#include "base/compat.h"
#include "schedule/members.h"
#include "schedule/schedule.h"

static const char *const weekday_names[7] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
	"saturday"
};

/* What each kind of rule reads, for the unknown-key check and its hint. */
static const char *const rule_kinds[] = {
	"immediately", "timeOfDay", "afterPrevious", "delay"
};
static const char *const rule_keys[] = {
	"kind", "timeOfDay", "dayOffset", "minutesAfterPrev", "days", "hours",
	"minutes", "businessDays", "sendAt"
};
static const char *const rule_keys_hint[] = {
	"An immediately rule takes no other keys.",
	"A timeOfDay rule takes timeOfDay and dayOffset.",
	"An afterPrevious rule takes minutesAfterPrev.",
	"A delay rule takes days, hours, minutes, businessDays and sendAt."
};

StaticAssertDecl(lengthof(rule_kinds) == CADENCE_RULE_DELAY + 1 &&
				 lengthof(rule_keys_hint) == CADENCE_RULE_DELAY + 1,
				 "one name and one hint per CadenceRuleKind");

/*
 * check_rule_keys
 *		Refuse keys that no kind of rule knows (a misspelt "dayz" would
 *		otherwise silently mean 0 days).  Keys of other kinds are tolerated,
 *		as editors keep them when the kind changes.
 */
static void
check_rule_keys(Jsonb *rule, const char *path, CadenceRuleKind kind)
{
	JsonbIterator *it = JsonbIteratorInit(&rule->root);
	JsonbValue	v;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		int			i;
		bool		known = false;

		if (tok != WJB_KEY)
			continue;
		for (i = 0; i < lengthof(rule_keys) && !known; i++)
			known = strlen(rule_keys[i]) == v.val.string.len &&
				memcmp(rule_keys[i], v.val.string.val, v.val.string.len) == 0;
		if (!known)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("unknown key \"%s\" in %s",
						   pnstrdup(v.val.string.val, v.val.string.len),
						   path[0] ? path : "rule"),
					errhint("%s", rule_keys_hint[kind]));
	}
}

/*
 * cadence_parse_rule_into
 *		Parse and validate a scheduleRule.
 */
void
cadence_parse_rule_into(Jsonb *rule, const char *path, CadenceRule *out)
{
	JsonbContainer *obj;
	JsonbValue	v;
	int			k;

	memset(out, 0, sizeof(*out));
	out->at_minute = -1;

	if (!JB_ROOT_IS_OBJECT(rule))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid %s: %s", path[0] ? path : "rule",
					   JsonbToCString(NULL, &rule->root, VARSIZE(rule))),
				errdetail("A schedule rule is a JSON object such as "
						  "{\"kind\": \"timeOfDay\", \"timeOfDay\": \"09:00\"}."));
	obj = &rule->root;

	if (!cadence_member_present(obj, "kind", &v))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("missing %s", cadence_json_path(path, "kind")),
				errhint(CADENCE_RULE_KINDS_HINT));
	for (k = 0; k < lengthof(rule_kinds); k++)
		if (v.type == jbvString && strlen(rule_kinds[k]) == v.val.string.len &&
			memcmp(rule_kinds[k], v.val.string.val, v.val.string.len) == 0)
			break;
	if (k == lengthof(rule_kinds))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid %s: %s", cadence_json_path(path, "kind"), cadence_json_text(&v)),
				errhint(CADENCE_RULE_KINDS_HINT));
	out->kind = (CadenceRuleKind) k;
	check_rule_keys(rule, path, out->kind);

	switch (out->kind)
	{
		case CADENCE_RULE_IMMEDIATELY:
			break;
		case CADENCE_RULE_TIME_OF_DAY:
			out->at_minute = cadence_member_hhmm(obj, path, "timeOfDay", true);
			out->days = cadence_member_count(obj, path, "dayOffset", false);
			break;
		case CADENCE_RULE_AFTER_PREVIOUS:
			out->elapsed_minutes = cadence_member_count(obj, path, "minutesAfterPrev", true);
			break;
		case CADENCE_RULE_DELAY:
			out->days = cadence_member_count(obj, path, "days", false);
			out->elapsed_minutes = (int64) cadence_member_count(obj, path, "hours", false) * 60 +
				cadence_member_count(obj, path, "minutes", false);
			out->business_days = cadence_member_bool(obj, path, "businessDays");
			out->at_minute = cadence_member_hhmm(obj, path, "sendAt", false);
			break;
	}
}

/*
 * cadence_parse_rule
 *		cadence_parse_rule_into, palloc'd.
 */
CadenceRule *
cadence_parse_rule(Jsonb *rule, const char *path)
{
	CadenceRule *out = palloc(sizeof(CadenceRule));

	cadence_parse_rule_into(rule, path, out);
	return out;
}

/* The channels of settings.quietHours, in CadenceChannel order. */
const char *const cadence_quiet_channels[CADENCE_QUIET_CHANNELS] = {
	"sms", "email", "whatsapp"
};

/*
 * cadence_windows_init_open
 *		Every day open all day, no holidays; SMS and WhatsApp quiet from
 *		21:00 to 08:00 in the lead's zone (the TCPA's calling hours, which
 *		carriers apply to texts), e-mail never.
 */
void
cadence_windows_init_open(CadenceWindows *w)
{
	int			i;

	memset(w, 0, sizeof(*w));
	for (i = 0; i < 7; i++)
		w->days[i] = (CadenceDayWindow) {
			.open = true, .start = 0, .end = CADENCE_MINUTES_PER_DAY
		};
	w->quiet[CADENCE_CHANNEL_SMS] = (CadenceQuiet) {.start = 21 * 60,.end = 8 * 60};
	w->quiet[CADENCE_CHANNEL_WHATSAPP] = w->quiet[CADENCE_CHANNEL_SMS];
}

/*
 * parse_quiet_hours
 *		settings.quietHours: {"sms": {"start": "21:00", "end": "08:00"}, ...}
 *		names the quiet period of each channel it lists; a channel set to
 *		null or false has none, and quietHours null or false turns them all
 *		off.  Channels left out keep their default.
 */
static void
parse_quiet_hours(Jsonb *settings, const char *path, CadenceWindows *w)
{
	JsonbValue *q;
	int			c;

	q = cadence_jsonb_member(&settings->root, "quietHours", NULL);
	if (q == NULL)
		return;
	if (q->type == jbvNull || (q->type == jbvBool && !q->val.boolean))
	{
		memset(w->quiet, 0, sizeof(w->quiet));
		return;
	}
	if (q->type != jbvBinary || !JsonContainerIsObject(q->val.binary.data))
		cadence_invalid_member(path, "quietHours", q,
					  "quietHours is an object keyed by channel: sms, email, whatsapp.");
	for (c = 0; c < CADENCE_QUIET_CHANNELS; c++)
	{
		JsonbValue	v;
		char	   *qpath;

		if (cadence_jsonb_member(q->val.binary.data, cadence_quiet_channels[c], &v) == NULL)
			continue;
		w->quiet[c] = (CadenceQuiet) {0, 0};
		if (v.type == jbvNull || (v.type == jbvBool && !v.val.boolean))
			continue;
		qpath = cadence_json_path(path, "quietHours");
		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			cadence_invalid_member(qpath, cadence_quiet_channels[c], &v,
						  "Quiet hours are {\"start\": \"HH:mm\", \"end\": \"HH:mm\"}.");
		qpath = cadence_json_path(qpath, cadence_quiet_channels[c]);
		w->quiet[c].start = cadence_member_hhmm(v.val.binary.data, qpath, "start", true);
		w->quiet[c].end = cadence_member_hhmm(v.val.binary.data, qpath, "end", true);
	}
}

/*
 * parse_business_hours
 *		{"monday": {"start": "09:00", "end": "17:00"}, ...}; a day absent
 *		(or null) is closed.
 */
static void
parse_business_hours(JsonbContainer *obj, const char *path, CadenceWindows *w)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	key;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			i;

	for (i = 0; i < 7; i++)
		w->days[i].open = false;
	while ((tok = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		char	   *day_path;
		CadenceDayWindow *dw;

		if (tok != WJB_KEY)
			continue;
		(void) JsonbIteratorNext(&it, &v, true);
		for (i = 0; i < 7; i++)
			if (strlen(weekday_names[i]) == key.val.string.len &&
				memcmp(weekday_names[i], key.val.string.val, key.val.string.len) == 0)
				break;
		if (i == 7)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("unknown day in %s: %s", path, cadence_json_text(&key)),
					errhint("Days are monday, tuesday, wednesday, thursday, "
							"friday, saturday and sunday."));
		if (v.type == jbvNull)
			continue;
		day_path = cadence_json_path(path, weekday_names[i]);
		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			cadence_invalid_member(path, weekday_names[i], &v,
						  "A day is {\"start\": \"HH:mm\", \"end\": \"HH:mm\"}.");
		dw = &w->days[i];
		dw->start = cadence_member_hhmm(v.val.binary.data, day_path, "start", true);
		dw->end = cadence_member_hhmm(v.val.binary.data, day_path, "end", true);
		if (dw->start >= dw->end)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("invalid %s: %s", day_path, cadence_json_text(&v)),
					errdetail("The start must be before the end."));
		dw->open = true;
	}
}

/*
 * parse_ymd
 *		A JSON string "YYYY-MM-DD" naming a real date.
 */
static bool
parse_ymd(const JsonbValue *v, int *y, int *m, int *d)
{
	const char *s = v->val.string.val;
	int			i;

	if (v->type != jbvString || v->val.string.len != 10 ||
		s[4] != '-' || s[7] != '-')
		return false;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char) s[i]))
			return false;
	*y = atoi(s);
	*m = (s[5] - '0') * 10 + (s[6] - '0');
	*d = (s[8] - '0') * 10 + (s[9] - '0');
	return *y >= 1 && *m >= 1 && *m <= 12 && *d >= 1 &&
		*d <= day_tab[isleap(*y)][*m - 1];
}

/*
 * parse_holidays
 *		["YYYY-MM-DD", ...] into a sorted array without duplicates.
 */
static void
parse_holidays(JsonbContainer *arr, const char *path, CadenceWindows *w)
{
	JsonbIterator *it = JsonbIteratorInit(arr);
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			n = 0;

	w->holidays = palloc(sizeof(DateADT) * Max(JsonContainerSize(arr), 1));
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		int			y,
					m,
					d;

		if (tok != WJB_ELEM)
			continue;
		if (!parse_ymd(&v, &y, &m, &d))
			cadence_invalid_member(path, psprintf("holidays[%d]", n), &v,
						  "A holiday is a local date written \"YYYY-MM-DD\".");
		w->holidays[n++] = date2j(y, m, d) - POSTGRES_EPOCH_JDATE;
	}
	if (n > 1)
	{
		int			i,
					j = 0;

		qsort(w->holidays, n, sizeof(DateADT), cadence_date_cmp);
		for (i = 1; i < n; i++)
			if (w->holidays[i] != w->holidays[j])
				w->holidays[++j] = w->holidays[i];
		n = j + 1;
	}
	w->nholidays = n;
}

/*
 * cadence_parse_settings_into
 *		businessHours, excludeWeekends and holidays; other keys are ignored.
 */
void
cadence_parse_settings_into(Jsonb *settings, const char *path,
							CadenceWindows *out)
{
	JsonbValue	v;

	cadence_windows_init_open(out);
	if (settings == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(settings))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid %s: %s", path[0] ? path : "settings",
					   JsonbToCString(NULL, &settings->root, VARSIZE(settings))),
				errdetail("Settings are a JSON object."));

	if (cadence_member_present(&settings->root, "businessHours", &v))
	{
		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			cadence_invalid_member(path, "businessHours", &v,
						  "businessHours is an object keyed by lower-case day name.");
		parse_business_hours(v.val.binary.data,
							 cadence_json_path(path, "businessHours"), out);
		out->has_business_hours = true;
	}
	out->exclude_weekends = cadence_member_bool(&settings->root, path, "excludeWeekends");
	if (cadence_member_present(&settings->root, "holidays", &v))
	{
		if (v.type != jbvBinary || !JsonContainerIsArray(v.val.binary.data))
			cadence_invalid_member(path, "holidays", &v,
						  "holidays is an array of dates written \"YYYY-MM-DD\".");
		parse_holidays(v.val.binary.data, path, out);
	}
	parse_quiet_hours(settings, path, out);
	out->restricted = out->has_business_hours || out->exclude_weekends ||
		out->nholidays > 0;
}

/*
 * cadence_parse_daily_cap
 *		settings.maxContactsPerDay, or 0 for no cap (validation refuses
 *		anything but a positive whole number).
 */
int
cadence_parse_daily_cap(Jsonb *settings)
{
	JsonbValue *v;

	if (settings == NULL || !JB_ROOT_IS_OBJECT(settings))
		return 0;
	v = cadence_jsonb_member(&settings->root, "maxContactsPerDay", NULL);
	if (v == NULL || v->type != jbvNumeric)
		return 0;
	return DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v->val.numeric)));
}

/*
 * cadence_parse_settings
 *		cadence_parse_settings_into, palloc'd.
 */
CadenceWindows *
cadence_parse_settings(Jsonb *settings, const char *path)
{
	CadenceWindows *out = palloc(sizeof(CadenceWindows));

	cadence_parse_settings_into(settings, path, out);
	return out;
}

/*
 * cadence_parse_cadence_settings
 *		Every key of a cadence's settings that planning reads: the windows,
 *		maxContactsPerDay, timezoneMode ("cadence" or "recipient") and
 *		holidayCalendar.
 */
void
cadence_parse_cadence_settings(Jsonb *settings, const char *path,
							   CadenceSettings *out)
{
	JsonbValue	v;
	char	   *mode = NULL;

	cadence_parse_settings_into(settings, path, &out->windows);
	out->max_starts_per_day = cadence_parse_daily_cap(settings);
	out->recipient_time = false;
	out->holiday_calendar = NULL;
	if (settings == NULL)
		return;
	if (cadence_jsonb_member(&settings->root, "timezoneMode", &v) &&
		v.type == jbvString)
		mode = pnstrdup(v.val.string.val, v.val.string.len);
	if (mode != NULL && strcmp(mode, "recipient") != 0 && strcmp(mode, "cadence") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s.timezoneMode: \"%s\"", path, mode),
				 errhint("Use \"cadence\" (the cadence's zone) or \"recipient\" (the lead's own zone).")));
	out->recipient_time = mode != NULL && strcmp(mode, "recipient") == 0;
	if (cadence_jsonb_member(&settings->root, "holidayCalendar", &v) &&
		v.type == jbvString)
		out->holiday_calendar = pnstrdup(v.val.string.val, v.val.string.len);
}

/*
 * cadence_validate_settings
 *		Parse, and refuse settings under which nothing is ever open.
 */
void
cadence_validate_settings(Jsonb *settings, const char *path)
{
	CadenceWindows w;
	int			i;

	cadence_parse_settings_into(settings, path, &w);
	for (i = 0; i < 7; i++)
		if (w.days[i].open && !(w.exclude_weekends && (i == 0 || i == 6)))
			return;
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("%s opens no day of the week", path[0] ? path : "settings"),
			errhint("Give businessHours at least one day, or leave excludeWeekends false."));
}
