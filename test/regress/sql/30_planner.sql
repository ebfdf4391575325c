-- Planning runs: enrolling one lead or a whole list, what each lead's
-- schedule looks like in its own time zone, and who is refused.
SET timezone = 'UTC';
SET cadence.tenant_id = 'plan';
SET cadence.user_id = 'rep-1';

-- A three-day cadence planned in each lead's own zone: an email at 09:00
-- and an SMS half an hour later on day 1, a call first thing on day 2, a
-- last email two hours into day 4.  Business hours 09:00-17:00 on weekdays.
SELECT cadence.upsert_cadence($$
{"id": "outbound", "name": "Outbound", "timezone": "America/New_York",
 "settings": {"timezoneMode": "recipient", "excludeWeekends": true,
   "businessHours": {"monday": {"start": "09:00", "end": "17:00"},
                     "tuesday": {"start": "09:00", "end": "17:00"},
                     "wednesday": {"start": "09:00", "end": "17:00"},
                     "thursday": {"start": "09:00", "end": "17:00"},
                     "friday": {"start": "09:00", "end": "17:00"}}},
 "days": [
  {"dayNumber": 1, "actions": [
    {"id": "hello", "type": "email", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "09:00"},
     "config": {"email": {"subject": "Hi {{firstName}}", "bodyHtml": "<p>Hi</p>"}}},
    {"id": "ping", "type": "sms", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 30},
     "config": {"sms": {"body": "Just emailed you"}}}]},
  {"dayNumber": 2, "actions": [
    {"id": "call", "type": "call_task", "scheduleRule": {"kind": "immediately"}, "config": {}}]},
  {"dayNumber": 4, "actions": [
    {"id": "last", "type": "email", "scheduleRule": {"kind": "delay", "hours": 2},
     "config": {"email": {"subject": "Last note", "bodyHtml": "<p>Bye</p>"}}}]}]}
$$) ->> 'version' AS version;
SELECT cadence.activate('outbound');

-- Leads in four zones (one without a zone: it gets the cadence's), one who
-- unsubscribed and one whose address is on the do-not-contact list.
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, timezone, unsubscribed) VALUES
	('plan', 'ny', 'Nia', 'nia@example.com', 'America/New_York', false),
	('plan', 'ldn', 'Leo', 'leo@example.com', 'Europe/London', false),
	('plan', 'syd', 'Sam', 'sam@example.com', 'Australia/Sydney', false),
	('plan', 'blr', 'Bea', 'bea@example.com', 'Asia/Kolkata', false),
	('plan', 'nozone', 'Noa', 'noa@example.com', NULL, false),
	('plan', 'gone', 'Gus', 'gus@example.com', 'Europe/London', true),
	('plan', 'blocked', 'Bo', 'bo@example.com', 'Europe/London', false);
INSERT INTO cadence.suppressions (tenant_id, channel, address, reason)
VALUES ('plan', 'all', 'bo@example.com', 'spam_report');

-- Preview writes nothing.  Triggered on Friday 2026-03-06 at 15:00 UTC,
-- which is already Saturday 02:00 for a Sydney lead: day 1's 09:00 email
-- waits for Monday (reason: weekend).  Day 2 falls one open day after day
-- 1's last action: Tuesday, at the window's start; day 4 two open days
-- after that, Thursday, two hours after 09:00.
SELECT step_number, day_number, action_id, local_time, timezone, reason
  FROM cadence.preview_schedule('outbound', 'syd', '2026-03-06 15:00Z');
-- In New York it is Friday 10:00, past 09:00, so the email waits for the
-- next open 09:00: Monday.  Same wall times, in another zone.
SELECT step_number, day_number, action_id, local_time, reason
  FROM cadence.preview_schedule('outbound', 'ny', '2026-03-06 15:00Z');
SELECT count(*) AS runs_after_preview FROM cadence.runs;

-- Enrolling a list: one row per lead listed.
SELECT lead_id, outcome, run_id IS NOT NULL AS has_run, reason
  FROM cadence.plan_runs('outbound', ARRAY['ny', 'ldn', 'syd', 'ny', 'gone', 'blocked', 'ghost', 'ny'],
						 '2026-03-06 15:00Z');

-- Each run's schedule, in the lead's local time and in UTC.  New York
-- moved to daylight time on Sunday Mar 8, London not until Mar 29, so the
-- same 09:00 is 13:00 UTC for one and 09:00 UTC for the other.
SELECT r.lead_id, a.step_number, a.action_id,
	   (a.due_at AT TIME ZONE r.timezone) AS local_due, a.due_at, a.moved_reason
  FROM cadence.runs r JOIN cadence.scheduled_actions a ON a.run_id = r.id AND a.tenant_id = r.tenant_id
 ORDER BY r.lead_id, a.step_number;

-- Enrolling again returns the run the lead already has.
SELECT cadence.plan_run_for_lead('outbound', 'ny', '2026-03-07 15:00Z')
	 = (SELECT id FROM cadence.runs WHERE lead_id = 'ny') AS same_run;
SELECT count(*) AS runs_of_ny FROM cadence.runs WHERE lead_id = 'ny';

-- One lead at a time gives exactly what the list gives: the Kolkata lead
-- alone, then compared with a list run of the same zone.
SELECT cadence.plan_run_for_lead('outbound', 'blr', '2026-03-06 15:00Z') > 0 AS enrolled;
INSERT INTO cadence.contacts (tenant_id, id, email, timezone)
VALUES ('plan', 'blr2', 'b2@example.com', 'Asia/Kolkata');
SELECT outcome FROM cadence.plan_runs('outbound', ARRAY['blr2'], '2026-03-06 15:00Z');
SELECT count(*) AS differing_steps
  FROM (SELECT a.step_number, a.due_at, a.moved_reason FROM cadence.scheduled_actions a
		  JOIN cadence.runs r ON r.id = a.run_id WHERE r.lead_id = 'blr'
		EXCEPT
		SELECT a.step_number, a.due_at, a.moved_reason FROM cadence.scheduled_actions a
		  JOIN cadence.runs r ON r.id = a.run_id WHERE r.lead_id = 'blr2') d;

-- A lead without a zone is planned in the cadence's.
SELECT cadence.plan_run_for_lead('outbound', 'nozone', '2026-03-06 15:00Z') > 0 AS enrolled;
SELECT timezone FROM cadence.runs WHERE lead_id = 'nozone';

-- Refusals of the single form are errors that say why.
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT pg_temp.try($$SELECT cadence.plan_run_for_lead('outbound', 'gone')$$);
SELECT pg_temp.try($$SELECT cadence.plan_run_for_lead('outbound', 'blocked')$$);
SELECT pg_temp.try($$SELECT cadence.plan_run_for_lead('outbound', 'ghost')$$);
SELECT pg_temp.try($$SELECT cadence.plan_run_for_lead('nope', 'ny')$$);
SELECT pg_temp.try($$SELECT cadence.plan_run_for_lead('outbound', 'ny', '2026-03-06', '{"startAtStep": 9}')$$);
SELECT cadence.deactivate('outbound');
SELECT pg_temp.try($$SELECT cadence.plan_run_for_lead('outbound', 'ldn')$$);
SELECT cadence.activate('outbound');

-- A lead of another tenant is not found in this one.
SET cadence.tenant_id = 'other';
INSERT INTO cadence.contacts (tenant_id, id, timezone) VALUES ('other', 'theirs', 'UTC');
SET cadence.tenant_id = 'plan';
SELECT pg_temp.try($$SELECT cadence.plan_run_for_lead('outbound', 'theirs')$$);

-- Starting at a later step: the run's calendar starts on that step's day
-- (day 2 is the trigger day, Tuesday; day 4 two business days later).
INSERT INTO cadence.contacts (tenant_id, id, email, timezone)
VALUES ('plan', 'late', 'late@example.com', 'Europe/London');
SELECT cadence.plan_run_for_lead('outbound', 'late', '2026-03-10 08:00Z',
								 '{"startAtStep": 3, "assignedTo": "rep-2"}') > 0 AS enrolled;
SELECT r.assigned_to, r.current_step, r.first_day, a.step_number,
	   a.due_at AT TIME ZONE r.timezone AS local_due
  FROM cadence.runs r JOIN cadence.scheduled_actions a ON a.run_id = r.id
 WHERE r.lead_id = 'late' ORDER BY a.step_number;

-- Every enrollment wrote one event.
SELECT type, count(*) FROM cadence.events WHERE tenant_id = 'plan' GROUP BY type;
