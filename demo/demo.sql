-- make demo: cadence on a throwaway cluster, narrated.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE EXTENSION cadence;

\echo
\echo '== 1. A sales team (tenant "acme") with an owner and a rep.'
INSERT INTO cadence.members (tenant_id, user_id, role) VALUES
	('acme', 'olivia', 'owner'), ('acme', 'raj', 'member');
SET cadence.tenant_id = 'acme';
SET cadence.user_id = 'olivia';

\echo
\echo '== 2. Olivia saves the "New Lead Cadence" exactly as the API receives it:'
\echo '      a welcome SMS at 09:00 and a "getting started" email 30 minutes later.'
SELECT jsonb_pretty(cadence.upsert_cadence($json$
{
  "id": "cad-123",
  "name": "New Lead Cadence",
  "isActive": false,
  "timezone": "America/Los_Angeles",
  "trigger": { "type": "lead_assigned", "config": { "assignedTo": "<user-id-uuid>" } },
  "days": [
    {
      "dayNumber": 1,
      "actions": [
        {
          "id": "a1",
          "type": "sms",
          "scheduleRule": { "kind": "timeOfDay", "timeOfDay": "09:00" },
          "config": { "sms": { "body": "Hi {{firstName}}, welcome to Seed!" } }
        },
        {
          "id": "a2",
          "type": "email",
          "scheduleRule": { "kind": "afterPrevious", "minutesAfterPrev": 30 },
          "config": { "email": { "subject": "Getting started", "bodyHtml": "<p>Hello!</p>" } }
        }
      ]
    }
  ]
}
$json$) - 'createdAt' - 'updatedAt') AS saved_cadence;

\echo
\echo '== 3. The cadence list, then activation.'
SELECT s ->> 'id' AS id, s ->> 'name' AS name, s ->> 'status' AS status,
	   s ->> 'actionCount' AS actions
  FROM jsonb_array_elements(cadence.list_cadences()) AS s;
SELECT cadence.activate('cad-123') AS activate;

\echo
\echo '== 4. A follow-up day: a call task first thing on day 3 (the edit adds a'
\echo '      day; no run exists yet, so the cadence keeps version 1), and the'
\echo '      cadence plans in each lead''s own time zone, weekdays 09:00-17:00.'
SELECT cadence.upsert_cadence(
	cadence.get_cadence('cad-123')
	|| jsonb_build_object('settings', jsonb_build_object(
		   'timezoneMode', 'recipient', 'excludeWeekends', true,
		   'businessHours', jsonb_object_agg(d, '{"start": "09:00", "end": "17:00"}'::jsonb)))
	|| jsonb_build_object('days', cadence.get_cadence('cad-123') -> 'days'
		   || '[{"dayNumber": 3, "actions": [{"id": "a3", "type": "call_task",
				 "scheduleRule": {"kind": "immediately"},
				 "config": {"task": {"description": "Call to qualify"}}}]}]'::jsonb))
	->> 'version' AS version
  FROM unnest(ARRAY['monday', 'tuesday', 'wednesday', 'thursday', 'friday']) AS d;

\echo
\echo '== 5. 300 new leads across six time zones.'
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, timezone)
SELECT 'acme', 'lead-' || g, 'Lead ' || g, 'lead' || g || '@example.com', '+1555' || lpad(g::text, 7, '0'),
	   (ARRAY['America/Los_Angeles', 'America/New_York', 'Europe/London',
			  'Europe/Berlin', 'Asia/Kolkata', 'Australia/Sydney'])[1 + g % 6]
  FROM generate_series(1, 300) g;

\echo
\echo '== 6. Before enrolling: what would lead-3 (Berlin) get if assigned on'
\echo '      Friday 2026-03-27 at 16:00 UTC?  Nothing is written.'
SELECT step_number AS step, action_id, type, local_time, timezone, reason
  FROM cadence.preview_schedule('cad-123', 'lead-3', '2026-03-27 16:00Z');

\echo
\echo '== 7. Enroll all 300 in one call (a lead already enrolled is not enrolled twice).'
SELECT outcome, count(*) AS leads
  FROM cadence.plan_runs('cad-123', ARRAY(SELECT id FROM cadence.contacts WHERE tenant_id = 'acme'),
						 '2026-03-27 16:00Z', '{"assignedTo": "raj"}')
 GROUP BY outcome;
SELECT outcome, count(*) AS leads
  FROM cadence.plan_runs('cad-123', ARRAY['lead-1', 'lead-2'], '2026-03-27 17:00Z')
 GROUP BY outcome;

\echo
\echo '== 8. First touch per time zone.  Los Angeles gets its SMS at once: it is'
\echo '      09:00 on Friday there.  Everywhere else Friday 09:00 has passed and'
\echo '      weekends are off, so the SMS goes at 09:00 local on Monday; Sydney'
\echo '      first.  London and Berlin move to summer time on Sunday the 29th,'
\echo '      so their Monday 09:00 is 08:00 and 07:00 UTC.'
SELECT r.timezone, count(DISTINCT r.id) AS runs,
	   min(a.due_at) AS first_touch_utc,
	   min(a.due_at AT TIME ZONE r.timezone) AS first_touch_local
  FROM cadence.runs r JOIN cadence.scheduled_actions a ON a.run_id = r.id AND a.tenant_id = r.tenant_id
 WHERE a.step_number = 1
 GROUP BY r.timezone ORDER BY first_touch_utc;

\echo
\echo '== 9. Raj works lead-3: the SMS and the email go out on Monday, the call'
\echo '      (due Tuesday) is made two days late and logged with its outcome.  It'
\echo '      was the last step, so the run is complete.  Every step left an event.'
SELECT cadence.advance_to_next_step(id, '2026-03-30 07:00Z') ->> 'currentStep' AS now_at_step
  FROM cadence.runs WHERE lead_id = 'lead-3';
SELECT cadence.advance_to_next_step(id, '2026-03-30 07:30Z') ->> 'currentStep' AS now_at_step
  FROM cadence.runs WHERE lead_id = 'lead-3';
SELECT cadence.complete_manual_step(id, 3, 'Good call, wants a demo', 'interested', '2026-04-02 10:00Z')
	   ->> 'status' AS run_status
  FROM cadence.runs WHERE lead_id = 'lead-3';
SELECT type, payload FROM cadence.events
 WHERE run_id = (SELECT id FROM cadence.runs WHERE lead_id = 'lead-3') ORDER BY id;

\echo '== 10. lead-5 asked for a pause; lead-6 asked never to be contacted again.'
SELECT cadence.pause_run(id) ->> 'status' AS lead_5 FROM cadence.runs WHERE lead_id = 'lead-5';
SELECT cadence.cancel_run(id, 'asked not to be contacted') ->> 'status' AS lead_6
  FROM cadence.runs WHERE lead_id = 'lead-6';
SELECT status, count(*) AS runs FROM cadence.runs GROUP BY status ORDER BY status;
\echo
\echo 'Done: one cadence, 300 leads planned in their own time zones, three handled by hand.'
