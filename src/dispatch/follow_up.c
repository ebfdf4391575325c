/*
 * dispatch/follow_up.c
 *		What the outcomes a batch wrote set going (dispatch/record.c writes
 *		the outcomes), each in one set-based statement: an open task for
 *		each manual step that fell due, the advance of the runs whose step
 *		ended and the re-plan of those that moved on (runs/replan.c), and
 *		the step counters.  A run is reached by key, so that a concurrent
 *		change to it (a pause) is seen and kept.  See the planning note in
 *		dispatch/claim.c; the CASE on a run's status keeps the planner from
 *		scanning the partial index of live runs instead of probing by key.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "base/json.h"
#include "base/publish.h"
#include "base/shmem.h"
#include "base/template.h"
#include "dispatch/dispatch.h"
#include "runs/for_runners.h"

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

		if (fresh[k] && cadence_verdicts[it->verdict].ends_step &&
			bsearch(&it->run_id, moved_on, nruns, sizeof(int64), cadence_int64_cmp) != NULL)
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

		if (!fresh[k] || !cadence_verdicts[it->verdict].ends_step)
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
	qsort(moved_on, nruns, sizeof(int64), cadence_int64_cmp);

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

		if (!fresh[k] || !cadence_verdicts[it->verdict].ends_step || it->cadence_id == NULL)
			continue;
		cadence_columns_text(&c, 0, it->tenant_id);
		cadence_columns_text(&c, 1, it->cadence_id);
		cadence_columns_datum(&c, 2, Int32GetDatum(it->step_number), false);
		cadence_columns_text(&c, 3, it->variant);
		cadence_columns_text(&c, 4, cadence_verdicts[it->verdict].status);
		c.n++;
	}
	if (c.n > 0)
		cadence_columns_execute(&c, &stats_sql, elem, SPI_OK_INSERT,
							"record the outcomes of a dispatch batch");
}

/*
 * cadence_dispatch_follow_up
 *		What the outcomes written just now (fresh) set going.
 */
void
cadence_dispatch_follow_up(DispatchBatch *batch, const bool *fresh)
{
	write_tasks(batch, fresh);
	advance_runs(batch, fresh);
	count_steps(batch, fresh);
	/* A run that moved on may have its next step due already. */
	cadence_wake_dispatcher_at_commit();
}
