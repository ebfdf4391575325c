/*
 * runs/sql.c
 *		The run state machine's SQL-callable functions: advance, manual
 *		completion, pause, resume, cancel, exit and skip.  Each checks its
 *		arguments, locks a run of the caller's tenant, checks the run may
 *		make the move, makes it (runs/transitions.c) and returns the run's
 *		summary.  pause_run_in and exit_run_in, one more argument in front
 *		naming the tenant, are the same C functions: internal, for
 *		ingest_webhook, which applies what comes back for the tenant of
 *		each event.
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
PG_FUNCTION_INFO_V1(cadence_resume_run);
PG_FUNCTION_INFO_V1(cadence_cancel_run);
PG_FUNCTION_INFO_V1(cadence_exit_run);
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
 * text_arg
 *		Argument n as a C string, NULL when it is null.
 */
static char *
text_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/*
 * lock_run
 *		Lock the run of argument `first` (its id): of the caller's tenant
 *		when first is 0, else of the tenant named by argument 0 (the
 *		internal _in functions).
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
 * open_run
 *		Connect to SPI, lock the run of argument `first` (see lock_run) and
 *		check it is in state a (or b) for the move `what`.
 */
static RunState *
open_run(FunctionCallInfo fcinfo, int first, const char *a, const char *b,
		 const char *what)
{
	RunState   *run;

	SPI_connect();
	run = lock_run(fcinfo, first);
	require_status(run, a, b, what);
	return run;
}

/*
 * close_run
 *		The run's summary, as the functions here return it, and SPI closed.
 */
static Datum
close_run(const RunState *run)
{
	Datum		result = summary(run);

	SPI_finish();
	PG_RETURN_DATUM(result);
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

	require_args(fcinfo, 2);
	run = open_run(fcinfo, 0, "active", NULL, "advance");
	cadence_run_finish_step(run, PG_GETARG_TIMESTAMPTZ(1), NULL, text_arg(fcinfo, 2));
	return close_run(run);
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

	require_args(fcinfo, 2);
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("completed_at must not be null")));
	run = open_run(fcinfo, 0, "active", NULL, "complete a step of");
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
	cadence_run_finish_step(run, PG_GETARG_TIMESTAMPTZ(4), text_arg(fcinfo, 2),
							text_arg(fcinfo, 3));
	return close_run(run);
}

/*
 * cadence.pause_run(run_id bigint, resume_at timestamptz, reason text,
 *					 at timestamptz) RETURNS jsonb
 * cadence.pause_run_in(tenant_id text, run_id bigint, resume_at timestamptz,
 *						reason text, at timestamptz) RETURNS jsonb
 *		Nothing of a paused run is dispatched; its due times stay as they
 *		were until it resumes, by resume_run or, when resume_at is given, by
 *		a runner at that time.  The pause happened at `at`.  The run is of
 *		the caller's tenant, or of the tenant named (see lock_run).
 */
Datum
cadence_pause_run(PG_FUNCTION_ARGS)
{
	int			first = PG_NARGS() - 4;
	RunState   *run;
	TimestampTz resume_at = PG_ARGISNULL(first + 1) ? 0 : PG_GETARG_TIMESTAMPTZ(first + 1);

	require_args(fcinfo, first + 1);
	require_at(fcinfo, first + 3);
	run = open_run(fcinfo, first, "active", NULL, "pause");
	cadence_run_pause(run, PG_ARGISNULL(first + 1) ? NULL : &resume_at,
					  text_arg(fcinfo, first + 2), PG_GETARG_TIMESTAMPTZ(first + 3));
	return close_run(run);
}

/*
 * cadence.resume_run(run_id bigint, resume_at timestamptz) RETURNS jsonb
 *		Resume a paused run (see resume).
 */
Datum
cadence_resume_run(PG_FUNCTION_ARGS)
{
	RunState   *run;

	require_args(fcinfo, 2);
	run = open_run(fcinfo, 0, "paused", NULL, "resume");
	cadence_run_resume(run, PG_GETARG_TIMESTAMPTZ(1));
	return close_run(run);
}

/*
 * cadence.cancel_run(run_id bigint, reason text, at timestamptz) RETURNS jsonb
 *		End the run at `at`; what was still to happen is cancelled.
 */
Datum
cadence_cancel_run(PG_FUNCTION_ARGS)
{
	RunState   *run;

	require_args(fcinfo, 1);
	require_at(fcinfo, 2);
	run = open_run(fcinfo, 0, "active", "paused", "cancel");
	cadence_run_end(run, "cancelled", text_arg(fcinfo, 1),
			PG_GETARG_TIMESTAMPTZ(2));
	return close_run(run);
}

/*
 * cadence.exit_run(run_id bigint, status text, reason text, at timestamptz)
 *		RETURNS jsonb
 * cadence.exit_run_in(tenant_id text, run_id bigint, status text,
 *					   reason text, at timestamptz) RETURNS jsonb
 *		End the run at `at` with an outcome: replied, meeting_booked,
 *		bounced, unsubscribed, completed, failed or cancelled.  The run is
 *		of the caller's tenant, or of the tenant named (see lock_run).
 */
Datum
cadence_exit_run(PG_FUNCTION_ARGS)
{
	static const char *const outcomes[] = {
		"replied", "meeting_booked", "bounced", "unsubscribed", "completed",
		"failed", "cancelled"
	};
	int			first = PG_NARGS() - 4;
	RunState   *run;
	char	   *status;
	int			k;

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
	run = open_run(fcinfo, first, "active", "paused", "end");
	cadence_run_end(run, status, text_arg(fcinfo, first + 2),
					PG_GETARG_TIMESTAMPTZ(first + 3));
	return close_run(run);
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

	require_args(fcinfo, 3);
	run = open_run(fcinfo, 0, "active", NULL, "skip");
	k = cadence_def_step_index(run->def, step);
	if (k < 0 || step <= run->current_step)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot skip run %lld to step %d", (long long) run->id, step),
				 errdetail("The run is at step %d of %d; it can skip forward to a later step only.",
						   run->current_step, run->def->nsteps)));
	cadence_run_skip_to(run, k, PG_GETARG_TIMESTAMPTZ(2));
	return close_run(run);
}
