-- The background worker at work: a real dispatcher (cadence preloaded,
-- cadence.database_name = this database) sending through the mock
-- provider.  Nothing here runs in one transaction: the worker only sees
-- what is committed.  Waits poll for a condition, with a deadline.
\set ON_ERROR_STOP 1
\set QUIET 1
\i test/helpers/mock.sql
\i test/helpers/wait.sql
SELECT pg_temp.mock_post('/_mock/reset');
SELECT plan(24);

SELECT ok(pg_temp.wait_for($$SELECT (cadence.worker_status() ->> 'running')::boolean$$),
		  'the dispatcher runs for this database');
SELECT is((SELECT backend_type FROM pg_stat_activity WHERE pid = (cadence.worker_status() -> 'pids' ->> 0)::int),
		  'cadence dispatcher', 'it shows in pg_stat_activity');

INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default) VALUES
	('e2e', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
	 '{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "tw-secret"}',
	 '{"from": "+15005550006"}', true),
	('e2e', 'resend', 'email', 'resend', 'http://127.0.0.1:18025',
	 '{"apiKey": "re_secret"}', '{"from": "sales@acme.test"}', true),
	('e2e', 'hooks', 'webhook', 'webhook', 'http://127.0.0.1:18025',
	 '{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}', '{}', true);
-- Leads in UTC; the cadences below turn SMS quiet hours off, except the
-- one that tests them.
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, timezone)
SELECT 'e2e', 'lead-' || g, 'Lead' || g, 'lead' || g || '@x.test', '+1415555' || lpad(g::text, 4, '0'), 'UTC'
  FROM generate_series(1, 300) g;

SET cadence.tenant_id = 'e2e';
CREATE FUNCTION pg_temp.cadence(id text, steps jsonb, settings jsonb DEFAULT '{"quietHours": {"sms": null}}')
RETURNS void LANGUAGE sql AS $$
	SELECT cadence.upsert_cadence(jsonb_build_object('id', id, 'name', id, 'timezone', 'UTC',
		'isActive', true, 'settings', settings,
		'days', jsonb_build_array(jsonb_build_object('dayNumber', 1, 'actions', steps))))
$$;
CREATE FUNCTION pg_temp.statuses(cid text) RETURNS text[] LANGUAGE sql AS $$
	SELECT array_agg(a.status || '/' || a.attempts ORDER BY r.lead_id, a.step_number)
	  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
	 WHERE r.cadence_id = cid
$$;
\set sms '{"type": "sms", "scheduleRule": {"kind": "immediately"}, "config": {"sms": {"body": "Hi {{firstName}}"}}}'

--
-- Happy path: SMS, then email, then a signed webhook, for three leads.  The
-- worker was idle; the enrollment's commit wakes it.
--
SELECT pg_temp.cadence('happy', jsonb_build_array(:'sms'::jsonb,
	'{"type": "email", "scheduleRule": {"kind": "immediately"}, "config": {"email": {"subject": "Hi", "bodyText": "Hello {{firstName}}"}}}'::jsonb,
	'{"type": "webhook", "scheduleRule": {"kind": "immediately"}, "config": {"webhook": {"url": "http://127.0.0.1:18025/hooks/e2e"}}}'::jsonb));
SELECT clock_timestamp() AS enrolled_at \gset
SELECT count(*) FROM cadence.plan_runs('happy', ARRAY['lead-1', 'lead-2', 'lead-3']);
SELECT ok(pg_temp.wait_for($$SELECT count(*) = 3 FROM cadence.runs WHERE cadence_id = 'happy' AND status = 'completed'$$),
		  'the worker sends all three steps of three runs and completes the runs');
SELECT ok(clock_timestamp() - :'enrolled_at'::timestamptz < interval '20 seconds',
		  'woken by the commit, not by its idle timer (a minute)');
SELECT is(pg_temp.statuses('happy'), array_fill('sent/1'::text, ARRAY[9]),
		  'every action sent at the first attempt');
SELECT is((SELECT array_agg(r ->> 'kind' ORDER BY r ->> 'kind') FROM pg_temp.mock_requests() AS r),
		  ARRAY['resend', 'resend', 'resend', 'twilio', 'twilio', 'twilio', 'webhook', 'webhook', 'webhook'],
		  'the providers got three SMS, three emails and three webhooks');
SELECT is((SELECT count(DISTINCT r ->> 'idempotencyKey') FROM pg_temp.mock_requests() AS r), 9::bigint,
		  'each with its own idempotency key');
SELECT ok((SELECT bool_and(b.sent_at >= a.sent_at)
			 FROM cadence.scheduled_actions a JOIN cadence.scheduled_actions b
			   ON b.run_id = a.run_id AND b.step_number = a.step_number + 1
			 JOIN cadence.runs r ON r.id = a.run_id WHERE r.cadence_id = 'happy'),
		  'the steps of a run go out in order');

--
-- A 500 is retried (after cadence.retry_base_seconds) and then succeeds,
-- with the same idempotency key; a 400 fails for good.
--
SELECT pg_temp.mock_post('/_mock/reset');
SELECT pg_temp.mock_post('/_mock/fail', '{"kind": "twilio", "mode": "500", "times": 1}');
SELECT pg_temp.cadence('retry', jsonb_build_array(:'sms'::jsonb));
SELECT cadence.plan_run_for_lead('retry', 'lead-4') > 0;
SELECT ok(pg_temp.wait_for($$SELECT pg_temp.statuses('retry') = '{sent/2}'$$),
		  'a 500 is retried and the second attempt is sent');
SELECT is((SELECT count(DISTINCT r ->> 'idempotencyKey') FROM pg_temp.mock_requests('twilio') AS r),
		  1::bigint, 'both attempts carried the same idempotency key');
SELECT is((SELECT count(*) FROM pg_temp.mock_requests('twilio')), 2::bigint, 'two requests in all');

UPDATE cadence.contacts SET phone = '+15005550001' WHERE id = 'lead-5';
SELECT pg_temp.cadence('refused', jsonb_build_array(:'sms'::jsonb));
SELECT cadence.plan_run_for_lead('refused', 'lead-5') > 0;
SELECT ok(pg_temp.wait_for($$SELECT pg_temp.statuses('refused') = '{failed/1}'$$),
		  'a 400 fails at once');
SELECT matches((SELECT last_error FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
				 WHERE r.cadence_id = 'refused'), '^HTTP 400: Twilio error 21211',
			   'with the provider''s own error');

--
-- A bad row fails alone: an account the provider cannot be called with
-- (no auth token) fails its action with the reason; the worker goes on.
--
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings)
VALUES ('e2e', 'broken', 'sms', 'twilio', 'http://127.0.0.1:18025', '{"accountSid": "AC1"}',
		'{"from": "+15005550006"}');
SELECT pg_temp.cadence('broken', '[{"type": "sms", "scheduleRule": {"kind": "immediately"},
	"config": {"providerId": "broken", "sms": {"body": "Hi"}}}]');
SELECT pg_temp.cadence('after-broken', jsonb_build_array(:'sms'::jsonb));
BEGIN;	-- one commit, so that both fall in one batch
SELECT cadence.plan_run_for_lead('broken', 'lead-8') > 0;
SELECT cadence.plan_run_for_lead('after-broken', 'lead-9') > 0;
COMMIT;
SELECT pg_temp.wait_for($$SELECT pg_temp.statuses('broken') = '{failed/1}'
						   AND pg_temp.statuses('after-broken') = '{sent/1}'$$);
SELECT is(pg_temp.statuses('broken') || pg_temp.statuses('after-broken')
		  || (SELECT a.last_error FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
			   WHERE r.cadence_id = 'after-broken'),
		  '{failed/1,sent/1,NULL}', 'an action whose account is broken fails, the next one is sent');
SELECT is((SELECT last_error FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
			WHERE r.cadence_id = 'broken'),
		  'the credentials of twilio account "broken" has no authToken',
		  'saying what is missing, never a secret');

--
-- Quiet hours, checked by the worker at send time in the lead's zone.
--
INSERT INTO cadence.contacts (tenant_id, id, first_name, phone, timezone)
SELECT 'e2e', 'night-owl', 'Owl', '+14155559999', z.name
  FROM pg_timezone_names z
 WHERE z.name ~ '^Etc/GMT[-+][0-9]+$'
   AND extract(hour FROM now() AT TIME ZONE z.name) BETWEEN 1 AND 5
 ORDER BY z.name LIMIT 1;
SELECT pg_temp.cadence('night', jsonb_build_array(:'sms'::jsonb), '{}');
SELECT cadence.plan_run_for_lead('night', 'night-owl') > 0;
SELECT ok(pg_temp.wait_for($$SELECT moved_reason = 'quiet_hours' FROM cadence.scheduled_actions a
							  JOIN cadence.runs r ON r.id = a.run_id WHERE r.cadence_id = 'night'$$),
		  'an SMS due in the middle of the lead''s night is moved, not sent');
SELECT is((SELECT extract(hour FROM a.due_at AT TIME ZONE c.timezone)::int
			 FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
			 JOIN cadence.contacts c ON c.id = r.lead_id WHERE r.cadence_id = 'night'),
		  8, 'to 08:00 in the lead''s zone');

--
-- A paused run is left alone however due its step.  (Paused in the same
-- transaction that enrolled it; a second cadence's send marks the point
-- by which the worker has seen both.)
--
BEGIN;
SELECT pg_temp.cadence('paused', jsonb_build_array(:'sms'::jsonb));
SELECT cadence.pause_run(cadence.plan_run_for_lead('paused', 'lead-6'));
SELECT pg_temp.cadence('marker', jsonb_build_array(:'sms'::jsonb));
SELECT cadence.plan_run_for_lead('marker', 'lead-7') > 0;
COMMIT;
SELECT ok(pg_temp.wait_for($$SELECT pg_temp.statuses('marker') = '{sent/1}'$$), 'the marker is sent');
SELECT is(pg_temp.statuses('paused'), '{planned/0}', 'the paused run''s step is not dispatched');
SELECT cadence.resume_run(id) FROM cadence.runs WHERE cadence_id = 'paused';
SELECT ok(pg_temp.wait_for($$SELECT pg_temp.statuses('paused') = '{sent/1}'$$),
		  'once resumed it is sent');

--
-- Two sessions running cadence.run_due_actions() beside the worker never
-- send one action twice: 250 SMS due at once.
--
SELECT pg_temp.mock_post('/_mock/reset');
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT pg_temp.cadence('crowd', jsonb_build_array(:'sms'::jsonb));
BEGIN;
SELECT count(*) FROM cadence.plan_runs('crowd', ARRAY(SELECT 'lead-' || g FROM generate_series(11, 260) g));
SELECT dblink_connect('r1', format('dbname=%s port=%s host=%s', current_database(), current_setting('port'),
								   split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT dblink_connect('r2', format('dbname=%s port=%s host=%s', current_database(), current_setting('port'),
								   split_part(current_setting('unix_socket_directories'), ',', 1)));
COMMIT;
SELECT dblink_send_query('r1', 'SELECT sum((cadence.run_due_actions(25) ->> ''claimed'')::int) FROM generate_series(1, 10)');
SELECT dblink_send_query('r2', 'SELECT sum((cadence.run_due_actions(25) ->> ''claimed'')::int) FROM generate_series(1, 10)');
SELECT ok(pg_temp.wait_for($$SELECT count(*) = 250 FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
							  WHERE r.cadence_id = 'crowd' AND a.status = 'sent'$$),
		  'all 250 are sent');
SELECT * FROM dblink_get_result('r1') AS t(claimed bigint);
SELECT * FROM dblink_get_result('r2') AS t(claimed bigint);
SELECT is((SELECT count(*) FROM pg_temp.mock_requests('twilio')), 250::bigint,
		  '250 requests reached the provider');
SELECT is((SELECT count(DISTINCT r ->> 'idempotencyKey') FROM pg_temp.mock_requests('twilio') AS r), 250::bigint,
		  'one per action: none was sent twice');
SELECT dblink_disconnect('r1');
SELECT dblink_disconnect('r2');

SELECT cmp_ok((cadence.worker_status() ->> 'sent')::int, '>=', 1,
			  'worker_status counts what was sent');

SELECT * FROM finish();
