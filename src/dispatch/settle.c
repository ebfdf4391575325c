/*
 * dispatch/settle.c
 *		Writing a batch's outcomes so that one bad row cannot hold the others
 *		back.  The batch is written whole (dispatch/record.c) in a
 *		subtransaction; if that fails, item by item, each in its own; an
 *		item whose write fails still (a run whose zone or plan cannot be
 *		read, say) is settled the plainest way: the action ends (sent if a
 *		provider accepted it, else failed with the error) and so does its
 *		run, failed with the error, as the run state machine's
 *		"unrecoverable error" (schema/tables/23_runs.sql).  Only if even
 *		that fails does the claim stay as it was; the round then gives the
 *		runner's token up, so that the claim is taken over and its attempts
 *		counted (worker/round.c).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "base/gucs.h"
#include "base/publish.h"
#include "base/spi.h"
#include "dispatch/dispatch.h"
#include "runs/for_runners.h"

/*
 * The plainest settling of one action: $1-$3 the action, $4 this runner,
 * $5 its attempt, $6 'sent' or 'failed', $7 the error, $8 when, $9 the
 * provider's message id, $10 1 if the claim's attempt does not count.
 */
static CadenceStatement settle_sql = {
"WITH a AS (UPDATE cadence.scheduled_actions"
"             SET status = $6, runner = NULL, last_error = coalesce($7, last_error),"
"                 attempts = attempts - $10,"
"                 sent_at = CASE WHEN $6 = 'sent' THEN $8 ELSE sent_at END,"
"                 provider_message_id = coalesce($9, provider_message_id),"
"                 updated_at = pg_catalog.now()"
"           WHERE tenant_id = $1 AND run_id = $2 AND id = $3"
"             AND CASE WHEN $6 = 'sent' THEN status <> 'sent'"
"                      ELSE status = 'sending' AND runner = $4 AND attempts = $5 END"
"          RETURNING tenant_id, run_id, id, cadence_id, step_number),"
" e AS (INSERT INTO cadence.events (tenant_id, run_id, scheduled_action_id, cadence_id,"
"                                  type, payload)"
"       SELECT a.tenant_id, a.run_id, a.id, a.cadence_id,"
"              CASE $6 WHEN 'sent' THEN 'action.sent' ELSE 'action.failed' END,"
"              pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('stepNumber', a.step_number,"
"                'attempt', $5 - $10, 'runner', $4, 'error', $7, 'providerMessageId', $9,"
"                'outcome', CASE $6 WHEN 'sent' THEN 'accepted' END))"
"         FROM a"
CADENCE_PUBLISH_RETURNING ")"
" SELECT pg_catalog.count(*) FROM a"};

/* A write step: the runs locked first (the record step) or not (a claim). */
typedef struct WriteStep
{
	DispatchBatch *batch;
	bool		lock_runs;
} WriteStep;

static void
write_step(void *arg)
{
	WriteStep  *step = arg;

	if (step->lock_runs)
		cadence_dispatch_lock_runs(step->batch, false);
	cadence_dispatch_write(step->batch);
}

/*
 * cadence_dispatch_save_marks
 *		What a write changes in the batch's memory (the items' marks, the
 *		tallies), to be put back if the write is rolled back.
 */
void
cadence_dispatch_save_marks(const DispatchBatch *batch, DispatchMarks *m)
{
	int			k;

	if (m->written == NULL)
	{
		m->written = MemoryContextAlloc(batch->mcxt, sizeof(bool) * Max(batch->nitems, 1));
		m->stale = MemoryContextAlloc(batch->mcxt, sizeof(bool) * Max(batch->nitems, 1));
	}
	for (k = 0; k < batch->nitems; k++)
	{
		m->written[k] = batch->items[k].written;
		m->stale[k] = batch->items[k].stale;
	}
	m->counts = batch->counts;
}

/*
 * cadence_dispatch_restore_marks
 *		Put back what cadence_dispatch_save_marks saved.
 */
void
cadence_dispatch_restore_marks(DispatchBatch *batch, const DispatchMarks *m)
{
	int			k;

	for (k = 0; k < batch->nitems; k++)
	{
		batch->items[k].written = m->written[k];
		batch->items[k].stale = m->stale[k];
	}
	batch->counts = m->counts;
}

/* The item settle_item works on. */
typedef struct SettleItem
{
	DispatchBatch *batch;
	DispatchItem *item;
	const char *error;
	bool		done;
} SettleItem;

static void
settle_one(void *arg)
{
	SettleItem *si = arg;
	DispatchItem *it = si->item;
	bool		sent = it->verdict == VERDICT_SENT;
	Oid			types[10] = {TEXTOID, INT8OID, INT8OID, INT8OID, INT4OID, TEXTOID, TEXTOID,
	TIMESTAMPTZOID, TEXTOID, INT4OID};
	Datum		values[10];
	char		nulls[10] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	sent && it->provider_message_id ? ' ' : 'n', ' '};
	bool		isnull;

	values[0] = CStringGetTextDatum(it->tenant_id);
	values[1] = Int64GetDatum(it->run_id);
	values[2] = Int64GetDatum(it->id);
	values[3] = Int64GetDatum(si->batch->runner);
	values[4] = Int32GetDatum(it->attempts);
	values[5] = CStringGetTextDatum(sent ? "sent" : "failed");
	values[6] = CStringGetTextDatum(si->error);
	values[7] = TimestampTzGetDatum(it->happened_at);
	values[8] = nulls[8] == ' ' ? CStringGetTextDatum(it->provider_message_id) : (Datum) 0;
	values[9] = Int32GetDatum(it->undone ? 1 : 0);
	cadence_spi_run(&settle_sql, 10, types, values, nulls, false, SPI_OK_SELECT,
					"settle an action that could not be written");
	si->done = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										   1, &isnull)) > 0;
	if (si->done)
		cadence_run_fail_plainly(it->tenant_id, it->run_id, si->error, it->happened_at);
}

/*
 * settle_item
 *		The plainest settling of one item whose write failed with error.
 */
static void
settle_item(DispatchBatch *batch, DispatchItem *it, const char *error)
{
	SettleItem	si = {batch, it, error, false};
	char	   *again = cadence_guarded(settle_one, &si);

	if (again != NULL)
	{
		ereport(WARNING,
				errmsg("cadence could not record scheduled action %lld of tenant \"%s\": %s",
					   (long long) it->id, it->tenant_id, again));
		batch->orphans = true;
		return;
	}
	if (it->verdict != VERDICT_SENT)
		cadence_dispatch_verdict(it, VERDICT_FAILED, NULL, error);
	if (si.done)
	{
		it->written = true;
		if (it->verdict == VERDICT_SENT)
			batch->counts.sent++;
		else
			batch->counts.failed++;
	}
	else
		it->stale = true;
	ereport(WARNING,
			errmsg("cadence ended run %lld of tenant \"%s\": %s",
				   (long long) it->run_id, it->tenant_id, error));
}

/*
 * cadence_dispatch_settle
 *		Write every settled outcome not yet written, the batch whole or item
 *		by item (see above); lock_runs for the record step.
 */
void
cadence_dispatch_settle(DispatchBatch *batch, bool lock_runs)
{
	WriteStep	step = {batch, lock_runs};
	DispatchMarks m = {0};
	int			k;

	cadence_dispatch_save_marks(batch, &m);
	if (cadence_guarded(write_step, &step) == NULL)
		return;
	cadence_dispatch_restore_marks(batch, &m);
	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *it = &batch->items[k];
		char	   *error;

		if (it->written || it->stale || it->verdict == VERDICT_SEND ||
			it->verdict == VERDICT_EXECUTE)
			continue;
		batch->focus = k;
		cadence_dispatch_save_marks(batch, &m);
		error = cadence_guarded(write_step, &step);
		batch->focus = -1;
		if (error == NULL)
			continue;
		cadence_dispatch_restore_marks(batch, &m);
		settle_item(batch, it, error);
	}
}

/*
 * cadence_dispatch_record
 *		After the network: lock the runs, write the outcomes of the sends.
 */
void
cadence_dispatch_record(DispatchBatch *batch)
{
	MemoryContext old = MemoryContextSwitchTo(batch->mcxt);

	cadence_dispatch_settle(batch, true);
	MemoryContextSwitchTo(old);
}
