/*
 * dispatch_claim.c
 *		The first step of dispatch (see dispatch.h): lease due actions, read
 *		what they need, and decide each one.
 *
 * A claim is three statements: one leases the batch (FOR UPDATE SKIP
 * LOCKED, so concurrent runners never take the same action), one locks
 * their runs (skipping those another transaction holds, see dispatch.h),
 * one reads the run, step, A/B variant, cadence settings, lead and template
 * of every leased action.  The decisions follow in C, then the condition
 * and lead action steps (dispatch_logic.c), the limits (limits.c), and the
 * writes of everything that needs no network (dispatch_record.c).
 */
#include "postgres.h"

#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "cadence.h"
#include "compat.h"
#include "dispatch.h"
#include "provider_util.h"
#include "runstate.h"
#include "schedule.h"
#include "shmem.h"

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
 * enable_bitmapscan and enable_mergejoin off (the worker sets them,
 * run_due_actions carries them).  The leasing statements then walk the due
 * index in order and stop after the batch, where a bitmap scan would read
 * every due row and sort them, once per batch.
 */

/* Lease the batch: leases that ran out first, then due work by due time. */
static const char *const lease_expired_sql =
"WITH picked AS (SELECT ctid FROM cadence.scheduled_actions"
"                 WHERE status = 'sending' AND lease_until < $1"
"                   AND ($5::text IS NULL OR tenant_id = $5)"
"                 ORDER BY lease_until LIMIT $2 FOR UPDATE SKIP LOCKED)"
" UPDATE cadence.scheduled_actions a"
"    SET lease_until = $3, attempts = a.attempts + 1, updated_at = $1"
"  WHERE a.ctid = ANY (ARRAY(SELECT ctid FROM picked))"
" RETURNING a.ctid, a.tenant_id, a.run_id, a.id, a.step_number, a.type,"
"           a.attempts, a.due_at, a.planned_at";

static const char *const lease_due_sql =
"WITH picked AS (SELECT ctid FROM cadence.scheduled_actions"
"                 WHERE status = 'scheduled' AND due_at <= $4"
"                   AND ($5::text IS NULL OR tenant_id = $5)"
"                 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
" UPDATE cadence.scheduled_actions a"
"    SET status = 'sending', lease_until = $3, attempts = a.attempts + 1,"
"        updated_at = $1"
"  WHERE a.ctid = ANY (ARRAY(SELECT ctid FROM picked))"
" RETURNING a.ctid, a.tenant_id, a.run_id, a.id, a.step_number, a.type,"
"           a.attempts, a.due_at, a.planned_at";

/*
 * The runs of the batch that exist but another transaction holds: their
 * actions wait for another claim.  The others are locked.
 */
static const char *const lock_runs_skip_sql =
"SELECT k.ord::int FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS k(tenant_id, run_id, ord)"
" WHERE EXISTS (SELECT 1 FROM cadence.runs r WHERE r.tenant_id = k.tenant_id AND r.id = k.run_id)"
"   AND NOT EXISTS (SELECT 1 FROM (SELECT 1 FROM cadence.runs r"
"                                   WHERE r.tenant_id = k.tenant_id AND r.id = k.run_id"
"                                   FOR UPDATE SKIP LOCKED) l)";

/* The runs of the batch, locked in the order given (key order). */
static const char *const lock_runs_wait_sql =
"SELECT k.ord::int FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS k(tenant_id, run_id, ord)"
"  CROSS JOIN LATERAL (SELECT 1 FROM cadence.runs r"
"                       WHERE r.tenant_id = k.tenant_id AND r.id = k.run_id"
"                       FOR UPDATE OFFSET 0) l";

/* What the leased actions need, one row per action, in lease order. */
static const char *const details_sql =
"SELECT r.status, r.cadence_id, r.timezone, r.assigned_to, r.lead_id,"
"       ca.name, v.config, c.settings, c.timezone,"
"       CASE WHEN ct.id IS NOT NULL THEN"
"         cadence.template_vars(ct.id, ct.first_name, ct.last_name, ct.email, ct.phone,"
"           ct.whatsapp, ct.company, ct.timezone, ct.owner_id, ct.status, ct.tags,"
"           ct.attributes, r.assigned_to, r.metadata) END,"
"       ct.timezone, ch.address, coalesce(ct.unsubscribed, false),"
"       EXISTS (SELECT 1 FROM cadence.suppressions s"
"                WHERE s.tenant_id = r.tenant_id AND s.channel IN (ch.channel, 'all')"
"                  AND s.address IN (lower(ct.email), ct.phone, ct.whatsapp)),"
"       t.subject, t.body_html, t.body_text, v.variant, ca.condition"
"  FROM unnest($1::text[], $2::bigint[], $3::int[], $4::text[]) WITH ORDINALITY"
"       AS k(tenant_id, run_id, step_number, type, ord)"
"  LEFT JOIN LATERAL (SELECT * FROM cadence.runs r"
"                      WHERE r.tenant_id = k.tenant_id AND r.id = k.run_id OFFSET 0) r ON true"
"  LEFT JOIN LATERAL (SELECT * FROM cadence.cadences c"
"                      WHERE c.tenant_id = r.tenant_id AND c.id = r.cadence_id OFFSET 0) c ON true"
"  LEFT JOIN LATERAL (SELECT * FROM cadence.cadence_actions ca"
"                      WHERE ca.tenant_id = r.tenant_id AND ca.cadence_id = r.cadence_id"
"                        AND ca.version = r.cadence_version AND ca.step_number = k.step_number"
"                     OFFSET 0) ca ON true"
"  LEFT JOIN LATERAL (SELECT CASE WHEN p.v IS NULL THEN ca.config"
"                                 ELSE cadence.variant_config(ca.config, k.type, p.v) END AS config,"
"                            p.v ->> 'id' AS variant"
"                       FROM (SELECT CASE WHEN ca.variants IS NOT NULL THEN"
"                                      cadence.step_variant(r.tenant_id, r.cadence_id, ca.action_id,"
"                                                           ca.variants, r.id, r.enrolled_at)"
"                                    END AS v) p) v ON true"
"  LEFT JOIN LATERAL (SELECT * FROM cadence.contacts ct"
"                      WHERE ct.tenant_id = r.tenant_id AND ct.id = r.lead_id OFFSET 0) ct ON true"
"  LEFT JOIN LATERAL (SELECT CASE k.type WHEN 'sms' THEN 'sms'"
"                                        WHEN 'email' THEN 'email'"
"                                        WHEN 'manual_email' THEN 'email'"
"                                        WHEN 'whatsapp' THEN 'whatsapp'"
"                                        WHEN 'call_task' THEN 'call' END AS channel,"
"                            CASE k.type WHEN 'sms' THEN ct.phone"
"                                        WHEN 'email' THEN ct.email"
"                                        WHEN 'manual_email' THEN ct.email"
"                                        WHEN 'whatsapp' THEN coalesce(ct.whatsapp, ct.phone)"
"                                        WHEN 'call_task' THEN ct.phone END AS address) ch"
"    ON true"
"  LEFT JOIN LATERAL (SELECT * FROM cadence.templates t"
"                      WHERE t.tenant_id = r.tenant_id"
"                        AND t.id = v.config -> k.type ->> 'templateId' OFFSET 0) t ON true"
" ORDER BY k.ord";

/* Longest error text an action and its event keep, in characters. */
#define MAX_ERROR_CHARS		500

/* Provider accounts of the batch's tenants, defaults first. */
static const char *const accounts_sql =
"SELECT tenant_id, id, channel, kind, base_url, credentials, settings,"
"       rate_per_second, max_concurrency"
"  FROM cadence.providers WHERE tenant_id = ANY ($1::text[])"
" ORDER BY tenant_id, channel, is_default DESC, created_at, id";

/*
 * cadence_idempotency_key
 *		cadence-<installation>-<action id>: the installation part (from the
 *		cluster's system identifier and the database) keeps two databases
 *		that share a provider account from colliding.
 */
char *
cadence_idempotency_key(int64 action_id)
{
	uint64		installation = GetSystemIdentifier() ^ ((uint64) MyDatabaseId << 32);

	return psprintf("cadence-%016llx-%lld", (unsigned long long) installation,
					(long long) action_id);
}

/*
 * cadence_dispatch_spi
 *		SPI_execute_with_args, checked, back in the caller's memory context.
 */
void
cadence_dispatch_spi(const char *sql, int nargs, Oid *types, Datum *values,
					 const char *nulls, bool read_only, int expect, const char *what)
{
	MemoryContext mcxt = CurrentMemoryContext;
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);

	MemoryContextSwitchTo(mcxt);
	if (rc != expect)
		elog(ERROR, "could not %s: %s", what, SPI_result_code_string(rc));
}

/*
 * cadence_dispatch_verdict
 *		Settle an item (the time is the runner's clock).  The error goes to
 *		the action's last_error and its event, which members read: it is
 *		kept short and free of control characters whatever it quotes.
 */
void
cadence_dispatch_verdict(DispatchItem *item, DispatchVerdict verdict,
						 const char *reason, const char *error)
{
	item->verdict = verdict;
	item->reason = reason ? pstrdup(reason) : NULL;
	item->error = error ? cadence_clean_text(error, MAX_ERROR_CHARS) : NULL;
}

/* Copy helpers: SPI results die with SPI_finish, the batch lives on. */
static char *
copy_text(HeapTuple tup, TupleDesc desc, int col)
{
	return SPI_getvalue(tup, desc, col);
}

static Jsonb *
copy_jsonb(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NULL : DatumGetJsonbPCopy(d);
}

/*
 * lease
 *		Run one leasing statement; append what it leased to *leased (one
 *		HeapTuple copy per action, in SPI's memory).
 */
static void
lease(const char *sql, Datum *params, const char *nulls, List **leased, TupleDesc *desc)
{
	Oid			types[5] = {TIMESTAMPTZOID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID};
	uint64		i;

	cadence_dispatch_spi(sql, 5, types, params, nulls, false, SPI_OK_UPDATE_RETURNING,
						 "lease due actions");
	*desc = SPI_tuptable->tupdesc;
	for (i = 0; i < SPI_processed; i++)
		*leased = lappend(*leased, SPI_tuptable->vals[i]);
}

/*
 * load_items
 *		The leased actions, then the details of their runs, steps, leads.
 */
static void
load_items(DispatchBatch *batch, List *leased, TupleDesc ldesc)
{
	int			n = list_length(leased);
	Datum	   *t = palloc(sizeof(Datum) * n);
	Datum	   *r = palloc(sizeof(Datum) * n);
	Datum	   *st = palloc(sizeof(Datum) * n);
	Datum	   *ty = palloc(sizeof(Datum) * n);
	Oid			types[4] = {TEXTARRAYOID, INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID};
	Datum		values[4];
	bool		isnull;
	int			k;
	uint64		i;

	for (k = 0; k < n; k++)
	{
		HeapTuple	tup = list_nth(leased, k);
		DispatchItem *item = &batch->items[k];

		item->ctid = *DatumGetItemPointer(SPI_getbinval(tup, ldesc, 1, &isnull));
		item->tenant_id = SPI_getvalue(tup, ldesc, 2);
		item->run_id = DatumGetInt64(SPI_getbinval(tup, ldesc, 3, &isnull));
		item->id = DatumGetInt64(SPI_getbinval(tup, ldesc, 4, &isnull));
		item->step_number = DatumGetInt32(SPI_getbinval(tup, ldesc, 5, &isnull));
		item->type = SPI_getvalue(tup, ldesc, 6);
		item->attempts = DatumGetInt32(SPI_getbinval(tup, ldesc, 7, &isnull));
		item->due_at = DatumGetTimestampTz(SPI_getbinval(tup, ldesc, 8, &isnull));
		item->planned_at = DatumGetTimestampTz(SPI_getbinval(tup, ldesc, 9, &isnull));
		item->verdict = VERDICT_SEND;
		item->happened_at = batch->now;
		t[k] = CStringGetTextDatum(item->tenant_id);
		r[k] = Int64GetDatum(item->run_id);
		st[k] = Int32GetDatum(item->step_number);
		ty[k] = CStringGetTextDatum(item->type);
	}
	values[0] = PointerGetDatum(construct_array(t, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[1] = PointerGetDatum(construct_array(r, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[2] = PointerGetDatum(construct_array(st, n, INT4OID, 4, true, TYPALIGN_INT));
	values[3] = PointerGetDatum(construct_array(ty, n, TEXTOID, -1, false, TYPALIGN_INT));
	cadence_dispatch_spi(details_sql, 4, types, values, NULL, false, SPI_OK_SELECT,
						 "read the leased actions");
	if (SPI_processed != (uint64) n)
		elog(ERROR, "could not read the leased actions: %d asked, %d found", n,
			 (int) SPI_processed);

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		DispatchItem *item = &batch->items[i];

		item->run_status = copy_text(tup, desc, 1);
		item->cadence_id = copy_text(tup, desc, 2);
		item->timezone = copy_text(tup, desc, 3);
		item->assigned_to = copy_text(tup, desc, 4);
		item->lead_id = copy_text(tup, desc, 5);
		item->action_name = copy_text(tup, desc, 6);
		item->config = copy_jsonb(tup, desc, 7);
		item->settings = copy_jsonb(tup, desc, 8);
		item->cadence_timezone = copy_text(tup, desc, 9);
		item->vars = copy_jsonb(tup, desc, 10);
		item->lead_timezone = copy_text(tup, desc, 11);
		item->address = copy_text(tup, desc, 12);
		item->unsubscribed = DatumGetBool(SPI_getbinval(tup, desc, 13, &isnull));
		item->suppressed = DatumGetBool(SPI_getbinval(tup, desc, 14, &isnull));
		item->template_subject = copy_text(tup, desc, 15);
		item->template_html = copy_text(tup, desc, 16);
		item->template_text = copy_text(tup, desc, 17);
		item->variant = copy_text(tup, desc, 18);
		item->condition = copy_jsonb(tup, desc, 19);
	}
}

/* Items in run key order, for locking runs the way every writer does. */
static int
item_run_cmp(const void *a, const void *b)
{
	const DispatchItem *x = *(DispatchItem *const *) a;
	const DispatchItem *y = *(DispatchItem *const *) b;
	int			c = strcmp(x->tenant_id, y->tenant_id);

	if (c != 0)
		return c;
	return (x->run_id > y->run_id) - (x->run_id < y->run_id);
}

/*
 * cadence_dispatch_lock_runs
 *		Lock the runs of the items whose outcome is yet to be written.
 */
void
cadence_dispatch_lock_runs(DispatchBatch *batch, bool skip_locked)
{
	DispatchItem **order = palloc(sizeof(DispatchItem *) * Max(batch->nitems, 1));
	Datum	   *t = palloc(sizeof(Datum) * Max(batch->nitems, 1));
	Datum	   *r = palloc(sizeof(Datum) * Max(batch->nitems, 1));
	Oid			types[2] = {TEXTARRAYOID, INT8ARRAYOID};
	Datum		values[2];
	int			n = 0;
	int			k;
	uint64		i;

	for (k = 0; k < batch->nitems; k++)
		if (!batch->items[k].written)
			order[n++] = &batch->items[k];
	if (n == 0)
		return;
	if (!skip_locked)
		qsort(order, n, sizeof(DispatchItem *), item_run_cmp);
	for (k = 0; k < n; k++)
	{
		t[k] = CStringGetTextDatum(order[k]->tenant_id);
		r[k] = Int64GetDatum(order[k]->run_id);
	}
	values[0] = PointerGetDatum(construct_array(t, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[1] = PointerGetDatum(construct_array(r, n, INT8OID, 8, FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	cadence_dispatch_spi(skip_locked ? lock_runs_skip_sql : lock_runs_wait_sql, 2, types,
						 values, NULL, false, SPI_OK_SELECT, "lock the runs of a batch");
	if (!skip_locked)
		return;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int			ord = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
													  SPI_tuptable->tupdesc, 1, &isnull));

		cadence_dispatch_verdict(order[ord - 1], VERDICT_BUSY, NULL, NULL);
	}
}

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
	cadence_dispatch_spi(accounts_sql, 1, types, values, NULL, false, SPI_OK_SELECT,
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

		da->tenant_id = copy_text(tup, desc, 1);
		da->acct.id = copy_text(tup, desc, 2);
		da->channel = copy_text(tup, desc, 3);
		da->acct.kind = copy_text(tup, desc, 4);
		da->acct.base_url = copy_text(tup, desc, 5);
		da->acct.credentials = copy_jsonb(tup, desc, 6);
		da->acct.settings = copy_jsonb(tup, desc, 7);
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

/* Steps the runner carries out itself, in the database. */
static bool
is_logic(const char *type)
{
	return strcmp(type, "condition") == 0 || strcmp(type, "lead_action") == 0;
}

/* Steps done by a person: they wait as pending_manual with a task. */
static bool
is_manual(const char *type)
{
	return strcmp(type, "call_task") == 0 || strcmp(type, "manual_task") == 0 ||
		strcmp(type, "manual_email") == 0 || strcmp(type, "linkedin_task") == 0;
}

/*
 * decide
 *		What a leased action needs before any network: everything but the
 *		limits shared with other runners (limits.c) and the request itself.
 */
static void
decide(DispatchBatch *batch, List **rules_cache, DispatchItem *item)
{
	CadenceMoveReason why;
	TimestampTz at;

	if (item->verdict == VERDICT_BUSY)
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
	if (is_logic(item->type))
	{
		cadence_dispatch_verdict(item, VERDICT_EXECUTE, NULL, NULL);
		return;
	}
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
	if (is_manual(item->type))
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

/*
 * cadence_dispatch_claim
 *		Lease, read, decide, limit, build; write what needs no network.
 */
DispatchBatch *
cadence_dispatch_claim(MemoryContext mcxt, TimestampTz now, bool realtime, int limit,
					   const char *tenant_id)
{
	DispatchBatch *batch = MemoryContextAllocZero(mcxt, sizeof(DispatchBatch));
	TimestampTz real_now = GetCurrentTimestamp();
	Datum		params[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', tenant_id ? ' ' : 'n'};
	List	   *leased = NIL;
	TupleDesc	ldesc = NULL;
	List	   *rules_cache = NIL;
	MemoryContext old;
	int			k;

	batch->mcxt = mcxt;
	batch->now = now;
	batch->realtime = realtime;
	params[0] = TimestampTzGetDatum(real_now);
	params[1] = Int32GetDatum(limit);
	params[2] = TimestampTzGetDatum(real_now + (int64) cadence_lease_seconds * USECS_PER_SEC);
	params[3] = TimestampTzGetDatum(now);
	params[4] = tenant_id ? CStringGetTextDatum(tenant_id) : (Datum) 0;
	old = CurrentMemoryContext;
	batch->counts.resumed = cadence_run_resume_due(now, limit);
	MemoryContextSwitchTo(old);
	lease(lease_expired_sql, params, nulls, &leased, &ldesc);
	if (list_length(leased) < limit)
	{
		List	   *more = NIL;

		params[1] = Int32GetDatum(limit - list_length(leased));
		lease(lease_due_sql, params, nulls, &more, &ldesc);
		leased = list_concat(leased, more);
	}
	batch->nitems = list_length(leased);
	if (batch->nitems == 0)
		return batch;
	old = MemoryContextSwitchTo(mcxt);
	batch->items = palloc0(sizeof(DispatchItem) * batch->nitems);
	for (k = 0; k < batch->nitems; k++)
		batch->items[k].lease_until = DatumGetTimestampTz(params[2]);
	load_items(batch, leased, ldesc);
	cadence_dispatch_lock_runs(batch, true);
	load_accounts(batch);
	batch->counts.claimed = batch->nitems;
	if (cadence_shared)
	{
		pg_atomic_fetch_add_u64(&cadence_shared->claimed, batch->nitems);
		SpinLockAcquire(&cadence_shared->mutex);
		cadence_shared->last_claim_at = real_now;
		SpinLockRelease(&cadence_shared->mutex);
	}

	for (k = 0; k < batch->nitems; k++)
		decide(batch, &rules_cache, &batch->items[k]);
	cadence_dispatch_execute(batch);
	cadence_dispatch_limit(batch);
	for (k = 0; k < batch->nitems; k++)
		if (batch->items[k].verdict == VERDICT_SEND)
			build_guarded(batch, &batch->items[k]);
	cadence_dispatch_write(batch);
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
 *		The earliest due time of scheduled work (0 when there is none), of
 *		a lease that will run out, or of a paused run that resumes.
 */
TimestampTz
cadence_dispatch_next_due(void)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute("SELECT least((SELECT min(due_at) FROM cadence.scheduled_actions"
					"               WHERE status = 'scheduled'),"
					"              (SELECT min(lease_until) FROM cadence.scheduled_actions"
					"               WHERE status = 'sending'),"
					"              (SELECT min(resume_at) FROM cadence.runs"
					"               WHERE status = 'paused' AND resume_at IS NOT NULL))",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the next due time");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetTimestampTz(d);
}
