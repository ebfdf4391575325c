/*
 * dispatch_logic.c
 *		The steps a runner carries out in the database, in its claim
 *		transaction: condition steps (branch on what the lead did) and lead
 *		action steps (tag, assign, notify, enroll elsewhere ...), and the
 *		conditions other steps may carry (a step whose condition does not
 *		hold is skipped).
 *
 * Each step runs in a subtransaction: one that fails (a lead action naming
 * a cadence that is not active, say) is rolled back alone and its action
 * fails with the error, and the rest of the batch goes on.  Its run is
 * already locked by the claim (see dispatch.h).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "dispatch.h"
#include "runstate.h"
#include "shmem.h"

/*
 * condition_holds
 *		Does the condition of a message or manual step hold for its run?
 */
static bool
condition_holds(const DispatchItem *item)
{
	Oid			types[4] = {TEXTOID, INT8OID, INT4OID, JSONBOID};
	Datum		values[4];
	bool		isnull;
	Datum		d;

	values[0] = CStringGetTextDatum(item->tenant_id);
	values[1] = Int64GetDatum(item->run_id);
	values[2] = Int32GetDatum(item->step_number);
	values[3] = JsonbPGetDatum(item->condition);
	cadence_dispatch_spi("SELECT cadence.condition_holds($1, $2, $3, $4)", 4, types, values,
						 NULL, false, SPI_OK_SELECT, "check the condition of a step");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull && DatumGetBool(d);
}

/*
 * execute_guarded
 *		Carry out one condition or lead action step in a subtransaction; an
 *		error fails that action only.
 */
static void
execute_guarded(DispatchBatch *batch, DispatchItem *item, List **defs)
{
	MemoryContext mcxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(mcxt);
	PG_TRY();
	{
		bool		done = cadence_run_execute_step(item->tenant_id, item->run_id, item->id,
													batch->now, defs);

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(mcxt);
		CurrentResourceOwner = owner;
		if (done)
		{
			item->written = true;
			batch->counts.executed++;
		}
		else
			cadence_dispatch_verdict(item, VERDICT_SKIPPED, "run_not_active", NULL);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(mcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(mcxt);
		CurrentResourceOwner = owner;
		cadence_dispatch_verdict(item, VERDICT_FAILED, NULL, edata->message);
	}
	PG_END_TRY();
}

/*
 * cadence_dispatch_execute
 *		Condition and lead action steps of the batch, then the conditions
 *		of the others still to be sent or handed to a person.
 */
void
cadence_dispatch_execute(DispatchBatch *batch)
{
	List	   *defs = NIL;
	int			k;

	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *item = &batch->items[k];

		if (item->verdict == VERDICT_EXECUTE)
			execute_guarded(batch, item, &defs);
		else if ((item->verdict == VERDICT_SEND || item->verdict == VERDICT_MANUAL) &&
				 item->condition != NULL && !condition_holds(item))
			cadence_dispatch_verdict(item, VERDICT_SKIPPED, "condition_not_met", NULL);
	}
	if (batch->counts.executed > 0)
	{
		if (cadence_shared)
			pg_atomic_fetch_add_u64(&cadence_shared->executed, batch->counts.executed);
		/* A run that moved on may have its next step due already. */
		cadence_wake_dispatcher_at_commit();
	}
}
