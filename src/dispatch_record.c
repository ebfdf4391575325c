/*
 * dispatch_record.c
 *		The writing step of dispatch: every outcome of a batch in a few
 *		set-based statements (the actions and their events in one, the
 *		manual tasks in one, the runs' advance in one, the step counters in
 *		one), and the re-plan of the runs that moved on (replan.c).
 *
 * An action's outcome is written to the row version this runner leased
 * (its ctid, a TID scan) and only while the lease is still its own: if the
 * lease ran out and another runner took the action over, or the run was
 * cancelled meanwhile, the row has moved on and that outcome stands.  A run
 * is reached by key, so that a concurrent change to it (a pause) is seen
 * and kept.  See the planning note in dispatch_claim.c; the CASE on a
 * run's status keeps the planner from scanning the partial index of live
 * runs instead of probing by key.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "dispatch.h"
#include "provider_util.h"
#include "runstate.h"
#include "shmem.h"
#include "template.h"

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

/* One statement: the actions, their audit rows; returns what it updated. */
static const char *const write_sql =
"WITH o AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::timestamptz[],"
"             $5::text[], $6::timestamptz[], $7::text[], $8::int[], $9::text[], $10::text[],"
"             $11::text[], $12::text[], $13::timestamptz[], $14::text[], $15::text[],"
"             $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[],"
"             $22::text[], $23::int[], $24::int[], $25::tid[], $26::text[])"
"           AS o(tenant_id, run_id, id, lease, status, due_at, moved_reason, undo,"
"                provider_id, provider_message_id, skip_reason, error, happened_at,"
"                recipient, subject, body, html, kind, ai_error, event, lead_id,"
"                cadence_id, step_number, attempt, row_version, variant)),"
" u AS (UPDATE cadence.scheduled_actions a"
"          SET status = o.status,"
"              due_at = coalesce(o.due_at, a.due_at),"
"              moved_reason = coalesce(o.moved_reason, a.moved_reason),"
"              lease_until = NULL,"
"              attempts = a.attempts - o.undo,"
"              provider_id = coalesce(o.provider_id, a.provider_id),"
"              provider_message_id = coalesce(o.provider_message_id, a.provider_message_id),"
"              skip_reason = o.skip_reason,"
"              last_error = coalesce(o.error, a.last_error),"
"              variant = coalesce(o.variant, a.variant),"
"              sent_at = CASE WHEN o.status = 'sent' THEN o.happened_at ELSE a.sent_at END,"
"              rendered = CASE WHEN o.kind IS NULL THEN a.rendered ELSE"
"                jsonb_strip_nulls(jsonb_build_object('to', o.recipient, 'subject', o.subject,"
"                  'text', o.body, 'html', o.html, 'provider', o.kind,"
"                  'providerId', o.provider_id, 'aiError', o.ai_error)) END,"
"              updated_at = now()"
"         FROM o"
"        WHERE a.ctid = o.row_version AND a.id = o.id AND a.lease_until = o.lease"
"       RETURNING a.tenant_id, a.run_id, a.id, o.cadence_id, o.lead_id, o.event,"
"              jsonb_strip_nulls(jsonb_build_object('stepNumber', o.step_number,"
"                'attempt', o.attempt, 'providerId', o.provider_id,"
"                'providerMessageId', o.provider_message_id, 'reason',"
"                coalesce(o.skip_reason, o.moved_reason), 'error', o.error,"
"                'dueAt', o.due_at, 'aiError', o.ai_error, 'variant', o.variant)) AS payload),"
" e AS (INSERT INTO cadence.events (tenant_id, run_id, scheduled_action_id, cadence_id,"
"                                  lead_id, type, payload)"
"       SELECT tenant_id, run_id, id, cadence_id, lead_id, event, payload"
"         FROM u WHERE event IS NOT NULL)"
" SELECT u.id FROM u";

/*
 * The step counters of the final outcomes, one row per step and variant,
 * taken in key order so that concurrent runners queue instead of
 * deadlocking.
 */
static const char *const stats_sql =
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
"        skipped = s.skipped + excluded.skipped";

/* The manual steps that fell due: one open task each. */
static const char *const tasks_sql =
"INSERT INTO cadence.tasks (tenant_id, run_id, scheduled_action_id, lead_id, assignee_id,"
"                           type, title, description, due_at)"
" SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],"
"                      $6::text[], $7::text[], $8::text[], $9::timestamptz[])"
" ON CONFLICT (tenant_id, scheduled_action_id) DO NOTHING";

/*
 * The runs whose current step ended move to their next planned action
 * (scheduled, unless the run is paused) or complete.
 */
static const char *const advance_sql =
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
"         FROM r WHERE r.status = 'completed')"
" SELECT r.id, r.next_id IS NOT NULL FROM r";

/* Arrays for one statement, filled item by item. */
typedef struct Columns
{
	int			n;
	int			cap;
	int			ncols;
	Datum	  **values;
	bool	  **nulls;
} Columns;

static void
columns_init(Columns *c, int ncols, int cap)
{
	int			k;

	c->n = 0;
	c->cap = Max(cap, 1);
	c->ncols = ncols;
	c->values = palloc(sizeof(Datum *) * ncols);
	c->nulls = palloc(sizeof(bool *) * ncols);
	for (k = 0; k < ncols; k++)
	{
		c->values[k] = palloc(sizeof(Datum) * c->cap);
		c->nulls[k] = palloc(sizeof(bool) * c->cap);
	}
}

/* Set column col of the current row: a C string (NULL allowed). */
static void
col_text(Columns *c, int col, const char *s)
{
	c->nulls[col][c->n] = s == NULL;
	c->values[col][c->n] = s ? CStringGetTextDatum(s) : (Datum) 0;
}

static void
col_datum(Columns *c, int col, Datum d, bool isnull)
{
	c->nulls[col][c->n] = isnull;
	c->values[col][c->n] = d;
}

/* The array of one column, of element type typ. */
static Datum
column_array(Columns *c, int col, Oid typ)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {c->n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(typ, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(c->values[col], c->nulls[col], 1, dims, lbs,
											  typ, typlen, typbyval, typalign));
}

/* Run a statement whose parameters are the arrays of c. */
static void
columns_execute(Columns *c, const char *sql, const Oid *elem_types, int expect)
{
	Oid		   *types = palloc(sizeof(Oid) * c->ncols);
	Datum	   *values = palloc(sizeof(Datum) * c->ncols);
	int			k;

	for (k = 0; k < c->ncols; k++)
	{
		types[k] = get_array_type(elem_types[k]);
		values[k] = column_array(c, k, elem_types[k]);
	}
	cadence_dispatch_spi(sql, c->ncols, types, values, NULL, false, expect,
						 "record the outcomes of a dispatch batch");
}

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
 *		Add an item's outcome to the batch's and the server's tallies.
 */
static void
count(DispatchBatch *batch, const DispatchItem *item)
{
	pg_atomic_uint64 *counter = NULL;

	switch (item->verdict)
	{
		case VERDICT_SENT:
			batch->counts.sent++;
			counter = cadence_shared ? &cadence_shared->sent : NULL;
			break;
		case VERDICT_RETRY:
			batch->counts.retried++;
			counter = cadence_shared ? &cadence_shared->retried : NULL;
			break;
		case VERDICT_FAILED:
			batch->counts.failed++;
			counter = cadence_shared ? &cadence_shared->failed : NULL;
			break;
		case VERDICT_SKIPPED:
			batch->counts.skipped++;
			counter = cadence_shared ? &cadence_shared->skipped : NULL;
			break;
		case VERDICT_MOVED:
		case VERDICT_RELEASED:
			batch->counts.moved++;
			counter = cadence_shared ? &cadence_shared->moved : NULL;
			break;
		case VERDICT_MANUAL:
			batch->counts.manual++;
			break;
		case VERDICT_SEND:
		case VERDICT_EXECUTE:
		case VERDICT_BUSY:
			break;
	}
	if (counter)
		pg_atomic_fetch_add_u64(counter, 1);
}

/* int64 comparator for bsearch over updated ids. */
static int
id_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * write_actions
 *		The actions and their events; marks the items written.
 */
static void
write_actions(DispatchBatch *batch)
{
	static const Oid elem[26] = {
		TEXTOID, INT8OID, INT8OID, TIMESTAMPTZOID, TEXTOID, TIMESTAMPTZOID, TEXTOID,
		INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID,
		TIDOID, TEXTOID
	};
	Columns		c;
	int64	   *updated;
	uint64		i;
	int			k;

	columns_init(&c, 26, batch->nitems);
	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *it = &batch->items[k];
		const VerdictInfo *vi = &verdicts[it->verdict];
		bool		moves = it->verdict == VERDICT_MOVED || it->verdict == VERDICT_RETRY;
		bool		built = it->req != NULL;

		if (it->written || it->verdict == VERDICT_SEND || it->verdict == VERDICT_EXECUTE)
			continue;
		col_text(&c, 0, it->tenant_id);
		col_datum(&c, 1, Int64GetDatum(it->run_id), false);
		col_datum(&c, 2, Int64GetDatum(it->id), false);
		col_datum(&c, 3, TimestampTzGetDatum(it->lease_until), false);
		col_text(&c, 4, vi->status);
		col_datum(&c, 5, TimestampTzGetDatum(it->new_due_at), !moves);
		col_text(&c, 6, moves ? it->reason : NULL);
		col_datum(&c, 7, Int32GetDatum(vi->undo_attempt ? 1 : 0), false);
		col_text(&c, 8, it->account ? it->account->acct.id : NULL);
		col_text(&c, 9, it->provider_message_id);
		col_text(&c, 10, it->verdict == VERDICT_SKIPPED ? it->reason : NULL);
		col_text(&c, 11, it->error);
		col_datum(&c, 12, TimestampTzGetDatum(it->happened_at), false);
		col_text(&c, 13, built ? (it->msg.to ? it->msg.to : it->msg.url) : NULL);
		col_text(&c, 14, built ? it->msg.subject : NULL);
		col_text(&c, 15, built ? it->msg.text : NULL);
		col_text(&c, 16, built ? it->msg.html : NULL);
		col_text(&c, 17, built ? it->account->acct.kind : NULL);
		col_text(&c, 18, it->ai_error);
		col_text(&c, 19, vi->event);
		col_text(&c, 20, it->lead_id);
		col_text(&c, 21, it->cadence_id);
		col_datum(&c, 22, Int32GetDatum(it->step_number), false);
		col_datum(&c, 23, Int32GetDatum(it->attempts), false);
		col_datum(&c, 24, ItemPointerGetDatum(&it->ctid), false);
		col_text(&c, 25, it->variant);
		c.n++;
	}
	if (c.n == 0)
		return;
	columns_execute(&c, write_sql, elem, SPI_OK_SELECT);

	updated = palloc(sizeof(int64) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		updated[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
												 SPI_tuptable->tupdesc, 1, &isnull));
	}
	qsort(updated, SPI_processed, sizeof(int64), id_cmp);
	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *it = &batch->items[k];

		if (!it->written && it->verdict != VERDICT_SEND && it->verdict != VERDICT_EXECUTE &&
			bsearch(&it->id, updated, SPI_processed, sizeof(int64), id_cmp) != NULL)
		{
			it->written = true;
			count(batch, it);
		}
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
	Columns		c;
	int			k;

	columns_init(&c, 9, batch->nitems);
	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *it = &batch->items[k];

		if (!fresh[k] || it->verdict != VERDICT_MANUAL)
			continue;
		col_text(&c, 0, it->tenant_id);
		col_datum(&c, 1, Int64GetDatum(it->run_id), false);
		col_datum(&c, 2, Int64GetDatum(it->id), false);
		col_text(&c, 3, it->lead_id);
		col_text(&c, 4, it->assigned_to ? it->assigned_to
				 : cadence_jsonb_string(it->vars, "ownerId"));
		col_text(&c, 5, task_type(it->type));
		col_text(&c, 6, task_title(it));
		col_text(&c, 7, task_text(it, cadence_jsonb_string(cadence_jsonb_object(it->config, "task"),
														   "description")));
		col_datum(&c, 8, TimestampTzGetDatum(it->due_at), false);
		c.n++;
	}
	if (c.n > 0)
		columns_execute(&c, tasks_sql, elem, SPI_OK_INSERT);
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
	Columns		c;
	uint64		nruns;
	int64	   *moved_on;
	uint64		i;
	int			k;

	columns_init(&c, 4, batch->nitems);
	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *it = &batch->items[k];

		if (!fresh[k] || !verdicts[it->verdict].ends_step)
			continue;
		col_text(&c, 0, it->tenant_id);
		col_datum(&c, 1, Int64GetDatum(it->run_id), false);
		col_datum(&c, 2, Int32GetDatum(it->step_number), false);
		col_datum(&c, 3, TimestampTzGetDatum(it->happened_at), false);
		c.n++;
	}
	if (c.n == 0)
		return;
	columns_execute(&c, advance_sql, elem, SPI_OK_SELECT);

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
	Columns		c;
	int			k;

	columns_init(&c, 5, batch->nitems);
	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *it = &batch->items[k];

		if (!fresh[k] || !verdicts[it->verdict].ends_step || it->cadence_id == NULL)
			continue;
		col_text(&c, 0, it->tenant_id);
		col_text(&c, 1, it->cadence_id);
		col_datum(&c, 2, Int32GetDatum(it->step_number), false);
		col_text(&c, 3, it->variant);
		col_text(&c, 4, verdicts[it->verdict].status);
		c.n++;
	}
	if (c.n > 0)
		columns_execute(&c, stats_sql, elem, SPI_OK_INSERT);
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

/*
 * cadence_dispatch_record
 *		After the network: write the outcomes of the sends.
 */
void
cadence_dispatch_record(DispatchBatch *batch)
{
	MemoryContext old = MemoryContextSwitchTo(batch->mcxt);

	cadence_dispatch_lock_runs(batch, false);
	cadence_dispatch_write(batch);
	MemoryContextSwitchTo(old);
}
