/*
 * base/publish.c
 *		cadence.publish_event(): publishes a run or step event with
 *		pg_notify, on the channels listeners subscribe to (see
 *		schema/code/internal/88_triggers.sql for the list and the payload), as the
 *		engine writes it.
 *
 * No trigger publishes them: Citus allows none on a distributed table.
 * The runners' statements that write events call cadence.publish_event()
 * in the RETURNING list of their INSERT INTO cadence.events
 * (CADENCE_PUBLISH_RETURNING), so that a runner publishes on its own node;
 * the statements of the API return the events they wrote and their C code
 * publishes them (cadence_publish_returned), in the session that called,
 * where on a cluster the application listens.  Either way an event is
 * published in the transaction that writes it.  A bulk enrollment or a
 * dispatch batch writes events by the hundred thousand in one statement:
 * each publication costs a few microseconds, and none at all for the
 * events nobody is told of, nor, with cadence preloaded, for those of a
 * channel nobody listens on (base/listeners.c).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "base/gucs.h"
#include "base/json.h"
#include "base/listeners.h"
#include "base/publish.h"

PG_FUNCTION_INFO_V1(cadence_publish_event);
PG_FUNCTION_INFO_V1(cadence_publish_events);

/* A payload longer than this leaves its data out (pg_notify takes 8000). */
#define MAX_DATA_LEN	4000

/*
 * replied
 *		Is a run.exited event's status replied?
 */
static bool
replied(Jsonb *payload)
{
	JsonbValue *v = cadence_jsonb_member(&payload->root, "status", NULL);

	return v != NULL && v->type == jbvString && v->val.string.len == 7 &&
		strncmp(v->val.string.val, "replied", 7) == 0;
}

/* An event's fields, in the order of cadence.publish_event's arguments. */
enum
{
	F_TYPE, F_ID, F_TENANT, F_RUN, F_ACTION, F_CADENCE, F_LEAD, F_AT, F_PAYLOAD, NFIELDS
};

/* "name":"value" or "name":null, after a comma. */
static void
add_text(StringInfo b, const char *name, const Datum *v, const bool *isnull, int f)
{
	appendStringInfo(b, ",\"%s\":", name);
	if (isnull[f])
		appendStringInfoString(b, "null");
	else
		escape_json(b, TextDatumGetCString(v[f]));
}

static void
add_int(StringInfo b, const char *name, const Datum *v, const bool *isnull, int f)
{
	appendStringInfo(b, ",\"%s\":", name);
	if (isnull[f])
		appendStringInfoString(b, "null");
	else
		appendStringInfo(b, INT64_FORMAT, DatumGetInt64(v[f]));
}

/*
 * channels_of
 *		The channels an event of that type is published on: none, one, or
 *		two (a run.exited as replied); -1 for none.
 */
static void
channels_of(const char *type, Jsonb *data, int *first, int *second)
{
	*first = -1;
	*second = -1;
	if (strcmp(type, "run.enrolled") == 0)
		*first = CHANNEL_ENROLLMENT_CREATED;
	else if (strcmp(type, "run.completed") == 0)
		*first = CHANNEL_ENROLLMENT_COMPLETED;
	else if (strcmp(type, "run.exited") == 0 || strcmp(type, "run.cancelled") == 0)
	{
		*first = CHANNEL_ENROLLMENT_EXITED;
		if (strcmp(type, "run.exited") == 0 && data != NULL && replied(data))
			*second = CHANNEL_ENROLLMENT_REPLIED;
	}
	else if (strcmp(type, "action.sent") == 0 || strcmp(type, "action.executed") == 0 ||
			 strcmp(type, "action.completed") == 0)
		*first = CHANNEL_STEP_EXECUTED;
	else if (strcmp(type, "action.pending_manual") == 0)
		*first = CHANNEL_STEP_PENDING_MANUAL;
}

/*
 * publish
 *		One pg_notify per channel the event's type is published on and
 *		someone may listen on (base/listeners.c), payload {"eventId",
 *		"type", "tenantId", "runId", "actionId", "cadenceId", "leadId",
 *		"at", "data"}, unless cadence.notify is off.  Returns whether it
 *		published.
 */
static bool
publish(const Datum *v, const bool *isnull)
{
	char	   *type;
	Jsonb	   *data;
	int			first;
	int			second;
	StringInfoData b;

	if (!cadence_notify || isnull[F_TYPE] || isnull[F_ID] || isnull[F_AT])
		return false;
	type = TextDatumGetCString(v[F_TYPE]);
	data = isnull[F_PAYLOAD] ? NULL : DatumGetJsonbP(v[F_PAYLOAD]);
	channels_of(type, data, &first, &second);
	if (first >= 0 && !cadence_channel_heard(first))
		first = -1;
	if (second >= 0 && !cadence_channel_heard(second))
		second = -1;
	if (first < 0 && second < 0)
		return false;

	initStringInfo(&b);
	appendStringInfo(&b, "{\"eventId\":" INT64_FORMAT ",\"type\":", DatumGetInt64(v[F_ID]));
	escape_json(&b, type);
	add_text(&b, "tenantId", v, isnull, F_TENANT);
	add_int(&b, "runId", v, isnull, F_RUN);
	add_int(&b, "actionId", v, isnull, F_ACTION);
	add_text(&b, "cadenceId", v, isnull, F_CADENCE);
	add_text(&b, "leadId", v, isnull, F_LEAD);
	appendStringInfo(&b, ",\"at\":\"%s\"",
					 JsonEncodeDateTime(NULL, v[F_AT], TIMESTAMPTZOID, NULL));
	if (data != NULL)
	{
		char	   *rendered = JsonbToCString(NULL, &data->root, VARSIZE(data));

		if (strlen(rendered) < MAX_DATA_LEN)
			appendStringInfo(&b, ",\"data\":%s", rendered);
	}
	appendStringInfoChar(&b, '}');

	if (first >= 0)
		Async_Notify(cadence_channel_name(first), b.data);
	if (second >= 0)
		Async_Notify(cadence_channel_name(second), b.data);
	pfree(b.data);
	return true;
}

/*
 * cadence_publish_event
 *		cadence.publish_event(type, id, tenant_id, run_id, action_id,
 *		cadence_id, lead_id, at, payload): publish one event; returns
 *		whether it did.
 */
Datum
cadence_publish_event(PG_FUNCTION_ARGS)
{
	Datum		v[NFIELDS];
	bool		isnull[NFIELDS];
	int			f;

	for (f = 0; f < NFIELDS; f++)
	{
		isnull[f] = PG_ARGISNULL(f);
		v[f] = isnull[f] ? (Datum) 0 : PG_GETARG_DATUM(f);
	}
	PG_RETURN_BOOL(publish(v, isnull));
}

/*
 * cadence_publish_returned
 *		Publish the events of rows an SPI statement returned, whose columns
 *		first, first + 1, ... (1-based) are an event's fields in the order
 *		of CADENCE_EVENT_COLUMNS; rows whose event id is null hold none.
 *		For statements of the API: on a Citus cluster the events are written
 *		on a worker, and published here, in the session that wrote them,
 *		where its application listens (a worker could not publish within a
 *		transaction the coordinator commits in two phases).
 */
void
cadence_publish_returned(SPITupleTable *tuptable, uint64 nrows, int first)
{
	uint64		i;
	int			f;

	if (!cadence_notify)
		return;
	for (i = 0; i < nrows; i++)
	{
		Datum		v[NFIELDS];
		bool		isnull[NFIELDS];

		for (f = 0; f < NFIELDS; f++)
			v[f] = SPI_getbinval(tuptable->vals[i], tuptable->tupdesc, first + f, &isnull[f]);
		publish(v, isnull);
	}
}

/*
 * cadence_publish_events
 *		0.1.0's statement trigger on cadence.events, which a database still
 *		at 0.1.0 has until ALTER EXTENSION cadence UPDATE drops it: this
 *		library publishes each event as it writes it, so the trigger has
 *		nothing left to do.
 */
Datum
cadence_publish_events(PG_FUNCTION_ARGS)
{
	return PointerGetDatum(NULL);
}
