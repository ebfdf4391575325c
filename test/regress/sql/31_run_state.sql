-- The run state machine: advancing, manual steps, pause and resume,
-- skipping, cancelling, and cadence versions.  Every transition leaves an
-- event behind.
SET timezone = 'UTC';
SET cadence.tenant_id = 'runs';
SET cadence.user_id = 'rep-1';

-- Four steps in one zone, no business hours: an email at 10:00, a call
-- task right after, a follow-up email two hours after the call, and an SMS
-- at 10:00 on day 3.
SELECT cadence.upsert_cadence($$
{"id": "flow", "name": "Flow", "timezone": "Europe/Berlin",
 "days": [
  {"dayNumber": 1, "actions": [
    {"id": "mail", "type": "email", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "10:00"},
     "config": {"email": {"subject": "Hi", "bodyHtml": "<p>Hi</p>"}}},
    {"id": "call", "type": "call_task", "scheduleRule": {"kind": "immediately"}, "config": {}},
    {"id": "after-call", "type": "email", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 120},
     "config": {"email": {"subject": "As discussed", "bodyHtml": "<p>Notes</p>"}}}]},
  {"dayNumber": 3, "actions": [
    {"id": "text", "type": "sms", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "10:00"},
     "config": {"sms": {"body": "Quick one"}}}]}]}
$$) ->> 'id' AS cadence;
SELECT cadence.activate('flow');
INSERT INTO cadence.contacts (tenant_id, id, email, phone)
SELECT 'runs', 'lead-' || g, 'l' || g || '@example.com', '+4930000' || g FROM generate_series(1, 6) g;

-- The schedule of a run, local to Berlin.  Only the step the run waits on
-- is scheduled (due for the runners); the ones after it are planned.
CREATE FUNCTION pg_temp.timeline(lead text) RETURNS TABLE (step int, action text, local_due timestamp, status text)
LANGUAGE sql AS $$
	SELECT a.step_number, a.action_id, a.due_at AT TIME ZONE 'Europe/Berlin', a.status
	  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
	 WHERE r.lead_id = lead ORDER BY a.step_number
$$;
CREATE FUNCTION pg_temp.run_of(lead text) RETURNS bigint LANGUAGE sql AS $$
	SELECT id FROM cadence.runs WHERE lead_id = lead ORDER BY id DESC LIMIT 1
$$;

SELECT cadence.plan_run_for_lead('flow', 'lead-' || g, '2026-05-04 06:00Z') > 0 AS enrolled
  FROM generate_series(1, 6) g;
SELECT * FROM pg_temp.timeline('lead-1');

-- Advancing: the email went out at 10:00 as planned; the call, a manual
-- task, was done two days late, Wednesday 15:00.  The follow-up is
-- re-anchored two hours after the call actually happened (17:00), and day
-- 3, two days after day 1's last action, is now Friday at 10:00: a late
-- step pushes what follows it.
SELECT cadence.advance_to_next_step(pg_temp.run_of('lead-1'), '2026-05-04 08:00Z') - 'runId';
SELECT cadence.complete_manual_step(pg_temp.run_of('lead-1'), 2, 'Spoke for 10 minutes',
									'interested', '2026-05-06 13:00Z') - 'runId';
SELECT * FROM pg_temp.timeline('lead-1');
SELECT outcome, notes FROM cadence.events e, LATERAL (SELECT e.payload ->> 'outcome' AS outcome,
		e.payload ->> 'notes' AS notes) p
 WHERE e.run_id = pg_temp.run_of('lead-1') AND e.type = 'action.completed' ORDER BY e.id;
-- The last two steps, and the run is complete.
SELECT cadence.advance_to_next_step(pg_temp.run_of('lead-1'), '2026-05-06 15:00Z') ->> 'currentStep' AS step;
SELECT cadence.advance_to_next_step(pg_temp.run_of('lead-1'), '2026-05-06 15:01Z') - 'runId';
SELECT status, current_step, completed_at FROM cadence.runs WHERE id = pg_temp.run_of('lead-1');

-- A manual step can only be completed when it is the current step, and
-- only manual steps are completed by hand.
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	-- run ids depend on what ran before; hide them
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, 'run \d+', 'run N');
END
$$;
SELECT pg_temp.try(format('SELECT cadence.complete_manual_step(%s, 2)', pg_temp.run_of('lead-2')));
SELECT pg_temp.try(format('SELECT cadence.complete_manual_step(%s, 1)', pg_temp.run_of('lead-2')));
SELECT pg_temp.try(format('SELECT cadence.advance_to_next_step(%s)', pg_temp.run_of('lead-1')));

-- Pausing (Monday 09:00 Berlin, before the 10:00 email): the run waits;
-- resumed on Thursday, the email keeps its wait (no open day, same wall
-- time: Thursday 10:00) and what follows is planned from it.
SELECT cadence.pause_run(pg_temp.run_of('lead-2'), at => '2026-05-04 07:00Z') ->> 'status' AS status;
SELECT paused_at FROM cadence.runs WHERE id = pg_temp.run_of('lead-2');
SELECT pg_temp.try(format('SELECT cadence.pause_run(%s)', pg_temp.run_of('lead-2')));
SELECT cadence.resume_run(pg_temp.run_of('lead-2'), '2026-05-07 07:00Z') - 'runId';
SELECT * FROM pg_temp.timeline('lead-2');

-- Skipping forward: steps before the target are skipped, the target is
-- due at once, what follows by its rules.
SELECT cadence.skip_to_step(pg_temp.run_of('lead-3'), 3, '2026-05-04 07:30Z') - 'runId';
SELECT * FROM pg_temp.timeline('lead-3');
SELECT pg_temp.try(format('SELECT cadence.skip_to_step(%s, 2)', pg_temp.run_of('lead-3')));

-- Cancelling ends the run and cancels what was still to happen.
SELECT cadence.cancel_run(pg_temp.run_of('lead-4'), 'asked to stop by phone') ->> 'status' AS status;
SELECT * FROM pg_temp.timeline('lead-4');
SELECT exit_reason FROM cadence.runs WHERE id = pg_temp.run_of('lead-4');
SELECT pg_temp.try(format('SELECT cadence.resume_run(%s)', pg_temp.run_of('lead-4')));

-- Another tenant cannot touch these runs.
SET cadence.tenant_id = 'elsewhere';
SELECT pg_temp.try(format('SELECT cadence.pause_run(%s)', (SELECT max(id) FROM cadence.runs WHERE tenant_id = 'runs')));
SET cadence.tenant_id = 'runs';

-- Versions: editing the cadence while runs are in flight creates version
-- 2; runs in flight keep version 1, new runs get version 2.
SELECT cadence.upsert_cadence($$
{"id": "flow", "name": "Flow", "timezone": "Europe/Berlin", "isActive": true,
 "days": [
  {"dayNumber": 1, "actions": [
    {"id": "mail", "type": "email", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "11:00"},
     "config": {"email": {"subject": "Hi", "bodyHtml": "<p>Hi</p>"}}}]}]}
$$) ->> 'version' AS version;
SELECT cadence.plan_run_for_lead('flow', 'lead-4', '2026-05-04 06:00Z') > 0 AS enrolled_again;
SELECT r.lead_id, r.cadence_version, count(a.*) AS actions,
	   min(a.due_at AT TIME ZONE 'Europe/Berlin') AS first_due
  FROM cadence.runs r JOIN cadence.scheduled_actions a ON a.run_id = r.id
 WHERE r.lead_id IN ('lead-5', 'lead-4') AND r.status = 'active'
 GROUP BY r.lead_id, r.cadence_version ORDER BY r.lead_id;
-- Advancing a version-1 run still follows version 1's rules.
SELECT cadence.advance_to_next_step(pg_temp.run_of('lead-5'), '2026-05-04 08:00Z') ->> 'currentStep' AS step;
SELECT * FROM pg_temp.timeline('lead-5');

-- The audit trail of the transitions above.
SELECT type, count(*) FROM cadence.events WHERE tenant_id = 'runs' AND run_id IS NOT NULL
 GROUP BY type ORDER BY type;
