/*
 * runner.c
 *		cadence.run_due_actions(limit, as_of): one dispatch batch from any
 *		session, the way pg_cron drives cadence without the background
 *		worker; and cadence.idempotency_key(), the key its requests carry.  Claim, send and record all happen in the caller's
 *		transaction: the claimed actions stay locked by it (other runners skip
 *		them), and if the session dies they are simply due again.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "dispatch.h"

PG_FUNCTION_INFO_V1(cadence_run_due_actions);
PG_FUNCTION_INFO_V1(cadence_idempotency_key_sql);

/*
 * cadence.run_due_actions(limit int, as_of timestamptz, tenant_id text)
 *		RETURNS jsonb
 *		Resume the paused runs whose time has come and send up to limit
 *		actions due at as_of (the runner's clock: quiet hours, caps and
 *		retries are reckoned from it), of one tenant or of every tenant the
 *		caller sees, and say what happened.
 */
Datum
cadence_run_due_actions(PG_FUNCTION_ARGS)
{
	int			limit = PG_ARGISNULL(0) ? 50 : PG_GETARG_INT32(0);
	TimestampTz as_of = PG_ARGISNULL(1) ? GetCurrentTransactionStartTimestamp()
		: PG_GETARG_TIMESTAMPTZ(1);
	MemoryContext mcxt;
	DispatchBatch *batch;
	DispatchCounts counts;
	char	   *json;

	if (limit < 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("limit must be at least 1, got %d", limit));
	mcxt = AllocSetContextCreate(CurrentMemoryContext, "cadence run_due_actions",
								 ALLOCSET_DEFAULT_SIZES);
	SPI_connect();
	batch = cadence_dispatch_claim(mcxt, as_of,
								   as_of == GetCurrentTransactionStartTimestamp(), limit,
								   PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)));
	if (cadence_dispatch_has_sends(batch))
	{
		cadence_dispatch_send(batch, NULL, NULL);
		cadence_dispatch_record(batch);
	}
	SPI_finish();
	counts = batch->counts;
	MemoryContextDelete(mcxt);

	json = psprintf("{\"claimed\": %d, \"sent\": %d, \"skipped\": %d, \"failed\": %d,"
					" \"retried\": %d, \"moved\": %d, \"pendingManual\": %d,"
					" \"executed\": %d, \"resumed\": %d}",
					counts.claimed, counts.sent, counts.skipped, counts.failed,
					counts.retried, counts.moved, counts.manual, counts.executed,
					counts.resumed);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/*
 * cadence.idempotency_key(action_id bigint) RETURNS text
 *		The key every request of a scheduled action carries (and that comes
 *		back in webhooks: SendGrid's custom_args, the Message-ID of e-mail).
 */
Datum
cadence_idempotency_key_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(cadence_idempotency_key(PG_GETARG_INT64(0))));
}
