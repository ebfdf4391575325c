-- What happened re-anchors (rule 4), a pause keeps the wait (rule 5), and
-- every change of a run takes its instant (rule 8), with the runner played
-- with as_of.  Runs are shown in their own zone.
SET timezone = 'UTC';
\set ECHO none
\i test/helpers/mock.sql
\set ECHO all
SELECT pg_temp.mock_post('/_mock/reset');
INSERT INTO cadence.members (tenant_id, user_id, role) VALUES ('anchor', 'ana', 'owner');
SET cadence.tenant_id = 'anchor';
SET cadence.user_id = 'ana';
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default)
VALUES ('anchor', 'mail', 'email', 'resend', 'http://127.0.0.1:18025', '{"apiKey": "re_x"}',
		'{"from": "sales@acme.test"}', true);
INSERT INTO cadence.contacts (tenant_id, id, email, timezone)
SELECT 'anchor', 'an-lead-' || g, 'l' || g || '@example.com', NULL FROM generate_series(1, 9) g;

-- cadence(id, zone, settings, days): days of one email (or a call task
-- when the rule says "call") each.
CREATE FUNCTION pg_temp.cadence(id text, zone text, settings jsonb, days jsonb) RETURNS void
LANGUAGE sql AS $$
	SELECT cadence.upsert_cadence(jsonb_build_object('id', id, 'name', id, 'timezone', zone,
		'isActive', true, 'settings', settings,
		'days', (SELECT jsonb_agg(jsonb_build_object('dayNumber', d.key::int, 'actions',
					jsonb_build_array(jsonb_build_object('id', 'd' || d.key,
						'type', coalesce(d.value ->> 'type', 'email'),
						'scheduleRule', d.value - 'type',
						'config', '{"email": {"subject": "Hi", "bodyHtml": "<p>Hi</p>"}}'::jsonb))))
				   FROM jsonb_each(days) d)))
$$;
CREATE FUNCTION pg_temp.timeline(lead text)
RETURNS TABLE (day int, local text, status text) LANGUAGE sql AS $$
	SELECT a.day_number, to_char(a.due_at AT TIME ZONE r.timezone, 'Dy YYYY-MM-DD HH24:MI'), a.status
	  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
	 WHERE r.tenant_id = 'anchor' AND r.lead_id = lead ORDER BY a.step_number
$$;
CREATE FUNCTION pg_temp.run_of(lead text) RETURNS bigint LANGUAGE sql AS $$
	SELECT id FROM cadence.runs WHERE tenant_id = 'anchor' AND lead_id = lead
$$;
\set nine '{"kind": "timeOfDay", "timeOfDay": "09:00"}'

--
-- Rule 4.  A manual call done three days late pushes what follows: days
-- 1 (call), 2 and 4 at 09:00 in New York from Monday 2026-01-12 08:00.
-- The call, due Monday, is done Thursday 15:00: day 2 is Friday, day 4
-- Sunday (no weekends off here), never the same day as day 2.
--
SELECT pg_temp.cadence('late-call', 'America/New_York', '{}',
	jsonb_build_object('1', '{"kind": "timeOfDay", "timeOfDay": "09:00", "type": "call_task"}'::jsonb, '2', :'nine'::jsonb, '4', :'nine'::jsonb));
SELECT cadence.plan_run_for_lead('late-call', 'an-lead-1', '2026-01-12 08:00 America/New_York') > 0 AS enrolled;
SELECT * FROM pg_temp.timeline('an-lead-1');
SELECT cadence.complete_manual_step(pg_temp.run_of('an-lead-1'), 1, 'late', 'connected',
									'2026-01-15 15:00 America/New_York') ->> 'currentStep' AS step;
SELECT * FROM pg_temp.timeline('an-lead-1');
-- (Each section ends its runs, so that the runners played below send only
-- their own section's.)
SELECT cadence.cancel_run(pg_temp.run_of('an-lead-1')) ->> 'status' AS status;

--
-- A runner down from Monday to Thursday: nothing plays catch-up.  Days
-- 1/2/4/8 in London from Monday 2027-05-03 08:00; the runner comes back
-- Thursday 12:00 and sends day 1 then; days 2, 4 and 8 are planned again
-- from Thursday (Friday, Sunday, Thursday) and only day 1 went out.
--
SELECT pg_temp.cadence('downtime', 'Europe/London', '{}',
	jsonb_build_object('1', :'nine'::jsonb, '2', :'nine'::jsonb, '4', :'nine'::jsonb, '8', :'nine'::jsonb));
SELECT cadence.plan_run_for_lead('downtime', 'an-lead-2', '2027-05-03 08:00 Europe/London') > 0 AS enrolled;
SELECT cadence.run_due_actions(50, '2027-05-06 12:00 Europe/London', 'anchor') ->> 'sent' AS sent;
SELECT * FROM pg_temp.timeline('an-lead-2');
-- An on-time send re-plans too (from the instant it went out): day 2 at
-- Friday 09:00 is sent at 09:20, and day 4 still falls on Sunday 09:00.
SELECT cadence.run_due_actions(50, '2027-05-07 09:20 Europe/London', 'anchor') ->> 'sent' AS sent;
SELECT * FROM pg_temp.timeline('an-lead-2');

--
-- Rule 5.  Pause Friday, resume Monday, across New York's spring-forward
-- (Sunday 2026-03-08): weekends off, days 1/2 at 10:00 from Thursday
-- 2026-03-05.  Day 1 went out Thursday 10:00; paused Friday 09:00 with day
-- 2 due Friday 10:00 (no open day left to wait, one hour); resumed Monday
-- 08:00 EDT: day 2 is Monday 10:00 EDT, the same wall time, not 11:00.
--
SELECT pg_temp.cadence('dst-pause', 'America/New_York', '{"excludeWeekends": true}',
	'{"1": {"kind": "timeOfDay", "timeOfDay": "10:00"}, "2": {"kind": "timeOfDay", "timeOfDay": "10:00"}, "3": {"kind": "timeOfDay", "timeOfDay": "10:00"}}');
SELECT cadence.plan_run_for_lead('dst-pause', 'an-lead-3', '2026-03-05 08:00 America/New_York') > 0 AS enrolled;
SELECT cadence.advance_to_next_step(pg_temp.run_of('an-lead-3'), '2026-03-05 10:00 America/New_York') ->> 'currentStep' AS step;
SELECT cadence.pause_run(pg_temp.run_of('an-lead-3'), NULL, 'on leave', '2026-03-06 09:00 America/New_York') ->> 'status' AS status;
SELECT paused_at AT TIME ZONE 'America/New_York' AS paused_local FROM cadence.runs WHERE id = pg_temp.run_of('an-lead-3');
SELECT cadence.resume_run(pg_temp.run_of('an-lead-3'), '2026-03-09 08:00 America/New_York') ->> 'status' AS status;
SELECT * FROM pg_temp.timeline('an-lead-3');

-- The wait is kept in open days: London, weekends off, days 1/3 at 10:00
-- from Wednesday 2027-03-24.  Paused Thursday 09:00 with day 3 due Friday
-- 10:00 (one open day on); resumed Tuesday 2027-03-30 (after London's
-- DST change on Sunday 03-28) at 12:00: one open day on, Wednesday 10:00
-- BST.
SELECT pg_temp.cadence('ldn-pause', 'Europe/London', '{"excludeWeekends": true}',
	'{"1": {"kind": "timeOfDay", "timeOfDay": "10:00"}, "3": {"kind": "timeOfDay", "timeOfDay": "10:00"}}');
SELECT cadence.plan_run_for_lead('ldn-pause', 'an-lead-4', '2027-03-24 08:00 Europe/London') > 0 AS enrolled;
SELECT cadence.advance_to_next_step(pg_temp.run_of('an-lead-4'), '2027-03-24 10:00 Europe/London') ->> 'currentStep' AS step;
SELECT * FROM pg_temp.timeline('an-lead-4');
SELECT cadence.pause_run(pg_temp.run_of('an-lead-4'), at => '2027-03-25 09:00 Europe/London') ->> 'status' AS status;
SELECT cadence.resume_run(pg_temp.run_of('an-lead-4'), '2027-03-30 12:00 Europe/London') ->> 'status' AS status;
SELECT * FROM pg_temp.timeline('an-lead-4');

--
-- Rule 8.  Every change of a run takes its instant: pause_run, cancel_run
-- and exit_run record `at`, not the wall clock.
--
SELECT count(cadence.cancel_run(pg_temp.run_of(l))) AS ended FROM unnest(ARRAY['an-lead-2', 'an-lead-3', 'an-lead-4']) l;
SELECT pg_temp.cadence('instants', 'Asia/Kolkata', '{}', jsonb_build_object('1', :'nine'::jsonb, '2', :'nine'::jsonb));
SELECT count(*) FROM cadence.plan_runs('instants', ARRAY['an-lead-5', 'an-lead-6', 'an-lead-7'], '2027-01-04 08:00 Asia/Kolkata');
SELECT cadence.cancel_run(pg_temp.run_of('an-lead-5'), 'by phone', '2027-01-04 12:00 Asia/Kolkata') ->> 'status' AS status;
SELECT cadence.exit_run(pg_temp.run_of('an-lead-6'), 'meeting_booked', 'demo', '2027-01-05 12:00 Asia/Kolkata') ->> 'status' AS status;
SELECT lead_id, status, completed_at AT TIME ZONE 'Asia/Kolkata' AS local_end, last_activity_at = completed_at AS same
  FROM cadence.runs WHERE tenant_id = 'anchor' AND lead_id IN ('an-lead-5', 'an-lead-6') ORDER BY lead_id;

-- An out-of-office reply received (received_at) on Monday 2027-01-04
-- 10:00 IST, away until Thursday 7th, so back on Friday: the run pauses at
-- that instant until Friday at the same time of day.  A runner played at
-- Friday 10:00 resumes it; day 1, already due when the run paused (09:00),
-- goes out then, and day 2 is planned from it: Saturday 09:00.
SELECT r ->> 'status' AS status, to_char((r ->> 'resumeAt')::timestamptz AT TIME ZONE 'Asia/Kolkata', 'Dy YYYY-MM-DD HH24:MI') AS resumes
  FROM jsonb_array_elements(cadence.ingest_webhook('app',
		'{"type": "reply", "leadId": "an-lead-7", "eventId": "ooo-1", "subject": "Out of office", "text": "I am out of the office until Thursday, January 7th."}',
		received_at => '2027-01-04 10:00 Asia/Kolkata') -> 'results') AS x,
	   jsonb_array_elements(x -> 'runs') AS r;
SELECT paused_at AT TIME ZONE 'Asia/Kolkata' AS paused_local FROM cadence.runs WHERE id = pg_temp.run_of('an-lead-7');
SELECT cadence.run_due_actions(50, '2027-01-08 10:00 Asia/Kolkata', 'anchor') - 'claimed' AS ran;
SELECT * FROM pg_temp.timeline('an-lead-7');
