-- Claims and answers, with the background worker: a claim lasts as long as
-- its runner, however slow the provider; an answer that comes back after
-- the action moved on is never thrown away; a runner that stops leaves
-- its claims to the next claim at once.
\set ON_ERROR_STOP 1
\set QUIET 1
\i test/helpers/mock.sql
\i test/helpers/wait.sql
SELECT pg_temp.mock_post('/_mock/reset');
SELECT plan(14);

INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default)
VALUES ('claims', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
		'{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "tw-secret"}',
		'{"from": "+15005550006"}', true);
INSERT INTO cadence.contacts (tenant_id, id, first_name, phone, timezone)
SELECT 'claims', 'lead-' || g, 'Lead' || g, '+1415777' || lpad(g::text, 4, '0'), 'UTC'
  FROM generate_series(1, 20) g;
SET cadence.tenant_id = 'claims';
-- sms(id): a one-SMS cadence.
CREATE FUNCTION pg_temp.sms(id text) RETURNS void LANGUAGE sql AS $$
	SELECT cadence.upsert_cadence(jsonb_build_object('id', id, 'name', id, 'timezone', 'UTC',
		'isActive', true, 'settings', '{"quietHours": {"sms": null}}'::jsonb,
		'days', jsonb_build_array(jsonb_build_object('dayNumber', 1, 'actions',
			'[{"type": "sms", "scheduleRule": {"kind": "immediately"}, "config": {"sms": {"body": "Hi {{firstName}}"}}}]'::jsonb))))
$$;
-- action(cadence): its one action.
CREATE FUNCTION pg_temp.action(cid text) RETURNS cadence.scheduled_actions LANGUAGE sql AS $$
	SELECT a.* FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
	 WHERE a.tenant_id = 'claims' AND r.cadence_id = cid
$$;
-- events(cadence): its action's events, oldest first, as type/outcome.
CREATE FUNCTION pg_temp.events(cid text) RETURNS text[] LANGUAGE sql AS $$
	SELECT array_agg(e.type || '/' || coalesce(e.payload ->> 'outcome', '') ORDER BY e.id)
	  FROM cadence.events e WHERE e.tenant_id = 'claims' AND e.scheduled_action_id = (pg_temp.action(cid)).id
$$;

--
-- A slow provider: the dispatcher waits six seconds for the answer, and
-- meanwhile another runner claims again and again.  The claim stays the
-- dispatcher's (it is alive), so the provider sees one request.
--
SELECT pg_temp.mock_post('/_mock/fail', '{"kind": "twilio", "mode": "hang", "hangSeconds": 6}');
SELECT pg_temp.sms('slow');
SELECT cadence.plan_run_for_lead('slow', 'lead-1') > 0;
SELECT ok(pg_temp.wait_for($$SELECT (pg_temp.action('slow')).status = 'sending'$$),
		  'the dispatcher claims the action and sends it');
DO $$
BEGIN
	FOR i IN 1 .. 8 LOOP
		PERFORM pg_sleep(0.5);
		PERFORM cadence.run_due_actions(10, now(), 'claims');
	END LOOP;
END
$$;
SELECT ok(pg_temp.wait_for($$SELECT (pg_temp.action('slow')).status = 'sent'$$),
		  'it records the answer when it comes');
SELECT is(((pg_temp.action('slow')).attempts, (SELECT count(*) FROM pg_temp.mock_requests('twilio'))::int),
		  (1, 1), 'at the first attempt, in one request: a live runner''s claim is never taken');

--
-- An answer that comes back after the run was cancelled is recorded all
-- the same: an acceptance as sent, a refusal as an event of its own.
--
SELECT pg_temp.mock_post('/_mock/reset');
SELECT pg_temp.mock_post('/_mock/fail', '{"kind": "twilio", "mode": "hang", "hangSeconds": 3}');
SELECT pg_temp.sms('accepted-late');
SELECT cadence.plan_run_for_lead('accepted-late', 'lead-2') > 0;
SELECT ok(pg_temp.wait_for($$SELECT (pg_temp.action('accepted-late')).status = 'sending'$$),
		  'a message is out');
SELECT cadence.cancel_run(run_id) ->> 'status' FROM pg_temp.action('accepted-late');
SELECT ok(pg_temp.wait_for($$SELECT (pg_temp.action('accepted-late')).status = 'sent'$$),
		  'the run is cancelled meanwhile; the provider''s acceptance is still recorded as sent');
SELECT is(pg_temp.events('accepted-late'), ARRAY['action.sent/accepted'],
		  'and in the audit log, as accepted');

SELECT pg_temp.mock_post('/_mock/fail', '{"kind": "twilio", "mode": "503", "delaySeconds": 3}');
SELECT pg_temp.sms('refused-late');
SELECT cadence.plan_run_for_lead('refused-late', 'lead-3') > 0;
SELECT ok(pg_temp.wait_for($$SELECT (pg_temp.action('refused-late')).status = 'sending'$$),
		  'another message is out');
SELECT cadence.cancel_run(run_id) ->> 'status' FROM pg_temp.action('refused-late');
SELECT ok(pg_temp.wait_for($$SELECT EXISTS (SELECT 1 FROM cadence.events e
											 WHERE e.scheduled_action_id = (pg_temp.action('refused-late')).id
											   AND e.type = 'action.request')$$),
		  'its refusal comes back after the cancellation');
SELECT is((SELECT (a.status, e.payload ->> 'outcome', e.payload ->> 'httpStatus', e.payload ->> 'attempt')::text
			 FROM pg_temp.action('refused-late') a, cadence.events e
			WHERE e.scheduled_action_id = a.id AND e.type = 'action.request'),
		  '(cancelled,refused,503,1)',
		  'the action stays cancelled; the request is in the audit log with its status and attempt');

--
-- A dispatcher that stops (pg_terminate_backend) while its requests hang
-- leaves its claims behind; the next claim (a session's here, or the
-- dispatcher the launcher starts again) takes them over at once, as a new
-- attempt, and says the earlier one went unrecorded.
--
SELECT pg_temp.mock_post('/_mock/reset');
SELECT pg_temp.mock_post('/_mock/fail', '{"kind": "twilio", "mode": "hang", "hangSeconds": 2, "times": 5}');
SELECT pg_temp.sms('stopped');
SELECT count(*) FROM cadence.plan_runs('stopped', ARRAY(SELECT 'lead-' || g FROM generate_series(10, 14) g));
SELECT ok(pg_temp.wait_for($$SELECT count(*) = 5 FROM cadence.scheduled_actions a JOIN cadence.runs r
								ON r.tenant_id = a.tenant_id AND r.id = a.run_id
							  WHERE r.cadence_id = 'stopped' AND a.status = 'sending'$$),
		  'five messages are out');
SELECT min(a.runner) AS stopped_runner FROM cadence.scheduled_actions a JOIN cadence.runs r
	ON r.tenant_id = a.tenant_id AND r.id = a.run_id WHERE r.cadence_id = 'stopped' \gset
SELECT pid AS stopped_pid FROM pg_stat_activity WHERE backend_type = 'cadence dispatcher' \gset
SELECT pg_terminate_backend(:stopped_pid);
SELECT ok(pg_temp.wait_for(format($$SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
														 WHERE pid = %s)$$, :stopped_pid)),
		  'the dispatcher stops');
SELECT cadence.run_due_actions(10, now(), 'claims') IS NOT NULL;
SELECT ok(pg_temp.wait_for($$SELECT count(*) = 5 FROM cadence.scheduled_actions a JOIN cadence.runs r
								ON r.tenant_id = a.tenant_id AND r.id = a.run_id
							  WHERE r.cadence_id = 'stopped' AND a.status = 'sent' AND a.attempts = 2$$),
		  'the five actions are taken over and sent, at attempt 2');
SELECT is((SELECT array_agg(DISTINCT (e.payload ->> 'runner') || '/' || (e.payload ->> 'attempt'))
			 FROM cadence.events e JOIN cadence.scheduled_actions a ON a.tenant_id = e.tenant_id
			   AND a.id = e.scheduled_action_id JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
			WHERE r.cadence_id = 'stopped' AND e.type = 'action.unrecorded'),
		  ARRAY[:stopped_runner || '/1'],
		  'each with an event: attempt 1, by the runner that stopped, never recorded');

SELECT ok(pg_temp.wait_for($$SELECT (cadence.worker_status() ->> 'running')::boolean$$),
		  'the launcher starts a dispatcher again');

SELECT * FROM finish();
