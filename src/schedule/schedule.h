/*
 * schedule/schedule.h
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
#ifndef CADENCE_SCHEDULE_SCHEDULE_H
#define CADENCE_SCHEDULE_SCHEDULE_H

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

/*
 * How far a step's send window is looked for: a step with no allowed
 * instant within this many days of its due time is skipped
 * (no_send_window) and its run goes on.
 */
#define CADENCE_SEND_WINDOW_DAYS	14

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
	bool		business_days;	/* days skip Sat, Sun, holidays and closed
								 * days */
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

/* The channels that may have quiet hours (settings.quietHours). */
typedef enum CadenceChannel
{
	CADENCE_CHANNEL_SMS,
	CADENCE_CHANNEL_EMAIL,
	CADENCE_CHANNEL_WHATSAPP,
	CADENCE_CHANNEL_OTHER		/* no quiet hours: webhooks, tasks, logic */
} CadenceChannel;

#define CADENCE_QUIET_CHANNELS	CADENCE_CHANNEL_OTHER

/*
 * A daily quiet period [start, end) in the lead's wall-clock minutes;
 * start > end crosses midnight (21:00-08:00), start == end is none.
 */
typedef struct CadenceQuiet
{
	int16		start;
	int16		end;
} CadenceQuiet;

/*
 * Parsed settings: when sending is allowed.  An open day (a local date of
 * the run's zone) is one that is not a holiday, not a Saturday or Sunday
 * under exclude_weekends, and has business hours when any are given; its
 * window is its business hours, or the whole day.  With restricted false
 * every day is open all day.  holidays is sorted and free of duplicates; it
 * may be NULL when nholidays is 0.  quiet applies to its channel's steps in
 * the lead's own zone: by default SMS and WhatsApp are quiet 21:00-08:00.
 */
typedef struct CadenceWindows
{
	bool		restricted;		/* any of the below closes some day or hour */
	bool		exclude_weekends;
	bool		has_business_hours; /* settings named businessHours */
	CadenceDayWindow days[7];	/* by weekday, 0 = Sunday */
	int			nholidays;
	DateADT    *holidays;
	CadenceQuiet quiet[CADENCE_QUIET_CHANNELS];
} CadenceWindows;

/*
 * Why a due time moved from what the rule alone gives.  Only the first
 * reason that applied is reported.  daily_cap, rate_limit and retry are
 * never produced here but by the runners; they are listed so that every
 * writer of the moved_reason column shares one list of names.
 * no_send_window: no allowed instant within CADENCE_SEND_WINDOW_DAYS days;
 * the step is skipped when it falls due.
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
	CADENCE_MOVE_RETRY,
	CADENCE_MOVE_NO_SEND_WINDOW
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
 * Parse cadence settings: businessHours, excludeWeekends, holidays and
 * quietHours.  Other keys are ignored; JSON null counts as absent (but
 * "quietHours": null turns quiet hours off); settings NULL means none.  The
 * holiday array is palloc'd in CurrentMemoryContext.
 */
extern void cadence_parse_settings_into(Jsonb *settings, const char *path,
										CadenceWindows *out);
extern CadenceWindows *cadence_parse_settings(Jsonb *settings,
											  const char *path);

/*
 * settings.maxContactsPerDay: how many runs of the cadence may start (their
 * first action go out) per local day of its zone; 0 for no cap.
 */
extern int	cadence_parse_daily_cap(Jsonb *settings);

/*
 * Everything of a cadence's settings that planning reads, from one parser
 * (schedule/parse.c): the windows above, the daily cap, where its runs are
 * planned, and the holiday calendar it names.
 */
typedef struct CadenceSettings
{
	CadenceWindows windows;
	int			max_starts_per_day; /* maxContactsPerDay; 0: no cap */
	bool		recipient_time; /* timezoneMode "recipient": the lead's zone */
	char	   *holiday_calendar;	/* holidayCalendar, or NULL */
} CadenceSettings;

extern void cadence_parse_cadence_settings(Jsonb *settings, const char *path,
										   CadenceSettings *out);

/* What cadence_parse_settings does, plus: some weekday must be open. */
extern void cadence_validate_settings(Jsonb *settings, const char *path);

/* The names of settings.quietHours' channels, in CadenceChannel order. */
extern const char *const cadence_quiet_channels[CADENCE_QUIET_CHANNELS];

/*
 * cadence_validate_settings and the rest of a cadence's settings that
 * planning reads, strictly (schedule/validate.c).
 */
extern void cadence_check_cadence_settings(Jsonb *settings, const char *path);

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

/* Order two DateADT (qsort and bsearch over a sorted list of holidays). */
extern int	cadence_date_cmp(const void *a, const void *b);

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

/* 0 = Sunday ... 6 = Saturday. */
extern int	cadence_weekday(DateADT date);

/*
 * Why date is closed (weekend, holiday, outside_business_hours), or
 * CADENCE_MOVE_NONE when it is an open day of w (NULL: every day is).
 */
extern CadenceMoveReason cadence_day_closed_reason(DateADT date,
												   const CadenceWindows *w);

/* Is date an open day of w (NULL: every day is)? */
extern bool cadence_is_open_day(DateADT date, const CadenceWindows *w);

/*
 * date plus n days; with business_days, n >= 0 business days that are also
 * open days of w (each step lands on one; n = 0 returns date even on a
 * weekend).  w (may be NULL) supplies the holidays and open days.
 */
extern DateADT cadence_add_days(DateADT date, int n, bool business_days,
								const CadenceWindows *w);

/* The n-th open day of w after date (n >= 1; n = 0 returns date). */
extern DateADT cadence_add_open_days(DateADT date, int n,
									 const CadenceWindows *w);

/* How many open days of w lie after from and up to and including to. */
extern int	cadence_open_days_between(DateADT from, DateADT to,
									  const CadenceWindows *w);

/* The channel whose quiet hours a step type keeps. */
extern CadenceChannel cadence_step_channel(const char *type);

/* --- windows and due times --- */

/*
 * The clamp (the contract's rule 1) under the windows of w in tz: an
 * instant inside an open day's window stays; before the window, its start;
 * at or after its end, the next open day's start; on a closed day, the
 * next open day at the same wall time when that is inside its window, else
 * its start.  Errors (22023) when nothing opens within
 * CADENCE_MAX_SEARCH_DAYS days.  *reason_out (may be NULL) says why t moved.
 */
extern TimestampTz cadence_next_open(TimestampTz t, pg_tz *tz,
									 const CadenceWindows *w,
									 CadenceMoveReason *reason_out);

/*
 * The one send window of planning, preview and sending (rule 6): the
 * earliest instant at or after t at which a step of channel may go out:
 * inside an open day's window of w in run_tz and, for channels with quiet
 * hours, outside them in lead_tz (NULL: run_tz).  TIMESTAMP_NOEND, reason
 * no_send_window, when there is none within CADENCE_SEND_WINDOW_DAYS days.
 */
extern TimestampTz cadence_send_window(TimestampTz t, CadenceChannel channel,
									   pg_tz *run_tz, pg_tz *lead_tz,
									   const CadenceWindows *w,
									   CadenceMoveReason *reason_out);

/*
 * Where the plan puts a step whose rule gives t: the clamp of rule 1 with
 * the step's whole send window (quiet hours included) as the window, that
 * is cadence_send_window(t), except that from a closed day it keeps t's
 * wall time on the next open day when that instant is allowed.
 * TIMESTAMP_NOEND (no_send_window) as for cadence_send_window.
 */
extern TimestampTz cadence_place(TimestampTz t, CadenceChannel channel,
								 pg_tz *run_tz, pg_tz *lead_tz,
								 const CadenceWindows *w,
								 CadenceMoveReason *reason_out);

/*
 * The instant a rule gives after a step at prev, before any window: the
 * rule's local part (a date plus days, at a wall time; a time of day already
 * past means the next day), then its elapsed minutes.  *reason_out gets
 * dst_gap when the wall time fell in a gap.
 */
extern TimestampTz cadence_rule_instant(TimestampTz prev, const CadenceRule *rule,
										pg_tz *tz, const CadenceWindows *w,
										CadenceMoveReason *reason_out);

/*
 * The instant a rule gives for the first action of a later day of a run,
 * which falls on the open day date (rule 3): the rule's wall time (timeOfDay,
 * sendAt) on that date, else the day's start (its window's start under
 * business hours, else the wall time day_wall of the previous day's last
 * action), then the rule's days and elapsed minutes from there.
 */
extern TimestampTz cadence_day_instant(DateADT date, TimeADT day_wall,
									   const CadenceRule *rule, pg_tz *tz,
									   const CadenceWindows *w,
									   CadenceMoveReason *reason_out);

/*
 * calculate_next_step_due: cadence_rule_instant, then the clamp of
 * cadence_next_open; never earlier than prev.  Infinite prev is returned
 * unchanged.
 */
extern TimestampTz cadence_next_due(TimestampTz prev, const CadenceRule *rule,
									pg_tz *tz, const CadenceWindows *w,
									CadenceMoveReason *reason_out);

/*
 * The end of the quiet period [start_minute, end_minute) of lead-local
 * wall time that t falls in, or t itself when it falls in none.
 */
extern TimestampTz cadence_quiet_end(TimestampTz t, pg_tz *tz, int start_minute,
									 int end_minute);

/* "none", "weekend", "holiday", "outside_business_hours", "dst_gap", ... */
extern const char *cadence_move_reason_name(CadenceMoveReason reason);

#endif							/* CADENCE_SCHEDULE_SCHEDULE_H */
