/*
 * dispatch/take.c
 *		Where a claim is taken (see dispatch/dispatch.h): the actions of runners
 *		that died, then due work; everything the claimed actions need read;
 *		their runs locked.
 *
 * A claim lives exactly as long as its runner.  Every runner process holds
 * a session-level advisory lock on its token for its whole life
 * (dispatch/liveness.c), and the actions it claims carry the token and their
 * attempt number.  Another runner takes a 'sending' action over when, and as
 * soon as, that lock is free: its runner is gone (killed, crashed, or it gave
 * up its token after failing to record), so nothing will ever record its
 * request.  It is never taken over because time passed: a time lease
 * expires under a runner that is alive and merely slow (a provider that
 * answers in 10 s, 64 at a time, a batch of 1,000), and the same message
 * then goes out twice with nobody dead.  So there is no lease to renew and
 * no timer to wait out after a kill -9: a crash restart frees every lock at
 * once, and the launcher wakes the dispatchers when one of them stops (the
 * next claim of anyone also looks).  Idle runners do not poll for deaths.
 *
 * Taking an action over is an attempt (its request may or may not have
 * reached the provider, under the same idempotency key) and says so in the
 * audit log (action.unrecorded); an action whose attempts are spent fails
 * instead (decided in dispatch/claim.c).  A claim that the runner itself
 * later records is written only while it is still its own (same token, same
 * attempt), except a provider's acceptance, which is always recorded
 * (dispatch/record.c).
 *
 * How the statements are planned: see dispatch/claim.c.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "base/compat.h"
#include "base/gucs.h"
#include "base/spi.h"
#include "dispatch/dispatch.h"
#include "dispatch/liveness.h"

/*
 * The runners holding actions, one index probe each (a loose scan of the
 * partial index of sending actions): a handful at most.
 */
static CadenceStatement runners_sql = {
"WITH RECURSIVE r(runner) AS ("
"   (SELECT runner FROM cadence.scheduled_actions WHERE status = 'sending'"
"     ORDER BY runner LIMIT 1)"
"   UNION ALL"
"   SELECT (SELECT a.runner FROM cadence.scheduled_actions a"
"            WHERE a.status = 'sending' AND a.runner > r.runner"
"            ORDER BY a.runner LIMIT 1)"
"     FROM r WHERE r.runner IS NOT NULL)"
" SELECT runner FROM r WHERE runner IS NOT NULL"};

/*
 * Parameters of the claiming statements: $1 the wall clock, $2 how many,
 * $3 this runner's token, $4 the runner's clock (as_of), $5 the tenant or
 * NULL, $6 a dead runner's token.
 */
#define LEASE_NARGS 6

/* Take over a dead runner's actions: a new attempt each, and its event. */
static CadenceStatement take_over_sql = {
"WITH picked AS (SELECT ctid FROM cadence.scheduled_actions"
"                 WHERE status = 'sending' AND runner = $6"
"                   AND ($5::text IS NULL OR tenant_id = $5)"
"                 LIMIT $2 FOR UPDATE SKIP LOCKED),"
" u AS (UPDATE cadence.scheduled_actions a"
"          SET runner = $3, attempts = a.attempts + 1, updated_at = $1"
"        WHERE a.ctid = ANY (ARRAY(SELECT ctid FROM picked))"
"       RETURNING a.ctid, a.tenant_id, a.run_id, a.id, a.step_number, a.type,"
"                 a.attempts, a.due_at, a.planned_at, a.cadence_id),"
" e AS (INSERT INTO cadence.events (tenant_id, run_id, scheduled_action_id, cadence_id,"
"                                  type, payload)"
"       SELECT tenant_id, run_id, id, cadence_id, 'action.unrecorded',"
"              pg_catalog.jsonb_build_object('stepNumber', step_number, 'attempt', attempts - 1,"
"                                 'runner', $6, 'outcome', 'unrecorded', 'takenOverBy', $3)"
"         FROM u)"
" SELECT ctid, tenant_id, run_id, id, step_number, type, attempts, due_at, planned_at"
"   FROM u"};

/* Claim due work by due time. */
static CadenceStatement claim_due_sql = {
"WITH picked AS (SELECT ctid FROM cadence.scheduled_actions"
"                 WHERE status = 'scheduled' AND due_at <= $4"
"                   AND ($5::text IS NULL OR tenant_id = $5)"
"                 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
" UPDATE cadence.scheduled_actions a"
"    SET status = 'sending', runner = $3, attempts = a.attempts + 1,"
"        updated_at = $1"
"  WHERE a.ctid = ANY (ARRAY(SELECT ctid FROM picked))"
" RETURNING a.ctid, a.tenant_id, a.run_id, a.id, a.step_number, a.type,"
"           a.attempts, a.due_at, a.planned_at"};

/*
 * The runs of the batch that exist but another transaction holds: their
 * actions wait for another claim.  The others are locked.
 */
static CadenceStatement lock_runs_skip_sql = {
"SELECT k.ord::int FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS k(tenant_id, run_id, ord)"
" WHERE EXISTS (SELECT 1 FROM cadence.runs r WHERE r.tenant_id = k.tenant_id AND r.id = k.run_id)"
"   AND NOT EXISTS (SELECT 1 FROM (SELECT 1 FROM cadence.runs r"
"                                   WHERE r.tenant_id = k.tenant_id AND r.id = k.run_id"
"                                   FOR UPDATE SKIP LOCKED) l)"};

/* The runs of the batch, locked in the order given (key order). */
static CadenceStatement lock_runs_wait_sql = {
"SELECT k.ord::int FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS k(tenant_id, run_id, ord)"
"  CROSS JOIN LATERAL (SELECT 1 FROM cadence.runs r"
"                       WHERE r.tenant_id = k.tenant_id AND r.id = k.run_id"
"                       FOR UPDATE OFFSET 0) l"};

/* What the claimed actions need, one row per action, in claim order. */
static CadenceStatement details_sql = {
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
" ORDER BY k.ord"};

/*
 * claim
 *		Run one claiming statement; append what it claimed to *claimed (one
 *		HeapTuple each, in SPI's memory), and to *from the runner each came
 *		from (dead, 0 for due work).
 */
static void
claim(CadenceStatement *stmt, Datum *params, const char *nulls, int64 dead,
	  List **claimed, List **from, TupleDesc *desc)
{
	Oid			types[LEASE_NARGS] = {TIMESTAMPTZOID, INT4OID, INT8OID, TIMESTAMPTZOID,
	TEXTOID, INT8OID};
	uint64		i;

	cadence_spi_run(stmt, LEASE_NARGS, types, params, nulls, false,
					stmt == &claim_due_sql ? SPI_OK_UPDATE_RETURNING : SPI_OK_SELECT,
					"claim actions");
	*desc = SPI_tuptable->tupdesc;
	for (i = 0; i < SPI_processed; i++)
	{
		int64	   *runner = palloc(sizeof(int64));

		*runner = dead;
		*claimed = lappend(*claimed, SPI_tuptable->vals[i]);
		*from = lappend(*from, runner);
	}
}

/*
 * take_over
 *		The actions of every runner found gone, up to the limit.
 */
static void
take_over(Datum *params, char *nulls, int limit, List **claimed, List **from,
		  TupleDesc *desc)
{
	int64	   *runners;
	uint64		nrunners;
	uint64		i;

	cadence_spi_run(&runners_sql, 0, NULL, NULL, NULL, false, SPI_OK_SELECT,
					"read the runners holding actions");
	nrunners = SPI_processed;
	runners = palloc(sizeof(int64) * Max(nrunners, 1));
	for (i = 0; i < nrunners; i++)
	{
		bool		isnull;

		runners[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
												 SPI_tuptable->tupdesc, 1, &isnull));
	}
	for (i = 0; i < nrunners; i++)
	{
		if (list_length(*claimed) >= limit || !cadence_runner_gone(runners[i]))
			continue;
		params[1] = Int32GetDatum(limit - list_length(*claimed));
		params[5] = Int64GetDatum(runners[i]);
		nulls[5] = ' ';
		claim(&take_over_sql, params, nulls, runners[i], claimed, from, desc);
	}
}

/*
 * load_claimed
 *		The items of the claimed rows.
 */
static void
load_claimed(DispatchBatch *batch, List *claimed, List *from, TupleDesc desc)
{
	int			k;

	batch->nitems = list_length(claimed);
	batch->items = palloc0(sizeof(DispatchItem) * Max(batch->nitems, 1));
	for (k = 0; k < batch->nitems; k++)
	{
		HeapTuple	tup = list_nth(claimed, k);
		DispatchItem *item = &batch->items[k];
		bool		isnull;

		item->ctid = *DatumGetItemPointer(SPI_getbinval(tup, desc, 1, &isnull));
		item->tenant_id = SPI_getvalue(tup, desc, 2);
		item->run_id = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
		item->id = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
		item->step_number = DatumGetInt32(SPI_getbinval(tup, desc, 5, &isnull));
		item->type = SPI_getvalue(tup, desc, 6);
		item->attempts = DatumGetInt32(SPI_getbinval(tup, desc, 7, &isnull));
		item->due_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 8, &isnull));
		item->planned_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 9, &isnull));
		item->dead_runner = *(int64 *) list_nth(from, k);
		/* The attempt it was claimed for would be one too many. */
		item->exhausted = item->attempts > cadence_max_attempts;
		item->verdict = VERDICT_SEND;
		item->happened_at = batch->now;
	}
}

/* A details range: items from, .. from + n - 1. */
typedef struct DetailsRange
{
	DispatchBatch *batch;
	int			from;
	int			n;
} DetailsRange;

/*
 * read_details
 *		Read what a range of items needs, in one statement.
 */
static void
read_details(void *arg)
{
	DetailsRange *range = arg;
	int			n = range->n;
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
		DispatchItem *item = &range->batch->items[range->from + k];

		t[k] = CStringGetTextDatum(item->tenant_id);
		r[k] = Int64GetDatum(item->run_id);
		st[k] = Int32GetDatum(item->step_number);
		ty[k] = CStringGetTextDatum(item->type);
	}
	values[0] = PointerGetDatum(construct_array(t, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[1] = PointerGetDatum(construct_array(r, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[2] = PointerGetDatum(construct_array(st, n, INT4OID, 4, true, TYPALIGN_INT));
	values[3] = PointerGetDatum(construct_array(ty, n, TEXTOID, -1, false, TYPALIGN_INT));
	cadence_spi_run(&details_sql, 4, types, values, NULL, false, SPI_OK_SELECT,
					"read the claimed actions");
	if (SPI_processed != (uint64) n)
		elog(ERROR, "could not read the claimed actions: %d asked, %d found", n,
			 (int) SPI_processed);

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		DispatchItem *item = &range->batch->items[range->from + i];

		item->run_status = SPI_getvalue(tup, desc, 1);
		item->cadence_id = SPI_getvalue(tup, desc, 2);
		item->timezone = SPI_getvalue(tup, desc, 3);
		item->assigned_to = SPI_getvalue(tup, desc, 4);
		item->lead_id = SPI_getvalue(tup, desc, 5);
		item->action_name = SPI_getvalue(tup, desc, 6);
		item->config = cadence_spi_jsonb(tup, desc, 7);
		item->settings = cadence_spi_jsonb(tup, desc, 8);
		item->cadence_timezone = SPI_getvalue(tup, desc, 9);
		item->vars = cadence_spi_jsonb(tup, desc, 10);
		item->lead_timezone = SPI_getvalue(tup, desc, 11);
		item->address = SPI_getvalue(tup, desc, 12);
		item->unsubscribed = DatumGetBool(SPI_getbinval(tup, desc, 13, &isnull));
		item->suppressed = DatumGetBool(SPI_getbinval(tup, desc, 14, &isnull));
		item->template_subject = SPI_getvalue(tup, desc, 15);
		item->template_html = SPI_getvalue(tup, desc, 16);
		item->template_text = SPI_getvalue(tup, desc, 17);
		item->variant = SPI_getvalue(tup, desc, 18);
		item->condition = cadence_spi_jsonb(tup, desc, 19);
	}
}

/*
 * load_details
 *		Read every item's details in one statement; if a row makes it fail
 *		(a function of the lead, the step or its A/B variants that errors),
 *		read them one by one and fail the actions that cannot be read.
 */
static void
load_details(DispatchBatch *batch)
{
	DetailsRange all = {batch, 0, batch->nitems};
	int			k;

	if (cadence_guarded(read_details, &all) == NULL)
		return;
	for (k = 0; k < batch->nitems; k++)
	{
		DetailsRange one = {batch, k, 1};
		char	   *error = cadence_guarded(read_details, &one);

		if (error != NULL)
			cadence_dispatch_verdict(&batch->items[k], VERDICT_FAILED, NULL, error);
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
	{
		DispatchItem *it = &batch->items[k];

		if (!it->written && dispatch_in_focus(batch, k) && it->verdict != VERDICT_SEND &&
			(!skip_locked || (!it->run_locked && it->verdict != VERDICT_BUSY)))
			order[n++] = it;
	}
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
	cadence_spi_run(skip_locked ? &lock_runs_skip_sql : &lock_runs_wait_sql, 2, types,
					values, NULL, false, SPI_OK_SELECT, "lock the runs of a batch");
	if (!skip_locked)
		return;
	for (k = 0; k < n; k++)
		order[k]->run_locked = true;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int			ord = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
													  SPI_tuptable->tupdesc, 1, &isnull));

		cadence_dispatch_verdict(order[ord - 1], VERDICT_BUSY, NULL, NULL);
		order[ord - 1]->run_locked = false;
	}
}

/*
 * cadence_dispatch_take
 *		Take over what dead runners held, then claim due work, up to limit
 *		actions in all, and read them.  In the batch's memory context.
 */
void
cadence_dispatch_take(DispatchBatch *batch, int limit, const char *tenant_id)
{
	Datum		params[LEASE_NARGS];
	char		nulls[LEASE_NARGS] = {' ', ' ', ' ', ' ', tenant_id ? ' ' : 'n', 'n'};
	List	   *claimed = NIL;
	List	   *from = NIL;
	TupleDesc	desc = NULL;

	batch->runner = cadence_runner_token();
	params[0] = TimestampTzGetDatum(GetCurrentTimestamp());
	params[1] = Int32GetDatum(limit);
	params[2] = Int64GetDatum(batch->runner);
	params[3] = TimestampTzGetDatum(batch->now);
	params[4] = tenant_id ? CStringGetTextDatum(tenant_id) : (Datum) 0;
	params[5] = (Datum) 0;
	take_over(params, nulls, limit, &claimed, &from, &desc);
	if (list_length(claimed) < limit)
	{
		params[1] = Int32GetDatum(limit - list_length(claimed));
		params[5] = (Datum) 0;
		nulls[5] = 'n';
		claim(&claim_due_sql, params, nulls, 0, &claimed, &from, &desc);
	}
	load_claimed(batch, claimed, from, desc);
	if (batch->nitems > 0)
		load_details(batch);
}
