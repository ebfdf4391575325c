/*
 * schedule/math.c
 *		Scheduling math: schedule rules, business hours, holidays and local
 *		wall time over PostgreSQL's tz library.  See schedule/schedule.h for the
 *		contract.  No SPI and no allocation on the hot path: the parsers
 *		(schedule/parse.c) run once per distinct rule or settings value,
 *		cadence_next_due once per row.
 *
 * Local-to-UTC conversion walks the zone's transitions with
 * pg_next_dst_boundary, the primitive under DetermineTimeZoneOffset, because
 * DetermineTimeZoneOffset resolves an ambiguous fall-back time to the later
 * instant and cadence needs the earlier one.
 */
#include "postgres.h"

#include "common/int.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "base/compat.h"
#include "schedule/schedule.h"

/* Seconds from the Unix epoch (pg_time_t) to 2000-01-01 (TimestampTz). */
#define EPOCH_SHIFT_SECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* Dates whose midnight is a valid TimestampTz, with a day of margin. */
#define MIN_LOCAL_DATE	(DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE + 1)
#define MAX_LOCAL_DATE	(TIMESTAMP_END_JULIAN - POSTGRES_EPOCH_JDATE - 2)

#define TZ_CACHE_SIZE		16
#define TZ_CACHE_NAME_MAX	64

static void out_of_range(void) pg_attribute_noreturn();

/* Zones already looked up, by the exact name the caller used. */
typedef struct TzCacheEntry
{
	char		name[TZ_CACHE_NAME_MAX];
	pg_tz	   *tz;
} TzCacheEntry;

static TzCacheEntry tz_cache[TZ_CACHE_SIZE];
static int	tz_cache_used = 0;
static int	tz_cache_next = 0;

/*
 * floor_div
 *		Integer division rounding towards minus infinity, so that instants
 *		before 2000 still fall on the right local day.
 */
static inline int64
floor_div(int64 a, int64 b)
{
	int64		q = a / b;

	if ((a % b) != 0 && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/*
 * out_of_range
 *		Report a due time beyond what timestamptz can hold.
 */
static void
out_of_range(void)
{
	ereport(ERROR,
			errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			errmsg("due time out of range"));
}

/*
 * is_posix_spec
 *		Does name look like a POSIX TZ specification ("+05:30", "XYZ3",
 *		"EST5EDT,M3.2.0,M11.1.0") rather than a tz database name?  pg_tzset
 *		accepts those, but their offsets count west of Greenwich, so "+05:30"
 *		means UTC-05:30: a lead's "+05:30" would be scheduled eleven hours
 *		off.  The only database names with digits and no slash are listed.
 */
static bool
is_posix_spec(const char *name)
{
	static const char *const legacy[] = {
		"EST5EDT", "CST6CDT", "MST7MDT", "PST8PDT", "GMT+0", "GMT-0", "GMT0"
	};
	int			i;

	if (strpbrk(name, ",<>") != NULL || name[0] == '+' || name[0] == '-')
		return true;
	if (strchr(name, '/') != NULL || strpbrk(name, "0123456789") == NULL)
		return false;
	for (i = 0; i < lengthof(legacy); i++)
		if (pg_strcasecmp(name, legacy[i]) == 0)
			return false;
	return true;
}

/*
 * cadence_lookup_tz_noerror
 *		The zone of that name, or NULL.  pg_tzset keeps every zone it ever
 *		loaded, so the pointers cached here stay valid for the backend's life;
 *		the cache only saves pg_tzset's upper-casing and hashing per call.
 */
pg_tz *
cadence_lookup_tz_noerror(const char *name)
{
	size_t		len = strlen(name);
	pg_tz	   *tz;
	int			i;

	if (len < TZ_CACHE_NAME_MAX)
		for (i = 0; i < tz_cache_used; i++)
			if (strcmp(tz_cache[i].name, name) == 0)
				return tz_cache[i].tz;

	if (len == 0 || len > TZ_STRLEN_MAX || is_posix_spec(name))
		return NULL;
	tz = pg_tzset(name);
	/* Leap-second zones would break timestamp arithmetic; refuse them. */
	if (tz == NULL || !pg_tz_acceptable(tz))
		return NULL;

	if (len < TZ_CACHE_NAME_MAX)
	{
		TzCacheEntry *e = &tz_cache[tz_cache_next];

		memcpy(e->name, name, len + 1);
		e->tz = tz;
		tz_cache_next = (tz_cache_next + 1) % TZ_CACHE_SIZE;
		if (tz_cache_used < TZ_CACHE_SIZE)
			tz_cache_used++;
	}
	return tz;
}

/*
 * cadence_lookup_tz
 *		The zone of that name; an unknown name is an error.
 */
pg_tz *
cadence_lookup_tz(const char *name)
{
	pg_tz	   *tz = cadence_lookup_tz_noerror(name);

	if (tz == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("unknown time zone \"%s\"", name),
				is_posix_spec(name) ?
				errdetail("POSIX zone specifications are not accepted: their "
						  "offsets count west, so \"+05:30\" means UTC-05:30.") : 0,
				errhint("Use an IANA time zone name such as \"America/New_York\"; "
						"the view pg_timezone_names lists them."));
	return tz;
}

/*
 * utc_offset_at
 *		Seconds east of UTC in force at instant t.
 */
static long
utc_offset_at(TimestampTz t, pg_tz *tz)
{
	pg_time_t	secs = floor_div(t, USECS_PER_SEC) + EPOCH_SHIFT_SECS;
	pg_time_t	boundary;
	long		before_off;
	long		after_off;
	int			before_dst;
	int			after_dst;

	if (pg_next_dst_boundary(&secs, &before_off, &before_dst, &boundary,
							 &after_off, &after_dst, tz) < 0)
		out_of_range();
	return before_off;
}

/*
 * cadence_to_local
 *		Local date and wall time (microseconds after midnight) of t.
 */
void
cadence_to_local(TimestampTz t, pg_tz *tz, DateADT *date, TimeADT *time_of_day)
{
	TimestampTz local = t + (TimestampTz) utc_offset_at(t, tz) * USECS_PER_SEC;
	int64		day = floor_div(local, USECS_PER_DAY);

	*date = (DateADT) day;
	if (time_of_day)
		*time_of_day = local - day * USECS_PER_DAY;
}

/*
 * cadence_local_date
 *		Local date of t.
 */
DateADT
cadence_local_date(TimestampTz t, pg_tz *tz)
{
	DateADT		date;

	cadence_to_local(t, tz, &date, NULL);
	return date;
}

/*
 * resolve_local
 *		The UTC second of local second `local`, both as pg_time_t.  Walk the
 *		zone's segments from a day before: the first segment whose offset
 *		maps `local` inside itself gives the earliest instant, which settles
 *		an overlap.  A local time that falls between two segments is in a
 *		gap; it is read with the offset before the gap, which moves it later
 *		by exactly the gap's length, whatever that length is.
 */
static pg_time_t
resolve_local(pg_time_t local, pg_tz *tz, bool *in_gap)
{
	pg_time_t	t = local - SECS_PER_DAY;
	int			i;

	*in_gap = false;
	for (i = 0; i < 8; i++)
	{
		pg_time_t	boundary;
		long		before_off;
		long		after_off;
		int			before_dst;
		int			after_dst;
		int			res;

		res = pg_next_dst_boundary(&t, &before_off, &before_dst, &boundary,
								   &after_off, &after_dst, tz);
		if (res < 0)
			out_of_range();
		if (res == 0 || local - before_off < boundary)
			return local - before_off;
		if (local - after_off < boundary)
		{
			*in_gap = true;
			return local - before_off;
		}
		t = boundary;
	}
	elog(ERROR, "too many time zone transitions near one local time");
	return 0;					/* keep compiler quiet */
}

/*
 * cadence_local_time_to_utc
 *		The instant of local date + wall time (microseconds) in tz.
 */
TimestampTz
cadence_local_time_to_utc(DateADT date, TimeADT time_of_day, pg_tz *tz,
						  bool *in_gap)
{
	pg_time_t	local;
	pg_time_t	utc;
	bool		gap;
	TimestampTz result;

	if (date < MIN_LOCAL_DATE || date > MAX_LOCAL_DATE)
		out_of_range();
	local = (int64) date * SECS_PER_DAY + time_of_day / USECS_PER_SEC +
		EPOCH_SHIFT_SECS;
	utc = resolve_local(local, tz, &gap);
	result = (utc - EPOCH_SHIFT_SECS) * USECS_PER_SEC +
		time_of_day % USECS_PER_SEC;
	if (!IS_VALID_TIMESTAMP(result))
		out_of_range();
	if (in_gap)
		*in_gap = gap;
	return result;
}

/*
 * cadence_local_to_utc
 *		The instant of local date + minutes after midnight in tz.
 */
TimestampTz
cadence_local_to_utc(DateADT date, int minutes_of_day, pg_tz *tz, bool *in_gap)
{
	return cadence_local_time_to_utc(date,
									 (TimeADT) minutes_of_day * USECS_PER_MINUTE,
									 tz, in_gap);
}

/*
 * cadence_date_cmp
 *		qsort/bsearch comparator for DateADT: holidays are kept sorted.
 */
int
cadence_date_cmp(const void *a, const void *b)
{
	DateADT		x = *(const DateADT *) a;
	DateADT		y = *(const DateADT *) b;

	return (x > y) - (x < y);
}

/*
 * is_holiday
 *		Is date one of w's holidays?
 */
static inline bool
is_holiday(DateADT date, const CadenceWindows *w)
{
	return w != NULL && w->nholidays > 0 &&
		bsearch(&date, w->holidays, w->nholidays, sizeof(DateADT),
				cadence_date_cmp) != NULL;
}

/*
 * cadence_weekday
 *		0 = Sunday ... 6 = Saturday.
 */
int
cadence_weekday(DateADT date)
{
	return j2day(date + POSTGRES_EPOCH_JDATE);
}

#define weekday_of(date) cadence_weekday(date)

/*
 * cadence_is_business_day
 *		Monday to Friday and not a holiday.
 */
bool
cadence_is_business_day(DateADT date, const CadenceWindows *w)
{
	int			wd = weekday_of(date);

	return wd != 0 && wd != 6 && !is_holiday(date, w);
}

/*
 * cadence_day_closed_reason
 *		Why date has no open window at all, or CADENCE_MOVE_NONE when it has.
 *		A weekend day closed by businessHours counts as weekend.
 */
CadenceMoveReason
cadence_day_closed_reason(DateADT date, const CadenceWindows *w)
{
	int			wd;

	if (w == NULL || !w->restricted)
		return CADENCE_MOVE_NONE;
	wd = weekday_of(date);
	if ((wd == 0 || wd == 6) && (w->exclude_weekends || !w->days[wd].open))
		return CADENCE_MOVE_WEEKEND;
	if (is_holiday(date, w))
		return CADENCE_MOVE_HOLIDAY;
	if (!w->days[wd].open)
		return CADENCE_MOVE_OUTSIDE_BUSINESS_HOURS;
	return CADENCE_MOVE_NONE;
}

/*
 * no_open_day
 *		Report settings under which no day opens for a year.
 */
static void
no_open_day(DateADT date, const CadenceWindows *w)
{
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("no open day within %d days before %s",
				   CADENCE_MAX_SEARCH_DAYS,
				   DatumGetCString(DirectFunctionCall1(date_out,
													   DateADTGetDatum(date)))),
			errhint("The settings businessHours, excludeWeekends and holidays "
					"must leave some time open."));
}

/*
 * add_elapsed
 *		t plus the rule's elapsed minutes.
 */
static TimestampTz
add_elapsed(TimestampTz t, const CadenceRule *rule)
{
	if (rule->elapsed_minutes > 0 &&
		(pg_add_s64_overflow(t, rule->elapsed_minutes * USECS_PER_MINUTE, &t) ||
		 !IS_VALID_TIMESTAMP(t)))
		out_of_range();
	return t;
}

/*
 * cadence_is_open_day
 *		Not a holiday, not a weekend day under excludeWeekends, and with
 *		business hours that day when any are given.
 */
bool
cadence_is_open_day(DateADT date, const CadenceWindows *w)
{
	return cadence_day_closed_reason(date, w) == CADENCE_MOVE_NONE;
}

/*
 * advance_days
 *		The n-th day after date that is open (and, with business, also a
 *		weekday that is not a holiday).
 */
static DateADT
advance_days(DateADT date, int n, bool business, const CadenceWindows *w)
{
	int			looked = 0;

	while (n > 0)
	{
		date++;
		if (cadence_is_open_day(date, w) && (!business || cadence_is_business_day(date, w)))
			n--;
		else if (++looked > CADENCE_MAX_SEARCH_DAYS)
			no_open_day(date, w);
	}
	return date;
}

/*
 * cadence_add_days
 *		date + n calendar days, or n business days (n >= 0) that are also
 *		open days: a wait counted in business days counts sending days.
 */
DateADT
cadence_add_days(DateADT date, int n, bool business_days,
				 const CadenceWindows *w)
{
	return business_days ? advance_days(date, n, true, w) : date + n;
}

/*
 * cadence_add_open_days
 *		The n-th open day after date.
 */
DateADT
cadence_add_open_days(DateADT date, int n, const CadenceWindows *w)
{
	return advance_days(date, n, false, w);
}

/*
 * cadence_open_days_between
 *		Open days in (from, to].
 */
int
cadence_open_days_between(DateADT from, DateADT to, const CadenceWindows *w)
{
	int			n = 0;

	if (w == NULL || !w->restricted)
		return Max(to - from, 0);
	for (from++; from <= to; from++)
		if (cadence_is_open_day(from, w))
			n++;
	return n;
}

/*
 * cadence_rule_instant
 *		The rule's local part comes first, elapsed time second, so "1 day"
 *		keeps the wall time across DST while "24 hours" does not.
 */
TimestampTz
cadence_rule_instant(TimestampTz prev, const CadenceRule *rule, pg_tz *tz,
					 const CadenceWindows *w, CadenceMoveReason *reason_out)
{
	TimestampTz due = prev;

	*reason_out = CADENCE_MOVE_NONE;
	if (rule->days > 0 || rule->at_minute >= 0)
	{
		DateADT		date;
		TimeADT		wall;
		bool		in_gap;

		cadence_to_local(prev, tz, &date, &wall);
		if (rule->at_minute >= 0)
			wall = (TimeADT) rule->at_minute * USECS_PER_MINUTE;
		date = cadence_add_days(date, rule->days, rule->business_days, w);
		due = cadence_local_time_to_utc(date, wall, tz, &in_gap);

		/* Today's wall time already passed: the same time on the next day. */
		if (due < prev && rule->days == 0)
		{
			date = cadence_add_days(date, 1, rule->business_days, w);
			due = cadence_local_time_to_utc(date, wall, tz, &in_gap);
		}
		if (in_gap)
			*reason_out = CADENCE_MOVE_DST_GAP;
	}
	return add_elapsed(due, rule);
}

/*
 * cadence_day_instant
 *		The first action of a later day: its wall time on its date, then the
 *		rest of its rule.
 */
TimestampTz
cadence_day_instant(DateADT date, TimeADT day_wall, const CadenceRule *rule,
					pg_tz *tz, const CadenceWindows *w,
					CadenceMoveReason *reason_out)
{
	TimeADT		wall = day_wall;
	bool		in_gap;
	TimestampTz due;

	if (rule->at_minute >= 0)
		wall = (TimeADT) rule->at_minute * USECS_PER_MINUTE;
	else if (w != NULL && w->has_business_hours)
		wall = (TimeADT) w->days[weekday_of(date)].start * USECS_PER_MINUTE;
	date = cadence_add_days(date, rule->days, rule->business_days, w);
	due = cadence_local_time_to_utc(date, wall, tz, &in_gap);
	*reason_out = in_gap ? CADENCE_MOVE_DST_GAP : CADENCE_MOVE_NONE;
	return add_elapsed(due, rule);
}

/*
 * cadence_next_due
 *		A rule, then the clamp.
 */
TimestampTz
cadence_next_due(TimestampTz prev, const CadenceRule *rule, pg_tz *tz,
				 const CadenceWindows *w, CadenceMoveReason *reason_out)
{
	CadenceMoveReason reason;
	CadenceMoveReason window_reason;
	TimestampTz due;

	if (reason_out)
		*reason_out = CADENCE_MOVE_NONE;
	if (TIMESTAMP_NOT_FINITE(prev))
		return prev;
	due = cadence_rule_instant(prev, rule, tz, w, &reason);
	due = cadence_next_open(due, tz, w, &window_reason);
	if (reason == CADENCE_MOVE_NONE)
		reason = window_reason;
	if (due < prev)
		due = prev;
	if (reason_out)
		*reason_out = reason;
	return due;
}

/*
 * cadence_step_channel
 *		sms, email and whatsapp have quiet hours; other steps none.
 */
CadenceChannel
cadence_step_channel(const char *type)
{
	if (strcmp(type, "sms") == 0)
		return CADENCE_CHANNEL_SMS;
	if (strcmp(type, "email") == 0)
		return CADENCE_CHANNEL_EMAIL;
	if (strcmp(type, "whatsapp") == 0)
		return CADENCE_CHANNEL_WHATSAPP;
	return CADENCE_CHANNEL_OTHER;
}

/*
 * cadence_move_reason_name
 *		The reason as the moved_reason column spells it ("none" for none).
 */
const char *
cadence_move_reason_name(CadenceMoveReason reason)
{
	switch (reason)
	{
		case CADENCE_MOVE_NONE:
			return "none";
		case CADENCE_MOVE_WEEKEND:
			return "weekend";
		case CADENCE_MOVE_HOLIDAY:
			return "holiday";
		case CADENCE_MOVE_OUTSIDE_BUSINESS_HOURS:
			return "outside_business_hours";
		case CADENCE_MOVE_DST_GAP:
			return "dst_gap";
		case CADENCE_MOVE_QUIET_HOURS:
			return "quiet_hours";
		case CADENCE_MOVE_DAILY_CAP:
			return "daily_cap";
		case CADENCE_MOVE_RATE_LIMIT:
			return "rate_limit";
		case CADENCE_MOVE_RETRY:
			return "retry";
		case CADENCE_MOVE_NO_SEND_WINDOW:
			return "no_send_window";
	}
	return "none";
}
