/*
 * runstate.h
 *		What the run state machine (runstate.c) offers the dispatcher; the
 *		rest of it is SQL-callable.  Callers must be connected to SPI.
 */
#ifndef CADENCE_RUNSTATE_H
#define CADENCE_RUNSTATE_H

#include "definition.h"

/*
 * Re-plan the rest of a run from happened_at, when the action before its
 * current step ended later than planned.  defs caches cadence versions
 * (see cadence_def_cached).
 */
extern void cadence_run_reanchor(const char *tenant_id, int64 run_id,
								 TimestampTz happened_at, List **defs);

/*
 * Resume up to limit paused runs whose resume_at has come by now; returns
 * how many.
 */
extern int	cadence_run_resume_due(TimestampTz now, int limit);

/*
 * Carry out the condition or lead action step whose scheduled action
 * action_id (leased by the caller) is the run's current step, at `at`, and
 * take its branch.  False when the run is no longer at that step.
 */
extern bool cadence_run_execute_step(const char *tenant_id, int64 run_id,
									 int64 action_id, TimestampTz at, List **defs);

#endif							/* CADENCE_RUNSTATE_H */
