/*
 * runs/definition.c
 *		Loads a cadence version for the planner and the run state machine.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "base/spi.h"
#include "runs/definition.h"

/*
 * add_calendar_holidays
 *		Merge the dates of the tenant's holiday calendar named in the
 *		settings into the windows, keeping the list sorted and unique.
 */
static void
add_calendar_holidays(CadenceWindows *w, const char *tenant_id,
					  const char *calendar)
{
	static CadenceStatement holidays = {
		"SELECT day FROM cadence.holidays WHERE tenant_id = $1 AND calendar = $2"
	};
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	uint64		n;
	uint64		i;
	int			total;
	int			out;
	DateADT    *days;

	values[0] = CStringGetTextDatum(tenant_id);
	values[1] = CStringGetTextDatum(calendar);
	cadence_spi_run(&holidays, 2, types, values, NULL, true, SPI_OK_SELECT,
					"read a holiday calendar");
	n = SPI_processed;
	if (n == 0)
		return;

	total = w->nholidays + (int) n;
	days = palloc(sizeof(DateADT) * total);
	if (w->nholidays > 0)
		memcpy(days, w->holidays, sizeof(DateADT) * w->nholidays);
	for (i = 0; i < n; i++)
	{
		bool		isnull;

		days[w->nholidays + i] =
			DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[i],
										  SPI_tuptable->tupdesc, 1, &isnull));
	}
	qsort(days, total, sizeof(DateADT), cadence_date_cmp);
	out = 0;
	for (i = 0; i < total; i++)
		if (out == 0 || days[out - 1] != days[i])
			days[out++] = days[i];
	w->holidays = days;
	w->nholidays = out;
	w->restricted = true;
}

/*
 * load_steps
 *		The actions of one cadence version in step order, rules parsed.
 */
static void
load_steps(CadenceDef *def)
{
	static CadenceStatement actions = {
		"SELECT action_id, type, step_number, day_number, schedule_rule"
		"  FROM cadence.cadence_actions"
		" WHERE tenant_id = $1 AND cadence_id = $2 AND version = $3"
		" ORDER BY step_number"
	};
	Oid			types[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum		values[3];
	uint64		i;

	values[0] = CStringGetTextDatum(def->tenant_id);
	values[1] = CStringGetTextDatum(def->cadence_id);
	values[2] = Int32GetDatum(def->version);
	cadence_spi_run(&actions, 3, types, values, NULL, true, SPI_OK_SELECT,
					"read the actions of a cadence");

	def->nsteps = (int) SPI_processed;
	def->steps = palloc0(sizeof(PlanStep) * Max(def->nsteps, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		PlanStep   *s = &def->steps[i];
		bool		isnull;
		char		path[64];

		s->action_id = SPI_getvalue(tup, desc, 1);
		s->type = SPI_getvalue(tup, desc, 2);
		s->channel = cadence_step_channel(s->type);
		s->step_number = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		s->day_number = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
		snprintf(path, sizeof(path), "step %d scheduleRule", s->step_number);
		cadence_parse_rule_into(DatumGetJsonbP(SPI_getbinval(tup, desc, 5, &isnull)),
								path, &s->rule);
	}
}

/*
 * cadence_def_load
 *		Read the cadence row, its settings and the steps of the version.
 */
CadenceDef *
cadence_def_load(const char *tenant_id, const char *cadence_id, int32 version,
				 bool missing_ok)
{
	static CadenceStatement cadence = {
		"SELECT status, version, timezone, settings FROM cadence.cadences"
		" WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
	};
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	CadenceDef *def;
	Jsonb	   *settings;
	CadenceSettings parsed;

	values[0] = CStringGetTextDatum(tenant_id);
	values[1] = CStringGetTextDatum(cadence_id);
	cadence_spi_run(&cadence, 2, types, values, NULL, true, SPI_OK_SELECT,
					"read a cadence");
	if (SPI_processed == 0)
	{
		if (missing_ok)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cadence \"%s\" does not exist in tenant \"%s\"",
						cadence_id, tenant_id),
				 errhint("Check the cadence id and the tenant of the session (cadence.current_tenant()).")));
	}

	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	def = palloc0(sizeof(CadenceDef));
	def->tenant_id = pstrdup(tenant_id);
	def->cadence_id = pstrdup(cadence_id);
	def->status = SPI_getvalue(tup, desc, 1);
	def->version = version > 0 ? version
		: DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
	def->timezone = SPI_getvalue(tup, desc, 3);
	settings = DatumGetJsonbPCopy(SPI_getbinval(tup, desc, 4, &isnull));

	def->tz = cadence_lookup_tz(def->timezone);
	cadence_parse_cadence_settings(settings, "settings", &parsed);
	def->windows = parsed.windows;
	def->max_starts_per_day = parsed.max_starts_per_day;
	def->recipient_time = parsed.recipient_time;
	if (parsed.holiday_calendar != NULL)
		add_calendar_holidays(&def->windows, tenant_id, parsed.holiday_calendar);

	load_steps(def);
	return def;
}

/*
 * cadence_def_cached
 *		A loaded version from the cache, or loaded now and remembered.
 */
CadenceDef *
cadence_def_cached(List **cache, const char *tenant_id, const char *cadence_id,
				   int32 version)
{
	ListCell   *lc;
	CadenceDef *def;

	foreach(lc, *cache)
	{
		def = lfirst(lc);
		if (def->version == version && strcmp(def->cadence_id, cadence_id) == 0 &&
			strcmp(def->tenant_id, tenant_id) == 0)
			return def;
	}
	def = cadence_def_load(tenant_id, cadence_id, version, false);
	*cache = lappend(*cache, def);
	return def;
}

/*
 * cadence_def_zone
 *		The lead's own zone when the cadence plans in recipient time and the
 *		lead names a zone PostgreSQL knows; the cadence's zone otherwise.
 */
pg_tz *
cadence_def_zone(const CadenceDef *def, const char *lead_tz,
				 const char **zone_name)
{
	if (def->recipient_time && lead_tz != NULL && lead_tz[0] != '\0')
	{
		pg_tz	   *tz = cadence_lookup_tz_noerror(lead_tz);

		if (tz != NULL)
		{
			*zone_name = lead_tz;
			return tz;
		}
	}
	*zone_name = def->timezone;
	return def->tz;
}

/*
 * cadence_def_plan_zone
 *		The run's zone, the lead's zone for quiet hours, the windows.
 */
void
cadence_def_plan_zone(const CadenceDef *def, const char *run_zone,
					  const char *lead_zone, PlanZone *out)
{
	out->tz = cadence_lookup_tz(run_zone);
	out->lead_tz = lead_zone && lead_zone[0] ? cadence_lookup_tz_noerror(lead_zone) : NULL;
	out->windows = &def->windows;
}

/*
 * cadence_def_step_index
 *		Position of a step number in the chain.
 */
int
cadence_def_step_index(const CadenceDef *def, int32 step_number)
{
	int			i;

	for (i = 0; i < def->nsteps; i++)
		if (def->steps[i].step_number == step_number)
			return i;
	return -1;
}
