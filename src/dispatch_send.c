/*
 * dispatch_send.c
 *		The network step of dispatch: AI rewrites first, then the provider
 *		requests, all through the multi-request engine; then what each
 *		response means.
 *
 *	2xx							sent (the provider's message id kept)
 *	408, 429, 5xx, no answer,	retry, after exponential backoff with jitter
 *	  timeout, network error	or the provider's Retry-After if longer;
 *								failed once cadence.max_attempts are spent
 *	other 4xx, refused host		failed at once
 *	SMTP 4yz / 5yz				retry / failed
 *
 * Every attempt of an action carries the same idempotency key.
 */
#include "postgres.h"

#include "common/pg_prng.h"
#include "utils/timestamp.h"

#include "cadence.h"
#include "dispatch.h"
#include "shmem.h"
#include "template.h"

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
		cadence_dispatch_verdict(item, VERDICT_FAILED, NULL,
								 psprintf("%s (attempt %d of %d)", error, item->attempts,
										  cadence_max_attempts));
		return;
	}
	if (retry_after >= 0 && retry_after * USECS_PER_SEC > wait)
		wait = (int64) (retry_after * USECS_PER_SEC);
	cadence_dispatch_verdict(item, VERDICT_RETRY, "retry", error);
	item->new_due_at = batch->now + wait;
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
	CadenceProviderReply reply;
	long		s = req->status;

	item->happened_at = batch->realtime && req->finished_at ? req->finished_at : batch->now;
	switch (req->result)
	{
		case CADENCE_HTTP_REFUSED:
			cadence_dispatch_verdict(item, VERDICT_FAILED, NULL, req->error);
			return;
		case CADENCE_HTTP_TIMEOUT:
		case CADENCE_HTTP_NETWORK:
		case CADENCE_HTTP_PENDING:
			retry_or_fail(batch, item, req->error ? req->error : "no answer", -1);
			return;
		case CADENCE_HTTP_RESPONSE:
			break;
	}

	cadence_provider_reply(&item->account->acct, req, &reply);
	if (s >= 200 && s < 300)
	{
		cadence_dispatch_verdict(item, VERDICT_SENT, NULL, NULL);
		item->provider_message_id = reply.message_id;
		return;
	}
	if (smtp ? (s >= 400 && s < 500) : (s == 408 || s == 429 || s >= 500))
		retry_or_fail(batch, item,
					  psprintf("%s %ld: %s", smtp ? "SMTP" : "HTTP", s,
							   reply.error ? reply.error : "temporary failure"),
					  cadence_http_retry_after(req));
	else
		cadence_dispatch_verdict(item, VERDICT_FAILED, NULL,
								 psprintf("%s %ld: %s", smtp ? "SMTP" : "HTTP", s,
										  reply.error ? reply.error : "refused"));
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
 * cadence_dispatch_send
 *		Rewrite, send, classify.
 */
void
cadence_dispatch_send(DispatchBatch *batch, void (*poll_cb) (void *), void *poll_arg)
{
	MemoryContext old = MemoryContextSwitchTo(batch->mcxt);
	int			k;

	perform(batch, true, poll_cb, poll_arg);
	apply_ai(batch);
	perform(batch, false, poll_cb, poll_arg);
	for (k = 0; k < batch->nitems; k++)
		if (batch->items[k].verdict == VERDICT_SEND)
			classify(batch, &batch->items[k]);
	MemoryContextSwitchTo(old);
}
