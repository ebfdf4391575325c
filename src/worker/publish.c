/*
 * worker/publish.c
 *		cadence.publish_events(): the statement trigger on cadence.events
 *		that publishes run and step events with pg_notify, on seed 003's
 *		channels (see schema/code/88_triggers.sql for the list and the
 *		payload).
 *
 * It is C because a bulk enrollment or a dispatch batch inserts events by
 * the hundred thousand in one statement, and one notification each is
 * then most of the work: here each costs a few microseconds.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "base/json.h"
#include "base/gucs.h"

PG_FUNCTION_INFO_V1(cadence_publish_events);

/* A payload longer than this leaves its data out (pg_notify takes 8000). */
#define MAX_DATA_LEN	4000

/* The events table's columns, by number. */
typedef struct EventColumns
{
	int			id;
	int			tenant_id;
	int			run_id;
	int			action_id;
	int			cadence_id;
	int			lead_id;
	int			type;
	int			payload;
	int			created_at;
} EventColumns;

static int
column(TupleDesc desc, const char *name)
{
	int			k;

	for (k = 0; k < desc->natts; k++)
		if (strcmp(NameStr(TupleDescAttr(desc, k)->attname), name) == 0)
			return k;
	elog(ERROR, "cadence.events has no column %s", name);
}

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

/* "name":"value" or "name":null, after a comma unless first. */
static void
add_text(StringInfo b, const char *name, TupleTableSlot *slot, int col)
{
	appendStringInfo(b, ",\"%s\":", name);
	if (slot->tts_isnull[col])
		appendStringInfoString(b, "null");
	else
		escape_json(b, TextDatumGetCString(slot->tts_values[col]));
}

static void
add_int(StringInfo b, const char *name, TupleTableSlot *slot, int col)
{
	appendStringInfo(b, ",\"%s\":", name);
	if (slot->tts_isnull[col])
		appendStringInfoString(b, "null");
	else
		appendStringInfo(b, INT64_FORMAT, DatumGetInt64(slot->tts_values[col]));
}

/*
 * payload_of
 *		{"eventId", "type", "tenantId", "runId", "actionId", "cadenceId",
 *		 "leadId", "at", "data"}
 */
static char *
payload_of(TupleTableSlot *slot, const EventColumns *c, const char *type, Jsonb *data)
{
	StringInfoData b;
	char	   *text;

	initStringInfo(&b);
	appendStringInfo(&b, "{\"eventId\":" INT64_FORMAT ",\"type\":",
					 DatumGetInt64(slot->tts_values[c->id]));
	escape_json(&b, type);
	add_text(&b, "tenantId", slot, c->tenant_id);
	add_int(&b, "runId", slot, c->run_id);
	add_int(&b, "actionId", slot, c->action_id);
	add_text(&b, "cadenceId", slot, c->cadence_id);
	add_text(&b, "leadId", slot, c->lead_id);
	appendStringInfo(&b, ",\"at\":\"%s\"",
					 JsonEncodeDateTime(NULL, slot->tts_values[c->created_at],
										TIMESTAMPTZOID, NULL));
	text = JsonbToCString(NULL, &data->root, VARSIZE(data));
	if (strlen(text) < MAX_DATA_LEN)
		appendStringInfo(&b, ",\"data\":%s", text);
	appendStringInfoChar(&b, '}');
	return b.data;
}

/*
 * cadence_publish_events
 *		AFTER INSERT ... FOR EACH STATEMENT, with the new rows as a
 *		transition table: one pg_notify per event and channel, unless
 *		cadence.notify is off.
 */
Datum
cadence_publish_events(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	TupleTableSlot *slot;
	EventColumns c;

	if (!CALLED_AS_TRIGGER(fcinfo) || trigdata->tg_newtable == NULL)
		elog(ERROR, "cadence.publish_events() must be an AFTER INSERT statement trigger with a transition table");
	if (!cadence_notify)
		return PointerGetDatum(NULL);

	desc = RelationGetDescr(trigdata->tg_relation);
	c.id = column(desc, "id");
	c.tenant_id = column(desc, "tenant_id");
	c.run_id = column(desc, "run_id");
	c.action_id = column(desc, "scheduled_action_id");
	c.cadence_id = column(desc, "cadence_id");
	c.lead_id = column(desc, "lead_id");
	c.type = column(desc, "type");
	c.payload = column(desc, "payload");
	c.created_at = column(desc, "created_at");

	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	tuplestore_rescan(trigdata->tg_newtable);
	while (tuplestore_gettupleslot(trigdata->tg_newtable, true, false, slot))
	{
		char	   *type;
		Jsonb	   *data;
		const char *first = NULL;
		const char *second = NULL;

		slot_getallattrs(slot);
		type = TextDatumGetCString(slot->tts_values[c.type]);
		data = DatumGetJsonbP(slot->tts_values[c.payload]);
		if (strcmp(type, "run.enrolled") == 0)
			first = "sequence.enrollment.created";
		else if (strcmp(type, "run.completed") == 0)
			first = "sequence.enrollment.completed";
		else if (strcmp(type, "run.exited") == 0 || strcmp(type, "run.cancelled") == 0)
		{
			first = "sequence.enrollment.exited";
			if (strcmp(type, "run.exited") == 0 && replied(data))
				second = "sequence.enrollment.replied";
		}
		else if (strcmp(type, "action.sent") == 0 || strcmp(type, "action.executed") == 0 ||
				 strcmp(type, "action.completed") == 0)
			first = "sequence.step.executed";
		else if (strcmp(type, "action.pending_manual") == 0)
			first = "sequence.step.pending_manual";

		if (first != NULL)
		{
			char	   *payload = payload_of(slot, &c, type, data);

			Async_Notify(first, payload);
			if (second != NULL)
				Async_Notify(second, payload);
			pfree(payload);
		}
		pfree(type);
	}
	ExecDropSingleTupleTableSlot(slot);
	return PointerGetDatum(NULL);
}
