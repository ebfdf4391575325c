/*
 * limits.c
 *		The limits every runner shares, applied to a claimed batch before its
 *		requests are built:
 *
 *		daily cap		settings.maxContactsPerDay of a cadence: messages it
 *						hands to providers per local day of its zone; the
 *						excess moves to the next day (daily_cap)
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

#include "compat.h"
#include "dispatch.h"
#include "schedule.h"

/* How far ahead rate-limited requests of one batch may be slotted. */
#define RATE_HORIZON_SECS	2

/*
 * max_per_day
 *		settings.maxContactsPerDay, or 0 for no cap.
 */
static int
max_per_day(Jsonb *settings)
{
	JsonbValue *v;

	if (settings == NULL || !JB_ROOT_IS_OBJECT(settings))
		return 0;
	v = getKeyJsonValueFromContainer(&settings->root, "maxContactsPerDay", 17, NULL);
	if (v == NULL || v->type != jbvNumeric)
		return 0;
	return DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v->val.numeric)));
}

/*
 * lock_day
 *		Lock the day's counter of a cadence and return how many it has sent.
 */
static int
lock_day(const char *tenant_id, const char *cadence_id, DateADT day)
{
	Oid			types[3] = {TEXTOID, TEXTOID, DATEOID};
	Datum		values[3];
	bool		isnull;

	values[0] = CStringGetTextDatum(tenant_id);
	values[1] = CStringGetTextDatum(cadence_id);
	values[2] = DateADTGetDatum(day);
	cadence_dispatch_spi("INSERT INTO cadence.daily_sends (tenant_id, cadence_id, day)"
						 " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
						 3, types, values, NULL, false, SPI_OK_INSERT, "count daily sends");
	cadence_dispatch_spi("SELECT sent FROM cadence.daily_sends"
						 " WHERE tenant_id = $1 AND cadence_id = $2 AND day = $3 FOR UPDATE",
						 3, types, values, NULL, false, SPI_OK_SELECT, "lock daily sends");
	if (SPI_processed != 1)
		elog(ERROR, "the daily count of cadence \"%s\" is not visible", cadence_id);
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									   1, &isnull));
}

/*
 * add_day
 *		Count n more messages of a cadence on a day.
 */
static void
add_day(const char *tenant_id, const char *cadence_id, DateADT day, int n)
{
	Oid			types[4] = {TEXTOID, TEXTOID, DATEOID, INT4OID};
	Datum		values[4];

	values[0] = CStringGetTextDatum(tenant_id);
	values[1] = CStringGetTextDatum(cadence_id);
	values[2] = DateADTGetDatum(day);
	values[3] = Int32GetDatum(n);
	cadence_dispatch_spi("UPDATE cadence.daily_sends SET sent = sent + $4"
						 " WHERE tenant_id = $1 AND cadence_id = $2 AND day = $3",
						 4, types, values, NULL, false, SPI_OK_UPDATE, "count daily sends");
}

/*
 * daily_caps
 *		Per cadence with a cap, in due order: what fits today goes, the rest
 *		moves to the start of the next local day.
 */
static void
daily_caps(DispatchBatch *batch)
{
	bool	   *done = palloc0(sizeof(bool) * batch->nitems);
	int			k;

	for (k = 0; k < batch->nitems; k++)
	{
		DispatchItem *first = &batch->items[k];
		int			cap;
		pg_tz	   *tz;
		DateADT		day;
		int			left;
		int			taken = 0;
		int			j;

		if (done[k] || first->verdict != VERDICT_SEND ||
			(cap = max_per_day(first->settings)) <= 0)
			continue;
		tz = cadence_lookup_tz(first->cadence_timezone);
		day = cadence_local_date(batch->now, tz);
		left = cap - lock_day(first->tenant_id, first->cadence_id, day);
		for (j = k; j < batch->nitems; j++)
		{
			DispatchItem *item = &batch->items[j];

			if (done[j] || item->verdict != VERDICT_SEND ||
				strcmp(item->cadence_id, first->cadence_id) != 0 ||
				strcmp(item->tenant_id, first->tenant_id) != 0)
				continue;
			done[j] = true;
			if (taken < left)
				taken++;
			else
			{
				cadence_dispatch_verdict(item, VERDICT_MOVED, "daily_cap", NULL);
				item->new_due_at = cadence_local_to_utc(day + 1, 0, tz, NULL);
			}
		}
		if (taken > 0)
			add_day(first->tenant_id, first->cadence_id, day, taken);
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
	Oid			types[3] = {TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];
	bool		isnull;
	TimestampTz next;

	values[0] = CStringGetTextDatum(da->tenant_id);
	values[1] = CStringGetTextDatum(da->acct.id);
	values[2] = TimestampTzGetDatum(now);
	cadence_dispatch_spi("INSERT INTO cadence.provider_slots (tenant_id, provider_id, next_slot_at)"
						 " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
						 3, types, values, NULL, false, SPI_OK_INSERT, "lock a provider account");
	cadence_dispatch_spi("SELECT next_slot_at,"
						 "  (SELECT count(*) FROM cadence.scheduled_actions a"
						 "    WHERE a.tenant_id = $1 AND a.provider_id = $2"
						 "      AND a.status = 'sending' AND a.lease_until > $3)"
						 " FROM cadence.provider_slots"
						 " WHERE tenant_id = $1 AND provider_id = $2 FOR UPDATE",
						 3, types, values, NULL, false, SPI_OK_SELECT, "lock a provider account");
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
 *		Name the account on the leased actions it will send, so that other
 *		runners count them against its concurrency limit; the items learn
 *		the new versions of their rows.
 */
static void
mark_inflight(DispatchBatch *batch, const DispatchAccount *da)
{
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
	cadence_dispatch_spi("UPDATE cadence.scheduled_actions SET provider_id = $1"
						 " WHERE ctid = ANY ($2) RETURNING id, ctid",
						 2, types, values, NULL, false, SPI_OK_UPDATE_RETURNING,
						 "mark actions in flight");
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
	Oid			types[3] = {TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];

	values[0] = CStringGetTextDatum(da->tenant_id);
	values[1] = CStringGetTextDatum(da->acct.id);
	values[2] = TimestampTzGetDatum(next);
	cadence_dispatch_spi("UPDATE cadence.provider_slots SET next_slot_at = $3"
						 " WHERE tenant_id = $1 AND provider_id = $2",
						 3, types, values, NULL, false, SPI_OK_UPDATE, "save a rate slot");
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
