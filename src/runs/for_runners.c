/*
 * runs/for_runners.c
 *		What the runners ask of the run state machine: carry out a condition
 *		or lead action step, resume the paused runs whose time has come, and
 *		end plainly a run that cannot be loaded.  Each takes the tenant it
 *		acts for from its caller.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "base/guard.h"
#include "base/spi.h"
#include "runs/for_runners.h"
#include "runs/run_state.h"

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
	RunState   *run = cadence_run_lock(tenant_id, run_id, defs);
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
	cadence_run_exec(run, "SELECT o.outcome, o.outcome #>> '{branch,action}',"
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

	cadence_run_exec(run, "UPDATE cadence.scheduled_actions"
			 " SET status = 'completed', runner = NULL, completed_at = $4,"
			 "     rendered = $5, updated_at = now()"
			 " WHERE tenant_id = $1 AND run_id = $2 AND id = $3",
			 3, types, values, NULL, SPI_OK_UPDATE);
	cadence_run_event(run, "action.executed",
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
		cadence_run_close_open_actions(run, to, "skipped", "branched_past");
		cadence_run_replan_from(run, k, at, cadence_run_step_day(run, from), false);
		cadence_run_event(run, "run.branched", "jsonb_build_object('fromStep', $3, 'toStep', $4)",
				  2, (Oid[]) {INT4OID, INT4OID},
				  (Datum[]) {Int32GetDatum(from), Int32GetDatum(to)}, NULL);
	}
	else if (strcmp(branch, "stop") == 0)
		cadence_run_end(run, status ? status : "completed", reason, at);
	else
		cadence_run_move_on(run, at);
	return true;
}

/* Ending a run failed without reading its plan (see cadence_run_fail_plainly). */
static CadenceStatement fail_plainly_sql = {
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
" SELECT pg_catalog.count(*) FROM r"};

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
	cadence_spi_run(&fail_plainly_sql, 4, types, values, NULL, false,
					SPI_OK_SELECT, "end a run");
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

	cadence_run_resume(cadence_run_lock(r->tenant_id, r->id, r->defs), r->at);
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
	static CadenceStatement due_runs = {
		"SELECT tenant_id, id, resume_at FROM cadence.runs"
		" WHERE status = 'paused' AND resume_at <= $1"
		" ORDER BY resume_at LIMIT $2 FOR UPDATE SKIP LOCKED"
	};
	Oid			types[2] = {TIMESTAMPTZOID, INT4OID};
	Datum		values[2] = {TimestampTzGetDatum(now), Int32GetDatum(limit)};
	List	   *defs = NIL;
	uint64		n;
	uint64		i;
	char	  **tenants;
	int64	   *ids;
	TimestampTz *ats;

	cadence_spi_run(&due_runs, 2, types, values, NULL, false, SPI_OK_SELECT,
					"read the runs due to resume");
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
