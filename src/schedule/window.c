/*
 * schedule/window.c
 *		When a step may go out.  Two questions, one set of windows:
 *
 *		clamp		where an instant lands under business hours, weekends
 *					and holidays (cadence_next_open): the contract's rule 1,
 *					what calculate_next_step_due applies
 *		send window	the earliest instant a step may go out: its business
 *					window in the run's zone and, for channels with quiet
 *					hours, outside them in the lead's zone
 *					(cadence_send_window); the planner places a step with
 *					it under the clamp's wall-time rule (cadence_place)
 *
 * The planner, preview_schedule and the runners all call these, so what
 * the preview shows is what a runner does.
 */
#include "postgres.h"

#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "base/compat.h"
#include "schedule/schedule.h"

/* Rounds of business window, then quiet hours, before giving up. */
#define MAX_WINDOW_ROUNDS	64

/*
 * note
 *		Keep the first reason a time moved.
 */
static inline void
note(CadenceMoveReason *reason, CadenceMoveReason why)
{
	if (*reason == CADENCE_MOVE_NONE)
		*reason = why;
}

/*
 * open_from
 *		The earliest instant at or after t inside an open day's window,
 *		looking at most max_days local days on; false when there is none.
 *		A window is the span of instants from its local start to its local
 *		end, each resolved by the gap/overlap rule.
 */
static bool
open_from(TimestampTz t, pg_tz *tz, const CadenceWindows *w, int max_days,
		  TimestampTz *out, CadenceMoveReason *reason)
{
	DateADT		date;
	int			i;

	*out = t;
	if (w == NULL || !w->restricted)
		return true;
	date = cadence_local_date(t, tz);
	for (i = 0; i <= max_days; i++, date++)
	{
		CadenceMoveReason closed = cadence_day_closed_reason(date, w);

		if (closed == CADENCE_MOVE_NONE)
		{
			const CadenceDayWindow *dw = &w->days[cadence_weekday(date)];
			TimestampTz start = cadence_local_to_utc(date, dw->start, tz, NULL);
			TimestampTz end;

			if (dw->end >= CADENCE_MINUTES_PER_DAY)
				end = cadence_local_to_utc(date + 1, 0, tz, NULL);
			else
				end = cadence_local_to_utc(date, dw->end, tz, NULL);
			if (t < end && start < end)
			{
				if (t < start)
				{
					note(reason, CADENCE_MOVE_OUTSIDE_BUSINESS_HOURS);
					t = start;
				}
				*out = t;
				return true;
			}
			closed = CADENCE_MOVE_OUTSIDE_BUSINESS_HOURS;
		}
		note(reason, closed);
	}
	return false;
}

/*
 * next_open_date
 *		The first open day after date within max_days; false when none.
 */
static bool
next_open_date(DateADT date, const CadenceWindows *w, int max_days,
			   DateADT *out)
{
	int			i;

	for (i = 1; i <= max_days; i++)
		if (cadence_is_open_day(date + i, w))
		{
			*out = date + i;
			return true;
		}
	return false;
}

/*
 * cadence_next_open
 *		Rule 1.  From a closed day, the wall time is kept when the next
 *		open day's window holds it (a step pushed off a weekend keeps its
 *		time of day); otherwise, as from any other closed moment, the next
 *		window's start.
 */
TimestampTz
cadence_next_open(TimestampTz t, pg_tz *tz, const CadenceWindows *w,
				  CadenceMoveReason *reason_out)
{
	CadenceMoveReason reason = CADENCE_MOVE_NONE;
	DateADT		date;
	TimeADT		wall;
	TimestampTz out;

	if (reason_out)
		*reason_out = CADENCE_MOVE_NONE;
	if (w == NULL || !w->restricted || TIMESTAMP_NOT_FINITE(t))
		return t;

	cadence_to_local(t, tz, &date, &wall);
	reason = cadence_day_closed_reason(date, w);
	if (reason != CADENCE_MOVE_NONE &&
		next_open_date(date, w, CADENCE_MAX_SEARCH_DAYS, &date))
	{
		const CadenceDayWindow *dw = &w->days[cadence_weekday(date)];

		if (wall >= (TimeADT) dw->start * USECS_PER_MINUTE &&
			wall < (TimeADT) dw->end * USECS_PER_MINUTE)
		{
			if (reason_out)
				*reason_out = reason;
			return cadence_local_time_to_utc(date, wall, tz, NULL);
		}
		t = cadence_local_to_utc(date, 0, tz, NULL);
	}
	if (!open_from(t, tz, w, CADENCE_MAX_SEARCH_DAYS, &out, &reason))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("no open window within %d days after %s in time zone \"%s\"",
					   CADENCE_MAX_SEARCH_DAYS, timestamptz_to_str(t),
					   pg_get_timezone_name(tz)),
				errhint("The settings businessHours, excludeWeekends and holidays "
						"must leave some time open."));
	if (reason_out)
		*reason_out = reason;
	return out;
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
 * cadence_send_window
 *		Business window first, then quiet hours, until both allow the same
 *		instant.
 */
TimestampTz
cadence_send_window(TimestampTz t, CadenceChannel channel, pg_tz *run_tz,
					pg_tz *lead_tz, const CadenceWindows *w,
					CadenceMoveReason *reason_out)
{
	CadenceMoveReason reason = CADENCE_MOVE_NONE;
	TimestampTz limit = t + (int64) CADENCE_SEND_WINDOW_DAYS * USECS_PER_DAY;
	const CadenceQuiet *q = NULL;
	int			round;

	if (TIMESTAMP_NOT_FINITE(t))
	{
		*reason_out = CADENCE_MOVE_NONE;
		return t;
	}
	if (channel < CADENCE_QUIET_CHANNELS && w != NULL &&
		w->quiet[channel].start != w->quiet[channel].end)
		q = &w->quiet[channel];
	for (round = 0; round < MAX_WINDOW_ROUNDS; round++)
	{
		TimestampTz u;
		TimestampTz v;

		if (!open_from(t, run_tz, w, CADENCE_SEND_WINDOW_DAYS, &u, &reason) ||
			u > limit)
			break;
		v = q ? cadence_quiet_end(u, lead_tz ? lead_tz : run_tz, q->start, q->end) : u;
		if (v == u)
		{
			*reason_out = reason;
			return u;
		}
		note(&reason, CADENCE_MOVE_QUIET_HOURS);
		t = v;
	}
	*reason_out = CADENCE_MOVE_NO_SEND_WINDOW;
	return DT_NOEND;
}

/*
 * cadence_place
 *		The clamp of rule 1 with the step's send window as its window.
 */
TimestampTz
cadence_place(TimestampTz t, CadenceChannel channel, pg_tz *run_tz,
			  pg_tz *lead_tz, const CadenceWindows *w,
			  CadenceMoveReason *reason_out)
{
	CadenceMoveReason closed = CADENCE_MOVE_NONE;
	CadenceMoveReason reason;
	TimestampTz out;
	DateADT		date;
	TimeADT		wall;

	if (!TIMESTAMP_NOT_FINITE(t) && w != NULL && w->restricted)
	{
		cadence_to_local(t, run_tz, &date, &wall);
		closed = cadence_day_closed_reason(date, w);
	}
	if (closed != CADENCE_MOVE_NONE)
	{
		TimestampTz same_wall;

		if (!next_open_date(date, w, CADENCE_SEND_WINDOW_DAYS, &date))
		{
			*reason_out = CADENCE_MOVE_NO_SEND_WINDOW;
			return DT_NOEND;
		}
		same_wall = cadence_local_time_to_utc(date, wall, run_tz, NULL);
		if (cadence_send_window(same_wall, channel, run_tz, lead_tz, w,
								&reason) == same_wall)
		{
			*reason_out = closed;
			return same_wall;
		}
		t = cadence_local_to_utc(date, 0, run_tz, NULL);
	}
	out = cadence_send_window(t, channel, run_tz, lead_tz, w, &reason);
	*reason_out = (closed != CADENCE_MOVE_NONE &&
				   reason != CADENCE_MOVE_NO_SEND_WINDOW) ? closed : reason;
	return out;
}
