/*
 * runs/run_state.h
 *		A run locked for a transition, and the moves of the run state machine
 *		(runs/transitions.c) that its SQL-callable functions (runs/sql.c) and
 *		the runners' entry points (runs/for_runners.c) are made of.  Only
 *		runs/ includes it; callers must be connected to SPI.
 */
#ifndef CADENCE_RUNS_RUN_STATE_H
#define CADENCE_RUNS_RUN_STATE_H

#include "runs/definition.h"

/* A run locked for a transition. */
typedef struct RunState
{
	char	   *tenant_id;
	int64		id;
	char	   *status;
	int32		current_step;
	TimestampTz paused_at;		/* 0 when not paused */
	PlanZone	zone;			/* where it is planned */
	CadenceDef *def;			/* the version the run was planned from */
} RunState;

/*
 * Lock a run of tenant_id and load the cadence version it was planned from
 * (through *defs, a cache of loaded versions, when given).  A run that is
 * not there is a 42501.
 */
extern RunState *cadence_run_lock(const char *tenant_id, int64 run_id,
								  List **defs);

/*
 * Run a statement whose $1 and $2 are the run's tenant and id, with up to
 * four further arguments; expect is the SPI result it must give.
 */
extern void cadence_run_exec(const RunState *run, const char *sql, int nextra,
							 Oid *xtypes, Datum *xvalues, const char *xnulls,
							 int expect);

/*
 * Append an event of the run; payload is a SQL jsonb expression over the
 * further arguments $3, $4, ... .
 */
extern void cadence_run_event(const RunState *run, const char *type,
							  const char *payload, int nextra, Oid *xtypes,
							  Datum *xvalues, const char *xnulls);

/* The cadence day of a step of the run. */
extern int32 cadence_run_step_day(const RunState *run, int32 step_number);

/*
 * Re-plan steps[from..] after something of day prev_day happened at prev,
 * and point the run at steps[from] (first_now: it is due at prev itself).
 */
extern void cadence_run_replan_from(RunState *run, int from, TimestampTz prev,
									int32 prev_day, bool first_now);

/* The current step is over at `at`: re-plan the rest, or complete the run. */
extern void cadence_run_move_on(RunState *run, TimestampTz at);

/* Complete the current step at `at`, close its task, and move on. */
extern void cadence_run_finish_step(RunState *run, TimestampTz at,
									const char *notes, const char *outcome);

/*
 * Close the open actions before before_step (all when 0) with status and
 * reason, and their open tasks.
 */
extern void cadence_run_close_open_actions(const RunState *run,
										   int32 before_step,
										   const char *status,
										   const char *reason);

/* End an active or paused run at `at` with a final status and reason. */
extern void cadence_run_end(RunState *run, const char *status,
							const char *reason, TimestampTz at);

/* Pause an active run at `at`, until resume_at when given. */
extern void cadence_run_pause(RunState *run, const TimestampTz *resume_at,
							  const char *reason, TimestampTz at);

/* Make a paused run active again at `at` (rule 5). */
extern void cadence_run_resume(RunState *run, TimestampTz at);

/* Skip the open steps before steps[k], which becomes due at `at`. */
extern void cadence_run_skip_to(RunState *run, int k, TimestampTz at);

#endif							/* CADENCE_RUNS_RUN_STATE_H */
