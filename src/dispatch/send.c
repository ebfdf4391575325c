/*
 * dispatch/send.c
 *		The network step of dispatch: AI rewrites first, then the provider
 *		requests, all through the multi-request engine; then what each
 *		response means.
 *
 *	2xx							sent (the provider's message id kept)
 *	408, 429, 5xx, no answer,	retry, after exponential backoff with jitter
 *	  timeout, cut, network		or the provider's Retry-After if longer;
 *								failed (attempts_exhausted) once
 *								cadence.max_attempts are spent
 *	other 4xx, refused host		failed at once
 *	SMTP 4yz / 5yz				retry / failed
 *
 * Every attempt of an action carries the same idempotency key, and each
 * request's outcome goes to the audit log (dispatch/record.c).  The text
 * that says what went wrong is built in one place, answer_error.
 */
#include "postgres.h"

#include "common/pg_prng.h"
#include "utils/timestamp.h"

#include "base/gucs.h"
#include "base/shmem.h"
#include "base/template.h"
#include "dispatch/dispatch.h"

/*
 * backoff
 *		Wait before attempt attempts + 1: base * 2^(attempts - 1), at most 64
 *		bases, scaled by a random factor in [0.5, 1) so that a provider
 *		outage does not bring every retry back at the same instant.
 */
static int64
backoff(int attempts)
{
	double		secs = (double) cadence_retry_base_seconds *
		(double) (1 << Min(Max(attempts - 1, 0), 6));

	return (int64) (secs * (0.5 + pg_prng_double(&pg_global_prng_state) / 2) * USECS_PER_SEC);
}

/*
 * answer_error
 *		What a request that was not accepted got, for last_error and the
 *		audit log: the status and the provider's own error, or why no
 *		answer came.
 */
static char *
answer_error(const CadenceHttpRequest *req, const CadenceProviderReply *reply,
			 bool retryable)
{
	bool		smtp = pg_strncasecmp(req->url, "smtp", 4) == 0;

	if (req->result != CADENCE_HTTP_RESPONSE)
		return pstrdup(req->error ? req->error : "no answer");
	return psprintf("%s %ld: %s", smtp ? "SMTP" : "HTTP", req->status,
					reply->error ? reply->error :
					retryable ? "temporary failure" : "refused");
}

/*
 * retry_or_fail
 *		Another attempt later, unless the attempts are spent.
 */
static void
retry_or_fail(DispatchBatch *batch, DispatchItem *item, const char *error,
			  double retry_after)
{
	int64		wait = backoff(item->attempts);

	if (item->attempts >= cadence_max_attempts)
	{
		cadence_dispatch_verdict(item, VERDICT_FAILED, "attempts_exhausted",
								 psprintf("attempts_exhausted: %s (attempt %d of %d)", error,
										  item->attempts, cadence_max_attempts));
		return;
	}
	if (retry_after >= 0 && retry_after * USECS_PER_SEC > wait)
		wait = (int64) (retry_after * USECS_PER_SEC);
	cadence_dispatch_verdict(item, VERDICT_RETRY, "retry", error);
	item->new_due_at = batch->now + wait;
}

/* The audit log's name for how a request ended without an answer. */
static DispatchOutcome
outcome_of(CadenceHttpResult result)
{
	switch (result)
	{
		case CADENCE_HTTP_RESPONSE:
			break;
		case CADENCE_HTTP_TIMEOUT:
			return OUTCOME_TIMED_OUT;
		case CADENCE_HTTP_CUT:
			return OUTCOME_CUT;
		case CADENCE_HTTP_REFUSED:
			return OUTCOME_BLOCKED;
		case CADENCE_HTTP_NETWORK:
		case CADENCE_HTTP_PENDING:
			return OUTCOME_NO_ANSWER;
	}
	return OUTCOME_REFUSED;
}

/*
 * classify
 *		What a finished provider request means for its action.
 */
static void
classify(DispatchBatch *batch, DispatchItem *item)
{
	CadenceHttpRequest *req = item->req;
	bool		smtp = pg_strncasecmp(req->url, "smtp", 4) == 0;
	CadenceProviderReply reply = {0};
	long		s = req->status;
	bool		retryable;

	item->happened_at = batch->realtime && req->finished_at ? req->finished_at : batch->now;
	item->outcome = outcome_of(req->result);
	if (req->result == CADENCE_HTTP_REFUSED)
	{
		cadence_dispatch_verdict(item, VERDICT_FAILED, NULL, answer_error(req, &reply, false));
		return;
	}
	if (req->result != CADENCE_HTTP_RESPONSE)
	{
		retry_or_fail(batch, item, answer_error(req, &reply, true), -1);
		return;
	}

	item->status = s;
	cadence_provider_reply(&item->account->acct, req, &reply);
	if (s >= 200 && s < 300)
	{
		item->outcome = OUTCOME_ACCEPTED;
		cadence_dispatch_verdict(item, VERDICT_SENT, NULL, NULL);
		item->provider_message_id = reply.message_id;
		return;
	}
	retryable = smtp ? (s >= 400 && s < 500) : (s == 408 || s == 429 || s >= 500);
	if (retryable)
		retry_or_fail(batch, item, answer_error(req, &reply, true),
					  cadence_http_retry_after(req));
	else
		cadence_dispatch_verdict(item, VERDICT_FAILED, NULL, answer_error(req, &reply, false));
}

/*
 * perform
 *		Run the requests (those of items still to send) selected by ai.
 */
static void
perform(DispatchBatch *batch, bool ai, void (*poll_cb) (void *), void *poll_arg)
{
	CadenceHttpRequest **reqs = palloc(sizeof(CadenceHttpRequest *) * batch->nitems);
	int		   *group_max = palloc0(sizeof(int) * Max(batch->naccounts, 1));
	CadenceHttpLimits limits;
	int			n = 0;
	int			k;

	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *item = &batch->items[k];
		CadenceHttpRequest *req = ai ? item->ai_req : item->req;

		if (item->verdict == VERDICT_SEND && req != NULL)
			reqs[n++] = req;
	}
	if (n == 0)
		return;
	for (k = 0; k < batch->naccounts; k++)
		group_max[k] = batch->accounts[k]->inflight_allowed > 0
			? batch->accounts[k]->inflight_allowed
			: batch->accounts[k]->max_concurrency;
	limits.max_inflight = cadence_max_inflight;
	limits.ngroups = batch->naccounts;
	limits.group_max = group_max;
	limits.timeout_ms = cadence_http_timeout_ms;

	cadence_shared_set_in_flight(n);
	cadence_http_perform(reqs, n, &limits, poll_cb, poll_arg);
	cadence_shared_set_in_flight(0);
}

/*
 * apply_ai
 *		Use each AI answer in place of the draft and build the provider
 *		request again; a failed rewrite leaves the plain text and says why.
 */
static void
apply_ai(DispatchBatch *batch)
{
	int			k;

	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *item = &batch->items[k];
		char	   *text;

		if (item->verdict != VERDICT_SEND || item->ai_req == NULL)
			continue;
		text = cadence_anthropic_text(item->ai_req, cadence_text_cap(item->type),
									  &item->ai_error);
		if (text == NULL)
			continue;
		if (item->msg.text != NULL)
			item->msg.text = text;
		else
			item->msg.html = text;
		item->req = cadence_provider_request(&item->account->acct, &item->msg);
		item->req->group = item->account->index;
		item->req->not_before = item->not_before;
		item->req->owner = item;
	}
}

/*
 * cadence_dispatch_classify_finished
 *		Classify the provider requests that have finished so far.
 */
int
cadence_dispatch_classify_finished(DispatchBatch *batch)
{
	MemoryContext old = MemoryContextSwitchTo(batch->mcxt);
	int			n = 0;
	int			k;

	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *item = &batch->items[k];

		if (item->verdict == VERDICT_SEND && item->req != NULL &&
			item->req->result != CADENCE_HTTP_PENDING)
		{
			classify(batch, item);
			n++;
		}
	}
	MemoryContextSwitchTo(old);
	return n;
}

/*
 * cadence_dispatch_send
 *		Rewrite, send, classify.
 */
void
cadence_dispatch_send(DispatchBatch *batch, void (*poll_cb) (void *), void *poll_arg)
{
	MemoryContext old = MemoryContextSwitchTo(batch->mcxt);

	perform(batch, true, poll_cb, poll_arg);
	apply_ai(batch);
	perform(batch, false, poll_cb, poll_arg);
	cadence_dispatch_classify_finished(batch);
	MemoryContextSwitchTo(old);
}
