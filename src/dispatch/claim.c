/*
 * dispatch/claim.c
 *		The first step of dispatch (see dispatch/dispatch.h): claim actions,
 *		read what they need, and decide each one.
 *
 * A claim is a few statements: the claiming ones (FOR UPDATE SKIP LOCKED,
 * so concurrent runners never take the same action; dispatch/take.c says
 * when a claim may be taken over), one that reads the run, step, A/B
 * variant, cadence settings, lead and template of every claimed action,
 * and, once decided, one that locks the runs of the actions the claim
 * writes itself (skipping those another transaction holds, see
 * dispatch/dispatch.h), again for those the limits or the build settled.  The decisions follow in C, then the condition and lead action
 * steps (dispatch/logic.c), the limits (dispatch/limits.c), and the writes of
 * everything that needs no network (dispatch/record.c).  A row that makes
 * a statement or a decision fail fails its own action, with the error,
 * and the claim goes on without it.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "base/compat.h"
#include "base/gucs.h"
#include "base/json.h"
#include "base/shmem.h"
#include "base/spi.h"
#include "dispatch/dispatch.h"
#include "runs/definition.h"
#include "runs/for_runners.h"
#include "schedule/schedule.h"

/*
 * How these statements are planned matters more than anything else here.
 * They start from the batch (a LIMIT, or arrays of keys) and must reach
 * each row by key: a join that scans or hashes a whole table costs more
 * than the batch, and a nested loop the wrong way round is quadratic.  The
 * statistics of a queue table never know how many rows are due or in
 * flight right now, so the statements leave the planner no such choice:
 * the scheduled actions are reached by ctid (TID scans), other tables
 * through LATERAL subqueries that OFFSET 0 keeps from being flattened into
 * the join (one index probe per key), and runners plan with enable_seqscan,
 * enable_bitmapscan and enable_mergejoin off (worker/bgworker.c sets them).
 * The claiming statements then walk the due index in order and stop after the
 * batch, where a bitmap scan would read every due row and sort them, once
 * per batch.
 */

/* Provider accounts of the batch's tenants, defaults first. */
static CadenceStatement accounts_sql = {
"SELECT tenant_id, id, channel, kind, base_url, credentials, settings,"
"       rate_per_second, max_concurrency"
"  FROM cadence.providers WHERE tenant_id = ANY ($1::text[])"
" ORDER BY tenant_id, channel, is_default DESC, created_at, id"};

/*
 * load_accounts
 *		The provider accounts of every tenant in the batch.
 */
static void
load_accounts(DispatchBatch *batch)
{
	Datum	   *tenants = palloc(sizeof(Datum) * batch->nitems);
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1];
	int			k;
	uint64		i;

	for (k = 0; k < batch->nitems; k++)
		tenants[k] = CStringGetTextDatum(batch->items[k].tenant_id);
	values[0] = PointerGetDatum(construct_array(tenants, batch->nitems, TEXTOID, -1,
												false, TYPALIGN_INT));
	cadence_spi_run(&accounts_sql, 1, types, values, NULL, false, SPI_OK_SELECT,
					"read provider accounts");
	batch->naccounts = (int) SPI_processed;
	batch->accounts = MemoryContextAlloc(batch->mcxt,
										 sizeof(DispatchAccount *) * Max(batch->naccounts, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(batch->mcxt);
		DispatchAccount *da = palloc0(sizeof(DispatchAccount));
		bool		isnull;
		Datum		d;

		da->tenant_id = SPI_getvalue(tup, desc, 1);
		da->acct.id = SPI_getvalue(tup, desc, 2);
		da->channel = SPI_getvalue(tup, desc, 3);
		da->acct.kind = SPI_getvalue(tup, desc, 4);
		da->acct.base_url = SPI_getvalue(tup, desc, 5);
		da->acct.credentials = cadence_spi_jsonb(tup, desc, 6);
		da->acct.settings = cadence_spi_jsonb(tup, desc, 7);
		d = SPI_getbinval(tup, desc, 8, &isnull);
		da->rate_per_second = isnull ? 0 :
			DatumGetFloat8(DirectFunctionCall1(numeric_float8, d));
		d = SPI_getbinval(tup, desc, 9, &isnull);
		da->max_concurrency = isnull ? 0 : DatumGetInt32(d);
		da->index = (int) i;
		batch->accounts[i] = da;
		MemoryContextSwitchTo(old);
	}
}

/*
 * find_account
 *		The account of the item's tenant on channel: the one named wanted,
 *		else the default, else the oldest.  NULL when there is none.
 */
static DispatchAccount *
find_account(const DispatchBatch *batch, const DispatchItem *item,
			 const char *channel, const char *wanted)
{
	int			k;

	for (k = 0; k < batch->naccounts; k++)
	{
		DispatchAccount *da = batch->accounts[k];

		if (strcmp(da->tenant_id, item->tenant_id) == 0 &&
			strcmp(da->channel, channel) == 0 &&
			(wanted == NULL || strcmp(da->acct.id, wanted) == 0))
			return da;
	}
	return NULL;
}

/* The parsed send windows of one cadence, for the send-time check. */
typedef struct CadenceRules
{
	const char *tenant_id;
	const char *cadence_id;
	CadenceWindows windows;		/* business hours, weekends, holidays, quiet
								 * hours */
} CadenceRules;

/*
 * windows_of
 *		The send windows of the item's cadence, parsed once per batch.
 */
static const CadenceWindows *
windows_of(List **cache, const DispatchItem *item)
{
	ListCell   *lc;
	CadenceRules *rules;

	foreach(lc, *cache)
	{
		rules = lfirst(lc);
		if (strcmp(rules->cadence_id, item->cadence_id) == 0 &&
			strcmp(rules->tenant_id, item->tenant_id) == 0)
			return &rules->windows;
	}
	rules = palloc0(sizeof(CadenceRules));
	rules->tenant_id = item->tenant_id;
	rules->cadence_id = item->cadence_id;
	cadence_parse_settings_into(item->settings, "settings", &rules->windows);
	*cache = lappend(*cache, rules);
	return &rules->windows;
}

/*
 * exhausted_error
 *		Why an action claimed with its attempts spent fails.
 */
static char *
exhausted_error(const DispatchItem *item)
{
	if (item->dead_runner != 0)
		return psprintf("attempts_exhausted: runner %lld stopped before recording attempt %d of %d",
						(long long) item->dead_runner, item->attempts - 1,
						cadence_max_attempts);
	return psprintf("attempts_exhausted: %d attempts made, cadence.max_attempts is %d",
					item->attempts - 1, cadence_max_attempts);
}

/*
 * decide
 *		What a claimed action needs before any network: everything but the
 *		limits shared with other runners (dispatch/limits.c) and the request
 *		itself. An error (an unknown zone, settings that cannot be read) fails
 *		the action (see decide_all).
 */
static void
decide(DispatchBatch *batch, List **rules_cache, DispatchItem *item)
{
	CadenceMoveReason why;
	TimestampTz at;

	if (item->verdict != VERDICT_SEND)
		return;
	if (item->run_status == NULL || item->config == NULL)
	{
		cadence_dispatch_verdict(item, VERDICT_SKIPPED, "run_not_found", NULL);
		return;
	}
	if (strcmp(item->run_status, "active") != 0)
	{
		if (strcmp(item->run_status, "paused") == 0)
			cadence_dispatch_verdict(item, VERDICT_RELEASED, NULL, NULL);
		else
			cadence_dispatch_verdict(item, VERDICT_SKIPPED, "run_not_active", NULL);
		return;
	}
	if (item->exhausted)
	{
		cadence_dispatch_verdict(item, VERDICT_FAILED, "attempts_exhausted",
								 exhausted_error(item));
		item->undone = true;
		return;
	}
	if (cadence_step_is_logic(item->type))
	{
		cadence_dispatch_verdict(item, VERDICT_EXECUTE, NULL, NULL);
		return;
	}
	/* The zones everything below reckons in: an unknown one is an error. */
	(void) cadence_lookup_tz(item->timezone);
	(void) cadence_lookup_tz(item->cadence_timezone);
	if (strcmp(item->type, "manual_task") != 0 && item->vars == NULL)
	{
		cadence_dispatch_verdict(item, VERDICT_SKIPPED, "lead_not_found", NULL);
		return;
	}
	if (strcmp(item->type, "manual_task") != 0 && strcmp(item->type, "webhook") != 0 &&
		(item->unsubscribed || item->suppressed))
	{
		cadence_dispatch_verdict(item, VERDICT_SKIPPED,
								 item->unsubscribed ? "unsubscribed" : "suppressed", NULL);
		return;
	}
	if (cadence_step_is_manual(item->type))
	{
		cadence_dispatch_verdict(item, VERDICT_MANUAL, NULL, NULL);
		return;
	}
	if (strcmp(item->type, "sms") != 0 && strcmp(item->type, "email") != 0 &&
		strcmp(item->type, "whatsapp") != 0 && strcmp(item->type, "webhook") != 0)
	{
		cadence_dispatch_verdict(item, VERDICT_SKIPPED, "unsupported_step_type", NULL);
		return;
	}
	if (strcmp(item->type, "webhook") != 0 &&
		(item->address == NULL || item->address[0] == '\0'))
	{
		cadence_dispatch_verdict(item, VERDICT_SKIPPED, "no_address", NULL);
		return;
	}

	/* The step's send window, the one the planner and the preview use. */
	at = cadence_send_window(batch->now, cadence_step_channel(item->type),
							 cadence_lookup_tz(item->timezone),
							 item->lead_timezone ? cadence_lookup_tz_noerror(item->lead_timezone) : NULL,
							 windows_of(rules_cache, item), &why);
	if (why == CADENCE_MOVE_NO_SEND_WINDOW)
	{
		cadence_dispatch_verdict(item, VERDICT_SKIPPED, "no_send_window", NULL);
		return;
	}
	if (at > batch->now)
	{
		cadence_dispatch_verdict(item, VERDICT_MOVED, cadence_move_reason_name(why), NULL);
		item->new_due_at = at;
		return;
	}

	item->account = find_account(batch, item, item->type,
								 cadence_jsonb_string(item->config, "providerId"));
	if (item->account == NULL)
	{
		cadence_dispatch_verdict(item, VERDICT_FAILED, NULL,
								 psprintf("tenant \"%s\" has no %s provider account",
										  item->tenant_id, item->type));
		return;
	}
	if (cadence_ai_config(item->config) != NULL)
	{
		item->ai_account = find_account(batch, item, "ai",
										cadence_jsonb_string(cadence_ai_config(item->config),
															 "providerId"));
		if (item->ai_account == NULL)
			item->ai_error = psprintf("tenant \"%s\" has no ai provider account",
									  item->tenant_id);
	}
}

/* The items decide_all goes through, and how far it got. */
typedef struct DecideState
{
	DispatchBatch *batch;
	List	  **rules_cache;
	int			next;
} DecideState;

static void
decide_from(void *arg)
{
	DecideState *st = arg;

	for (; st->next < st->batch->nitems; st->next++)
		decide(st->batch, st->rules_cache, &st->batch->items[st->next]);
}

/*
 * decide_all
 *		Decide every item, in one subtransaction while nothing fails; the
 *		item that raised an error fails with it, and the rest go on.
 */
static void
decide_all(DispatchBatch *batch, List **rules_cache)
{
	DecideState st = {batch, rules_cache, 0};

	while (st.next < batch->nitems)
	{
		char	   *error = cadence_guarded(decide_from, &st);

		if (error == NULL)
			break;
		cadence_dispatch_verdict(&batch->items[st.next], VERDICT_FAILED, NULL, error);
		st.next++;
	}
}

/*
 * build_guarded
 *		Render and build an item's requests; an error (a template or account
 *		the provider cannot use) fails that item only.  Nothing in the build
 *		touches the database, so no subtransaction is needed to go on.
 */
static void
build_guarded(DispatchBatch *batch, DispatchItem *item)
{
	MemoryContext old = MemoryContextSwitchTo(batch->mcxt);

	PG_TRY();
	{
		cadence_dispatch_build(batch, item);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(batch->mcxt);
		edata = CopyErrorData();
		FlushErrorState();
		cadence_dispatch_verdict(item, VERDICT_FAILED, NULL, edata->message);
		item->req = item->ai_req = NULL;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
}

/* What resume_due is asked, and answers. */
typedef struct ResumeDue
{
	TimestampTz now;
	int			limit;
	int			resumed;
} ResumeDue;

/*
 * resume_due
 *		Resume the paused runs whose time has come (a run that cannot be
 *		resumed fails alone, in runs/for_runners.c).
 */
static void
resume_due(void *arg)
{
	ResumeDue  *r = arg;

	r->resumed = cadence_run_resume_due(r->now, r->limit);
}

/*
 * cadence_dispatch_claim
 *		Resume, claim, read, decide, limit, build; write what needs no
 *		network.
 */
DispatchBatch *
cadence_dispatch_claim(MemoryContext mcxt, TimestampTz now, bool realtime, int limit,
					   const char *tenant_id)
{
	DispatchBatch *batch = MemoryContextAllocZero(mcxt, sizeof(DispatchBatch));
	ResumeDue	resume = {now, limit, 0};
	List	   *rules_cache = NIL;
	MemoryContext old;
	char	   *error;
	int			k;

	batch->mcxt = mcxt;
	batch->now = now;
	batch->realtime = realtime;
	batch->focus = -1;
	if ((error = cadence_guarded(resume_due, &resume)) != NULL)
		ereport(WARNING,
				errmsg("cadence could not resume the paused runs due: %s", error));
	batch->counts.resumed = resume.resumed;
	old = MemoryContextSwitchTo(mcxt);
	cadence_dispatch_take(batch, limit, tenant_id);
	if (batch->nitems == 0)
	{
		MemoryContextSwitchTo(old);
		return batch;
	}
	load_accounts(batch);
	batch->counts.claimed = batch->nitems;
	if (cadence_shared)
	{
		SpinLockAcquire(&cadence_shared->mutex);
		cadence_shared->last_claim_at = GetCurrentTimestamp();
		SpinLockRelease(&cadence_shared->mutex);
	}

	decide_all(batch, &rules_cache);
	/* The runs of what the claim writes, not of what it only sends. */
	cadence_dispatch_lock_runs(batch, true);
	cadence_dispatch_execute(batch);
	cadence_dispatch_limit(batch);
	for (k = 0; k < batch->nitems; k++)
		if (batch->items[k].verdict == VERDICT_SEND)
			build_guarded(batch, &batch->items[k]);
	cadence_dispatch_lock_runs(batch, true);
	cadence_dispatch_settle(batch, false);
	MemoryContextSwitchTo(old);
	return batch;
}

/*
 * cadence_dispatch_has_sends
 *		Is anything left for the network?
 */
bool
cadence_dispatch_has_sends(const DispatchBatch *batch)
{
	int			k;

	for (k = 0; k < batch->nitems; k++)
		if (batch->items[k].verdict == VERDICT_SEND)
			return true;
	return false;
}

/*
 * cadence_dispatch_next_due
 *		The earliest due time of scheduled work (0 when there is none), or
 *		of a paused run that resumes.  Claims of runners that die are no
 *		due time: a death wakes the dispatchers (worker/bgworker.c).
 */
TimestampTz
cadence_dispatch_next_due(void)
{
	bool		isnull;
	Datum		d;

	cadence_spi_run_once("SELECT least((SELECT min(due_at) FROM cadence.scheduled_actions"
						 "               WHERE status = 'scheduled'),"
						 "              (SELECT min(resume_at) FROM cadence.runs"
						 "               WHERE status = 'paused' AND resume_at IS NOT NULL))",
						 0, NULL, NULL, NULL, true, SPI_OK_SELECT, "read the next due time");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetTimestampTz(d);
}
