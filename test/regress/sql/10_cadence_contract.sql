-- The cadence contract (the Cadence JSON shape) as SQL functions, the way PostgREST
-- exposes them: list_cadences, get_cadence, upsert_cadence, activate,
-- deactivate, plus delete_cadence and duplicate_cadence.  JSON in, JSON out.
SET timezone = 'UTC';
INSERT INTO cadence.members (tenant_id, user_id, role) VALUES
	('acme', 'olivia', 'owner'), ('acme', 'raj', 'member');
SET cadence.tenant_id = 'acme';
SET cadence.user_id = 'olivia';

-- Timestamps change from run to run; show them as "set" or "missing".
CREATE FUNCTION pg_temp.stable(c jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT c || jsonb_build_object(
		'createdAt', CASE WHEN c ? 'createdAt' THEN 'set' ELSE 'missing' END,
		'updatedAt', CASE WHEN c ? 'updatedAt' THEN 'set' ELSE 'missing' END)
$$;

--
-- A whole Cadence body: a trigger, and days of actions with their rules.
--
\set cadence_body '{"id": "cad-123", "name": "New Lead Cadence", "isActive": false, "timezone": "America/Los_Angeles", "trigger": {"type": "lead_assigned", "config": {"assignedTo": "<user-id-uuid>"}}, "days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "sms", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "09:00"}, "config": {"sms": {"body": "Hi {{firstName}}, welcome to Seed!"}}}, {"id": "a2", "type": "email", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 30}, "config": {"email": {"subject": "Getting started", "bodyHtml": "<p>Hello!</p>"}}}]}]}'
SELECT jsonb_pretty(pg_temp.stable(cadence.upsert_cadence(:'cadence_body'))) AS upserted;

-- get_cadence returns the same content: every member of the body, equal,
-- plus the read-only members the full Cadence adds.
SELECT cadence.get_cadence('cad-123') @> :'cadence_body'::jsonb AS same_content,
	   (SELECT array_agg(k ORDER BY k)
		  FROM jsonb_object_keys(cadence.get_cadence('cad-123')) AS k
		 WHERE NOT :'cadence_body'::jsonb ? k) AS added_members;
-- A body read back with get_cadence can be sent again as it is; nothing
-- changes, not even the version.
SELECT cadence.upsert_cadence(cadence.get_cadence('cad-123')) - 'updatedAt'
	 = cadence.get_cadence('cad-123') - 'updatedAt' AS resend_is_a_no_op,
	   cadence.get_cadence('cad-123') ->> 'version' AS version;

--
-- list_cadences: CadenceSummary[], most recently updated first.
--
SELECT jsonb_pretty(pg_temp.stable(s)) AS summary
  FROM jsonb_array_elements(cadence.list_cadences()) AS s;
-- Every member of a summary is there: a cadence without a description
-- lists "description": null, not a missing key.
SELECT s ->> 'id' AS id, s ? 'description' AS has_description,
	   jsonb_typeof(s -> 'description') AS description
  FROM jsonb_array_elements(cadence.list_cadences()) AS s;

--
-- activate and deactivate answer {"success": true}.
--
-- (Each call is its own statement: a function reading the cadence in the
-- same statement would see it as the statement began.)
SELECT cadence.activate('cad-123') AS activate;
SELECT cadence.get_cadence('cad-123') ->> 'status' AS status,
	   cadence.get_cadence('cad-123') -> 'isActive' AS is_active;
-- Activating an active cadence changes nothing and succeeds too.
SELECT cadence.activate('cad-123') AS activate_again;
SELECT cadence.deactivate('cad-123') AS deactivate;
SELECT cadence.get_cadence('cad-123') ->> 'status' AS status,
	   cadence.get_cadence('cad-123') -> 'isActive' AS is_active;
-- isActive in an upsert does the same.
SELECT cadence.upsert_cadence(:'cadence_body'::jsonb || '{"isActive": true}') ->> 'status' AS status;

--
-- Upsert replaces days and actions wholesale: the cadence now has two days
-- with one action each; nothing of the old actions remains.
--
SELECT jsonb_pretty(cadence.upsert_cadence($$
{"id": "cad-123", "name": "New Lead Cadence", "timezone": "America/Los_Angeles",
 "days": [
  {"dayNumber": 2, "actions": [{"id": "b2", "type": "call_task", "scheduleRule": {"kind": "immediately"}}]},
  {"dayNumber": 1, "actions": [{"type": "sms", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "10:00"},
                                "config": {"sms": {"body": "Hello again"}}}]}]}
$$) -> 'days') AS days;
SELECT day_number, position, step_number, action_id, type
  FROM cadence.cadence_actions WHERE cadence_id = 'cad-123' ORDER BY step_number;

--
-- A flat sequence body: steps[] become the actions of day 1,
-- each step's delay a delay rule from the previous step.
--
SELECT jsonb_pretty(c - 'createdAt' - 'updatedAt' - 'id') AS sequence
  FROM cadence.upsert_cadence($$
{
  "name": "Cold Outreach - Enterprise",
  "description": "5-step sequence for enterprise prospects",
  "channel": "email",
  "settings": {
    "timezone": "America/New_York",
    "businessHours": {
      "monday": {"start": "09:00", "end": "17:00"},
      "tuesday": {"start": "09:00", "end": "17:00"},
      "wednesday": {"start": "09:00", "end": "17:00"},
      "thursday": {"start": "09:00", "end": "17:00"},
      "friday": {"start": "09:00", "end": "17:00"}
    },
    "excludeWeekends": true,
    "fromEmail": "john.sales@acme.com",
    "fromName": "John from Acme"
  },
  "exitConditions": {
    "onReply": true,
    "onMeetingBooked": true,
    "onBounce": true,
    "onUnsubscribe": true
  },
  "steps": [
    {
      "stepNumber": 1,
      "type": "auto_email",
      "name": "Initial Outreach",
      "templateId": "550e8400-e29b-41d4-a716-446655440001",
      "delayDays": 0,
      "sendAt": "10:00"
    },
    {
      "stepNumber": 2,
      "type": "auto_email",
      "name": "Follow-up",
      "templateId": "550e8400-e29b-41d4-a716-446655440002",
      "delayDays": 3,
      "sendAt": "10:00"
    },
    {
      "stepNumber": 3,
      "type": "manual_email",
      "name": "Personalized Message",
      "delayDays": 4,
      "taskDescription": "Write a personalized follow-up based on their LinkedIn activity"
    },
    {
      "stepNumber": 4,
      "type": "call",
      "name": "Phone Call",
      "delayDays": 2,
      "taskDescription": "Call the prospect to discuss their needs"
    },
    {
      "stepNumber": 5,
      "type": "auto_email",
      "name": "Final Follow-up",
      "templateId": "550e8400-e29b-41d4-a716-446655440003",
      "delayDays": 5,
      "sendAt": "10:00"
    }
  ]
}
$$) AS c;

--
-- delete_cadence removes drafts only (softly: the id is not reused).
--
SELECT cadence.upsert_cadence('{"id": "scratch", "name": "Scratch", "days": []}') ->> 'status' AS status;
SELECT cadence.delete_cadence('scratch') AS deleted;
SELECT jsonb_array_length(cadence.list_cadences()) AS cadences_listed;

--
-- duplicate_cadence clones the current version's days and actions into a
-- new draft owned by the caller.
--
SET cadence.user_id = 'raj';
SELECT c ->> 'id' AS id, c ->> 'name' AS name, c ->> 'status' AS status,
	   c ->> 'ownerId' AS owner, c ->> 'version' AS version,
	   c -> 'days' = cadence.get_cadence('cad-123') -> 'days' AS same_days
  FROM cadence.duplicate_cadence('cad-123', 'cad-123-copy') AS c;
SELECT cadence.duplicate_cadence('cad-123') ->> 'name' AS default_name;
SET cadence.user_id = 'olivia';

-- What each call left in the audit log.
SELECT type, count(*) FROM cadence.events WHERE tenant_id = 'acme'
 GROUP BY type ORDER BY type;
