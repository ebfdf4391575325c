/*
 * dispatch/limits.c
 *		The limits every runner shares, applied to a claimed batch before its
 *		requests are built:
 *
 *		daily cap		settings.maxContactsPerDay of a cadence: runs of it
 *						that start (their first action goes out) per local
 *						day of its zone; the starts beyond it move to the
 *						next open day by their first action's rule
 *						(daily_cap), and what follows them is re-planned
 *						when they go out.  Follow-ups are never held.
 *		concurrency		providers.max_concurrency: requests of one account
 *						in flight at once, over all runners
 *		rate			providers.rate_per_second: each request of an account
 *						gets a start slot; what does not fit in the next few
 *						seconds moves to its slot (rate_limit)
 *
 * Counters live in rows (cadence.daily_sends, cadence.provider_slots) that a
 * runner locks while it decides, so runners in other sessions take turns;
 * a runner in a caller's transaction holds them until that commits.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/timestamp.h"

#include "base/compat.h"
#include "base/spi.h"
#include "dispatch/dispatch.h"
#include "runs/for_runners.h"
#include "schedule/chain.h"

/* How far ahead rate-limited requests of one batch may be slotted. */
#define RATE_HORIZON_SECS	2

/*
 * The leased actions of one cadence that start their run (no action of the
 * run comes before them), with their step's rule.
 */
static CadenceStatement starts_sql = {
"SELECT k.ord::int, ca.schedule_rule"
"  FROM unnest($2::bigint[], $3::int[]) WITH ORDINALITY AS k(run_id, step, ord)"
"  CROSS JOIN LATERAL (SELECT * FROM cadence.runs r"
"                       WHERE r.tenant_id = $1 AND r.id = k.run_id OFFSET 0) r"
"  CROSS JOIN LATERAL (SELECT ca.schedule_rule FROM cadence.cadence_actions ca"
"                       WHERE ca.tenant_id = r.tenant_id AND ca.cadence_id = r.cadence_id"
"                         AND ca.version = r.cadence_version AND ca.step_number = k.step"
"                      OFFSET 0) ca"
" WHERE NOT EXISTS (SELECT 1 FROM cadence.scheduled_actions a"
"                    WHERE a.tenant_id = $1 AND a.run_id = k.run_id AND a.step_number < k.step)"};

/*
 * lock_day
 *		Lock the day's counter of a cadence and return how many runs of it
 *		started that day.
 */
static int
lock_day(const char *tenant_id, const char *cadence_id, DateADT day)
{
	static CadenceStatement lock_day_stmt = {
		"SELECT started FROM cadence.daily_sends"
		" WHERE tenant_id = $1 AND cadence_id = $2 AND day = $3 FOR UPDATE"
	};
	static CadenceStatement insert_day = {
		"INSERT INTO cadence.daily_sends (tenant_id, cadence_id, day)"
		" VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
	};
	Oid			types[3] = {TEXTOID, TEXTOID, DATEOID};
	Datum		values[3];
	bool		isnull;

	values[0] = CStringGetTextDatum(tenant_id);
	values[1] = CStringGetTextDatum(cadence_id);
	values[2] = DateADTGetDatum(day);
	cadence_spi_run(&insert_day, 3, types, values, NULL, false,
					SPI_OK_INSERT, "count daily starts");
	cadence_spi_run(&lock_day_stmt, 3, types, values, NULL, false,
					SPI_OK_SELECT, "lock daily starts");
	if (SPI_processed != 1)
		elog(ERROR, "the daily count of cadence \"%s\" is not visible", cadence_id);
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									   1, &isnull));
}

/*
 * add_day
 *		Count n more runs of a cadence started on a day.
 */
static void
add_day(const char *tenant_id, const char *cadence_id, DateADT day, int n)
{
	static CadenceStatement add_day_stmt = {
		"UPDATE cadence.daily_sends SET started = started + $4"
		" WHERE tenant_id = $1 AND cadence_id = $2 AND day = $3"
	};
	Oid			types[4] = {TEXTOID, TEXTOID, DATEOID, INT4OID};
	Datum		values[4];

	values[0] = CStringGetTextDatum(tenant_id);
	values[1] = CStringGetTextDatum(cadence_id);
	values[2] = DateADTGetDatum(day);
	values[3] = Int32GetDatum(n);
	cadence_spi_run(&add_day_stmt, 4, types, values, NULL, false,
					SPI_OK_UPDATE, "count daily starts");
}

/*
 * hold_start
 *		A start beyond the cap: its first action goes to the next open day
 *		by its rule, where the planner and the preview would put it.
 */
static void
hold_start(DispatchBatch *batch, DispatchItem *item, Jsonb *rule,
		   const CadenceWindows *windows)
{
	PlanStep	step = {.type = item->type,.channel = cadence_step_channel(item->type)};
	PlanZone	zone;
	CadenceMoveReason why;

	cadence_parse_rule_into(rule, "scheduleRule", &step.rule);
	zone.tz = cadence_lookup_tz(item->timezone);
	zone.lead_tz = item->lead_timezone ? cadence_lookup_tz_noerror(item->lead_timezone) : NULL;
	zone.windows = windows;
	item->new_due_at = plan_held_start(&step, Max(item->due_at, batch->now), &zone, &why);
	cadence_dispatch_verdict(item, VERDICT_MOVED, cadence_move_reason_name(why), NULL);
}

/*
 * cap_starts
 *		The daily cap of one cadence over its items in the batch (in due
 *		order): the starts that fit today go and are counted, the others
 *		are held; follow-ups pass.
 */
static void
cap_starts(DispatchBatch *batch, DispatchItem **group, int n, int cap)
{
	DispatchItem *first = group[0];
	Datum	   *runs = palloc(sizeof(Datum) * n);
	Datum	   *steps = palloc(sizeof(Datum) * n);
	Oid			types[3] = {TEXTOID, INT8ARRAYOID, INT4ARRAYOID};
	Datum		values[3];
	Jsonb	  **start_rule = palloc0(sizeof(Jsonb *) * n);
	Datum	   *tenants = palloc(sizeof(Datum) * n);
	int32	   *held_steps = palloc(sizeof(int32) * n);
	TimestampTz *held_at = palloc(sizeof(TimestampTz) * n);
	int			held = 0;
	CadenceWindows windows;
	DateADT		day;
	int			left;
	int			taken = 0;
	int			k;
	uint64		i;

	for (k = 0; k < n; k++)
	{
		runs[k] = Int64GetDatum(group[k]->run_id);
		steps[k] = Int32GetDatum(group[k]->step_number);
	}
	values[0] = CStringGetTextDatum(first->tenant_id);
	values[1] = PointerGetDatum(construct_array(runs, n, INT8OID, 8, FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[2] = PointerGetDatum(construct_array(steps, n, INT4OID, 4, true, TYPALIGN_INT));
	cadence_spi_run(&starts_sql, 3, types, values, NULL, false, SPI_OK_SELECT,
					"find the runs that start");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int			ord = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
													  SPI_tuptable->tupdesc, 1, &isnull));

		start_rule[ord - 1] = DatumGetJsonbPCopy(SPI_getbinval(SPI_tuptable->vals[i],
															   SPI_tuptable->tupdesc, 2,
															   &isnull));
	}
	if (SPI_processed == 0)
		return;

	cadence_parse_settings_into(first->settings, "settings", &windows);
	day = cadence_local_date(batch->now, cadence_lookup_tz(first->cadence_timezone));
	left = cap - lock_day(first->tenant_id, first->cadence_id, day);
	for (k = 0; k < n; k++)
	{
		if (start_rule[k] == NULL)
			continue;
		if (taken < left)
		{
			taken++;
			continue;
		}
		hold_start(batch, group[k], start_rule[k], &windows);
		/* What follows a held start is planned from its new time. */
		runs[held] = runs[k];
		tenants[held] = CStringGetTextDatum(group[k]->tenant_id);
		held_steps[held] = group[k]->step_number;
		held_at[held++] = group[k]->new_due_at;
	}
	if (taken > 0)
		add_day(first->tenant_id, first->cadence_id, day, taken);
	cadence_runs_replan(held, tenants, runs, held_steps, held_at);
}

/*
 * daily_caps
 *		Per cadence with a cap, the starts of its runs.
 */
static void
daily_caps(DispatchBatch *batch)
{
	bool	   *done = palloc0(sizeof(bool) * batch->nitems);
	DispatchItem **group = palloc(sizeof(DispatchItem *) * Max(batch->nitems, 1));
	int			k;

	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *first = &batch->items[k];
		int			cap;
		int			n = 0;
		int			j;

		if (done[k] || first->verdict != VERDICT_SEND ||
			(cap = cadence_parse_daily_cap(first->settings)) <= 0)
			continue;
		for (j = k; j < batch->nitems; j++)
		{
			DispatchItem *item = &batch->items[j];

			if (done[j] || item->verdict != VERDICT_SEND ||
				strcmp(item->cadence_id, first->cadence_id) != 0 ||
				strcmp(item->tenant_id, first->tenant_id) != 0)
				continue;
			done[j] = true;
			group[n++] = item;
		}
		cap_starts(batch, group, n, cap);
	}
}

/*
 * lock_account
 *		Lock an account's slot row; return its next free slot and how many
 *		requests of it other runners have in flight.
 */
static TimestampTz
lock_account(const DispatchAccount *da, TimestampTz now, int *others)
{
	static CadenceStatement lock_slot = {
		"SELECT next_slot_at,"
		"  (SELECT count(*) FROM cadence.scheduled_actions a"
		"    WHERE a.tenant_id = $1 AND a.provider_id = $2"
		"      AND a.status = 'sending')"
		" FROM cadence.provider_slots"
		" WHERE tenant_id = $1 AND provider_id = $2 FOR UPDATE"
	};
	static CadenceStatement insert_slot = {
		"INSERT INTO cadence.provider_slots (tenant_id, provider_id, next_slot_at)"
		" VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
	};
	Oid			types[3] = {TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];
	bool		isnull;
	TimestampTz next;

	values[0] = CStringGetTextDatum(da->tenant_id);
	values[1] = CStringGetTextDatum(da->acct.id);
	values[2] = TimestampTzGetDatum(now);
	cadence_spi_run(&insert_slot, 3, types, values, NULL, false,
					SPI_OK_INSERT, "lock a provider account");
	cadence_spi_run(&lock_slot, 3, types, values, NULL, false,
					SPI_OK_SELECT, "lock a provider account");
	if (SPI_processed != 1)
		elog(ERROR, "the rate slot of provider account \"%s\" is not visible", da->acct.id);
	next = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											 1, &isnull));
	*others = (int) DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
												2, &isnull));
	return next;
}

/*
 * mark_inflight
 *		Name the account on the claimed actions it will send, so that other
 *		runners count them against its concurrency limit; the items learn
 *		the new versions of their rows.
 */
static void
mark_inflight(DispatchBatch *batch, const DispatchAccount *da)
{
	static CadenceStatement mark_stmt = {
		"UPDATE cadence.scheduled_actions SET provider_id = $1"
		" WHERE ctid = ANY ($2) RETURNING id, ctid"
	};
	Datum	   *ctids = palloc(sizeof(Datum) * batch->nitems);
	Oid			types[2] = {TEXTOID, TIDARRAYOID};
	Datum		values[2];
	int			n = 0;
	int			k;
	uint64		i;

	for (k = 0; k < batch->nitems; k++)
		if (batch->items[k].verdict == VERDICT_SEND && batch->items[k].account == da)
			ctids[n++] = ItemPointerGetDatum(&batch->items[k].ctid);
	values[0] = CStringGetTextDatum(da->acct.id);
	values[1] = PointerGetDatum(construct_array(ctids, n, TIDOID, sizeof(ItemPointerData),
												false, TYPALIGN_SHORT));
	cadence_spi_run(&mark_stmt, 2, types, values, NULL, false,
					SPI_OK_UPDATE_RETURNING, "mark actions in flight");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
													 SPI_tuptable->tupdesc, 1, &isnull));

		for (k = 0; k < batch->nitems; k++)
			if (batch->items[k].id == id)
				batch->items[k].ctid = *DatumGetItemPointer(SPI_getbinval(SPI_tuptable->vals[i],
																		  SPI_tuptable->tupdesc,
																		  2, &isnull));
	}
}

/*
 * save_slot
 *		Store an account's next free slot.
 */
static void
save_slot(const DispatchAccount *da, TimestampTz next)
{
	static CadenceStatement save_slot_stmt = {
		"UPDATE cadence.provider_slots SET next_slot_at = $3"
		" WHERE tenant_id = $1 AND provider_id = $2"
	};
	Oid			types[3] = {TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];

	values[0] = CStringGetTextDatum(da->tenant_id);
	values[1] = CStringGetTextDatum(da->acct.id);
	values[2] = TimestampTzGetDatum(next);
	cadence_spi_run(&save_slot_stmt, 3, types, values, NULL, false,
					SPI_OK_UPDATE, "save a rate slot");
}

/*
 * account_limits
 *		Concurrency and rate of one account over the batch's items for it.
 */
static void
account_limits(DispatchBatch *batch, DispatchAccount *da)
{
	TimestampTz real_now = GetCurrentTimestamp();
	TimestampTz horizon = real_now + RATE_HORIZON_SECS * USECS_PER_SEC;
	int			others;
	TimestampTz slot = lock_account(da, real_now, &others);
	int64		step = da->rate_per_second > 0 ? (int64) (USECS_PER_SEC / da->rate_per_second) : 0;
	int			k;

	if (slot < real_now)
		slot = real_now;
	da->inflight_allowed = 0;
	if (da->max_concurrency > 0)
		da->inflight_allowed = da->max_concurrency - others;

	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *item = &batch->items[k];

		if (item->verdict != VERDICT_SEND || item->account != da)
			continue;
		if (da->max_concurrency > 0 && da->inflight_allowed <= 0)
		{
			/* Others use every slot: come back when theirs have ended. */
			cadence_dispatch_verdict(item, VERDICT_MOVED, "rate_limit", NULL);
			item->new_due_at = Max(batch->now, real_now) + USECS_PER_SEC;
			continue;
		}
		if (step > 0)
		{
			if (slot > horizon)
			{
				cadence_dispatch_verdict(item, VERDICT_MOVED, "rate_limit", NULL);
				item->new_due_at = Max(batch->now, slot);
				continue;
			}
			item->not_before = slot;
			slot += step;
		}
	}
	if (step > 0)
		save_slot(da, slot);
	mark_inflight(batch, da);
}

/*
 * cadence_dispatch_limit
 *		Apply the daily caps, then each account's concurrency and rate.
 */
void
cadence_dispatch_limit(DispatchBatch *batch)
{
	int			k;

	daily_caps(batch);
	for (k = 0; k < batch->naccounts; k++)
	{
		DispatchAccount *da = batch->accounts[k];
		int			j;

		if (da->max_concurrency <= 0 && da->rate_per_second <= 0)
			continue;
		for (j = 0; j < batch->nitems; j++)
			if (batch->items[j].verdict == VERDICT_SEND && batch->items[j].account == da)
				break;
		if (j < batch->nitems)
			account_limits(batch, da);
	}
}
