/*
 * schedule.c
 *		Scheduling math: schedule rules, business hours, holidays and local
 *		wall time over PostgreSQL's tz library.  See schedule.h for the
 *		contract.  No SPI and no allocation on the hot path: the parsers
 *		(schedule_parse.c) run once per distinct rule or settings value,
 *		cadence_next_due once per row.
 *
 * Local-to-UTC conversion walks the zone's transitions with
 * pg_next_dst_boundary, the primitive under DetermineTimeZoneOffset, because
 * DetermineTimeZoneOffset resolves an ambiguous fall-back time to the later
 * instant and cadence needs the earlier one.
 */
#include "postgres.h"

#include "common/int.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "schedule.h"

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
 * date_cmp_fn
 *		qsort/bsearch comparator for DateADT.
 */
static int
date_cmp_fn(const void *a, const void *b)
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
				date_cmp_fn) != NULL;
}

/*
 * weekday_of
 *		0 = Sunday ... 6 = Saturday.
 */
static inline int
weekday_of(DateADT date)
{
	return j2day(date + POSTGRES_EPOCH_JDATE);
}

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
 * cadence_add_days
 *		date + n calendar days, or n business days (n >= 0).
 */
DateADT
cadence_add_days(DateADT date, int n, bool business_days,
				 const CadenceWindows *w)
{
	if (!business_days)
		return date + n;
	while (n > 0)
	{
		date++;
		if (cadence_is_business_day(date, w))
			n--;
	}
	return date;
}

/*
 * day_closed_reason
 *		Why date has no open window at all, or CADENCE_MOVE_NONE when it has.
 *		A weekend day closed by businessHours counts as weekend.
 */
static CadenceMoveReason
day_closed_reason(DateADT date, const CadenceWindows *w)
{
	int			wd = weekday_of(date);

	if ((wd == 0 || wd == 6) && (w->exclude_weekends || !w->days[wd].open))
		return CADENCE_MOVE_WEEKEND;
	if (is_holiday(date, w))
		return CADENCE_MOVE_HOLIDAY;
	if (!w->days[wd].open)
		return CADENCE_MOVE_OUTSIDE_BUSINESS_HOURS;
	return CADENCE_MOVE_NONE;
}

/*
 * cadence_next_open
 *		t when open, else the start of the next open window.  A window is
 *		the span of instants from its local start to its local end, each
 *		resolved by the gap/overlap rule.
 */
TimestampTz
cadence_next_open(TimestampTz t, pg_tz *tz, const CadenceWindows *w,
				  CadenceMoveReason *reason_out)
{
	CadenceMoveReason reason = CADENCE_MOVE_NONE;
	DateADT		date;
	int			i;

	if (reason_out)
		*reason_out = CADENCE_MOVE_NONE;
	if (w == NULL || !w->restricted || TIMESTAMP_NOT_FINITE(t))
		return t;

	date = cadence_local_date(t, tz);
	for (i = 0; i <= CADENCE_MAX_SEARCH_DAYS; i++, date++)
	{
		CadenceMoveReason closed = day_closed_reason(date, w);

		if (closed == CADENCE_MOVE_NONE)
		{
			const CadenceDayWindow *dw = &w->days[weekday_of(date)];
			TimestampTz start = cadence_local_to_utc(date, dw->start, tz, NULL);
			TimestampTz end;

			if (dw->end >= CADENCE_MINUTES_PER_DAY)
				end = cadence_local_to_utc(date + 1, 0, tz, NULL);
			else
				end = cadence_local_to_utc(date, dw->end, tz, NULL);

			if (t < end && start < end)
			{
				if (t >= start)
					start = t;
				else if (reason == CADENCE_MOVE_NONE)
					reason = CADENCE_MOVE_OUTSIDE_BUSINESS_HOURS;
				if (reason_out)
					*reason_out = reason;
				return start;
			}
			closed = CADENCE_MOVE_OUTSIDE_BUSINESS_HOURS;
		}
		if (reason == CADENCE_MOVE_NONE)
			reason = closed;
	}

	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("no open window within %d days after %s in time zone \"%s\"",
				   CADENCE_MAX_SEARCH_DAYS, timestamptz_to_str(t),
				   pg_get_timezone_name(tz)),
			errhint("The settings businessHours, excludeWeekends and holidays "
					"must leave some time open."));
	return t;					/* keep compiler quiet */
}

/*
 * cadence_window_start
 *		First open instant on or after local midnight of date.
 */
TimestampTz
cadence_window_start(DateADT date, pg_tz *tz, const CadenceWindows *w)
{
	return cadence_next_open(cadence_local_to_utc(date, 0, tz, NULL), tz, w,
							 NULL);
}

/*
 * cadence_next_due
 *		Apply a rule to prev, then the windows.  The rule's local part (a
 *		date plus days, at a wall time) comes first, elapsed time second, so
 *		"1 day" keeps the wall time across DST while "24 hours" does not.
 */
TimestampTz
cadence_next_due(TimestampTz prev, const CadenceRule *rule, pg_tz *tz,
				 const CadenceWindows *w, CadenceMoveReason *reason_out)
{
	CadenceMoveReason reason = CADENCE_MOVE_NONE;
	CadenceMoveReason window_reason;
	TimestampTz due = prev;

	if (reason_out)
		*reason_out = CADENCE_MOVE_NONE;
	if (TIMESTAMP_NOT_FINITE(prev))
		return prev;

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
			reason = CADENCE_MOVE_DST_GAP;
	}

	if (rule->elapsed_minutes > 0 &&
		(pg_add_s64_overflow(due, rule->elapsed_minutes * USECS_PER_MINUTE,
							 &due) ||
		 !IS_VALID_TIMESTAMP(due)))
		out_of_range();

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
 * cadence_quiet_end
 *		The end of the quiet period t falls in, or t itself.  The period
 *		ends at local end_minute on t's local date, or on the next date when
 *		t is in the evening part of a period that crosses midnight.
 */
TimestampTz
cadence_quiet_end(TimestampTz t, pg_tz *tz, int start_minute, int end_minute)
{
	DateADT		date;
	TimeADT		wall;
	int			minute;
	bool		quiet;

	if (TIMESTAMP_NOT_FINITE(t) || start_minute == end_minute)
		return t;
	cadence_to_local(t, tz, &date, &wall);
	minute = (int) (wall / USECS_PER_MINUTE);
	if (start_minute < end_minute)
		quiet = minute >= start_minute && minute < end_minute;
	else
		quiet = minute >= start_minute || minute < end_minute;
	if (!quiet)
		return t;
	/* In the evening part of a period crossing midnight: tomorrow's end. */
	if (start_minute > end_minute && minute >= start_minute)
		date++;
	return Max(t, cadence_local_to_utc(date, end_minute, tz, NULL));
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
	}
	return "none";
}
