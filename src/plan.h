/*
 * plan.h
 *		The due times of a run's steps: the chain of rules of a cadence
 *		version, laid over the days of the run in one time zone.  Pure
 *		computation on top of schedule.h; the planner and the run state
 *		machine both call it, so a run is planned and re-planned by one rule.
 */
#ifndef CADENCE_PLAN_H
#define CADENCE_PLAN_H

#include "schedule.h"

/* One action of a cadence version, in step order. */
typedef struct PlanStep
{
	char	   *action_id;
	char	   *type;
	int32		step_number;
	int32		day_number;
	CadenceRule rule;
} PlanStep;

/*
 * Where a run's days sit: day d of the cadence falls on local date
 * add_days(trigger_date, d - first_day), in calendar or business days.
 */
typedef struct PlanCalendar
{
	TimestampTz trigger_at;
	DateADT		trigger_date;	/* local date of trigger_at */
	int32		first_day;		/* cadence day planned on the trigger day */
	bool		business_days;	/* days are counted in business days */
	pg_tz	   *tz;
	const CadenceWindows *windows;
} PlanCalendar;

extern void plan_calendar_init(PlanCalendar *cal, TimestampTz trigger_at,
							   int32 first_day, bool business_days,
							   pg_tz *tz, const CadenceWindows *windows);

/*
 * Due times of steps[from .. nsteps-1] when the step before steps[from]
 * happened at prev (for a new run: prev = trigger_at).  The first action of
 * a day is due by its rule after the later of prev and that day's start
 * (the trigger time on the first day, the start of the day's first open
 * window on later days).  due[] and reasons[] are indexed like steps[].
 */
extern void plan_chain(const PlanStep *steps, int nsteps, int from,
					   TimestampTz prev, const PlanCalendar *cal,
					   TimestampTz *due, CadenceMoveReason *reasons);

#endif							/* CADENCE_PLAN_H */
