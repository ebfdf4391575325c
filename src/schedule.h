/*
 * schedule.h
 *		Scheduling math: when is a cadence step due, in a given time zone,
 *		under given business hours, weekends and holidays.
 *
 * Pure computation over PostgreSQL's own tz library; no SPI, no catalog
 * access, no allocation on the hot path.  The planner parses a rule and the
 * settings once (cadence_parse_rule, cadence_parse_settings), looks the zone
 * up once (cadence_lookup_tz), then calls cadence_next_due as often as it
 * likes.
 *
 * Local wall times resolve by one rule everywhere (RFC 5545, java.time): a
 * time inside a spring-forward gap moves later by the length of the gap
 * (02:30 becomes 03:30 on a one-hour gap); an ambiguous fall-back time is
 * the earlier of its two instants.  PostgreSQL's own AT TIME ZONE takes the
 * later instant there, which is why cadence does not use it.
 *
 * Dates are DateADT (days since 2000-01-01, PostgreSQL's date type) and
 * weekdays follow j2day(): 0 = Sunday ... 6 = Saturday.
 */
#ifndef CADENCE_SCHEDULE_H
#define CADENCE_SCHEDULE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "pgtime.h"
#include "utils/date.h"
#include "utils/jsonb.h"

/* Minutes in a day; a window ending at this minute ends at next midnight. */
#define CADENCE_MINUTES_PER_DAY		1440

/* Largest number a rule may hold (minutesAfterPrev, days, hours, ...). */
#define CADENCE_RULE_MAX_NUMBER		1000000

/* The hint of every error about a rule's kind. */
#define CADENCE_RULE_KINDS_HINT \
	"Valid kinds are immediately, timeOfDay, afterPrevious and delay."

/* How far cadence_next_open looks for an open window before giving up. */
#define CADENCE_MAX_SEARCH_DAYS		366

typedef enum CadenceRuleKind
{
	CADENCE_RULE_IMMEDIATELY,	/* {"kind":"immediately"} */
	CADENCE_RULE_TIME_OF_DAY,	/* {"kind":"timeOfDay","timeOfDay":"HH:mm",
								 * "dayOffset":D} */
	CADENCE_RULE_AFTER_PREVIOUS,	/* {"kind":"afterPrevious",
									 * "minutesAfterPrev":M} */
	CADENCE_RULE_DELAY			/* {"kind":"delay","days":D,"hours":H,
								 * "minutes":M,"businessDays":B,
								 * "sendAt":"HH:mm"} */
} CadenceRuleKind;

/*
 * A parsed schedule rule.  Every kind is expressed with the same fields:
 *
 *	immediately		all zero, at_minute = -1
 *	timeOfDay		days = dayOffset, at_minute = timeOfDay
 *	afterPrevious	elapsed_minutes = minutesAfterPrev, at_minute = -1
 *	delay			days, business_days, at_minute = sendAt or -1,
 *					elapsed_minutes = hours * 60 + minutes
 */
typedef struct CadenceRule
{
	CadenceRuleKind kind;
	int32		days;			/* local calendar (or business) days to add */
	bool		business_days;	/* days skip Sat, Sun and holidays */
	int32		at_minute;		/* local wall time, minutes after midnight,
								 * or -1 for none */
	int64		elapsed_minutes;	/* elapsed time added last */
} CadenceRule;

/* One weekday's open window, [start, end) in local wall-clock minutes. */
typedef struct CadenceDayWindow
{
	bool		open;
	int16		start;			/* 0 .. 1439 */
	int16		end;			/* start+1 .. 1440 (1440 = next midnight) */
} CadenceDayWindow;

/*
 * Parsed settings: when sending is allowed.  With restricted false every
 * instant is open and cadence_next_open returns its argument unchanged.
 * holidays is sorted and free of duplicates; it may be NULL when nholidays
 * is 0.  A planner may fill this struct itself (quiet hours, say): start
 * from cadence_windows_init_open, close or narrow days, and set restricted.
 */
typedef struct CadenceWindows
{
	bool		restricted;		/* any of the below closes some time */
	bool		exclude_weekends;
	bool		has_business_hours; /* settings named businessHours */
	CadenceDayWindow days[7];	/* by weekday, 0 = Sunday */
	int			nholidays;
	DateADT    *holidays;
} CadenceWindows;

/*
 * Why a due time moved from what the rule alone gives.  Only the first
 * reason that applied is reported.  quiet_hours, daily_cap, rate_limit and
 * retry are never produced here but by the runners; they are listed so that
 * every writer of the moved_reason column shares one list of names.
 */
typedef enum CadenceMoveReason
{
	CADENCE_MOVE_NONE,
	CADENCE_MOVE_WEEKEND,
	CADENCE_MOVE_HOLIDAY,
	CADENCE_MOVE_OUTSIDE_BUSINESS_HOURS,
	CADENCE_MOVE_DST_GAP,
	CADENCE_MOVE_QUIET_HOURS,
	CADENCE_MOVE_DAILY_CAP,
	CADENCE_MOVE_RATE_LIMIT,
	CADENCE_MOVE_RETRY
} CadenceMoveReason;

/* --- parsing and validation (errors are 22023, naming path) --- */

/*
 * Parse a scheduleRule.  path prefixes every error message, e.g. path
 * "days[0].actions[1].scheduleRule" gives
 *	invalid days[0].actions[1].scheduleRule.timeOfDay: "25:00"
 */
extern void cadence_parse_rule_into(Jsonb *rule, const char *path,
									CadenceRule *out);
extern CadenceRule *cadence_parse_rule(Jsonb *rule, const char *path);

/*
 * Parse cadence settings: businessHours, excludeWeekends, holidays.  Other
 * keys are ignored; JSON null counts as absent; settings NULL means none.
 * The holiday array is palloc'd in CurrentMemoryContext.
 */
extern void cadence_parse_settings_into(Jsonb *settings, const char *path,
										CadenceWindows *out);
extern CadenceWindows *cadence_parse_settings(Jsonb *settings,
											  const char *path);

/* What cadence_parse_settings does, plus: some weekday must be open. */
extern void cadence_validate_settings(Jsonb *settings, const char *path);

/* A CadenceWindows in which every instant is open. */
extern void cadence_windows_init_open(CadenceWindows *w);

/* Parse "HH:mm" (exactly, 00:00 .. 23:59) to minutes; -1 if malformed. */
extern int	cadence_parse_hhmm(const char *s, int len);

/* --- time zones --- */

/* The zone by IANA name, cached; unknown zone is an error (22023). */
extern pg_tz *cadence_lookup_tz(const char *name);

/* The same, but NULL instead of an error. */
extern pg_tz *cadence_lookup_tz_noerror(const char *name);

/* --- local calendar arithmetic --- */

/* Local date of an instant (DateADT). */
extern DateADT cadence_local_date(TimestampTz t, pg_tz *tz);

/* Local date and local wall time (microseconds after midnight). */
extern void cadence_to_local(TimestampTz t, pg_tz *tz, DateADT *date,
							 TimeADT *time_of_day);

/*
 * The instant of a local date and wall time, by the gap/overlap rule above.
 * *in_gap (may be NULL) tells whether the time fell in a gap and moved.
 * Errors with 22008 when the result is out of range.
 */
extern TimestampTz cadence_local_to_utc(DateADT date, int minutes_of_day,
										pg_tz *tz, bool *in_gap);
extern TimestampTz cadence_local_time_to_utc(DateADT date, TimeADT time_of_day,
											 pg_tz *tz, bool *in_gap);

/* Is date a business day: not Saturday, Sunday or a holiday of w? */
extern bool cadence_is_business_day(DateADT date, const CadenceWindows *w);

/*
 * date plus n days; with business_days, n >= 0 business days (each step
 * lands on a business day; n = 0 returns date even on a weekend).  w (may be
 * NULL) supplies the holidays.
 */
extern DateADT cadence_add_days(DateADT date, int n, bool business_days,
								const CadenceWindows *w);

/* --- windows and due times --- */

/*
 * The earliest open instant at or after t: t itself when open, else the
 * start of the next open window.  Errors (22023) when none opens within
 * CADENCE_MAX_SEARCH_DAYS days.  *reason_out (may be NULL) says why t moved.
 */
extern TimestampTz cadence_next_open(TimestampTz t, pg_tz *tz,
									 const CadenceWindows *w,
									 CadenceMoveReason *reason_out);

/* Start of the first open window on or after local midnight of date. */
extern TimestampTz cadence_window_start(DateADT date, pg_tz *tz,
										const CadenceWindows *w);

/*
 * When a step with this rule is due after a step at prev: the rule's
 * instant, then moved to the next open moment of w (NULL: always open);
 * never earlier than prev.  *reason_out (may be NULL) gets the first
 * reason the result moved.  Infinite prev is returned unchanged.
 */
extern TimestampTz cadence_next_due(TimestampTz prev, const CadenceRule *rule,
									pg_tz *tz, const CadenceWindows *w,
									CadenceMoveReason *reason_out);

/*
 * A daily quiet period [start, end) in local wall-clock minutes; start >
 * end crosses midnight (21:00-08:00).  Returns t when it is not quiet, else
 * the instant the quiet period around t ends.
 */
extern TimestampTz cadence_quiet_end(TimestampTz t, pg_tz *tz, int start_minute,
									 int end_minute);

/* "none", "weekend", "holiday", "outside_business_hours", "dst_gap", ... */
extern const char *cadence_move_reason_name(CadenceMoveReason reason);

#endif							/* CADENCE_SCHEDULE_H */
