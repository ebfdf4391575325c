/*
 * runs/replan.c
 *		What happened re-anchors (the contract's rule 4): when an action
 *		ends at T, every later action of its run is planned again from T by
 *		the chain of schedule/chain.c.  The run state machine re-plans one run
 *		at a time; a runner's record step re-plans every run of its batch that
 *		moved on at once, in two statements whatever the batch holds: one
 *		reads the runs, one writes the new due times of those that changed.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "base/spi.h"
#include "runs/for_runners.h"

/* The runs to re-plan, with what their re-planning needs. */
static CadenceStatement runs_sql = {
"SELECT k.ord::int, r.cadence_id, r.cadence_version, r.timezone, ct.timezone"
"  FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS k(tenant_id, run_id, ord)"
"  CROSS JOIN LATERAL (SELECT * FROM cadence.runs r"
"                       WHERE r.tenant_id = k.tenant_id AND r.id = k.run_id OFFSET 0) r"
"  LEFT JOIN LATERAL (SELECT ct.timezone FROM cadence.contacts ct"
"                      WHERE ct.tenant_id = r.tenant_id AND ct.id = r.lead_id OFFSET 0) ct"
"    ON true"};

/* New due times of actions still to happen; rows that keep theirs stay. */
static CadenceStatement write_sql = {
"UPDATE cadence.scheduled_actions a"
"   SET due_at = u.due_at, planned_at = u.due_at, moved_reason = u.reason,"
"       updated_at = now()"
"  FROM unnest($1::text[], $2::bigint[], $3::int[], $4::timestamptz[], $5::text[])"
"       AS u(tenant_id, run_id, step, due_at, reason)"
" WHERE a.tenant_id = u.tenant_id AND a.run_id = u.run_id AND a.step_number = u.step"
"   AND a.status IN ('planned', 'scheduled')"
"   AND (a.due_at <> u.due_at OR a.moved_reason IS DISTINCT FROM u.reason)"};

/* The element types of the columns write_sql takes. */
static const Oid write_elem[5] = {TEXTOID, INT8OID, INT4OID, TIMESTAMPTZOID, TEXTOID};

/*
 * cadence_plan_rows_add
 *		Append the due times of steps[from..] of a run to rows.
 */
void
cadence_plan_rows_add(CadenceColumns *rows, const char *tenant_id, int64 run_id,
					  const CadenceDef *def, int from, const TimestampTz *due,
					  const CadenceMoveReason *reasons)
{
	int			k;

	if (rows->ncols == 0)
		cadence_columns_init(rows, lengthof(write_elem), def->nsteps);
	for (k = from; k < def->nsteps; k++)
	{
		cadence_columns_grow(rows);
		cadence_columns_text(rows, 0, tenant_id);
		cadence_columns_datum(rows, 1, Int64GetDatum(run_id), false);
		cadence_columns_datum(rows, 2, Int32GetDatum(def->steps[k].step_number), false);
		cadence_columns_datum(rows, 3, TimestampTzGetDatum(due[k]), false);
		cadence_columns_text(rows, 4, reasons[k] == CADENCE_MOVE_NONE ? NULL
							 : cadence_move_reason_name(reasons[k]));
		rows->n++;
	}
}

/*
 * cadence_plan_rows_write
 *		One UPDATE for every row.
 */
void
cadence_plan_rows_write(CadenceColumns *rows)
{
	if (rows->n == 0)
		return;
	cadence_columns_execute(rows, &write_sql, write_elem, SPI_OK_UPDATE,
							"re-plan the actions of runs");
}

/*
 * cadence_runs_replan
 *		Re-plan the runs whose step steps[k] ended at ats[k].  Callers hold
 *		the runs' locks and have moved them on.
 */
void
cadence_runs_replan(int n, Datum *tenant_ids, Datum *run_ids, const int32 *steps,
					const TimestampTz *ats)
{
	MemoryContext mcxt = CurrentMemoryContext;
	Oid			types[2] = {TEXTARRAYOID, INT8ARRAYOID};
	Datum		values[2];
	List	   *defs = NIL;
	CadenceColumns rows = {0};
	SPITupleTable *tuptable;
	uint64		nruns;
	uint64		i;

	if (n == 0)
		return;
	values[0] = PointerGetDatum(construct_array(tenant_ids, n, TEXTOID, -1, false,
												TYPALIGN_INT));
	values[1] = PointerGetDatum(construct_array(run_ids, n, INT8OID, 8, FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	cadence_spi_run(&runs_sql, 2, types, values, NULL, false, SPI_OK_SELECT,
					"read the runs to re-plan");
	tuptable = SPI_tuptable;
	nruns = SPI_processed;
	for (i = 0; i < nruns; i++)
	{
		HeapTuple	tup = tuptable->vals[i];
		TupleDesc	desc = tuptable->tupdesc;
		bool		isnull;
		int			k = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull)) - 1;
		char	   *tenant = TextDatumGetCString(tenant_ids[k]);
		CadenceDef *def;
		PlanZone	pz;
		int			ended;
		TimestampTz *due;
		CadenceMoveReason *reasons;

		def = cadence_def_cached(&defs, tenant, SPI_getvalue(tup, desc, 2),
								 DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull)));
		MemoryContextSwitchTo(mcxt);
		ended = cadence_def_step_index(def, steps[k]);
		if (ended < 0 || ended + 1 >= def->nsteps)
			continue;
		cadence_def_plan_zone(def, SPI_getvalue(tup, desc, 4), SPI_getvalue(tup, desc, 5),
							  &pz);
		due = palloc(sizeof(TimestampTz) * def->nsteps);
		reasons = palloc(sizeof(CadenceMoveReason) * def->nsteps);
		plan_chain(def->steps, def->nsteps, ended + 1, ats[k],
				   def->steps[ended].day_number, false, &pz, due, reasons);
		cadence_plan_rows_add(&rows, tenant, DatumGetInt64(run_ids[k]), def, ended + 1,
							  due, reasons);
	}
	cadence_plan_rows_write(&rows);
}
