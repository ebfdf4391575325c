/*
 * schedule/chain.c
 *		Lays a cadence's chain of rules over the days of one run (see
 *		schedule/chain.h for the rules).
 */
#include "postgres.h"

#include "schedule/chain.h"

/* The rule of a step that is due as soon as its window allows. */
static const CadenceRule now_rule = {.kind = CADENCE_RULE_IMMEDIATELY,.at_minute = -1};

/*
 * place
 *		A step whose rule gave t, in its send window; a step that has none
 *		keeps t and says why.
 */
static TimestampTz
place(const PlanStep *step, TimestampTz t, const PlanZone *zone,
	  CadenceMoveReason rule_reason, CadenceMoveReason *reason)
{
	CadenceMoveReason why;
	TimestampTz due = cadence_place(t, step->channel, zone->tz, zone->lead_tz,
									zone->windows, &why);

	if (why == CADENCE_MOVE_NO_SEND_WINDOW)
	{
		*reason = why;
		return t;
	}
	*reason = rule_reason != CADENCE_MOVE_NONE ? rule_reason : why;
	return due;
}

/*
 * plan_chain
 *		Each step by its rule from the one before, a step that opens a later
 *		day from that day's date and start.
 */
void
plan_chain(const PlanStep *steps, int nsteps, int from, TimestampTz prev,
		   int32 prev_day, bool first_now, const PlanZone *zone,
		   TimestampTz *due, CadenceMoveReason *reasons)
{
	int			i;

	for (i = from; i < nsteps; i++)
	{
		const PlanStep *s = &steps[i];
		const CadenceRule *rule = (i == from && first_now) ? &now_rule : &s->rule;
		CadenceMoveReason why;
		TimestampTz t;

		if (prev_day == 0 || s->day_number <= prev_day || (i == from && first_now))
			t = cadence_rule_instant(prev, rule, zone->tz, zone->windows, &why);
		else
		{
			DateADT		date;
			TimeADT		wall;

			cadence_to_local(prev, zone->tz, &date, &wall);
			date = cadence_add_open_days(date, s->day_number - prev_day, zone->windows);
			t = cadence_day_instant(date, wall, rule, zone->tz, zone->windows, &why);
		}
		due[i] = Max(place(s, t, zone, why, &reasons[i]), prev);
		prev = due[i];
		prev_day = s->day_number;
	}
}

/*
 * plan_resumed
 *		The open days and the wall time of the wait are kept, not the
 *		elapsed time, so DST between pause and resume moves nothing.
 */
TimestampTz
plan_resumed(const PlanStep *step, TimestampTz due, TimestampTz paused_at,
			 TimestampTz resume_at, const PlanZone *zone,
			 CadenceMoveReason *reason)
{
	TimestampTz t = resume_at;

	if (due > paused_at)
	{
		DateADT		paused_date = cadence_local_date(paused_at, zone->tz);
		DateADT		due_date;
		TimeADT		wall;
		int			open_days;

		cadence_to_local(due, zone->tz, &due_date, &wall);
		open_days = cadence_open_days_between(paused_date, due_date, zone->windows);
		t = cadence_local_time_to_utc(cadence_add_open_days(cadence_local_date(resume_at,
																			   zone->tz),
															open_days, zone->windows),
									  wall, zone->tz, NULL);
		t = Max(t, resume_at);
	}
	return place(step, t, zone, CADENCE_MOVE_NONE, reason);
}

/*
 * plan_held_start
 *		The start moved to the next open day, as a later day's first action.
 */
TimestampTz
plan_held_start(const PlanStep *step, TimestampTz due, const PlanZone *zone,
				CadenceMoveReason *reason)
{
	CadenceMoveReason why;
	DateADT		date;
	TimeADT		wall;
	TimestampTz t;

	cadence_to_local(due, zone->tz, &date, &wall);
	date = cadence_add_open_days(date, 1, zone->windows);
	t = cadence_day_instant(date, wall, &step->rule, zone->tz, zone->windows, &why);
	t = Max(place(step, t, zone, why, reason), due);
	if (*reason != CADENCE_MOVE_NO_SEND_WINDOW)
		*reason = CADENCE_MOVE_DAILY_CAP;
	return t;
}
