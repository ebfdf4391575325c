/*
 * dispatch/record.c
 *		The writing step of dispatch: the outcomes of a batch's actions and
 *		their events, in one set-based statement; then what they set going
 *		(dispatch/follow_up.c).
 *
 * An action's outcome is written to the row version this runner claimed
 * (its ctid, a TID scan) and only while the claim is still its own, for the
 * same attempt: if the run was cancelled meanwhile, or the action was taken
 * over, the row has moved on and that outcome stands.  Never lost, though:
 * every request becomes an event (action.request when it changed nothing),
 * and a provider's acceptance is recorded whatever happened to the row
 * (sent_late_sql), so an action is never left failed or retried after one
 * of its requests was accepted.  See the planning note in
 * dispatch/claim.c; the CASE on an action's status keeps the planner from
 * scanning the runner's whole claim (the partial index of sending actions)
 * for every row instead of reaching each by ctid.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "base/compat.h"
#include "base/json.h"
#include "base/publish.h"
#include "dispatch/dispatch.h"

/*
 * The outcome arrays, one element per item; payload is the event's, and
 * rendered what was sent, as scheduled_actions.rendered keeps it (NULL:
 * nothing was built), both built in C (event_payload, rendered).  (unnest
 * of several arrays is special syntax, found by its bare name only.)
 */
#define OUTCOMES \
"WITH o AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[],"\
"             $5::text[], $6::timestamptz[], $7::text[], $8::int[], $9::text[], $10::text[],"\
"             $11::text[], $12::text[], $13::timestamptz[], $14::text[], $15::text[],"\
"             $16::text[], $17::int[], $18::int[], $19::tid[], $20::text[], $21::text[],"\
"             $22::jsonb[], $23::jsonb[])"\
"           AS o(tenant_id, run_id, id, runner, status, due_at, moved_reason, undo,"\
"                provider_id, provider_message_id, skip_reason, error, happened_at,"\
"                event, lead_id, cadence_id, step_number, attempt, row_version, variant,"\
"                outcome, payload, rendered)),"
#define NCOLUMNS 23

/*
 * One statement: the actions whose claim (runner and attempt) still holds,
 * and an event for each, or for a request that changed nothing; returns
 * what it updated.  Acceptances it could not write are left to
 * sent_late_sql.
 */
static CadenceStatement write_sql = {
OUTCOMES
" u AS (UPDATE cadence.scheduled_actions a"
"          SET status = o.status,"
"              due_at = coalesce(o.due_at, a.due_at),"
"              moved_reason = coalesce(o.moved_reason, a.moved_reason),"
"              runner = NULL,"
"              attempts = a.attempts - o.undo,"
"              provider_id = coalesce(o.provider_id, a.provider_id),"
"              provider_message_id = coalesce(o.provider_message_id, a.provider_message_id),"
"              skip_reason = o.skip_reason,"
"              last_error = coalesce(o.error, a.last_error),"
"              variant = coalesce(o.variant, a.variant),"
"              sent_at = CASE WHEN o.status = 'sent' THEN o.happened_at ELSE a.sent_at END,"
"              rendered = coalesce(o.rendered, a.rendered),"
"              updated_at = pg_catalog.now()"
"         FROM o"
"        WHERE a.ctid = o.row_version AND a.id = o.id AND a.attempts = o.attempt"
"          AND CASE a.status WHEN 'sending' THEN a.runner END = o.runner"
"       RETURNING a.id),"
" e AS (INSERT INTO cadence.events (tenant_id, run_id, scheduled_action_id, cadence_id,"
"                                  lead_id, type, payload)"
"       SELECT o.tenant_id, o.run_id, o.id, o.cadence_id, o.lead_id,"
"              CASE WHEN u.id IS NULL THEN 'action.request' ELSE o.event END, o.payload"
"         FROM o LEFT JOIN u ON u.id = o.id"
"        WHERE CASE WHEN u.id IS NULL THEN o.outcome IS NOT NULL AND o.status <> 'sent'"
"                   ELSE o.event IS NOT NULL END"
CADENCE_PUBLISH_RETURNING ")"
" SELECT u.id FROM u"};

/*
 * Acceptances whose claim had moved on (a run cancelled, a step completed
 * by hand while the request was out): recorded as sent all the same, by
 * key, unless the action is sent already (then the repeat is an
 * action.request event); a step counted failed is counted sent instead.
 */
static CadenceStatement sent_late_sql = {
OUTCOMES
" p AS (SELECT o.id, x.status FROM o CROSS JOIN LATERAL"
"         (SELECT a.status FROM cadence.scheduled_actions a"
"           WHERE a.tenant_id = o.tenant_id AND a.run_id = o.run_id AND a.id = o.id"
"           FOR UPDATE OFFSET 0) x),"
" u AS (UPDATE cadence.scheduled_actions a"
"          SET status = 'sent', runner = NULL, sent_at = o.happened_at,"
"              provider_id = coalesce(o.provider_id, a.provider_id),"
"              provider_message_id = coalesce(o.provider_message_id, a.provider_message_id),"
"              variant = coalesce(o.variant, a.variant),"
"              rendered = coalesce(o.rendered, a.rendered),"
"              updated_at = pg_catalog.now()"
"         FROM o JOIN p ON p.id = o.id"
"        WHERE a.tenant_id = o.tenant_id AND a.run_id = o.run_id AND a.id = o.id"
"          AND p.status <> 'sent'"
"       RETURNING a.id, p.status AS was),"
" f AS (UPDATE cadence.step_stats s SET failed = s.failed - f.n"
"         FROM (SELECT o.tenant_id, o.cadence_id, o.step_number, coalesce(o.variant, '') AS variant,"
"                      pg_catalog.count(*) AS n"
"                 FROM o JOIN u ON u.id = o.id WHERE u.was = 'failed' GROUP BY 1, 2, 3, 4) f"
"        WHERE s.tenant_id = f.tenant_id AND s.cadence_id = f.cadence_id"
"          AND s.step_number = f.step_number AND s.variant = f.variant),"
" e AS (INSERT INTO cadence.events (tenant_id, run_id, scheduled_action_id, cadence_id,"
"                                  lead_id, type, payload)"
"       SELECT o.tenant_id, o.run_id, o.id, o.cadence_id, o.lead_id,"
"              CASE WHEN u.id IS NULL THEN 'action.request' ELSE 'action.sent' END, o.payload"
"         FROM o LEFT JOIN u ON u.id = o.id"
CADENCE_PUBLISH_RETURNING ")"
" SELECT u.id FROM u"};

/*
 * count
 *		Add an item's outcome to the batch's tallies (the round adds them to
 *		the server's once they are committed).
 */
static void
count(DispatchBatch *batch, const DispatchItem *item)
{
	switch (item->verdict)
	{
		case VERDICT_SENT:
			batch->counts.sent++;
			break;
		case VERDICT_RETRY:
			batch->counts.retried++;
			break;
		case VERDICT_FAILED:
			batch->counts.failed++;
			break;
		case VERDICT_SKIPPED:
			batch->counts.skipped++;
			break;
		case VERDICT_MOVED:
		case VERDICT_RELEASED:
			batch->counts.moved++;
			break;
		case VERDICT_MANUAL:
			batch->counts.manual++;
			break;
		case VERDICT_SEND:
		case VERDICT_EXECUTE:
		case VERDICT_BUSY:
			break;
	}
}

/* Outcome strings, by DispatchOutcome. */
static const char *const outcome_names[] = {
	[OUTCOME_NONE] = NULL,
	[OUTCOME_ACCEPTED] = "accepted",
	[OUTCOME_REFUSED] = "refused",
	[OUTCOME_TIMED_OUT] = "timed_out",
	[OUTCOME_CUT] = "cut",
	[OUTCOME_NO_ANSWER] = "no_answer",
	[OUTCOME_BLOCKED] = "blocked",
};

/*
 * event_payload
 *		The payload of an item's event: {"stepNumber", "attempt", "runner",
 *		"outcome", "httpStatus", "providerId", "providerMessageId",
 *		"reason", "error", "dueAt", "aiError", "variant"}, those with a
 *		value.
 */
static Datum
event_payload(const DispatchBatch *batch, const DispatchItem *it, bool undo, bool moves)
{
	CadenceJsonbObject o;

	cadence_jsonb_begin(&o);
	cadence_jsonb_add_int(&o, "stepNumber", it->step_number);
	cadence_jsonb_add_int(&o, "attempt", it->attempts - (undo ? 1 : 0));
	cadence_jsonb_add_int(&o, "runner", batch->runner);
	cadence_jsonb_add_text(&o, "outcome", outcome_names[it->outcome]);
	if (it->status != 0)
		cadence_jsonb_add_int(&o, "httpStatus", (int32) it->status);
	cadence_jsonb_add_text(&o, "providerId", it->account ? it->account->acct.id : NULL);
	cadence_jsonb_add_text(&o, "providerMessageId", it->provider_message_id);
	cadence_jsonb_add_text(&o, "reason", it->reason);
	cadence_jsonb_add_text(&o, "error", it->error);
	if (moves)
		cadence_jsonb_add_timestamptz(&o, "dueAt", it->new_due_at);
	cadence_jsonb_add_text(&o, "aiError", it->ai_error);
	cadence_jsonb_add_text(&o, "variant", it->variant);
	return JsonbPGetDatum(cadence_jsonb_end(&o));
}

/*
 * rendered
 *		What was sent of a built item: {"to", "subject", "text", "html",
 *		"provider", "providerId", "aiError"}, those with a value.
 */
static Datum
rendered(const DispatchItem *it)
{
	CadenceJsonbObject o;

	cadence_jsonb_begin(&o);
	cadence_jsonb_add_text(&o, "to", it->msg.to ? it->msg.to : it->msg.url);
	cadence_jsonb_add_text(&o, "subject", it->msg.subject);
	cadence_jsonb_add_text(&o, "text", it->msg.text);
	cadence_jsonb_add_text(&o, "html", it->msg.html);
	cadence_jsonb_add_text(&o, "provider", it->account->acct.kind);
	cadence_jsonb_add_text(&o, "providerId", it->account->acct.id);
	cadence_jsonb_add_text(&o, "aiError", it->ai_error);
	return JsonbPGetDatum(cadence_jsonb_end(&o));
}

/*
 * add_outcome
 *		One row of the outcome arrays (OUTCOMES) for an item.
 */
static void
add_outcome(CadenceColumns *c, const DispatchBatch *batch, const DispatchItem *it)
{
	const DispatchVerdictInfo *vi = &cadence_verdicts[it->verdict];
	bool		moves = it->verdict == VERDICT_MOVED || it->verdict == VERDICT_RETRY;
	bool		undo = vi->undo_attempt || it->undone;

	cadence_columns_text(c, 0, it->tenant_id);
	cadence_columns_datum(c, 1, Int64GetDatum(it->run_id), false);
	cadence_columns_datum(c, 2, Int64GetDatum(it->id), false);
	cadence_columns_datum(c, 3, Int64GetDatum(batch->runner), false);
	cadence_columns_text(c, 4, vi->status);
	cadence_columns_datum(c, 5, TimestampTzGetDatum(it->new_due_at), !moves);
	cadence_columns_text(c, 6, moves ? it->reason : NULL);
	cadence_columns_datum(c, 7, Int32GetDatum(undo ? 1 : 0), false);
	cadence_columns_text(c, 8, it->account ? it->account->acct.id : NULL);
	cadence_columns_text(c, 9, it->provider_message_id);
	cadence_columns_text(c, 10, it->verdict == VERDICT_SKIPPED ? it->reason : NULL);
	cadence_columns_text(c, 11, it->error);
	cadence_columns_datum(c, 12, TimestampTzGetDatum(it->happened_at), false);
	cadence_columns_text(c, 13, vi->event);
	cadence_columns_text(c, 14, it->lead_id);
	cadence_columns_text(c, 15, it->cadence_id);
	cadence_columns_datum(c, 16, Int32GetDatum(it->step_number), false);
	cadence_columns_datum(c, 17, Int32GetDatum(it->attempts), false);
	cadence_columns_datum(c, 18, ItemPointerGetDatum(&it->ctid), false);
	cadence_columns_text(c, 19, it->variant);
	cadence_columns_text(c, 20, outcome_names[it->outcome]);
	cadence_columns_datum(c, 21, event_payload(batch, it, undo, moves), false);
	cadence_columns_datum(c, 22, it->req != NULL ? rendered(it) : (Datum) 0, it->req == NULL);
	c->n++;
}

/* Is an item settled, in focus and still to be written? */
static bool
to_write(const DispatchBatch *batch, int k)
{
	const DispatchItem *it = &batch->items[k];

	return !it->written && !it->stale && it->verdict != VERDICT_SEND &&
		it->verdict != VERDICT_EXECUTE && dispatch_in_focus(batch, k);
}

/*
 * execute_outcomes
 *		Run write_sql or sent_late_sql over the items chosen, and mark those
 *		it wrote; the others are stale (their event says what happened),
 *		but for acceptances that write_sql leaves to sent_late_sql.
 */
static void
execute_outcomes(DispatchBatch *batch, CadenceStatement *stmt, bool only_sent)
{
	static const Oid elem[NCOLUMNS] = {
		TEXTOID, INT8OID, INT8OID, INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID,
		INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID,
		TEXTOID, INT4OID, INT4OID, TIDOID, TEXTOID, TEXTOID, JSONBOID, JSONBOID
	};
	CadenceColumns		c;
	int		   *in = palloc(sizeof(int) * Max(batch->nitems, 1));
	int64	   *updated;
	uint64		i;
	int			k;

	cadence_columns_init(&c, NCOLUMNS, batch->nitems);
	for (k = 0; k < batch->nitems; k++)
		if (to_write(batch, k) && (!only_sent || batch->items[k].verdict == VERDICT_SENT))
		{
			in[c.n] = k;
			add_outcome(&c, batch, &batch->items[k]);
		}
	if (c.n == 0)
		return;
	cadence_columns_execute(&c, stmt, elem, SPI_OK_SELECT,
							"record the outcomes of a dispatch batch");

	updated = palloc(sizeof(int64) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		updated[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
												 SPI_tuptable->tupdesc, 1, &isnull));
	}
	qsort(updated, SPI_processed, sizeof(int64), cadence_int64_cmp);
	for (k = 0; k < c.n; k++)
	{
		DispatchItem *it = &batch->items[in[k]];

		if (bsearch(&it->id, updated, SPI_processed, sizeof(int64), cadence_int64_cmp) != NULL)
		{
			it->written = true;
			count(batch, it);
		}
		else if (only_sent || it->verdict != VERDICT_SENT)
			it->stale = true;
	}
}

/*
 * write_actions
 *		The actions and their events; then the acceptances whose claim had
 *		moved on.  Marks the items written.
 */
static void
write_actions(DispatchBatch *batch)
{
	int			k;

	execute_outcomes(batch, &write_sql, false);
	for (k = 0; k < batch->nitems; k++)
		if (to_write(batch, k))
		{
			execute_outcomes(batch, &sent_late_sql, true);
			break;
		}
}

/*
 * cadence_dispatch_write
 *		Write every settled outcome not yet written.
 */
void
cadence_dispatch_write(DispatchBatch *batch)
{
	bool	   *before = palloc(sizeof(bool) * Max(batch->nitems, 1));
	int			k;

	for (k = 0; k < batch->nitems; k++)
		before[k] = batch->items[k].written;
	write_actions(batch);
	for (k = 0; k < batch->nitems; k++)
		before[k] = !before[k] && batch->items[k].written;
	cadence_dispatch_follow_up(batch, before);
}
