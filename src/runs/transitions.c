/*
 * runs/transitions.c
 *		The run state machine (see the comment block of
 *		schema/tables/23_runs.sql): advance, manual completion, pause,
 *		resume, cancel and skip.  Each operation locks the run, moves it and
 *		its scheduled actions, re-plans what is left with plan_chain (what
 *		happened re-anchors: see schedule/chain.h), and writes an event row.
 *		Every change takes its instant from its caller (default now()), so a
 *		runner played with as_of sees the same.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "base/guard.h"
#include "base/identity.h"
#include "base/publish.h"
#include "base/shmem.h"
#include "runs/definition.h"
#include "runs/transitions.h"
PG_FUNCTION_INFO_V1(cadence_advance_to_next_step);
PG_FUNCTION_INFO_V1(cadence_complete_manual_step);
PG_FUNCTION_INFO_V1(cadence_pause_run);
PG_FUNCTION_INFO_V1(cadence_resume_run);
PG_FUNCTION_INFO_V1(cadence_cancel_run);
PG_FUNCTION_INFO_V1(cadence_exit_run);
PG_FUNCTION_INFO_V1(cadence_skip_to_step);

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

/* Statuses of scheduled actions that are still to happen. */
#define OPEN_STATUSES "('planned', 'scheduled', 'sending', 'pending_manual')"

/*
 * require_args
 *		The first n arguments of a state machine function must not be null.
 */
static void
require_args(FunctionCallInfo fcinfo, int n)
{
	int			k;

	for (k = 0; k < n; k++)
		if (PG_ARGISNULL(k))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of %s must not be null", k + 1,
							get_func_name(fcinfo->flinfo->fn_oid))));
}

/*
 * require_at
 *		The instant argument of a transition must not be null.
 */
static void
require_at(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("at must not be null"),
				 errhint("Leave it out for now().")));
}

static Datum
run_args(const RunState *run, Datum *values, Oid *types)
{
	types[0] = TEXTOID;
	types[1] = INT8OID;
	values[0] = CStringGetTextDatum(run->tenant_id);
	values[1] = Int64GetDatum(run->id);
	return (Datum) 0;
}

/*
 * exec_run
 *		Run a statement whose $1 and $2 are the run's tenant and id, with
 *		up to two further arguments.
 */
static void
exec_run(const RunState *run, const char *sql, int nextra, Oid *xtypes,
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
	if (SPI_execute_with_args(sql, 2 + nextra, types, values, nulls,
							  false, 0) != expect)
		elog(ERROR, "run %lld: statement failed: %s", (long long) run->id, sql);
}

/*
 * run_event
 *		Append an event of the run, and publish it.  type is one of the
 *		names the events table allows; payload is a SQL jsonb expression
 *		over $3, $4, ... .
 */
static void
run_event(const RunState *run, const char *type, const char *payload,
		  int nextra, Oid *xtypes, Datum *xvalues, const char *xnulls)
{
	exec_run(run, psprintf("INSERT INTO cadence.events"
						   " (tenant_id, run_id, cadence_id, lead_id, type, payload)"
						   " SELECT tenant_id, id, cadence_id, lead_id, '%s', %s"
						   " FROM cadence.runs WHERE tenant_id = $1 AND id = $2"
						   " RETURNING " CADENCE_EVENT_COLUMNS,
						   type, payload),
			 nextra, xtypes, xvalues, xnulls, SPI_OK_INSERT_RETURNING);
	cadence_publish_returned(SPI_tuptable, SPI_processed, 1);
}

/*
 * lock_run_in
 *		Lock a run of the tenant and load the cadence version it was planned
 *		from (through *defs, a cache of loaded versions, when given).  A run
 *		the caller cannot see is a 42501: this is always a write.
 */
static RunState *
lock_run_in(const char *tenant_id, int64 run_id, List **defs)
{
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
	/* A join, not a subquery: Citus locks only in a query it can route. */
	if (SPI_execute_with_args("SELECT r.status, r.current_step, r.paused_at, r.timezone,"
							  " r.cadence_id, r.cadence_version, c.timezone"
							  " FROM cadence.runs r LEFT JOIN cadence.contacts c"
							  "   ON c.tenant_id = r.tenant_id AND c.id = r.lead_id"
							  " WHERE r.tenant_id = $1 AND r.id = $2"
							  " FOR UPDATE OF r",
							  2, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not lock run %lld", (long long) run_id);
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
 * lock_run
 *		lock_run_in for a run of the caller's tenant.
 */
static RunState *
lock_run(int64 run_id)
{
	return lock_run_in(cadence_caller_tenant(), run_id, NULL);
}

/*
 * require_status
 *		A transition allowed only from the given state(s).
 */
static void
require_status(const RunState *run, const char *a, const char *b,
			   const char *what)
{
	if (strcmp(run->status, a) == 0 || (b && strcmp(run->status, b) == 0))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot %s run %lld: it is %s", what, (long long) run->id,
					run->status),
			 errhint("This needs a run that is %s%s%s.", a, b ? " or " : "",
					 b ? b : "")));
}

/*
 * summary
 *		The run as the functions here return it.
 */
static Datum
summary(const RunState *run)
{
	Oid			types[2];
	Datum		values[2];
	bool		isnull;

	run_args(run, values, types);
	if (SPI_execute_with_args("SELECT jsonb_build_object('runId', r.id, 'status', r.status,"
							  " 'currentStep', r.current_step, 'nextDueAt',"
							  " (SELECT min(a.due_at) FROM cadence.scheduled_actions a"
							  "   WHERE a.tenant_id = r.tenant_id AND a.run_id = r.id"
							  "     AND a.status IN ('scheduled', 'planned')))"
							  " FROM cadence.runs r WHERE r.tenant_id = $1 AND r.id = $2",
							  2, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read run %lld", (long long) run->id);
	return SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1, &isnull),
							 false, -1);
}

/*
 * step_day
 *		The cadence day of a step of the run.
 */
static int32
step_day(const RunState *run, int32 step_number)
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
	PlanRows	rows = {0};
	Datum		step = Int32GetDatum(run->def->steps[from].step_number);

	cadence_plan_rows_add(&rows, run->tenant_id, run->id, run->def, from, due, reasons);
	cadence_plan_rows_write(&rows);
	exec_run(run, "UPDATE cadence.scheduled_actions a"
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
	exec_run(run, "UPDATE cadence.runs SET current_step = $3"
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
 * replan
 *		Re-plan the scheduled actions of steps[from..] of the run after
 *		something of day prev_day happened at prev (rule 4), and point the
 *		run at steps[from].  first_now: steps[from] is due at prev itself.
 */
static void
replan(RunState *run, int from, TimestampTz prev, int32 prev_day, bool first_now)
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
	Oid			types[3];
	Datum		values[3];
	bool		isnull;

	run_args(run, values, types);
	types[2] = INT4OID;
	values[2] = Int32GetDatum(step_number);
	if (SPI_execute_with_args("SELECT min(step_number) FROM cadence.scheduled_actions"
							  " WHERE tenant_id = $1 AND run_id = $2 AND step_number > $3"
							  " AND status IN " OPEN_STATUSES,
							  3, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read run %lld", (long long) run->id);
	values[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? -1 : cadence_def_step_index(run->def, DatumGetInt32(values[0]));
}

/*
 * move_on
 *		The run's current step is over (at `at`): re-plan the rest from then,
 *		or complete the run after its last action.
 */
static void
move_on(RunState *run, TimestampTz at)
{
	int			next = next_open_step(run, run->current_step);

	if (next >= 0)
	{
		replan(run, next, at, step_day(run, run->current_step), false);
		exec_run(run, "UPDATE cadence.runs SET last_activity_at = $3"
				 " WHERE tenant_id = $1 AND id = $2",
				 1, (Oid[]) {TIMESTAMPTZOID}, (Datum[]) {TimestampTzGetDatum(at)}, NULL,
				 SPI_OK_UPDATE);
		return;
	}
	exec_run(run, "UPDATE cadence.runs SET status = 'completed', current_step = 0,"
			 " completed_at = $3, last_activity_at = $3"
			 " WHERE tenant_id = $1 AND id = $2",
			 1, (Oid[]) {TIMESTAMPTZOID}, (Datum[]) {TimestampTzGetDatum(at)}, NULL,
			 SPI_OK_UPDATE);
	run->status = "completed";
	run_event(run, "run.completed", "'{}'::jsonb", 0, NULL, NULL, NULL);
}

/*
 * finish_step
 *		Complete the run's current step at `at` (a sent action keeps its
 *		status and gets its completion time), close its task, and move on.
 */
static void
finish_step(RunState *run, TimestampTz at, const char *notes,
			const char *outcome)
{
	Oid			types[4] = {INT4OID, TIMESTAMPTZOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', notes ? ' ' : 'n', outcome ? ' ' : 'n'};

	values[0] = Int32GetDatum(run->current_step);
	values[1] = TimestampTzGetDatum(at);
	values[2] = notes ? CStringGetTextDatum(notes) : (Datum) 0;
	values[3] = outcome ? CStringGetTextDatum(outcome) : (Datum) 0;
	exec_run(run, "UPDATE cadence.scheduled_actions"
			 " SET status = CASE WHEN status = 'sent' THEN 'sent' ELSE 'completed' END,"
			 "     runner = NULL, completed_at = $4, updated_at = now()"
			 " WHERE tenant_id = $1 AND run_id = $2 AND step_number = $3"
			 "   AND status IN ('scheduled', 'sending', 'pending_manual', 'sent')"
			 "   AND completed_at IS NULL",
			 2, types, values, nulls, SPI_OK_UPDATE);
	exec_run(run, "UPDATE cadence.tasks t SET status = 'completed', completed_at = $4,"
			 "     notes = $5, outcome = $6"
			 " FROM cadence.scheduled_actions a"
			 " WHERE a.tenant_id = $1 AND a.run_id = $2 AND a.step_number = $3"
			 "   AND t.tenant_id = a.tenant_id AND t.scheduled_action_id = a.id"
			 "   AND t.status = 'open'",
			 4, types, values, nulls, SPI_OK_UPDATE);

	run_event(run, "action.completed",
			  "jsonb_strip_nulls(jsonb_build_object('stepNumber', $3, 'completedAt', $4,"
			  " 'notes', $5, 'outcome', $6))",
			  4, types, values, nulls);
	move_on(run, at);
}

/*
 * close_open_actions
 *		Close every open scheduled action of the run before step (all of
 *		them when step is 0) with the given final status and reason, and
 *		their open tasks alike.
 */
static void
close_open_actions(const RunState *run, int32 before_step, const char *status,
				   const char *reason)
{
	Oid			types[3] = {INT4OID, TEXTOID, TEXTOID};
	Datum		values[3];

	values[0] = Int32GetDatum(before_step > 0 ? before_step : PG_INT32_MAX);
	values[1] = CStringGetTextDatum(status);
	values[2] = CStringGetTextDatum(reason);
	exec_run(run, "UPDATE cadence.tasks t SET status = CASE $4 WHEN 'skipped'"
			 "     THEN 'skipped' ELSE 'cancelled' END"
			 " FROM cadence.scheduled_actions a"
			 " WHERE a.tenant_id = $1 AND a.run_id = $2 AND a.step_number < $3"
			 "   AND a.status IN " OPEN_STATUSES
			 "   AND t.tenant_id = a.tenant_id AND t.scheduled_action_id = a.id"
			 "   AND t.status = 'open'",
			 3, types, values, NULL, SPI_OK_UPDATE);
	exec_run(run, "UPDATE cadence.scheduled_actions"
			 " SET status = $4, skip_reason = $5, runner = NULL, updated_at = now()"
			 " WHERE tenant_id = $1 AND run_id = $2 AND step_number < $3"
			 "   AND status IN " OPEN_STATUSES,
			 3, types, values, NULL, SPI_OK_UPDATE);
}

/*
 * end_run
 *		End an active or paused run at `at` with a final status: what was
 *		still to happen is cancelled (skip reason run_<status>), and an event
 *		says why (run.cancelled for a cancellation, else run.exited).
 */
static void
end_run(RunState *run, const char *status, const char *reason, TimestampTz at)
{
	Oid			types[3] = {TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];
	char		nulls[3] = {' ', reason ? ' ' : 'n', ' '};
	bool		cancelled = strcmp(status, "cancelled") == 0;

	values[0] = CStringGetTextDatum(status);
	values[1] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	values[2] = TimestampTzGetDatum(at);
	close_open_actions(run, 0, "cancelled", psprintf("run_%s", status));
	exec_run(run, "UPDATE cadence.runs SET status = $3, current_step = 0,"
			 " exit_reason = coalesce($4, $3), completed_at = $5,"
			 " paused_at = NULL, resume_at = NULL, last_activity_at = $5"
			 " WHERE tenant_id = $1 AND id = $2",
			 3, types, values, nulls, SPI_OK_UPDATE);
	run->status = pstrdup(status);
	if (cancelled)
		run_event(run, "run.cancelled", "jsonb_strip_nulls(jsonb_build_object('reason', $4))",
				  2, types, values, nulls);
	else
		run_event(run, "run.exited",
				  "jsonb_strip_nulls(jsonb_build_object('status', $3, 'reason', $4))",
				  2, types, values, nulls);
}

/*
 * cadence_run_execute_step
 *		The run's current step is a condition or a lead action whose action
 *		the caller claimed: cadence.execute_logic_step() evaluates it (or
 *		does what the lead action says) and names the branch; the action is
 *		completed with that outcome, and the run goes on to its next step,
 *		jumps forward to a later one (skipping what lies between), or ends.
 */
bool
cadence_run_execute_step(const char *tenant_id, int64 run_id, int64 action_id,
						 TimestampTz at, List **defs)
{
	RunState   *run = lock_run_in(tenant_id, run_id, defs);
	Oid			types[3] = {INT8OID, TIMESTAMPTZOID, JSONBOID};
	Datum		values[3];
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	bool		to_null;
	char	   *branch;
	int32		to;
	char	   *status;
	char	   *reason;
	Datum		d;

	if (strcmp(run->status, "active") != 0)
		return false;
	values[0] = Int64GetDatum(action_id);
	values[1] = TimestampTzGetDatum(at);
	exec_run(run, "SELECT o.outcome, o.outcome #>> '{branch,action}',"
			 "       (o.outcome #>> '{branch,toStep}')::int,"
			 "       o.outcome #>> '{branch,status}', o.outcome #>> '{branch,reason}'"
			 "  FROM cadence.scheduled_actions a"
			 "  JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id"
			 "  JOIN cadence.cadence_actions ca ON ca.tenant_id = a.tenant_id"
			 "   AND ca.cadence_id = r.cadence_id AND ca.version = r.cadence_version"
			 "   AND ca.step_number = a.step_number"
			 " CROSS JOIN LATERAL cadence.execute_logic_step(a.tenant_id, a.run_id,"
			 "       a.step_number, a.type, ca.config, ca.condition, $4) AS o(outcome)"
			 " WHERE a.tenant_id = $1 AND a.run_id = $2 AND a.id = $3"
			 "   AND a.step_number = r.current_step AND a.status = 'sending'",
			 2, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	values[2] = SPI_datumTransfer(SPI_getbinval(tup, desc, 1, &isnull), false, -1);
	branch = SPI_getvalue(tup, desc, 2);
	d = SPI_getbinval(tup, desc, 3, &to_null);
	to = to_null ? 0 : DatumGetInt32(d);
	status = SPI_getvalue(tup, desc, 4);
	reason = SPI_getvalue(tup, desc, 5);

	exec_run(run, "UPDATE cadence.scheduled_actions"
			 " SET status = 'completed', runner = NULL, completed_at = $4,"
			 "     rendered = $5, updated_at = now()"
			 " WHERE tenant_id = $1 AND run_id = $2 AND id = $3",
			 3, types, values, NULL, SPI_OK_UPDATE);
	run_event(run, "action.executed",
			  "jsonb_build_object('stepNumber', (SELECT step_number"
			  "   FROM cadence.scheduled_actions WHERE tenant_id = $1 AND run_id = $2 AND id = $3))"
			  " || $5",
			  3, types, values, NULL);

	if (strcmp(branch, "jump") == 0)
	{
		int32		from = run->current_step;
		int			k = cadence_def_step_index(run->def, to);

		if (to_null || k < 0 || to <= from)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("step %d of run %lld cannot jump to step %d", from,
							(long long) run->id, to),
					 errdetail("A condition jumps forward, to a later step of the cadence.")));
		close_open_actions(run, to, "skipped", "branched_past");
		replan(run, k, at, step_day(run, from), false);
		run_event(run, "run.branched", "jsonb_build_object('fromStep', $3, 'toStep', $4)",
				  2, (Oid[]) {INT4OID, INT4OID},
				  (Datum[]) {Int32GetDatum(from), Int32GetDatum(to)}, NULL);
	}
	else if (strcmp(branch, "stop") == 0)
		end_run(run, status ? status : "completed", reason, at);
	else
		move_on(run, at);
	return true;
}

/*
 * cadence.advance_to_next_step(run_id bigint, happened_at timestamptz,
 *								outcome text) RETURNS jsonb
 *		The current step is done: what follows is re-anchored on when it
 *		actually happened.
 */
Datum
cadence_advance_to_next_step(PG_FUNCTION_ARGS)
{
	RunState   *run;
	Datum		result;

	require_args(fcinfo, 2);
	SPI_connect();
	run = lock_run(PG_GETARG_INT64(0));
	require_status(run, "active", NULL, "advance");
	finish_step(run, PG_GETARG_TIMESTAMPTZ(1), NULL,
				PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)));
	result = summary(run);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * cadence.complete_manual_step(run_id bigint, step_number int, notes text,
 *								outcome text, completed_at timestamptz)
 *		A person did the run's current manual step.
 */
Datum
cadence_complete_manual_step(PG_FUNCTION_ARGS)
{
	RunState   *run;
	int32		step = PG_GETARG_INT32(1);
	int			k;
	const char *type;
	Datum		result;

	require_args(fcinfo, 2);
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("completed_at must not be null")));
	SPI_connect();
	run = lock_run(PG_GETARG_INT64(0));
	require_status(run, "active", NULL, "complete a step of");
	k = cadence_def_step_index(run->def, step);
	if (k < 0 || step != run->current_step)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("step %d is not the current step of run %lld", step,
						(long long) run->id),
				 errdetail("The run waits on step %d.", run->current_step)));
	type = run->def->steps[k].type;
	if (strcmp(type, "call_task") != 0 && strcmp(type, "manual_task") != 0 &&
		strcmp(type, "manual_email") != 0 && strcmp(type, "linkedin_task") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("step %d of run %lld is of type %s, not a manual step",
						step, (long long) run->id, type),
				 errhint("Manual steps are call_task, manual_task, manual_email and linkedin_task.")));
	finish_step(run, PG_GETARG_TIMESTAMPTZ(4),
				PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)),
				PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)));
	result = summary(run);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * cadence.pause_run(run_id bigint, resume_at timestamptz, reason text,
 *					 at timestamptz) RETURNS jsonb
 *		Nothing of a paused run is dispatched; its due times stay as they
 *		were until it resumes, by resume_run or, when resume_at is given, by
 *		a runner at that time.  The pause happened at `at`.
 */
Datum
cadence_pause_run(PG_FUNCTION_ARGS)
{
	RunState   *run;
	Oid			types[3] = {TIMESTAMPTZOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	Datum		result;

	require_args(fcinfo, 1);
	require_at(fcinfo, 3);
	values[0] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	values[1] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	values[2] = PG_GETARG_DATUM(3);
	nulls[0] = PG_ARGISNULL(1) ? 'n' : ' ';
	nulls[1] = PG_ARGISNULL(2) ? 'n' : ' ';
	SPI_connect();
	run = lock_run(PG_GETARG_INT64(0));
	require_status(run, "active", NULL, "pause");
	exec_run(run, "UPDATE cadence.runs SET status = 'paused', paused_at = $5,"
			 " resume_at = $3, last_activity_at = $5 WHERE tenant_id = $1 AND id = $2",
			 3, types, values, nulls, SPI_OK_UPDATE);
	exec_run(run, "UPDATE cadence.scheduled_actions SET status = 'planned', updated_at = now()"
			 " WHERE tenant_id = $1 AND run_id = $2 AND status = 'scheduled'",
			 0, NULL, NULL, NULL, SPI_OK_UPDATE);
	run_event(run, "run.paused",
			  "jsonb_strip_nulls(jsonb_build_object('resumeAt', $3, 'reason', $4, 'at', $5))",
			  3, types, values, nulls);
	result = summary(run);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * resume
 *		Make a paused run active again at `at` (rule 5): the action it waits
 *		on keeps the open days and the wall time it had still to wait when
 *		the run paused (one already due then is due at `at`), in its send
 *		window; what follows is re-planned from it (rule 4).
 */
static void
resume(RunState *run, TimestampTz at)
{
	CadenceDef *def = run->def;
	TimestampTz *due = palloc(sizeof(TimestampTz) * Max(def->nsteps, 1));
	CadenceMoveReason *reasons = palloc(sizeof(CadenceMoveReason) * Max(def->nsteps, 1));
	TimestampTz paused_at = run->paused_at ? run->paused_at : at;
	Datum		paused_secs = Int64GetDatum(Max(at - paused_at, 0) / USECS_PER_SEC);
	int			k = -1;
	TimestampTz was = 0;

	exec_run(run, "SELECT step_number, due_at FROM cadence.scheduled_actions"
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
	exec_run(run, "UPDATE cadence.runs SET status = 'active', paused_at = NULL,"
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
	run_event(run, "run.resumed", "jsonb_build_object('pausedSeconds', $3)",
			  1, (Oid[]) {INT8OID}, &paused_secs, NULL);
}

/*
 * cadence.resume_run(run_id bigint, resume_at timestamptz) RETURNS jsonb
 *		Resume a paused run (see resume).
 */
Datum
cadence_resume_run(PG_FUNCTION_ARGS)
{
	RunState   *run;
	Datum		result;

	require_args(fcinfo, 2);
	SPI_connect();
	run = lock_run(PG_GETARG_INT64(0));
	require_status(run, "paused", NULL, "resume");
	resume(run, PG_GETARG_TIMESTAMPTZ(1));
	result = summary(run);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/* Ending a run failed without reading its plan (see cadence_run_fail_plainly). */
static const char *const fail_plainly_sql =
"WITH r AS (UPDATE cadence.runs"
"             SET status = 'failed', current_step = 0, exit_reason = $3, completed_at = $4,"
"                 paused_at = NULL, resume_at = NULL, last_activity_at = $4"
"           WHERE tenant_id = $1 AND id = $2 AND status IN ('active', 'paused')"
"          RETURNING tenant_id, id, cadence_id, lead_id),"
" c AS (UPDATE cadence.scheduled_actions a"
"          SET status = 'cancelled', skip_reason = 'run_failed', updated_at = pg_catalog.now()"
"         FROM r WHERE a.tenant_id = r.tenant_id AND a.run_id = r.id"
"          AND a.status IN ('planned', 'scheduled', 'pending_manual')),"
" e AS (INSERT INTO cadence.events (tenant_id, run_id, cadence_id, lead_id, type, payload)"
"       SELECT tenant_id, id, cadence_id, lead_id, 'run.failed',"
"              pg_catalog.jsonb_build_object('reason', $3)"
"         FROM r)"
" SELECT pg_catalog.count(*) FROM r";

/*
 * cadence_run_fail_plainly
 *		End an active or paused run failed, with reason as its exit reason,
 *		and cancel what it still had to do, without reading its cadence or
 *		its zone: for a run the state machine cannot load (an unknown zone,
 *		a plan that cannot be read).
 */
void
cadence_run_fail_plainly(const char *tenant_id, int64 run_id, const char *reason,
						 TimestampTz at)
{
	Oid			types[4] = {TEXTOID, INT8OID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[4];

	values[0] = CStringGetTextDatum(tenant_id);
	values[1] = Int64GetDatum(run_id);
	values[2] = CStringGetTextDatum(reason);
	values[3] = TimestampTzGetDatum(at);
	if (SPI_execute_with_args(fail_plainly_sql, 4, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not end run %lld", (long long) run_id);
}

/* A paused run whose time to resume has come. */
typedef struct DueRun
{
	const char *tenant_id;
	int64		id;
	TimestampTz at;
	List	  **defs;
	const char *error;
} DueRun;

static void
resume_due_run(void *arg)
{
	DueRun	   *r = arg;

	resume(lock_run_in(r->tenant_id, r->id, r->defs), r->at);
}

/*
 * cadence_run_resume_due
 *		Resume up to limit paused runs whose resume_at has come by now, each
 *		at its resume_at; runs another session holds are left for later.  A
 *		run that cannot be resumed (its zone or plan cannot be read) fails,
 *		with the error as its exit reason, and the others go on.
 */
int
cadence_run_resume_due(TimestampTz now, int limit)
{
	Oid			types[2] = {TIMESTAMPTZOID, INT4OID};
	Datum		values[2] = {TimestampTzGetDatum(now), Int32GetDatum(limit)};
	List	   *defs = NIL;
	uint64		n;
	uint64		i;
	char	  **tenants;
	int64	   *ids;
	TimestampTz *ats;

	if (SPI_execute_with_args("SELECT tenant_id, id, resume_at FROM cadence.runs"
							  " WHERE status = 'paused' AND resume_at <= $1"
							  " ORDER BY resume_at LIMIT $2 FOR UPDATE SKIP LOCKED",
							  2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the runs due to resume");
	n = SPI_processed;
	tenants = palloc(sizeof(char *) * Max(n, 1));
	ids = palloc(sizeof(int64) * Max(n, 1));
	ats = palloc(sizeof(TimestampTz) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;

		tenants[i] = SPI_getvalue(tup, SPI_tuptable->tupdesc, 1);
		ids[i] = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull));
		ats[i] = DatumGetTimestampTz(SPI_getbinval(tup, SPI_tuptable->tupdesc, 3, &isnull));
	}
	for (i = 0; i < n; i++)
	{
		DueRun		r = {tenants[i], ids[i], ats[i], &defs, NULL};

		if ((r.error = cadence_guarded(resume_due_run, &r)) == NULL)
			continue;
		ereport(WARNING,
				errmsg("cadence could not resume run %lld of tenant \"%s\": %s",
					   (long long) r.id, r.tenant_id, r.error));
		cadence_run_fail_plainly(r.tenant_id, r.id, r.error, r.at);
	}
	return (int) n;
}

/*
 * cadence.cancel_run(run_id bigint, reason text, at timestamptz) RETURNS jsonb
 *		End the run at `at`; what was still to happen is cancelled.
 */
Datum
cadence_cancel_run(PG_FUNCTION_ARGS)
{
	RunState   *run;
	Datum		result;

	require_args(fcinfo, 1);
	require_at(fcinfo, 2);
	SPI_connect();
	run = lock_run(PG_GETARG_INT64(0));
	require_status(run, "active", "paused", "cancel");
	end_run(run, "cancelled", PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
			PG_GETARG_TIMESTAMPTZ(2));
	result = summary(run);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * cadence.exit_run(run_id bigint, status text, reason text, at timestamptz)
 *		RETURNS jsonb
 *		End the run at `at` with an outcome: replied, meeting_booked,
 *		bounced, unsubscribed, completed, failed or cancelled.
 */
Datum
cadence_exit_run(PG_FUNCTION_ARGS)
{
	static const char *const outcomes[] = {
		"replied", "meeting_booked", "bounced", "unsubscribed", "completed",
		"failed", "cancelled"
	};
	RunState   *run;
	char	   *status;
	int			k;
	Datum		result;

	require_args(fcinfo, 2);
	require_at(fcinfo, 3);
	status = text_to_cstring(PG_GETARG_TEXT_PP(1));
	for (k = 0; k < lengthof(outcomes); k++)
		if (strcmp(status, outcomes[k]) == 0)
			break;
	if (k == lengthof(outcomes))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a run cannot end as \"%s\"", status),
				 errhint("A run ends as replied, meeting_booked, bounced, unsubscribed, completed, failed or cancelled.")));
	SPI_connect();
	run = lock_run(PG_GETARG_INT64(0));
	require_status(run, "active", "paused", "end");
	end_run(run, status, PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)),
			PG_GETARG_TIMESTAMPTZ(3));
	result = summary(run);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * cadence.skip_to_step(run_id bigint, step_number int, at timestamptz)
 *		Skip every open step before step_number; that step is due at `at`
 *		in its send window, and its followers by their rules from it.
 */
Datum
cadence_skip_to_step(PG_FUNCTION_ARGS)
{
	RunState   *run;
	int32		step = PG_GETARG_INT32(1);
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(2);
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		values[2];
	int			k;
	Datum		result;

	require_args(fcinfo, 3);
	SPI_connect();
	run = lock_run(PG_GETARG_INT64(0));
	require_status(run, "active", NULL, "skip");
	k = cadence_def_step_index(run->def, step);
	if (k < 0 || step <= run->current_step)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot skip run %lld to step %d", (long long) run->id, step),
				 errdetail("The run is at step %d of %d; it can skip forward to a later step only.",
						   run->current_step, run->def->nsteps)));
	values[0] = Int32GetDatum(run->current_step);
	values[1] = Int32GetDatum(step);
	close_open_actions(run, step, "skipped", "skipped_to_step");

	/*
	 * The target is due at `at` itself, in its send window (the skip is the
	 * user's "now"); its own rule is overridden.  What follows it goes by
	 * the rules from there.
	 */
	replan(run, k, at, run->def->steps[k].day_number, true);
	run_event(run, "run.skipped_to", "jsonb_build_object('fromStep', $3, 'toStep', $4)",
			  2, types, values, NULL);
	result = summary(run);
	SPI_finish();
	PG_RETURN_DATUM(result);
}
