/*
 * runs/transitions.c
 *		The run state machine (see the comment block of
 *		schema/tables/23_runs.sql): the moves of a locked run
 *		(runs/run_state.h).  Each moves the run and its scheduled actions,
 *		re-plans what is left with plan_chain (what happened re-anchors: see
 *		schedule/chain.h), and writes an event row.  Every change takes its
 *		instant from its caller, so a runner played with as_of sees the
 *		same.  The SQL-callable functions are in runs/sql.c, what the
 *		runners call in runs/for_runners.c.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "base/publish.h"
#include "base/shmem.h"
#include "base/spi.h"
#include "runs/for_runners.h"
#include "runs/run_state.h"

/* Statuses of scheduled actions that are still to happen. */
#define OPEN_STATUSES "('planned', 'scheduled', 'sending', 'pending_manual')"

/*
 * run_args
 *		The run's tenant and id as the $1 and $2 of a statement.
 */
static void
run_args(const RunState *run, Datum *values, Oid *types)
{
	types[0] = TEXTOID;
	types[1] = INT8OID;
	values[0] = CStringGetTextDatum(run->tenant_id);
	values[1] = Int64GetDatum(run->id);
}

/*
 * cadence_run_exec
 *		Run a statement whose $1 and $2 are the run's tenant and id, with
 *		up to two further arguments.
 */
void
cadence_run_exec(const RunState *run, const char *sql, int nextra, Oid *xtypes,
		 Datum *xvalues, const char *xnulls, int expect)
{
	Oid			types[6];
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	int			k;

	run_args(run, values, types);
	for (k = 0; k < nextra; k++)
	{
		types[2 + k] = xtypes[k];
		values[2 + k] = xvalues[k];
		if (xnulls)
			nulls[2 + k] = xnulls[k];
	}
	cadence_spi_run_once(sql, 2 + nextra, types, values, nulls, false, expect,
						 "change a run");
}

/*
 * cadence_run_event
 *		Append an event of the run, and publish it.  type is one of the
 *		names the events table allows; payload is a SQL jsonb expression
 *		over $3, $4, ... .
 */
void
cadence_run_event(const RunState *run, const char *type, const char *payload,
		  int nextra, Oid *xtypes, Datum *xvalues, const char *xnulls)
{
	cadence_run_exec(run, psprintf("INSERT INTO cadence.events"
						   " (tenant_id, run_id, cadence_id, lead_id, type, payload)"
						   " SELECT tenant_id, id, cadence_id, lead_id, '%s', %s"
						   " FROM cadence.runs WHERE tenant_id = $1 AND id = $2"
						   " RETURNING " CADENCE_EVENT_COLUMNS,
						   type, payload),
			 nextra, xtypes, xvalues, xnulls, SPI_OK_INSERT_RETURNING);
	cadence_publish_returned(SPI_tuptable, SPI_processed, 1);
}

/*
 * cadence_run_lock
 *		Lock a run of the tenant and load the cadence version it was planned
 *		from (through *defs, a cache of loaded versions, when given).  A run
 *		the caller cannot see is a 42501: this is always a write.
 */
RunState *
cadence_run_lock(const char *tenant_id, int64 run_id, List **defs)
{
	/* A join, not a subquery: Citus locks only in a query it can route. */
	static CadenceStatement lock = {
		"SELECT r.status, r.current_step, r.paused_at, r.timezone,"
		"       r.cadence_id, r.cadence_version, c.timezone"
		"  FROM cadence.runs r LEFT JOIN cadence.contacts c"
		"    ON c.tenant_id = r.tenant_id AND c.id = r.lead_id"
		" WHERE r.tenant_id = $1 AND r.id = $2"
		"   FOR UPDATE OF r"
	};
	RunState   *run = palloc0(sizeof(RunState));
	Oid			types[2];
	Datum		values[2];
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;
	char	   *cadence_id;
	char	   *timezone;
	char	   *lead_zone;
	int32		version;

	run->tenant_id = pstrdup(tenant_id);
	run->id = run_id;
	run_args(run, values, types);
	cadence_spi_run(&lock, 2, types, values, NULL, false, SPI_OK_SELECT,
					"lock a run");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("run %lld does not exist in tenant \"%s\"",
						(long long) run_id, run->tenant_id)));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	run->status = SPI_getvalue(tup, desc, 1);
	run->current_step = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
	d = SPI_getbinval(tup, desc, 3, &isnull);
	run->paused_at = isnull ? 0 : DatumGetTimestampTz(d);
	timezone = SPI_getvalue(tup, desc, 4);
	cadence_id = SPI_getvalue(tup, desc, 5);
	version = DatumGetInt32(SPI_getbinval(tup, desc, 6, &isnull));
	lead_zone = SPI_getvalue(tup, desc, 7);
	run->def = defs ? cadence_def_cached(defs, run->tenant_id, cadence_id, version)
		: cadence_def_load(run->tenant_id, cadence_id, version, false);
	cadence_def_plan_zone(run->def, timezone, lead_zone, &run->zone);
	return run;
}

/*
 * cadence_run_step_day
 *		The cadence day of a step of the run.
 */
int32
cadence_run_step_day(const RunState *run, int32 step_number)
{
	int			k = cadence_def_step_index(run->def, step_number);

	return k >= 0 ? run->def->steps[k].day_number : 0;
}

/*
 * write_due
 *		Write the due times of steps[from..]; unless an action of the run is
 *		in a runner's or a person's hands, the step at from becomes the
 *		run's current one, scheduled (due for the runners) when the run is
 *		active, and the later ones planned.
 */
static void
write_due(RunState *run, int from, const TimestampTz *due,
		  const CadenceMoveReason *reasons)
{
	CadenceColumns rows = {0};
	Datum		step = Int32GetDatum(run->def->steps[from].step_number);

	cadence_plan_rows_add(&rows, run->tenant_id, run->id, run->def, from, due, reasons);
	cadence_plan_rows_write(&rows);
	cadence_run_exec(run, "UPDATE cadence.scheduled_actions a"
			 " SET status = CASE WHEN a.step_number = $3 AND r.status = 'active'"
			 "                    AND NOT EXISTS (SELECT 1 FROM cadence.scheduled_actions w"
			 "                         WHERE w.tenant_id = $1 AND w.run_id = $2"
			 "                           AND w.status IN ('sending', 'pending_manual'))"
			 "                   THEN 'scheduled' ELSE 'planned' END,"
			 "     updated_at = now()"
			 " FROM cadence.runs r"
			 " WHERE a.tenant_id = $1 AND a.run_id = $2 AND a.step_number >= $3"
			 "   AND r.tenant_id = $1 AND r.id = $2"
			 "   AND a.status IN ('planned', 'scheduled')",
			 1, (Oid[]) {INT4OID}, &step, NULL, SPI_OK_UPDATE);
	cadence_run_exec(run, "UPDATE cadence.runs SET current_step = $3"
			 " WHERE tenant_id = $1 AND id = $2"
			 "   AND NOT EXISTS (SELECT 1 FROM cadence.scheduled_actions w"
			 "                    WHERE w.tenant_id = $1 AND w.run_id = $2"
			 "                      AND w.status IN ('sending', 'pending_manual'))",
			 1, (Oid[]) {INT4OID}, &step, NULL, SPI_OK_UPDATE);
	if (SPI_processed > 0)
		run->current_step = run->def->steps[from].step_number;
	cadence_wake_dispatcher_at_commit();
}

/*
 * cadence_run_replan_from
 *		Re-plan the scheduled actions of steps[from..] of the run after
 *		something of day prev_day happened at prev (rule 4), and point the
 *		run at steps[from].  first_now: steps[from] is due at prev itself.
 */
void
cadence_run_replan_from(RunState *run, int from, TimestampTz prev, int32 prev_day, bool first_now)
{
	CadenceDef *def = run->def;
	TimestampTz *due = palloc(sizeof(TimestampTz) * def->nsteps);
	CadenceMoveReason *reasons = palloc(sizeof(CadenceMoveReason) * def->nsteps);

	plan_chain(def->steps, def->nsteps, from, prev, prev_day, first_now, &run->zone,
			   due, reasons);
	write_due(run, from, due, reasons);
}

/*
 * next_open_step
 *		Index in the chain of the first step after step_number that still
 *		has an open scheduled action, or -1.
 */
static int
next_open_step(const RunState *run, int32 step_number)
{
	static CadenceStatement next_open = {
		"SELECT min(step_number) FROM cadence.scheduled_actions"
		" WHERE tenant_id = $1 AND run_id = $2 AND step_number > $3"
		"   AND status IN " OPEN_STATUSES
	};
	Oid			types[3];
	Datum		values[3];
	bool		isnull;

	run_args(run, values, types);
	types[2] = INT4OID;
	values[2] = Int32GetDatum(step_number);
	cadence_spi_run(&next_open, 3, types, values, NULL, false, SPI_OK_SELECT,
					"read a run");
	values[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? -1 : cadence_def_step_index(run->def, DatumGetInt32(values[0]));
}

/*
 * cadence_run_move_on
 *		The run's current step is over (at `at`): re-plan the rest from then,
 *		or complete the run after its last action.
 */
void
cadence_run_move_on(RunState *run, TimestampTz at)
{
	int			next = next_open_step(run, run->current_step);

	if (next >= 0)
	{
		cadence_run_replan_from(run, next, at, cadence_run_step_day(run, run->current_step), false);
		cadence_run_exec(run, "UPDATE cadence.runs SET last_activity_at = $3"
				 " WHERE tenant_id = $1 AND id = $2",
				 1, (Oid[]) {TIMESTAMPTZOID}, (Datum[]) {TimestampTzGetDatum(at)}, NULL,
				 SPI_OK_UPDATE);
		return;
	}
	cadence_run_exec(run, "UPDATE cadence.runs SET status = 'completed', current_step = 0,"
			 " completed_at = $3, last_activity_at = $3"
			 " WHERE tenant_id = $1 AND id = $2",
			 1, (Oid[]) {TIMESTAMPTZOID}, (Datum[]) {TimestampTzGetDatum(at)}, NULL,
			 SPI_OK_UPDATE);
	run->status = "completed";
	cadence_run_event(run, "run.completed", "'{}'::jsonb", 0, NULL, NULL, NULL);
}

/*
 * cadence_run_finish_step
 *		Complete the run's current step at `at` (a sent action keeps its
 *		status and gets its completion time), close its task, and move on.
 */
void
cadence_run_finish_step(RunState *run, TimestampTz at, const char *notes,
			const char *outcome)
{
	Oid			types[4] = {INT4OID, TIMESTAMPTZOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', notes ? ' ' : 'n', outcome ? ' ' : 'n'};

	values[0] = Int32GetDatum(run->current_step);
	values[1] = TimestampTzGetDatum(at);
	values[2] = notes ? CStringGetTextDatum(notes) : (Datum) 0;
	values[3] = outcome ? CStringGetTextDatum(outcome) : (Datum) 0;
	cadence_run_exec(run, "UPDATE cadence.scheduled_actions"
			 " SET status = CASE WHEN status = 'sent' THEN 'sent' ELSE 'completed' END,"
			 "     runner = NULL, completed_at = $4, updated_at = now()"
			 " WHERE tenant_id = $1 AND run_id = $2 AND step_number = $3"
			 "   AND status IN ('scheduled', 'sending', 'pending_manual', 'sent')"
			 "   AND completed_at IS NULL",
			 2, types, values, nulls, SPI_OK_UPDATE);
	cadence_run_exec(run, "UPDATE cadence.tasks t SET status = 'completed', completed_at = $4,"
			 "     notes = $5, outcome = $6"
			 " FROM cadence.scheduled_actions a"
			 " WHERE a.tenant_id = $1 AND a.run_id = $2 AND a.step_number = $3"
			 "   AND t.tenant_id = a.tenant_id AND t.scheduled_action_id = a.id"
			 "   AND t.status = 'open'",
			 4, types, values, nulls, SPI_OK_UPDATE);

	cadence_run_event(run, "action.completed",
			  "jsonb_strip_nulls(jsonb_build_object('stepNumber', $3, 'completedAt', $4,"
			  " 'notes', $5, 'outcome', $6))",
			  4, types, values, nulls);
	cadence_run_move_on(run, at);
}

/*
 * cadence_run_close_open_actions
 *		Close every open scheduled action of the run before step (all of
 *		them when step is 0) with the given final status and reason, and
 *		their open tasks alike.
 */
void
cadence_run_close_open_actions(const RunState *run, int32 before_step, const char *status,
				   const char *reason)
{
	Oid			types[3] = {INT4OID, TEXTOID, TEXTOID};
	Datum		values[3];

	values[0] = Int32GetDatum(before_step > 0 ? before_step : PG_INT32_MAX);
	values[1] = CStringGetTextDatum(status);
	values[2] = CStringGetTextDatum(reason);
	cadence_run_exec(run, "UPDATE cadence.tasks t SET status = CASE $4 WHEN 'skipped'"
			 "     THEN 'skipped' ELSE 'cancelled' END"
			 " FROM cadence.scheduled_actions a"
			 " WHERE a.tenant_id = $1 AND a.run_id = $2 AND a.step_number < $3"
			 "   AND a.status IN " OPEN_STATUSES
			 "   AND t.tenant_id = a.tenant_id AND t.scheduled_action_id = a.id"
			 "   AND t.status = 'open'",
			 3, types, values, NULL, SPI_OK_UPDATE);
	cadence_run_exec(run, "UPDATE cadence.scheduled_actions"
			 " SET status = $4, skip_reason = $5, runner = NULL, updated_at = now()"
			 " WHERE tenant_id = $1 AND run_id = $2 AND step_number < $3"
			 "   AND status IN " OPEN_STATUSES,
			 3, types, values, NULL, SPI_OK_UPDATE);
}

/*
 * cadence_run_end
 *		End an active or paused run at `at` with a final status: what was
 *		still to happen is cancelled (skip reason run_<status>), and an event
 *		says why (run.cancelled for a cancellation, else run.exited).
 */
void
cadence_run_end(RunState *run, const char *status, const char *reason, TimestampTz at)
{
	Oid			types[3] = {TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];
	char		nulls[3] = {' ', reason ? ' ' : 'n', ' '};
	bool		cancelled = strcmp(status, "cancelled") == 0;

	values[0] = CStringGetTextDatum(status);
	values[1] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	values[2] = TimestampTzGetDatum(at);
	cadence_run_close_open_actions(run, 0, "cancelled", psprintf("run_%s", status));
	cadence_run_exec(run, "UPDATE cadence.runs SET status = $3, current_step = 0,"
			 " exit_reason = coalesce($4, $3), completed_at = $5,"
			 " paused_at = NULL, resume_at = NULL, last_activity_at = $5"
			 " WHERE tenant_id = $1 AND id = $2",
			 3, types, values, nulls, SPI_OK_UPDATE);
	run->status = pstrdup(status);
	if (cancelled)
		cadence_run_event(run, "run.cancelled", "jsonb_strip_nulls(jsonb_build_object('reason', $4))",
				  2, types, values, nulls);
	else
		cadence_run_event(run, "run.exited",
				  "jsonb_strip_nulls(jsonb_build_object('status', $3, 'reason', $4))",
				  2, types, values, nulls);
}

/*
 * cadence_run_resume
 *		Make a paused run active again at `at` (rule 5): the action it waits
 *		on keeps the open days and the wall time it had still to wait when
 *		the run paused (one already due then is due at `at`), in its send
 *		window; what follows is re-planned from it (rule 4).
 */
void
cadence_run_resume(RunState *run, TimestampTz at)
{
	CadenceDef *def = run->def;
	TimestampTz *due = palloc(sizeof(TimestampTz) * Max(def->nsteps, 1));
	CadenceMoveReason *reasons = palloc(sizeof(CadenceMoveReason) * Max(def->nsteps, 1));
	TimestampTz paused_at = run->paused_at ? run->paused_at : at;
	Datum		paused_secs = Int64GetDatum(Max(at - paused_at, 0) / USECS_PER_SEC);
	int			k = -1;
	TimestampTz was = 0;

	cadence_run_exec(run, "SELECT step_number, due_at FROM cadence.scheduled_actions"
			 " WHERE tenant_id = $1 AND run_id = $2 AND status IN ('planned', 'scheduled')"
			 " ORDER BY step_number, id LIMIT 1",
			 0, NULL, NULL, NULL, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		bool		isnull;

		k = cadence_def_step_index(def, DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
																	SPI_tuptable->tupdesc,
																	1, &isnull)));
		was = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 2, &isnull));
	}
	cadence_run_exec(run, "UPDATE cadence.runs SET status = 'active', paused_at = NULL,"
			 " resume_at = NULL, last_activity_at = $3 WHERE tenant_id = $1 AND id = $2",
			 1, (Oid[]) {TIMESTAMPTZOID}, (Datum[]) {TimestampTzGetDatum(at)}, NULL,
			 SPI_OK_UPDATE);
	run->status = "active";
	if (k >= 0)
	{
		due[k] = plan_resumed(&def->steps[k], was, paused_at, at, &run->zone, &reasons[k]);
		plan_chain(def->steps, def->nsteps, k + 1, due[k], def->steps[k].day_number,
				   false, &run->zone, due, reasons);
		write_due(run, k, due, reasons);
	}
	cadence_wake_dispatcher_at_commit();
	cadence_run_event(run, "run.resumed", "jsonb_build_object('pausedSeconds', $3)",
			  1, (Oid[]) {INT8OID}, &paused_secs, NULL);
}

/*
 * cadence_run_pause
 *		Pause an active run at `at`: nothing of it is dispatched, and its due
 *		times stay as they were until it resumes, by resume_run or, when
 *		resume_at is given (not NULL), by a runner at that time.
 */
void
cadence_run_pause(RunState *run, const TimestampTz *resume_at,
				  const char *reason, TimestampTz at)
{
	Oid			types[3] = {TIMESTAMPTZOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];
	char		nulls[3] = {resume_at ? ' ' : 'n', reason ? ' ' : 'n', ' '};

	values[0] = resume_at ? TimestampTzGetDatum(*resume_at) : (Datum) 0;
	values[1] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	values[2] = TimestampTzGetDatum(at);
	cadence_run_exec(run, "UPDATE cadence.runs SET status = 'paused', paused_at = $5,"
					 " resume_at = $3, last_activity_at = $5 WHERE tenant_id = $1 AND id = $2",
					 3, types, values, nulls, SPI_OK_UPDATE);
	cadence_run_exec(run, "UPDATE cadence.scheduled_actions SET status = 'planned', updated_at = now()"
					 " WHERE tenant_id = $1 AND run_id = $2 AND status = 'scheduled'",
					 0, NULL, NULL, NULL, SPI_OK_UPDATE);
	run->status = "paused";
	cadence_run_event(run, "run.paused",
					  "jsonb_strip_nulls(jsonb_build_object('resumeAt', $3, 'reason', $4, 'at', $5))",
					  3, types, values, nulls);
}

/*
 * cadence_run_skip_to
 *		Skip every open step of the run before steps[k]; that step is due at
 *		`at` itself, in its send window (the skip is the user's "now"; its
 *		own rule is overridden), and its followers by their rules from it.
 */
void
cadence_run_skip_to(RunState *run, int k, TimestampTz at)
{
	int32		step = run->def->steps[k].step_number;
	Datum		values[2] = {Int32GetDatum(run->current_step), Int32GetDatum(step)};

	cadence_run_close_open_actions(run, step, "skipped", "skipped_to_step");
	cadence_run_replan_from(run, k, at, run->def->steps[k].day_number, true);
	cadence_run_event(run, "run.skipped_to",
					  "jsonb_build_object('fromStep', $3, 'toStep', $4)",
					  2, (Oid[]) {INT4OID, INT4OID}, values, NULL);
}
