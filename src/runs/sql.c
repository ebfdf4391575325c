/*
 * runs/sql.c
 *		The run state machine's SQL-callable functions: advance, manual
 *		completion, pause, resume, cancel, exit and skip.  Each checks its
 *		arguments, locks a run of the caller's tenant, checks the run may
 *		make the move, makes it (runs/transitions.c) and returns the run's
 *		summary.  pause_run_in and exit_run_in do the same for the tenant
 *		named in their first argument: internal, for ingest_webhook, which
 *		applies what comes back for the tenant of each event.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "base/identity.h"
#include "base/spi.h"
#include "runs/run_state.h"

PG_FUNCTION_INFO_V1(cadence_advance_to_next_step);
PG_FUNCTION_INFO_V1(cadence_complete_manual_step);
PG_FUNCTION_INFO_V1(cadence_pause_run);
PG_FUNCTION_INFO_V1(cadence_pause_run_in);
PG_FUNCTION_INFO_V1(cadence_resume_run);
PG_FUNCTION_INFO_V1(cadence_cancel_run);
PG_FUNCTION_INFO_V1(cadence_exit_run);
PG_FUNCTION_INFO_V1(cadence_exit_run_in);
PG_FUNCTION_INFO_V1(cadence_skip_to_step);

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

/*
 * lock_run
 *		Lock the run of argument `first` (its id): of the caller's tenant
 *		when first is 0, else of the tenant named by argument 0.
 */
static RunState *
lock_run(FunctionCallInfo fcinfo, int first)
{
	const char *tenant = first == 0 ? cadence_caller_tenant()
		: text_to_cstring(PG_GETARG_TEXT_PP(0));

	return cadence_run_lock(tenant, PG_GETARG_INT64(first), NULL);
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
	static CadenceStatement run_summary = {
		"SELECT jsonb_build_object('runId', r.id, 'status', r.status,"
		"       'currentStep', r.current_step, 'nextDueAt',"
		"       (SELECT min(a.due_at) FROM cadence.scheduled_actions a"
		"         WHERE a.tenant_id = r.tenant_id AND a.run_id = r.id"
		"           AND a.status IN ('scheduled', 'planned')))"
		"  FROM cadence.runs r WHERE r.tenant_id = $1 AND r.id = $2"
	};
	Oid			types[2] = {TEXTOID, INT8OID};
	Datum		values[2];
	bool		isnull;

	values[0] = CStringGetTextDatum(run->tenant_id);
	values[1] = Int64GetDatum(run->id);
	cadence_spi_run(&run_summary, 2, types, values, NULL, false, SPI_OK_SELECT,
					"read a run");
	return SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1, &isnull),
							 false, -1);
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
	run = lock_run(fcinfo, 0);
	require_status(run, "active", NULL, "advance");
	cadence_run_finish_step(run, PG_GETARG_TIMESTAMPTZ(1), NULL,
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
	run = lock_run(fcinfo, 0);
	require_status(run, "active", NULL, "complete a step of");
	k = cadence_def_step_index(run->def, step);
	if (k < 0 || step != run->current_step)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("step %d is not the current step of run %lld", step,
						(long long) run->id),
				 errdetail("The run waits on step %d.", run->current_step)));
	type = run->def->steps[k].type;
	if (!cadence_step_is_manual(type))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("step %d of run %lld is of type %s, not a manual step",
						step, (long long) run->id, type),
				 errhint("Manual steps are %s.", cadence_manual_step_types())));
	cadence_run_finish_step(run, PG_GETARG_TIMESTAMPTZ(4),
				PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)),
				PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)));
	result = summary(run);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * pause_run
 *		Nothing of a paused run is dispatched; its due times stay as they
 *		were until it resumes, by resume_run or, when resume_at is given, by
 *		a runner at that time.  The pause happened at `at`.  The arguments
 *		(run_id, resume_at, reason, at) start at argument `first`.
 */
static Datum
pause_run(FunctionCallInfo fcinfo, int first)
{
	RunState   *run;
	TimestampTz resume_at = PG_ARGISNULL(first + 1) ? 0 : PG_GETARG_TIMESTAMPTZ(first + 1);
	Datum		result;

	require_args(fcinfo, first + 1);
	require_at(fcinfo, first + 3);
	SPI_connect();
	run = lock_run(fcinfo, first);
	require_status(run, "active", NULL, "pause");
	cadence_run_pause(run, PG_ARGISNULL(first + 1) ? NULL : &resume_at,
					  PG_ARGISNULL(first + 2) ? NULL
					  : text_to_cstring(PG_GETARG_TEXT_PP(first + 2)),
					  PG_GETARG_TIMESTAMPTZ(first + 3));
	result = summary(run);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * cadence.pause_run(run_id bigint, resume_at timestamptz, reason text,
 *					 at timestamptz) RETURNS jsonb
 *		Pause a run of the caller's tenant (see pause_run).
 */
Datum
cadence_pause_run(PG_FUNCTION_ARGS)
{
	return pause_run(fcinfo, 0);
}

/*
 * cadence.pause_run_in(tenant_id text, run_id bigint, resume_at timestamptz,
 *						reason text, at timestamptz) RETURNS jsonb
 *		The same for a run of the tenant named.
 */
Datum
cadence_pause_run_in(PG_FUNCTION_ARGS)
{
	return pause_run(fcinfo, 1);
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
	run = lock_run(fcinfo, 0);
	require_status(run, "paused", NULL, "resume");
	cadence_run_resume(run, PG_GETARG_TIMESTAMPTZ(1));
	result = summary(run);
	SPI_finish();
	PG_RETURN_DATUM(result);
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
	run = lock_run(fcinfo, 0);
	require_status(run, "active", "paused", "cancel");
	cadence_run_end(run, "cancelled", PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
			PG_GETARG_TIMESTAMPTZ(2));
	result = summary(run);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * exit_run
 *		End the run at `at` with an outcome: replied, meeting_booked,
 *		bounced, unsubscribed, completed, failed or cancelled.  The
 *		arguments (run_id, status, reason, at) start at argument `first`.
 */
static Datum
exit_run(FunctionCallInfo fcinfo, int first)
{
	static const char *const outcomes[] = {
		"replied", "meeting_booked", "bounced", "unsubscribed", "completed",
		"failed", "cancelled"
	};
	RunState   *run;
	char	   *status;
	int			k;
	Datum		result;

	require_args(fcinfo, first + 2);
	require_at(fcinfo, first + 3);
	status = text_to_cstring(PG_GETARG_TEXT_PP(first + 1));
	for (k = 0; k < lengthof(outcomes); k++)
		if (strcmp(status, outcomes[k]) == 0)
			break;
	if (k == lengthof(outcomes))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a run cannot end as \"%s\"", status),
				 errhint("A run ends as replied, meeting_booked, bounced, unsubscribed, completed, failed or cancelled.")));
	SPI_connect();
	run = lock_run(fcinfo, first);
	require_status(run, "active", "paused", "end");
	cadence_run_end(run, status, PG_ARGISNULL(first + 2) ? NULL
					: text_to_cstring(PG_GETARG_TEXT_PP(first + 2)),
					PG_GETARG_TIMESTAMPTZ(first + 3));
	result = summary(run);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * cadence.exit_run(run_id bigint, status text, reason text, at timestamptz)
 *		RETURNS jsonb
 *		End a run of the caller's tenant (see exit_run).
 */
Datum
cadence_exit_run(PG_FUNCTION_ARGS)
{
	return exit_run(fcinfo, 0);
}

/*
 * cadence.exit_run_in(tenant_id text, run_id bigint, status text,
 *					   reason text, at timestamptz) RETURNS jsonb
 *		The same for a run of the tenant named.
 */
Datum
cadence_exit_run_in(PG_FUNCTION_ARGS)
{
	return exit_run(fcinfo, 1);
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
	int			k;
	Datum		result;

	require_args(fcinfo, 3);
	SPI_connect();
	run = lock_run(fcinfo, 0);
	require_status(run, "active", NULL, "skip");
	k = cadence_def_step_index(run->def, step);
	if (k < 0 || step <= run->current_step)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot skip run %lld to step %d", (long long) run->id, step),
				 errdetail("The run is at step %d of %d; it can skip forward to a later step only.",
						   run->current_step, run->def->nsteps)));
	cadence_run_skip_to(run, k, PG_GETARG_TIMESTAMPTZ(2));
	result = summary(run);
	SPI_finish();
	PG_RETURN_DATUM(result);
}
