/*
 * dispatch/logic.c
 *		The steps a runner carries out in the database, in its claim
 *		transaction: condition steps (branch on what the lead did) and lead
 *		action steps (tag, assign, notify, enroll elsewhere ...), and the
 *		conditions other steps may carry (a step whose condition does not
 *		hold is skipped).
 *
 * Each step, and each condition check, runs in a subtransaction: one that
 * fails (a lead action naming a cadence that is not active, a condition
 * that cannot be read) is rolled back alone and its action fails with the
 * error, and the rest of the batch goes on.  Its run is already locked by
 * the claim (see dispatch/dispatch.h).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "base/shmem.h"
#include "base/spi.h"
#include "dispatch/dispatch.h"
#include "runs/for_runners.h"

/*
 * condition_holds
 *		Does the condition of a message or manual step hold for its run?
 */
static bool
condition_holds(const DispatchItem *item)
{
	static CadenceStatement holds_stmt = {
		"SELECT cadence.condition_holds($1, $2, $3, $4)"
	};
	Oid			types[4] = {TEXTOID, INT8OID, INT4OID, JSONBOID};
	Datum		values[4];
	bool		isnull;
	Datum		d;

	values[0] = CStringGetTextDatum(item->tenant_id);
	values[1] = Int64GetDatum(item->run_id);
	values[2] = Int32GetDatum(item->step_number);
	values[3] = JsonbPGetDatum(item->condition);
	cadence_spi_run(&holds_stmt, 4, types, values,
					NULL, false, SPI_OK_SELECT, "check the condition of a step");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull && DatumGetBool(d);
}

/* One step to carry out, and what came of it. */
typedef struct LogicStep
{
	DispatchBatch *batch;
	DispatchItem *item;
	List	  **defs;
	bool		done;
	bool		holds;
} LogicStep;

static void
execute_step(void *arg)
{
	LogicStep  *st = arg;

	st->done = cadence_run_execute_step(st->item->tenant_id, st->item->run_id, st->item->id,
										st->batch->now, st->defs);
}

static void
check_condition(void *arg)
{
	LogicStep  *st = arg;

	st->holds = condition_holds(st->item);
}

/*
 * cadence_dispatch_execute
 *		Condition and lead action steps of the batch, then the conditions
 *		of the others still to be sent or handed to a person; each in a
 *		subtransaction, whose error fails that action alone.
 */
void
cadence_dispatch_execute(DispatchBatch *batch)
{
	List	   *defs = NIL;
	int			k;

	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *item = &batch->items[k];
		LogicStep	st = {batch, item, &defs, false, true};
		char	   *error;

		if (item->verdict == VERDICT_EXECUTE)
		{
			if ((error = cadence_guarded(execute_step, &st)) != NULL)
				cadence_dispatch_verdict(item, VERDICT_FAILED, NULL, error);
			else if (!st.done)
				cadence_dispatch_verdict(item, VERDICT_SKIPPED, "run_not_active", NULL);
			else
			{
				item->written = true;
				batch->counts.executed++;
			}
		}
		else if ((item->verdict == VERDICT_SEND || item->verdict == VERDICT_MANUAL) &&
				 item->condition != NULL)
		{
			if ((error = cadence_guarded(check_condition, &st)) != NULL)
				cadence_dispatch_verdict(item, VERDICT_FAILED, NULL, error);
			else if (!st.holds)
				cadence_dispatch_verdict(item, VERDICT_SKIPPED, "condition_not_met", NULL);
		}
	}
	/* A run that moved on may have its next step due already. */
	if (batch->counts.executed > 0)
		cadence_wake_dispatcher_at_commit();
}
