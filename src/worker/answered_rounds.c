/*
 * worker/answered_rounds.c
 *		CALL cadence.dispatch_answered(batch_size, status, body, tenant_id):
 *		the rounds of a runner over every due action (of one tenant, or of
 *		all), with each provider request
 *		answered at once, without any network, by status and body.  The
 *		database's share of dispatch, measured as a runner does it: the
 *		same claim and record (dispatch/), the same statements and plans,
 *		the same commits, and each answer read by its provider's code.  For
 *		the benchmark's bound (bench/dispatch_sql.sql); no application role
 *		may call it.
 *
 * A procedure, so that it commits as a runner does: the claim before the
 * answers, the record after.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "base/spi.h"
#include "dispatch/dispatch.h"
#include "dispatch/liveness.h"

PG_FUNCTION_INFO_V1(cadence_dispatch_answered);

/*
 * answer_all
 *		Every request of the batch still to be sent gets status and body,
 *		now; then each is read as a real answer would be.
 */
static void
answer_all(DispatchBatch *batch, long status, const char *body)
{
	TimestampTz now = GetCurrentTimestamp();
	int			k;

	for (k = 0; k < batch->nitems; k++)
	{
		CadenceHttpRequest *req = batch->items[k].req;

		if (batch->items[k].verdict != VERDICT_SEND || req == NULL)
			continue;
		req->result = CADENCE_HTTP_RESPONSE;
		req->status = status;
		appendStringInfoString(&req->response, body);
		req->started_at = req->finished_at = now;
	}
	cadence_dispatch_classify_finished(batch);
}

/*
 * claimed_any
 *		Did the round take anything on (not only actions whose run another
 *		transaction holds, which stay due)?
 */
static bool
claimed_any(const DispatchBatch *batch)
{
	int			k;

	for (k = 0; k < batch->nitems; k++)
		if (batch->items[k].verdict != VERDICT_BUSY)
			return true;
	return false;
}

/*
 * rounds
 *		Claim and commit, answer, record and commit, until a round takes
 *		nothing on.
 */
static void
rounds(MemoryContext batch_cxt, int batch_size, long status, const char *body,
	   const char *tenant_id)
{
	for (;;)
	{
		DispatchBatch *batch;

		MemoryContextReset(batch_cxt);
		PushActiveSnapshot(GetTransactionSnapshot());
		batch = cadence_dispatch_claim(batch_cxt, GetCurrentTimestamp(), true,
									   batch_size, tenant_id);
		PopActiveSnapshot();
		SPI_commit();
		if (!claimed_any(batch))
			return;
		if (!cadence_dispatch_has_sends(batch))
			continue;
		answer_all(batch, status, body);
		PushActiveSnapshot(GetTransactionSnapshot());
		cadence_dispatch_record(batch);
		PopActiveSnapshot();
		SPI_commit();
	}
}

/*
 * cadence_dispatch_answered
 *		The procedure; what it claimed and could not record is left, as a
 *		runner that fails leaves it, to be taken over.
 */
Datum
cadence_dispatch_answered(PG_FUNCTION_ARGS)
{
	CallContext *call = (CallContext *) fcinfo->context;
	int			batch_size = PG_GETARG_INT32(0);
	long		status = PG_GETARG_INT32(1);
	MemoryContext mcxt;
	char	   *body;
	char	   *tenant_id;

	if (call == NULL || !IsA(call, CallContext) || call->atomic)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				errmsg("cadence.dispatch_answered() must be called by CALL outside a transaction block"));
	if (batch_size < 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid batch size: %d", batch_size),
				errhint("A round claims at least one action."));

	/* What outlives the commits. */
	mcxt = AllocSetContextCreate(TopMemoryContext, "cadence answered rounds",
								 ALLOCSET_DEFAULT_SIZES);
	body = MemoryContextStrdup(mcxt, text_to_cstring(PG_GETARG_TEXT_PP(2)));
	tenant_id = PG_ARGISNULL(3) ? NULL :
		MemoryContextStrdup(mcxt, text_to_cstring(PG_GETARG_TEXT_PP(3)));
	cadence_spi_use_runner_plans();
	SPI_connect_ext(SPI_OPT_NONATOMIC);
	PG_TRY();
	{
		rounds(AllocSetContextCreate(mcxt, "cadence answered batch", ALLOCSET_DEFAULT_SIZES),
			   batch_size, status, body, tenant_id);
	}
	PG_CATCH();
	{
		cadence_runner_renounce();
		MemoryContextDelete(mcxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	SPI_finish();
	MemoryContextDelete(mcxt);
	PG_RETURN_VOID();
}
