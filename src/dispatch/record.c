/*
 * dispatch/record.c
 *		The writing step of dispatch: every outcome of a batch in a few
 *		set-based statements (the actions and their events in one, the
 *		manual tasks in one, the runs' advance in one, the step counters in
 *		one), and the re-plan of the runs that moved on (runs/replan.c).
 *
 * An action's outcome is written to the row version this runner claimed
 * (its ctid, a TID scan) and only while the claim is still its own, for the
 * same attempt: if the run was cancelled meanwhile, or the action was taken
 * over, the row has moved on and that outcome stands.  Never lost, though:
 * every request becomes an event (action.request when it changed nothing),
 * and a provider's acceptance is recorded whatever happened to the row
 * (sent_late_sql), so an action is never left failed or retried after one
 * of its requests was accepted.  A run is reached by key, so that a
 * concurrent change to it (a pause) is seen and kept.  See the planning
 * note in dispatch/claim.c; the CASE on a run's status keeps the planner
 * from scanning the partial index of live runs instead of probing by key,
 * and the CASE on an action's status keeps it from scanning the runner's
 * whole claim (the partial index of sending actions) for every row instead
 * of reaching each by ctid.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "base/compat.h"
#include "base/json.h"
#include "base/publish.h"
#include "base/shmem.h"
#include "base/template.h"
#include "dispatch/dispatch.h"
#include "runs/for_runners.h"

/* Per verdict: the action's new status, its event, whether it was no attempt. */
typedef struct VerdictInfo
{
	const char *status;
	const char *event;
	bool		undo_attempt;
	bool		ends_step;
} VerdictInfo;

static const VerdictInfo verdicts[] = {
	[VERDICT_SEND] = {NULL, NULL, false, false},
	[VERDICT_SENT] = {"sent", "action.sent", false, true},
	[VERDICT_RETRY] = {"scheduled", "action.retry", false, false},
	[VERDICT_FAILED] = {"failed", "action.failed", false, true},
	[VERDICT_SKIPPED] = {"skipped", "action.skipped", true, true},
	[VERDICT_MOVED] = {"scheduled", "action.rescheduled", true, false},
	[VERDICT_RELEASED] = {"planned", NULL, true, false},
	[VERDICT_MANUAL] = {"pending_manual", "action.pending_manual", true, false},
	[VERDICT_EXECUTE] = {NULL, NULL, false, false},
	[VERDICT_BUSY] = {"scheduled", NULL, true, false},
};

/* The payload of an action's event (o: one row of the outcome arrays). */
#define EVENT_PAYLOAD \
"pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('stepNumber', o.step_number,"\
"  'attempt', o.attempt - o.undo, 'runner', o.runner, 'outcome', o.outcome,"\
"  'httpStatus', o.http_status, 'providerId', o.provider_id,"\
"  'providerMessageId', o.provider_message_id, 'reason', o.reason,"\
"  'error', o.error, 'dueAt', o.due_at, 'aiError', o.ai_error, 'variant', o.variant))"

/* What was sent, as scheduled_actions.rendered keeps it. */
#define RENDERED \
"pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('to', o.recipient, 'subject', o.subject,"\
"  'text', o.body, 'html', o.html, 'provider', o.kind, 'providerId', o.provider_id,"\
"  'aiError', o.ai_error))"

/*
 * The outcome arrays, one element per item.  (unnest of several arrays is
 * special syntax, found by its bare name only.)
 */
#define OUTCOMES \
"WITH o AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[],"\
"             $5::text[], $6::timestamptz[], $7::text[], $8::int[], $9::text[], $10::text[],"\
"             $11::text[], $12::text[], $13::timestamptz[], $14::text[], $15::text[],"\
"             $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[],"\
"             $22::text[], $23::int[], $24::int[], $25::tid[], $26::text[], $27::text[],"\
"             $28::int[], $29::text[])"\
"           AS o(tenant_id, run_id, id, runner, status, due_at, moved_reason, undo,"\
"                provider_id, provider_message_id, skip_reason, error, happened_at,"\
"                recipient, subject, body, html, kind, ai_error, event, lead_id,"\
"                cadence_id, step_number, attempt, row_version, variant, outcome,"\
"                http_status, reason)),"
#define NCOLUMNS 29

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
"              rendered = CASE WHEN o.kind IS NULL THEN a.rendered ELSE " RENDERED " END,"
"              updated_at = pg_catalog.now()"
"         FROM o"
"        WHERE a.ctid = o.row_version AND a.id = o.id AND a.attempts = o.attempt"
"          AND CASE a.status WHEN 'sending' THEN a.runner END = o.runner"
"       RETURNING a.id),"
" e AS (INSERT INTO cadence.events (tenant_id, run_id, scheduled_action_id, cadence_id,"
"                                  lead_id, type, payload)"
"       SELECT o.tenant_id, o.run_id, o.id, o.cadence_id, o.lead_id,"
"              CASE WHEN u.id IS NULL THEN 'action.request' ELSE o.event END, " EVENT_PAYLOAD
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
"              rendered = CASE WHEN o.kind IS NULL THEN a.rendered ELSE " RENDERED " END,"
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
"              CASE WHEN u.id IS NULL THEN 'action.request' ELSE 'action.sent' END, " EVENT_PAYLOAD
"         FROM o LEFT JOIN u ON u.id = o.id"
CADENCE_PUBLISH_RETURNING ")"
" SELECT u.id FROM u"};

/*
 * The step counters of the final outcomes, one row per step and variant,
 * taken in key order so that concurrent runners queue instead of
 * deadlocking.
 */
static CadenceStatement stats_sql = {
"INSERT INTO cadence.step_stats AS s (tenant_id, cadence_id, step_number, variant,"
"                                     sent, failed, skipped)"
" SELECT o.tenant_id, o.cadence_id, o.step_number, coalesce(o.variant, ''),"
"        count(*) FILTER (WHERE o.status = 'sent'), count(*) FILTER (WHERE o.status = 'failed'),"
"        count(*) FILTER (WHERE o.status = 'skipped')"
"   FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[])"
"        AS o(tenant_id, cadence_id, step_number, variant, status)"
"  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
" ON CONFLICT (tenant_id, cadence_id, step_number, variant) DO UPDATE"
"    SET sent = s.sent + excluded.sent, failed = s.failed + excluded.failed,"
"        skipped = s.skipped + excluded.skipped"};

/* The manual steps that fell due: one open task each. */
static CadenceStatement tasks_sql = {
"INSERT INTO cadence.tasks (tenant_id, run_id, scheduled_action_id, lead_id, assignee_id,"
"                           type, title, description, due_at)"
" SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],"
"                      $6::text[], $7::text[], $8::text[], $9::timestamptz[])"
" ON CONFLICT (tenant_id, scheduled_action_id) DO NOTHING"};

/*
 * The runs whose current step ended move to their next planned action
 * (scheduled, unless the run is paused) or complete.
 */
static CadenceStatement advance_sql = {
"WITH r AS (UPDATE cadence.runs r"
"          SET current_step = coalesce(nx.step_number, 0),"
"              status = CASE WHEN nx.id IS NULL THEN 'completed' ELSE r.status END,"
"              completed_at = CASE WHEN nx.id IS NULL THEN f.happened_at ELSE r.completed_at END,"
"              paused_at = CASE WHEN nx.id IS NULL THEN NULL ELSE r.paused_at END,"
"              last_activity_at = f.happened_at"
"         FROM unnest($1::text[], $2::bigint[], $3::int[], $4::timestamptz[])"
"                AS f(tenant_id, run_id, step, happened_at)"
"              LEFT JOIN LATERAL (SELECT a.id, a.step_number FROM cadence.scheduled_actions a"
"                                  WHERE a.tenant_id = f.tenant_id AND a.run_id = f.run_id"
"                                    AND a.status = 'planned' AND a.step_number > f.step"
"                                  ORDER BY a.step_number LIMIT 1) nx ON true"
"        WHERE r.tenant_id = f.tenant_id AND r.id = f.run_id AND r.current_step = f.step"
"          AND CASE r.status WHEN 'active' THEN true WHEN 'paused' THEN true ELSE false END"
"       RETURNING r.tenant_id, r.id, r.cadence_id, r.lead_id, r.status, nx.id AS next_id),"
" s AS (UPDATE cadence.scheduled_actions a SET status = 'scheduled', updated_at = now()"
"         FROM r WHERE a.tenant_id = r.tenant_id AND a.run_id = r.id AND a.id = r.next_id"
"          AND r.status = 'active'),"
" c AS (INSERT INTO cadence.events (tenant_id, run_id, cadence_id, lead_id, type)"
"       SELECT r.tenant_id, r.id, r.cadence_id, r.lead_id, 'run.completed'"
"         FROM r WHERE r.status = 'completed'"
CADENCE_PUBLISH_RETURNING ")"
" SELECT r.id, r.next_id IS NOT NULL FROM r"};

/* The task type of a manual step. */
static const char *
task_type(const char *step_type)
{
	if (strcmp(step_type, "call_task") == 0)
		return "call";
	if (strcmp(step_type, "linkedin_task") == 0)
		return "linkedin";
	return step_type;			/* manual_task, manual_email */
}

/*
 * task_text
 *		A task's title or description filled from the lead ({{firstName}});
 *		as written when a variable has no value or the text would pass its
 *		cap, since a person reads it.
 */
static char *
task_text(const DispatchItem *item, const char *text)
{
	char	   *missing;
	char	   *out = text ? cadence_render(text, item->vars, CADENCE_ESCAPE_NONE,
											CADENCE_MAX_RENDERED_CHARS, &missing) : NULL;

	return out ? out : (char *) text;
}

/*
 * task_title
 *		config.task.title, else the step's name, else what to do and to whom.
 */
static char *
task_title(const DispatchItem *item)
{
	char	   *title = task_text(item, cadence_jsonb_string(cadence_jsonb_object(item->config, "task"),
															 "title"));
	char	   *who = cadence_jsonb_string(item->vars, "fullName");

	if (title == NULL)
		title = task_text(item, item->action_name);
	if (title == NULL)
		title = psprintf("%s %s",
						 strcmp(item->type, "call_task") == 0 ? "Call" :
						 strcmp(item->type, "manual_email") == 0 ? "Email" :
						 strcmp(item->type, "linkedin_task") == 0 ? "LinkedIn touch for" :
						 "Task for",
						 who ? who : item->lead_id);
	return title;
}

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

/* int64 comparator for bsearch over updated ids. */
static int
id_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
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
 * add_outcome
 *		One row of the outcome arrays (OUTCOMES) for an item.
 */
static void
add_outcome(CadenceColumns *c, const DispatchBatch *batch, const DispatchItem *it)
{
	const VerdictInfo *vi = &verdicts[it->verdict];
	bool		moves = it->verdict == VERDICT_MOVED || it->verdict == VERDICT_RETRY;
	bool		built = it->req != NULL;

	cadence_columns_text(c, 0, it->tenant_id);
	cadence_columns_datum(c, 1, Int64GetDatum(it->run_id), false);
	cadence_columns_datum(c, 2, Int64GetDatum(it->id), false);
	cadence_columns_datum(c, 3, Int64GetDatum(batch->runner), false);
	cadence_columns_text(c, 4, vi->status);
	cadence_columns_datum(c, 5, TimestampTzGetDatum(it->new_due_at), !moves);
	cadence_columns_text(c, 6, moves ? it->reason : NULL);
	cadence_columns_datum(c, 7, Int32GetDatum(vi->undo_attempt || it->undone ? 1 : 0), false);
	cadence_columns_text(c, 8, it->account ? it->account->acct.id : NULL);
	cadence_columns_text(c, 9, it->provider_message_id);
	cadence_columns_text(c, 10, it->verdict == VERDICT_SKIPPED ? it->reason : NULL);
	cadence_columns_text(c, 11, it->error);
	cadence_columns_datum(c, 12, TimestampTzGetDatum(it->happened_at), false);
	cadence_columns_text(c, 13, built ? (it->msg.to ? it->msg.to : it->msg.url) : NULL);
	cadence_columns_text(c, 14, built ? it->msg.subject : NULL);
	cadence_columns_text(c, 15, built ? it->msg.text : NULL);
	cadence_columns_text(c, 16, built ? it->msg.html : NULL);
	cadence_columns_text(c, 17, built ? it->account->acct.kind : NULL);
	cadence_columns_text(c, 18, it->ai_error);
	cadence_columns_text(c, 19, vi->event);
	cadence_columns_text(c, 20, it->lead_id);
	cadence_columns_text(c, 21, it->cadence_id);
	cadence_columns_datum(c, 22, Int32GetDatum(it->step_number), false);
	cadence_columns_datum(c, 23, Int32GetDatum(it->attempts), false);
	cadence_columns_datum(c, 24, ItemPointerGetDatum(&it->ctid), false);
	cadence_columns_text(c, 25, it->variant);
	cadence_columns_text(c, 26, outcome_names[it->outcome]);
	cadence_columns_datum(c, 27, Int32GetDatum((int32) it->status), it->status == 0);
	cadence_columns_text(c, 28, it->reason);
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
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID,
		TIDOID, TEXTOID, TEXTOID, INT4OID, TEXTOID
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
	qsort(updated, SPI_processed, sizeof(int64), id_cmp);
	for (k = 0; k < c.n; k++)
	{
		DispatchItem *it = &batch->items[in[k]];

		if (bsearch(&it->id, updated, SPI_processed, sizeof(int64), id_cmp) != NULL)
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
 * write_tasks
 *		A task for each manual step written just now.
 */
static void
write_tasks(DispatchBatch *batch, const bool *fresh)
{
	static const Oid elem[9] = {
		TEXTOID, INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID
	};
	CadenceColumns		c;
	int			k;

	cadence_columns_init(&c, 9, batch->nitems);
	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *it = &batch->items[k];

		if (!fresh[k] || it->verdict != VERDICT_MANUAL)
			continue;
		cadence_columns_text(&c, 0, it->tenant_id);
		cadence_columns_datum(&c, 1, Int64GetDatum(it->run_id), false);
		cadence_columns_datum(&c, 2, Int64GetDatum(it->id), false);
		cadence_columns_text(&c, 3, it->lead_id);
		cadence_columns_text(&c, 4, it->assigned_to ? it->assigned_to
				 : cadence_jsonb_string(it->vars, "ownerId"));
		cadence_columns_text(&c, 5, task_type(it->type));
		cadence_columns_text(&c, 6, task_title(it));
		cadence_columns_text(&c, 7, task_text(it, cadence_jsonb_string(cadence_jsonb_object(it->config, "task"),
														   "description")));
		cadence_columns_datum(&c, 8, TimestampTzGetDatum(it->due_at), false);
		c.n++;
	}
	if (c.n > 0)
		cadence_columns_execute(&c, &tasks_sql, elem, SPI_OK_INSERT,
							"record the outcomes of a dispatch batch");
}

/*
 * replan_moved_on
 *		Re-plan the runs (moved_on, sorted) whose step ended in this batch.
 */
static void
replan_moved_on(DispatchBatch *batch, const bool *fresh, const int64 *moved_on,
				uint64 nruns)
{
	Datum	   *tenants = palloc(sizeof(Datum) * Max(batch->nitems, 1));
	Datum	   *runs = palloc(sizeof(Datum) * Max(batch->nitems, 1));
	int32	   *steps = palloc(sizeof(int32) * Max(batch->nitems, 1));
	TimestampTz *ats = palloc(sizeof(TimestampTz) * Max(batch->nitems, 1));
	int			n = 0;
	int			k;

	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *it = &batch->items[k];

		if (fresh[k] && verdicts[it->verdict].ends_step &&
			bsearch(&it->run_id, moved_on, nruns, sizeof(int64), id_cmp) != NULL)
		{
			tenants[n] = CStringGetTextDatum(it->tenant_id);
			runs[n] = Int64GetDatum(it->run_id);
			steps[n] = it->step_number;
			ats[n++] = it->happened_at;
		}
	}
	cadence_runs_replan(n, tenants, runs, steps, ats);
}

/*
 * advance_runs
 *		Move the runs of the steps that ended, and re-plan what follows in
 *		each from when its step ended (what happened re-anchors).
 */
static void
advance_runs(DispatchBatch *batch, const bool *fresh)
{
	static const Oid elem[4] = {TEXTOID, INT8OID, INT4OID, TIMESTAMPTZOID};
	CadenceColumns c;
	uint64		nruns;
	int64	   *moved_on;
	uint64		i;
	int			k;

	cadence_columns_init(&c, 4, batch->nitems);
	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *it = &batch->items[k];

		if (!fresh[k] || !verdicts[it->verdict].ends_step)
			continue;
		cadence_columns_text(&c, 0, it->tenant_id);
		cadence_columns_datum(&c, 1, Int64GetDatum(it->run_id), false);
		cadence_columns_datum(&c, 2, Int32GetDatum(it->step_number), false);
		cadence_columns_datum(&c, 3, TimestampTzGetDatum(it->happened_at), false);
		c.n++;
	}
	if (c.n == 0)
		return;
	cadence_columns_execute(&c, &advance_sql, elem, SPI_OK_SELECT,
							"record the outcomes of a dispatch batch");

	/* Runs that went on to a next step. */
	nruns = SPI_processed;
	moved_on = palloc(sizeof(int64) * Max(nruns, 1));
	for (i = 0, k = 0; i < nruns; i++)
	{
		bool		isnull;

		if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull)))
			moved_on[k++] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
														SPI_tuptable->tupdesc, 1, &isnull));
	}
	nruns = k;
	qsort(moved_on, nruns, sizeof(int64), id_cmp);

	replan_moved_on(batch, fresh, moved_on, nruns);
}

/*
 * count_steps
 *		Add the final outcomes written just now to the step counters.
 */
static void
count_steps(DispatchBatch *batch, const bool *fresh)
{
	static const Oid elem[5] = {TEXTOID, TEXTOID, INT4OID, TEXTOID, TEXTOID};
	CadenceColumns		c;
	int			k;

	cadence_columns_init(&c, 5, batch->nitems);
	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *it = &batch->items[k];

		if (!fresh[k] || !verdicts[it->verdict].ends_step || it->cadence_id == NULL)
			continue;
		cadence_columns_text(&c, 0, it->tenant_id);
		cadence_columns_text(&c, 1, it->cadence_id);
		cadence_columns_datum(&c, 2, Int32GetDatum(it->step_number), false);
		cadence_columns_text(&c, 3, it->variant);
		cadence_columns_text(&c, 4, verdicts[it->verdict].status);
		c.n++;
	}
	if (c.n > 0)
		cadence_columns_execute(&c, &stats_sql, elem, SPI_OK_INSERT,
							"record the outcomes of a dispatch batch");
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
	write_tasks(batch, before);
	advance_runs(batch, before);
	count_steps(batch, before);
	/* A run that moved on may have its next step due already. */
	cadence_wake_dispatcher_at_commit();
}
