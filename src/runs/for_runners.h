/*
 * runs/for_runners.h
 *		What the run state machine (runs/for_runners.c, runs/replan.c) offers
 *		the dispatcher; the rest of it is SQL-callable.  Callers must be
 *		connected to SPI.
 */
#ifndef CADENCE_RUNS_FOR_RUNNERS_H
#define CADENCE_RUNS_FOR_RUNNERS_H

#include "base/columns.h"
#include "runs/definition.h"

/*
 * Add the due times of def's steps[from..] for one run (runs/replan.c) to
 * rows, the new due times of actions of runs gathered for one UPDATE
 * (zeroed at first).
 */
extern void cadence_plan_rows_add(CadenceColumns *rows, const char *tenant_id,
								  int64 run_id, const CadenceDef *def, int from,
								  const TimestampTz *due,
								  const CadenceMoveReason *reasons);

/*
 * Write them: the actions still to happen (planned or scheduled) get their
 * new due time and reason; their status is the caller's.
 */
extern void cadence_plan_rows_write(CadenceColumns *rows);

/*
 * Re-plan every later action of the runs whose step steps[k] ended at
 * ats[k] (rule 4), after the caller moved them on: one read, one write.
 * tenant_ids and run_ids are text and bigint Datums.
 */
extern void cadence_runs_replan(int n, Datum *tenant_ids, Datum *run_ids,
								const int32 *steps, const TimestampTz *ats);

/*
 * Resume up to limit paused runs whose resume_at has come by now; returns
 * how many.  One that cannot be resumed fails alone.
 */
extern int	cadence_run_resume_due(TimestampTz now, int limit);

/*
 * Carry out the condition or lead action step whose scheduled action
 * action_id (claimed by the caller) is the run's current step, at `at`, and
 * take its branch.  False when the run is no longer at that step.
 */
extern bool cadence_run_execute_step(const char *tenant_id, int64 run_id,
									 int64 action_id, TimestampTz at, List **defs);

/*
 * End an active or paused run failed with reason, cancelling what it had
 * left, without loading its plan or zone (a run that cannot be loaded).
 */
extern void cadence_run_fail_plainly(const char *tenant_id, int64 run_id,
									 const char *reason, TimestampTz at);

#endif							/* CADENCE_RUNS_FOR_RUNNERS_H */
