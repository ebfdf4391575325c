/*
 * schedule/chain.h
 *		The due times of a run's steps: the chain of rules of a cadence
 *		version, laid over the days of the run in one time zone.  Pure
 *		computation on top of schedule/schedule.h; the planner, the preview and
 *		the run state machine all call it, so a run is planned and re-planned by
 *		one rule:
 *
 *		day 1		its first action by its rule from the enrollment instant,
 *					each later action of a day by its rule from the one
 *					before (rule 2)
 *		later days	day N after day M (its last action at A) falls on A's
 *					local date advanced by N - M open days, its first action
 *					at the rule's wall time there, else at the day's start:
 *					the window's start under business hours, else A's wall
 *					time (rule 3)
 *
 * and every step is then placed in its send window (cadence_place).  What
 * happened re-anchors (rule 4): re-planning after an action that ended at T
 * is this same chain started at T.
 */
#ifndef CADENCE_SCHEDULE_CHAIN_H
#define CADENCE_SCHEDULE_CHAIN_H

#include "schedule/schedule.h"

/* One action of a cadence version, in step order. */
typedef struct PlanStep
{
	char	   *action_id;
	char	   *type;
	CadenceChannel channel;		/* whose quiet hours it keeps */
	int32		step_number;
	int32		day_number;
	CadenceRule rule;
} PlanStep;

/* Where a run is planned: its zone, its lead's zone and the windows. */
typedef struct PlanZone
{
	pg_tz	   *tz;				/* the run's zone: days and business hours */
	pg_tz	   *lead_tz;		/* quiet hours (NULL: tz) */
	const CadenceWindows *windows;
} PlanZone;

/*
 * Due times of steps[from .. nsteps-1] when the action before steps[from]
 * happened at prev on cadence day prev_day (0: nothing happened yet, prev
 * is the enrollment instant).  first_now: steps[from] is due at prev itself
 * (placed in its window) whatever its rule says.  due[] and reasons[] are
 * indexed like steps[]; a step with no send window within
 * CADENCE_SEND_WINDOW_DAYS days keeps its rule's instant with reason
 * no_send_window.
 */
extern void plan_chain(const PlanStep *steps, int nsteps, int from,
					   TimestampTz prev, int32 prev_day, bool first_now,
					   const PlanZone *zone, TimestampTz *due,
					   CadenceMoveReason *reasons);

/*
 * Where an action due at due is placed when its run, paused at paused_at,
 * resumes at resume_at (rule 5): as many open days after resume_at's date
 * as there were from paused_at's date to due's, at due's wall time, never
 * before resume_at, in its send window.
 */
extern TimestampTz plan_resumed(const PlanStep *step, TimestampTz due,
								TimestampTz paused_at, TimestampTz resume_at,
								const PlanZone *zone, CadenceMoveReason *reason);

/*
 * Where the first action of a run, due at due, goes when the daily cap
 * holds its start (rule 7): on the next open day after due's, by its rule
 * as the first action of a day (its wall time, else the window's start,
 * else due's wall time), in its send window.  Reason daily_cap.
 */
extern TimestampTz plan_held_start(const PlanStep *step, TimestampTz due,
								   const PlanZone *zone,
								   CadenceMoveReason *reason);

#endif							/* CADENCE_SCHEDULE_CHAIN_H */
