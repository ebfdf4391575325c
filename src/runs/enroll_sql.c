/*
 * runs/enroll_sql.c
 *		The SQL functions over enrollment (runs/enroll.c): plan_runs (a whole
 *		list), plan_run_for_lead (one lead), plan_runs_in and plan_run_in
 *		(the same for a named tenant, for the engine), and preview_schedule
 *		(the timeline a run would get, written nowhere).  Only these ask who
 *		is calling.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "base/identity.h"
#include "base/spi.h"
#include "runs/definition.h"
#include "runs/enroll.h"

PG_FUNCTION_INFO_V1(cadence_plan_runs);
PG_FUNCTION_INFO_V1(cadence_plan_runs_in);
PG_FUNCTION_INFO_V1(cadence_plan_run_for_lead);
PG_FUNCTION_INFO_V1(cadence_plan_run_in);
PG_FUNCTION_INFO_V1(cadence_preview_schedule);

static const char *const outcome_names[] = {
	[OUTCOME_ENROLLED] = "enrolled",
	[OUTCOME_ALREADY_ENROLLED] = "already_enrolled",
	[OUTCOME_REFUSED] = "refused",
};

/*
 * plan_runs
 *		Enroll the leads of arguments arg.. (cadence_id, lead_ids,
 *		trigger_at, options) for tenant, the caller's when NULL; one row
 *		(lead_id, outcome, run_id, reason) per lead.
 */
static Datum
plan_runs(FunctionCallInfo fcinfo, int arg, const char *tenant)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *cadence_id;
	ArrayType  *ids;
	Datum	   *elems;
	bool	   *elem_nulls;
	int			n;
	int			k;
	LeadResult *results;
	TimestampTz trigger_at;
	Jsonb	   *options;

	if (PG_ARGISNULL(arg) || PG_ARGISNULL(arg + 1) || PG_ARGISNULL(arg + 2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cadence_id, lead_ids and trigger_at must not be null")));
	cadence_id = text_to_cstring(PG_GETARG_TEXT_PP(arg));
	ids = PG_GETARG_ARRAYTYPE_P(arg + 1);
	trigger_at = PG_GETARG_TIMESTAMPTZ(arg + 2);
	options = PG_ARGISNULL(arg + 3) ? NULL : PG_GETARG_JSONB_P(arg + 3);

	InitMaterializedSRF(fcinfo, 0);
	deconstruct_array(ids, TEXTOID, -1, false, TYPALIGN_INT, &elems, &elem_nulls, &n);
	results = palloc0(sizeof(LeadResult) * Max(n, 1));
	for (k = 0; k < n; k++)
	{
		if (elem_nulls[k])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("lead_ids[%d] is null", k + 1)));
		results[k].lead_id = TextDatumGetCString(elems[k]);
	}
	if (n == 0)
		PG_RETURN_NULL();

	SPI_connect();
	if (tenant == NULL)
		tenant = cadence_caller_tenant();
	cadence_enroll(tenant, cadence_id, results, n, trigger_at, options);

	for (k = 0; k < n; k++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(results[k].lead_id);
		values[1] = CStringGetTextDatum(outcome_names[results[k].outcome]);
		values[2] = Int64GetDatum(results[k].run_id);
		nulls[2] = results[k].outcome == OUTCOME_REFUSED;
		values[3] = results[k].reason ? CStringGetTextDatum(results[k].reason) : (Datum) 0;
		nulls[3] = results[k].reason == NULL;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	PG_RETURN_NULL();
}

/*
 * cadence.plan_runs(cadence_id text, lead_ids text[], trigger_at timestamptz,
 *					 options jsonb) RETURNS TABLE (lead_id, outcome, run_id,
 *					 reason)
 *		Leads of the caller's tenant.
 */
Datum
cadence_plan_runs(PG_FUNCTION_ARGS)
{
	return plan_runs(fcinfo, 0, NULL);
}

/*
 * cadence.plan_runs_in(tenant_id text, cadence_id text, lead_ids text[],
 *						trigger_at timestamptz, options jsonb)
 *		The same for the tenant named: internal, for enrollment by what
 *		happens to a lead (enroll_on_trigger_in), which acts for the lead's
 *		tenant.
 */
Datum
cadence_plan_runs_in(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tenant_id must not be null")));
	return plan_runs(fcinfo, 1, text_to_cstring(PG_GETARG_TEXT_PP(0)));
}

/*
 * enroll_one
 *		Enroll the lead of arguments arg.. (cadence_id, lead_id, trigger_at,
 *		options) for tenant, the caller's when NULL: its run id (the live
 *		run's when it has one); a refusal is an error.
 */
static int64
enroll_one(FunctionCallInfo fcinfo, int arg, const char *tenant)
{
	LeadResult	result;
	char	   *cadence_id;

	if (PG_ARGISNULL(arg) || PG_ARGISNULL(arg + 1) || PG_ARGISNULL(arg + 2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cadence_id, lead_id and trigger_at must not be null")));
	cadence_id = text_to_cstring(PG_GETARG_TEXT_PP(arg));
	memset(&result, 0, sizeof(result));
	result.lead_id = text_to_cstring(PG_GETARG_TEXT_PP(arg + 1));

	SPI_connect();
	if (tenant == NULL)
		tenant = cadence_caller_tenant();
	cadence_enroll(tenant, cadence_id, &result, 1, PG_GETARG_TIMESTAMPTZ(arg + 2),
				   PG_ARGISNULL(arg + 3) ? NULL : PG_GETARG_JSONB_P(arg + 3));
	SPI_finish();

	if (result.outcome != OUTCOME_REFUSED)
		return result.run_id;
	if (strcmp(result.reason, "lead_not_found") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("lead \"%s\" does not exist in the tenant of cadence \"%s\"",
						result.lead_id, cadence_id),
				 errhint("A lead is enrolled only in cadences of its own tenant.")));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("lead \"%s\" is %s and cannot be enrolled", result.lead_id,
					result.reason),
			 errhint("Remove the opt-out (cadence.contacts.unsubscribed) or the suppression (cadence.suppressions) first if the lead asked to be contacted again.")));
	return 0;
}

/*
 * cadence.plan_run_for_lead(cadence_id text, lead_id text, trigger_at
 *							 timestamptz, options jsonb) RETURNS bigint
 *		One lead of the caller's tenant.
 */
Datum
cadence_plan_run_for_lead(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(enroll_one(fcinfo, 0, NULL));
}

/*
 * cadence.plan_run_in(tenant_id text, cadence_id text, lead_id text,
 *					   trigger_at timestamptz, options jsonb) RETURNS bigint
 *		The same for the tenant named: internal, for a run's add_to_campaign
 *		step, which acts for its own run's tenant.
 */
Datum
cadence_plan_run_in(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tenant_id must not be null")));
	PG_RETURN_INT64(enroll_one(fcinfo, 1, text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/*
 * start_is_capped
 *		Would a run whose first action is due at due start on a local day
 *		(of the cadence's zone) on which settings.maxContactsPerDay runs of
 *		the cadence have started already?
 */
static bool
start_is_capped(const CadenceDef *def, const char *tenant, TimestampTz due)
{
	static CadenceStatement starts = {
		"SELECT coalesce(sum(started), 0)::int FROM cadence.daily_sends"
		" WHERE tenant_id = $1 AND cadence_id = $2 AND day = $3"
	};
	Oid			types[3] = {TEXTOID, TEXTOID, DATEOID};
	Datum		values[3];
	bool		isnull;

	if (def->max_starts_per_day <= 0 || TIMESTAMP_NOT_FINITE(due))
		return false;
	values[0] = CStringGetTextDatum(tenant);
	values[1] = CStringGetTextDatum(def->cadence_id);
	values[2] = DateADTGetDatum(cadence_local_date(due, def->tz));
	cadence_spi_run(&starts, 3, types, values, NULL, true, SPI_OK_SELECT,
					"read the daily starts of a cadence");
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									   1, &isnull)) >= def->max_starts_per_day;
}

/*
 * cadence.preview_schedule(cadence_id text, lead_id text, as_of timestamptz)
 *		The timeline a run started at as_of would get, and why a time moved.
 */
Datum
cadence_preview_schedule(PG_FUNCTION_ARGS)
{
	static CadenceStatement lead_zone = {
		"SELECT timezone FROM cadence.contacts WHERE tenant_id = $1 AND id = $2"
	};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *cadence_id;
	TimestampTz as_of;
	char	   *tenant;
	CadenceDef *def;
	const char *zone;
	pg_tz	   *tz;
	char	   *lead_tz = NULL;
	PlanZone	pz;
	TimestampTz *due;
	CadenceMoveReason *reasons;
	int			k;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cadence_id and as_of must not be null")));
	cadence_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	as_of = PG_GETARG_TIMESTAMPTZ(2);
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	tenant = cadence_caller_tenant();
	def = cadence_def_load(tenant, cadence_id, 0, true);
	if (def == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("cadence \"%s\" not found", cadence_id)));
	if (!PG_ARGISNULL(1))
	{
		Oid			types[2] = {TEXTOID, TEXTOID};
		Datum		values[2] = {CStringGetTextDatum(tenant), PG_GETARG_DATUM(1)};

		cadence_spi_run(&lead_zone, 2, types, values, NULL, true, SPI_OK_SELECT,
						"read the lead");
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("lead \"%s\" not found",
							text_to_cstring(PG_GETARG_TEXT_PP(1)))));
		lead_tz = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	}
	tz = cadence_def_zone(def, lead_tz, &zone);

	due = palloc(sizeof(TimestampTz) * Max(def->nsteps, 1));
	reasons = palloc(sizeof(CadenceMoveReason) * Max(def->nsteps, 1));
	if (def->nsteps > 0)
	{
		cadence_def_plan_zone(def, zone, lead_tz, &pz);
		plan_chain(def->steps, def->nsteps, 0, as_of, 0, false, &pz, due, reasons);
		if (start_is_capped(def, tenant, due[0]))
		{
			due[0] = plan_held_start(&def->steps[0], due[0], &pz, &reasons[0]);
			plan_chain(def->steps, def->nsteps, 1, due[0], def->steps[0].day_number,
					   false, &pz, due, reasons);
		}
	}
	for (k = 0; k < def->nsteps; k++)
	{
		Datum		values[8];
		bool		nulls[8] = {false};
		DateADT		date;
		TimeADT		time;

		cadence_to_local(due[k], tz, &date, &time);
		values[0] = Int32GetDatum(def->steps[k].step_number);
		values[1] = Int32GetDatum(def->steps[k].day_number);
		values[2] = CStringGetTextDatum(def->steps[k].action_id);
		values[3] = CStringGetTextDatum(def->steps[k].type);
		values[4] = TimestampTzGetDatum(due[k]);
		values[5] = TimestampGetDatum((Timestamp) date * USECS_PER_DAY + time);
		values[6] = CStringGetTextDatum(zone);
		values[7] = reasons[k] == CADENCE_MOVE_NONE ? (Datum) 0
			: CStringGetTextDatum(cadence_move_reason_name(reasons[k]));
		nulls[7] = reasons[k] == CADENCE_MOVE_NONE;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	PG_RETURN_NULL();
}
