/*
 * runs/enroll.c
 *		Enrollment of a list of leads in a few set-based statements, for
 *		the tenant its caller names (see runs/enroll.h; the SQL functions
 *		are in runs/enroll_sql.c).
 *
 * A run's schedule depends only on the cadence version, the trigger time
 * and the zone, so the planner computes it once per distinct zone of the
 * list and lets one INSERT ... SELECT join it to the runs it creates.  A
 * lead that already has a live run of the cadence keeps it: the unique
 * index runs_one_live_per_lead and ON CONFLICT DO NOTHING make that hold
 * under concurrent enrollment too.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "base/json.h"
#include "base/publish.h"
#include "base/shmem.h"
#include "base/spi.h"
#include "runs/definition.h"
#include "runs/enroll.h"

/* Leads planned per round of statements, to bound memory. */
#define PLAN_CHUNK 20000

/* Enrollment options (the options jsonb argument). */
typedef struct EnrollOptions
{
	char	   *assigned_to;
	Jsonb	   *metadata;
	int32		start_at_step;
} EnrollOptions;

/*
 * The schedule of one zone (and, when some step keeps quiet hours, one
 * lead zone): due times of the steps from the start step.
 */
typedef struct ZoneSchedule
{
	const char *zone;
	const char *lead_zone;		/* NULL when no step keeps quiet hours */
	TimestampTz *due;
	CadenceMoveReason *reasons;
} ZoneSchedule;

/*
 * parse_options
 *		assignedTo (string), metadata (object), startAtStep (step number).
 */
static void
parse_options(Jsonb *options, EnrollOptions *out)
{
	JsonbValue *v;

	memset(out, 0, sizeof(*out));
	out->start_at_step = 0;
	if (options == NULL || !JB_ROOT_IS_OBJECT(options))
	{
		if (options != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("options must be a JSON object")));
		return;
	}
	v = cadence_jsonb_member(&options->root, "assignedTo", NULL);
	if (v != NULL && v->type == jbvString)
		out->assigned_to = pnstrdup(v->val.string.val, v->val.string.len);
	else if (v != NULL && v->type != jbvNull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options.assignedTo must be a string")));
	v = cadence_jsonb_member(&options->root, "metadata", NULL);
	if (v != NULL && v->type == jbvBinary &&
		JsonContainerIsObject(v->val.binary.data))
		out->metadata = JsonbValueToJsonb(v);
	else if (v != NULL && v->type != jbvNull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options.metadata must be a JSON object")));
	v = cadence_jsonb_member(&options->root, "startAtStep", NULL);
	if (v != NULL && v->type == jbvNumeric)
		out->start_at_step = DatumGetInt32(DirectFunctionCall1(numeric_int4,
															   NumericGetDatum(v->val.numeric)));
	else if (v != NULL && v->type != jbvNull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options.startAtStep must be a step number")));
}

/*
 * first_step_index
 *		Index of the step a new run starts at.
 */
static int
first_step_index(const CadenceDef *def, const EnrollOptions *opts)
{
	int			i;

	if (def->nsteps == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cadence \"%s\" has no actions to plan", def->cadence_id)));
	if (opts->start_at_step <= 0)
		return 0;
	i = cadence_def_step_index(def, opts->start_at_step);
	if (i < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options.startAtStep %d is not a step of cadence \"%s\"",
						opts->start_at_step, def->cadence_id),
				 errhint("Steps are numbered 1 to %d.", def->nsteps)));
	return i;
}

/*
 * require_active
 *		Only an active cadence takes new runs.
 */
static void
require_active(const CadenceDef *def)
{
	if (strcmp(def->status, "active") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cadence \"%s\" is %s, not active", def->cadence_id,
						def->status),
				 errhint("Activate it with cadence.activate('%s') first.",
						 def->cadence_id)));
}

/*
 * keeps_quiet_hours
 *		Does some step of the cadence keep quiet hours (in the lead's zone)?
 */
static bool
keeps_quiet_hours(const CadenceDef *def)
{
	int			i;

	for (i = 0; i < def->nsteps; i++)
	{
		const CadenceQuiet *q;

		if (def->steps[i].channel >= CADENCE_QUIET_CHANNELS)
			continue;
		q = &def->windows.quiet[def->steps[i].channel];
		if (q->start != q->end)
			return true;
	}
	return false;
}

/*
 * zone_schedule
 *		The index of the schedule for one zone and lead zone in *cache,
 *		computed on first use and then shared by every lead planned there.
 */
static int
zone_schedule(List **cache, const CadenceDef *def, int from,
			  TimestampTz trigger_at, const char *zone, const char *lead_zone)
{
	ListCell   *lc;
	ZoneSchedule *zs;
	PlanZone	pz;

	foreach(lc, *cache)
	{
		zs = lfirst(lc);
		if (strcmp(zs->zone, zone) == 0 &&
			(zs->lead_zone == lead_zone ||
			 (zs->lead_zone && lead_zone && strcmp(zs->lead_zone, lead_zone) == 0)))
			return foreach_current_index(lc);
	}
	zs = palloc(sizeof(ZoneSchedule));
	zs->zone = pstrdup(zone);
	zs->lead_zone = lead_zone ? pstrdup(lead_zone) : NULL;
	zs->due = palloc(sizeof(TimestampTz) * def->nsteps);
	zs->reasons = palloc(sizeof(CadenceMoveReason) * def->nsteps);
	cadence_def_plan_zone(def, zone, lead_zone, &pz);
	plan_chain(def->steps, def->nsteps, from, trigger_at, 0, false, &pz,
			   zs->due, zs->reasons);
	*cache = lappend(*cache, zs);
	return list_length(*cache) - 1;
}

static Datum
text_array(Datum *elems, int n)
{
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * load_leads
 *		Look the listed leads up in the caller's tenant and sort out those
 *		that cannot be enrolled: unknown (or another tenant's), unsubscribed,
 *		or on the do-not-contact list for every channel.
 */
static void
load_leads(const CadenceDef *def, LeadResult *results, int n)
{
	static CadenceStatement leads = {
		"SELECT u.ord::int, c.timezone, c.unsubscribed,"
		"       EXISTS (SELECT 1 FROM cadence.suppressions s"
		"                WHERE s.tenant_id = c.tenant_id AND s.channel = 'all'"
		"                  AND s.address IN (lower(c.email), c.phone, c.whatsapp))"
		"  FROM unnest($2::text[]) WITH ORDINALITY AS u(id, ord)"
		"  JOIN cadence.contacts c ON c.tenant_id = $1 AND c.id = u.id"
	};
	Datum	   *ids = palloc(sizeof(Datum) * n);
	Oid			types[2] = {TEXTOID, TEXTARRAYOID};
	Datum		values[2];
	uint64		i;
	int			k;

	for (k = 0; k < n; k++)
	{
		ids[k] = CStringGetTextDatum(results[k].lead_id);
		results[k].outcome = OUTCOME_REFUSED;
		results[k].reason = "lead_not_found";
	}
	values[0] = CStringGetTextDatum(def->tenant_id);
	values[1] = text_array(ids, n);
	cadence_spi_run(&leads, 2, types, values, NULL, true, SPI_OK_SELECT,
					"read the leads to enroll");

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int			pos = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull)) - 1;
		LeadResult *r = &results[pos];
		const char *zone;

		if (DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull)))
			r->reason = "unsubscribed";
		else if (DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull)))
			r->reason = "suppressed";
		else
		{
			char	   *own = SPI_getvalue(tup, desc, 2);

			r->outcome = OUTCOME_ENROLLED;
			r->reason = NULL;
			(void) cadence_def_zone(def, own, &zone);
			r->zone = pstrdup(zone);
			r->lead_zone = own ? pstrdup(own) : NULL;
		}
	}
}

static int
result_cmp(const void *a, const void *b)
{
	const LeadResult *x = *(LeadResult *const *) a;
	const LeadResult *y = *(LeadResult *const *) b;
	int			c = strcmp(x->lead_id, y->lead_id);

	/* Mentions of one lead stay in list order: the first one comes first. */
	if (c == 0)
		c = (x > y) - (x < y);
	return c;
}

/* Leads by id alone (a chunk lists each lead once). */
static int
lead_cmp(const void *a, const void *b)
{
	return strcmp((*(LeadResult *const *) a)->lead_id, (*(LeadResult *const *) b)->lead_id);
}

/*
 * mark_duplicates
 *		A lead listed twice is enrolled once; later mentions report the run
 *		of the first (filled in after the insert, see share_duplicates).
 */
static LeadResult **
mark_duplicates(LeadResult *results, int n)
{
	LeadResult **sorted = palloc(sizeof(LeadResult *) * n);
	int			k;

	for (k = 0; k < n; k++)
		sorted[k] = &results[k];
	qsort(sorted, n, sizeof(LeadResult *), result_cmp);
	for (k = 1; k < n; k++)
		if (strcmp(sorted[k]->lead_id, sorted[k - 1]->lead_id) == 0)
			sorted[k]->outcome = OUTCOME_ALREADY_ENROLLED;
	return sorted;
}

/*
 * share_duplicates
 *		Give repeated mentions of a lead the outcome of its first mention.
 */
static void
share_duplicates(LeadResult **sorted, int n)
{
	int			k;

	for (k = 1; k < n; k++)
		if (strcmp(sorted[k]->lead_id, sorted[k - 1]->lead_id) == 0)
		{
			sorted[k]->run_id = sorted[k - 1]->run_id;
			sorted[k]->reason = sorted[k - 1]->reason;
			sorted[k]->outcome = sorted[k - 1]->outcome == OUTCOME_REFUSED
				? OUTCOME_REFUSED : OUTCOME_ALREADY_ENROLLED;
		}
}

/* The statement that writes runs, their scheduled actions and events. */
static CadenceStatement insert_runs_sql = {
"WITH l AS (SELECT * FROM unnest($3::text[], $4::text[], $19::int[]) WITH ORDINALITY"
"           AS l(lead_id, zone, sched, ord)),"
" p AS (SELECT z.zone, jsonb_build_object('cadenceVersion', $5, 'triggerAt', $6,"
"                                         'timezone', z.zone) AS payload"
"         FROM (SELECT DISTINCT zone FROM l) z),"
" r AS (INSERT INTO cadence.runs AS run (tenant_id, cadence_id, cadence_version,"
"        lead_id, timezone, trigger_at, first_day, current_step, assigned_to, metadata)"
"       SELECT $1, $2, $5, l.lead_id, l.zone, $6, $7, $8, $9, coalesce($10, '{}')"
"         FROM l"
"       ON CONFLICT (tenant_id, cadence_id, lead_id)"
"         WHERE status IN ('active', 'paused') DO NOTHING"
"       RETURNING run.id, run.lead_id, run.timezone),"
" s AS (SELECT * FROM unnest($11::int[], $12::int[], $13::timestamptz[], $14::text[])"
"       AS s(sched, idx, due_at, reason)),"
" st AS (SELECT * FROM unnest($15::text[], $16::int[], $17::int[], $18::text[])"
"        WITH ORDINALITY AS st(action_id, step_number, day_number, type, idx)),"
" a AS (INSERT INTO cadence.scheduled_actions (tenant_id, run_id, cadence_id,"
"        cadence_version, action_id, step_number, day_number, type, due_at, planned_at,"
"        moved_reason, status)"
"       SELECT $1, r.id, $2, $5, st.action_id, st.step_number, st.day_number, st.type,"
"              s.due_at, s.due_at, s.reason,"
"              CASE WHEN st.step_number = $8 THEN 'scheduled' ELSE 'planned' END"
"         FROM r JOIN l ON l.lead_id = r.lead_id JOIN s ON s.sched = l.sched"
"         JOIN st ON st.idx = s.idx),"
" e AS (INSERT INTO cadence.events (tenant_id, run_id, cadence_id, lead_id, type, payload)"
"       SELECT $1, r.id, $2, r.lead_id, 'run.enrolled', p.payload"
"         FROM r JOIN p ON p.zone = r.timezone"
"       RETURNING " CADENCE_EVENT_COLUMNS ")"
" SELECT r.id, r.lead_id, e.* FROM r JOIN e ON e.run_id = r.id"};

/* Live runs of leads whose insert met one (a concurrent enrollment won). */
static CadenceStatement existing_runs_sql = {
"SELECT u.ord::int, r.id FROM unnest($3::text[]) WITH ORDINALITY AS u(lead_id, ord)"
" JOIN cadence.runs r ON r.tenant_id = $1 AND r.cadence_id = $2"
"  AND r.lead_id = u.lead_id AND r.status IN ('active', 'paused')"};

/*
 * insert_chunk
 *		Write the runs of results[0..n) that are to be enrolled, with their
 *		scheduled actions and enrollment events, in one statement.
 */
static void
insert_chunk(const CadenceDef *def, const EnrollOptions *opts, int from,
			 TimestampTz trigger_at, List *schedules, LeadResult **todo, int n)
{
	Oid			types[19] = {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID,
		INT4OID, TIMESTAMPTZOID, INT4OID, INT4OID, TEXTOID, JSONBOID,
		INT4ARRAYOID, INT4ARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, INT4ARRAYOID, INT4ARRAYOID, TEXTARRAYOID, INT4ARRAYOID};
	Datum		values[19];
	char		nulls[19];
	int			nsched = list_length(schedules) * (def->nsteps - from);
	Datum	   *lead_ids = palloc(sizeof(Datum) * n);
	Datum	   *zones = palloc(sizeof(Datum) * n);
	Datum	   *scheds = palloc(sizeof(Datum) * n);
	Datum	   *s_sched = palloc(sizeof(Datum) * nsched);
	Datum	   *s_idx = palloc(sizeof(Datum) * nsched);
	Datum	   *s_due = palloc(sizeof(Datum) * nsched);
	Datum	   *s_reason = palloc(sizeof(Datum) * nsched);
	bool	   *s_reason_null = palloc(sizeof(bool) * nsched);
	Datum	   *st_action = palloc(sizeof(Datum) * def->nsteps);
	Datum	   *st_step = palloc(sizeof(Datum) * def->nsteps);
	Datum	   *st_day = palloc(sizeof(Datum) * def->nsteps);
	Datum	   *st_type = palloc(sizeof(Datum) * def->nsteps);
	int			dims[1];
	int			lbs[1] = {1};
	ListCell   *lc;
	int			k;
	int			j;
	uint64		i;
	int			missing = 0;
	LeadResult **by_lead;

	for (k = 0; k < n; k++)
	{
		lead_ids[k] = CStringGetTextDatum(todo[k]->lead_id);
		zones[k] = CStringGetTextDatum(todo[k]->zone);
		scheds[k] = Int32GetDatum(todo[k]->schedule);
	}
	j = 0;
	foreach(lc, schedules)
	{
		ZoneSchedule *zs = lfirst(lc);

		for (k = from; k < def->nsteps; k++, j++)
		{
			s_sched[j] = Int32GetDatum(foreach_current_index(lc));
			s_idx[j] = Int32GetDatum(k + 1);
			s_due[j] = TimestampTzGetDatum(zs->due[k]);
			s_reason_null[j] = zs->reasons[k] == CADENCE_MOVE_NONE;
			s_reason[j] = s_reason_null[j] ? (Datum) 0
				: CStringGetTextDatum(cadence_move_reason_name(zs->reasons[k]));
		}
	}
	for (k = 0; k < def->nsteps; k++)
	{
		st_action[k] = CStringGetTextDatum(def->steps[k].action_id);
		st_step[k] = Int32GetDatum(def->steps[k].step_number);
		st_day[k] = Int32GetDatum(def->steps[k].day_number);
		st_type[k] = CStringGetTextDatum(def->steps[k].type);
	}

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(def->tenant_id);
	values[1] = CStringGetTextDatum(def->cadence_id);
	values[2] = text_array(lead_ids, n);
	values[3] = text_array(zones, n);
	values[4] = Int32GetDatum(def->version);
	values[5] = TimestampTzGetDatum(trigger_at);
	values[6] = Int32GetDatum(def->steps[from].day_number);
	values[7] = Int32GetDatum(def->steps[from].step_number);
	values[8] = opts->assigned_to ? CStringGetTextDatum(opts->assigned_to) : (Datum) 0;
	nulls[8] = opts->assigned_to ? ' ' : 'n';
	values[9] = opts->metadata ? JsonbPGetDatum(opts->metadata) : (Datum) 0;
	nulls[9] = opts->metadata ? ' ' : 'n';
	values[10] = PointerGetDatum(construct_array(s_sched, nsched, INT4OID, 4, true, TYPALIGN_INT));
	values[11] = PointerGetDatum(construct_array(s_idx, nsched, INT4OID, 4, true, TYPALIGN_INT));
	values[12] = PointerGetDatum(construct_array(s_due, nsched, TIMESTAMPTZOID, 8,
												 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	dims[0] = nsched;
	values[13] = PointerGetDatum(construct_md_array(s_reason, s_reason_null, 1, dims, lbs,
													TEXTOID, -1, false, TYPALIGN_INT));
	values[14] = text_array(st_action, def->nsteps);
	values[15] = PointerGetDatum(construct_array(st_step, def->nsteps, INT4OID, 4, true, TYPALIGN_INT));
	values[16] = PointerGetDatum(construct_array(st_day, def->nsteps, INT4OID, 4, true, TYPALIGN_INT));
	values[17] = text_array(st_type, def->nsteps);
	values[18] = PointerGetDatum(construct_array(scheds, n, INT4OID, 4, true, TYPALIGN_INT));

	cadence_spi_run(&insert_runs_sql, 19, types, values, nulls, false,
					SPI_OK_SELECT, "write the runs of a cadence");
	/* The runs written, by lead; a lead without one met a live run. */
	by_lead = palloc(sizeof(LeadResult *) * n);
	memcpy(by_lead, todo, sizeof(LeadResult *) * n);
	qsort(by_lead, n, sizeof(LeadResult *), result_cmp);
	for (k = 0; k < n; k++)
		by_lead[k]->run_id = 0;
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		LeadResult	key = {.lead_id = SPI_getvalue(tup, SPI_tuptable->tupdesc, 2)};
		LeadResult *keyp = &key;
		LeadResult **found = bsearch(&keyp, by_lead, n, sizeof(LeadResult *), lead_cmp);

		if (found == NULL)
			elog(ERROR, "run written for lead \"%s\", which was not listed", key.lead_id);
		(*found)->run_id = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull));
	}
	cadence_publish_returned(SPI_tuptable, SPI_processed, 3);
	for (k = 0; k < n; k++)
		if (todo[k]->run_id == 0)
		{
			todo[k]->outcome = OUTCOME_ALREADY_ENROLLED;
			missing++;
		}
	if (missing == 0)
		return;

	cadence_spi_run(&existing_runs_sql, 3, types, values, nulls, false,
					SPI_OK_SELECT, "read the live runs of a cadence");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		int			pos = DatumGetInt32(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull)) - 1;

		if (todo[pos]->outcome == OUTCOME_ALREADY_ENROLLED)
			todo[pos]->run_id = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull));
	}
}

/*
 * cadence_enroll
 *		Plan runs of a cadence of tenant for the leads of results[0..n).
 *		Fills every result's outcome.
 */
void
cadence_enroll(const char *tenant, const char *cadence_id, LeadResult *results,
			   int n, TimestampTz trigger_at, Jsonb *options)
{
	CadenceDef *def = cadence_def_load(tenant, cadence_id, 0, false);
	EnrollOptions opts;
	int			from;
	LeadResult **sorted;
	LeadResult **todo = palloc(sizeof(LeadResult *) * Min(n, PLAN_CHUNK));
	List	   *schedules = NIL;
	int			start;
	bool		quiet;

	require_active(def);
	parse_options(options, &opts);
	from = first_step_index(def, &opts);
	load_leads(def, results, n);
	sorted = mark_duplicates(results, n);
	quiet = keeps_quiet_hours(def);

	for (start = 0; start < n; start += PLAN_CHUNK)
	{
		int			end = Min(n, start + PLAN_CHUNK);
		int			ntodo = 0;
		int			k;

		list_free(schedules);
		schedules = NIL;
		for (k = start; k < end; k++)
		{
			if (results[k].outcome != OUTCOME_ENROLLED)
				continue;
			todo[ntodo++] = &results[k];
			results[k].schedule =
				zone_schedule(&schedules, def, from, trigger_at, results[k].zone,
							  quiet ? results[k].lead_zone : NULL);
		}
		if (ntodo > 0)
			insert_chunk(def, &opts, from, trigger_at, schedules, todo, ntodo);
	}
	share_duplicates(sorted, n);
	/* The first steps may be due already: let the dispatcher look. */
	cadence_wake_dispatcher_at_commit();
}
