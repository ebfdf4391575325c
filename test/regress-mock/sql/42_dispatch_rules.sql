-- What the runners do besides sending: retry with backoff (and the same
-- idempotency key), fail for good, respect quiet hours, business hours,
-- daily caps and provider rate limits at send time, skip what must not be
-- sent, hand manual steps to a person, and leave paused runs alone.  The
-- runner's clock is as_of; the mock provider fails on demand.
SET timezone = 'UTC';
-- (Each pass of the runner is limited to this file's tenant, its third
-- argument, so that other test files' runs are left alone.)
\set ECHO none
\i test/helpers/mock.sql
\set ECHO all
SELECT pg_temp.mock_post('/_mock/reset');
-- Short waits for the test: retries start at 1 second, answers time out
-- after half a second.
SET cadence.retry_base_seconds = 1;
SET cadence.http_timeout_ms = 500;

INSERT INTO cadence.members (tenant_id, user_id, role) VALUES ('rules', 'rita', 'owner');
SET cadence.tenant_id = 'rules';
SET cadence.user_id = 'rita';
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default) VALUES
	('rules', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
	 '{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "tw-secret"}',
	 '{"from": "+15005550006"}', true),
	('rules', 'resend', 'email', 'resend', 'http://127.0.0.1:18025',
	 '{"apiKey": "re_secret"}', '{"from": "sales@acme.test"}', true);
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, timezone, owner_id) VALUES
	('rules', 'ny', 'Nia', 'nia@ny.test', '+12125550101', 'America/New_York', 'rep-7'),
	('rules', 'la', 'Lou', 'lou@la.test', '+13105550102', 'America/Los_Angeles', 'rep-7'),
	('rules', 'sf', 'Sol', 'sol@sf.test', '+14155550103', 'America/Los_Angeles', 'rep-7');

-- cadence(id, steps, settings): an active cadence in New York time.
CREATE FUNCTION pg_temp.cadence(id text, steps jsonb, settings jsonb DEFAULT '{}') RETURNS void
LANGUAGE sql AS $$
	SELECT cadence.upsert_cadence(jsonb_build_object('id', id, 'name', id,
		'timezone', 'America/New_York', 'isActive', true, 'settings', settings,
		'days', jsonb_build_array(jsonb_build_object('dayNumber', 1, 'actions', steps))))
$$;
-- The actions of a cadence's runs, oldest first.
CREATE FUNCTION pg_temp.actions(cid text)
RETURNS TABLE (lead text, step int, status text, attempts int, due_at timestamptz,
			   moved text, skip text, error text)
LANGUAGE sql AS $$
	SELECT r.lead_id, a.step_number, a.status, a.attempts, a.due_at, a.moved_reason,
		   a.skip_reason, a.last_error
	  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
	 WHERE r.tenant_id = 'rules' AND r.cadence_id = cid ORDER BY r.lead_id, a.step_number
$$;
\set sms '{"type": "sms", "scheduleRule": {"kind": "immediately"}, "config": {"sms": {"body": "Hi {{firstName}}"}}}'

--
-- Retry: a 500 is retried after a backoff, with the same idempotency key;
-- the second attempt succeeds.  (Run at 15:00 UTC, 11:00 in New York.)
--
SELECT pg_temp.cadence('retry', jsonb_build_array(:'sms'::jsonb));
SELECT cadence.plan_run_for_lead('retry', 'ny', '2026-03-10 15:00Z') > 0 AS enrolled;
SELECT pg_temp.mock_post('/_mock/fail', '{"kind": "twilio", "mode": "500", "times": 1}');
SELECT cadence.run_due_actions(10, '2026-03-10 15:00Z', 'rules');
-- Scheduled again 0.5 to 1 second later (the first backoff, with jitter).
SELECT status, attempts, moved, error,
	   due_at - '2026-03-10 15:00Z' BETWEEN '0.5 s' AND '1 s' AS backoff
  FROM pg_temp.actions('retry');
SELECT cadence.run_due_actions(10, '2026-03-10 15:01Z', 'rules');
SELECT status, attempts FROM pg_temp.actions('retry');
SELECT count(*) AS requests, count(DISTINCT r ->> 'idempotencyKey') AS keys,
	   array_agg(r ->> 'status' ORDER BY (r ->> 'seq')::int) AS answers
  FROM pg_temp.mock_requests('twilio') AS r;

--
-- A 429 with Retry-After waits at least that long.
--
SELECT pg_temp.mock_post('/_mock/reset');
SELECT pg_temp.cadence('throttled', jsonb_build_array(:'sms'::jsonb));
SELECT cadence.plan_run_for_lead('throttled', 'ny', '2026-03-10 15:00Z') > 0 AS enrolled;
SELECT pg_temp.mock_post('/_mock/fail', '{"kind": "twilio", "mode": "429", "retryAfter": 120}');
SELECT cadence.run_due_actions(10, '2026-03-10 15:00Z', 'rules') ->> 'retried' AS retried;
SELECT status, error, due_at >= '2026-03-10 15:02Z' AS waits_retry_after FROM pg_temp.actions('throttled');
-- (Cancelled here, and the next one too, so later passes start clean.)
SELECT cadence.cancel_run(id) ->> 'status' AS run FROM cadence.runs WHERE tenant_id = 'rules' AND cadence_id = 'throttled';

--
-- No answer in time (the provider hangs) is retried too.
--
SELECT pg_temp.mock_post('/_mock/reset');
SELECT pg_temp.cadence('hang', jsonb_build_array(:'sms'::jsonb));
SELECT cadence.plan_run_for_lead('hang', 'ny', '2026-03-10 15:00Z') > 0 AS enrolled;
SELECT pg_temp.mock_post('/_mock/fail', '{"kind": "twilio", "mode": "hang", "hangSeconds": 3}');
SELECT cadence.run_due_actions(10, '2026-03-10 15:00Z', 'rules') ->> 'retried' AS retried;
SELECT status, attempts, error FROM pg_temp.actions('hang');
SELECT cadence.cancel_run(id) ->> 'status' AS run FROM cadence.runs WHERE tenant_id = 'rules' AND cadence_id = 'hang';

--
-- A 400 is final: failed at once, with the provider's own error, and the
-- run goes on without it.  Attempts are capped: after the last one a
-- retryable error fails the action too.
--
SELECT pg_temp.mock_post('/_mock/reset');
SELECT pg_temp.cadence('refused', jsonb_build_array(:'sms'::jsonb,
	'{"type": "email", "scheduleRule": {"kind": "immediately"}, "config": {"email": {"subject": "Hi", "bodyText": "Hi {{firstName}}"}}}'::jsonb));
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, timezone)
VALUES ('rules', 'bad', 'Bo', 'bo@bad.test', '+15005550001', 'America/New_York');
SELECT cadence.plan_run_for_lead('refused', 'bad', '2026-03-10 15:00Z') > 0 AS enrolled;
SELECT cadence.run_due_actions(10, '2026-03-10 15:00Z', 'rules');
SELECT cadence.run_due_actions(10, '2026-03-10 15:00Z', 'rules');
SELECT step, status, attempts, error FROM pg_temp.actions('refused');
SELECT status FROM cadence.runs WHERE tenant_id = 'rules' AND cadence_id = 'refused';

SET cadence.max_attempts = 2;
SELECT pg_temp.cadence('capped', jsonb_build_array(:'sms'::jsonb));
SELECT cadence.plan_run_for_lead('capped', 'ny', '2026-03-10 15:00Z') > 0 AS enrolled;
SELECT pg_temp.mock_post('/_mock/fail', '{"kind": "twilio", "mode": "503", "times": -1}');
SELECT cadence.run_due_actions(10, '2026-03-10 15:00Z', 'rules') ->> 'retried' AS retried;
SELECT cadence.run_due_actions(10, '2026-03-10 16:00Z', 'rules') ->> 'failed' AS failed;
SELECT status, attempts, error FROM pg_temp.actions('capped');
RESET cadence.max_attempts;
SELECT pg_temp.mock_post('/_mock/reset');

--
-- Outbound hosts can be restricted: a provider off the list is refused
-- before any request leaves.
--
SET cadence.allowed_hosts = 'api.twilio.com, *.sendgrid.net';
SELECT pg_temp.cadence('walled', jsonb_build_array(:'sms'::jsonb));
SELECT cadence.plan_run_for_lead('walled', 'ny', '2026-03-10 15:00Z') > 0 AS enrolled;
SELECT cadence.run_due_actions(10, '2026-03-10 15:00Z', 'rules') ->> 'failed' AS failed;
SELECT status, error FROM pg_temp.actions('walled');
RESET cadence.allowed_hosts;
SELECT count(*) AS requests_made FROM pg_temp.mock_requests('twilio');

--
-- Quiet hours, in the lead's own zone: SMS never goes out between 21:00
-- and 08:00 there.  Nia's step would fall due at 02:30 UTC, 22:30 in New
-- York: the planner, with the same send window the runners use, puts it
-- at 08:00 New York time (quiet_hours), so the runner leaves it be.  Lou's
-- (Los Angeles, 19:30) goes out.  A cadence may set other hours.
--
SELECT pg_temp.cadence('quiet', jsonb_build_array(:'sms'::jsonb));
SELECT count(*) AS enrolled FROM cadence.plan_runs('quiet', ARRAY['ny', 'la'], '2026-03-11 02:30Z');
SELECT cadence.run_due_actions(10, '2026-03-11 02:30Z', 'rules');
SELECT lead, status, moved, due_at, due_at AT TIME ZONE 'America/New_York' AS ny_time
  FROM pg_temp.actions('quiet');
SELECT pg_temp.cadence('late-night', jsonb_build_array(:'sms'::jsonb),
					   '{"quietHours": {"sms": {"start": "23:00", "end": "07:00"}}}');
SELECT cadence.plan_run_for_lead('late-night', 'ny', '2026-03-11 02:30Z') > 0 AS enrolled;
SELECT cadence.run_due_actions(10, '2026-03-11 02:30Z', 'rules') ->> 'sent' AS sent;
-- "quietHours": null turns them off for every channel, for the planner and
-- the runners alike: Nia's step due at 22:30 in New York goes out then;
-- so does one planned for 20:30 that a runner reaches only at 22:30,
-- which without the setting waits for 08:00.
SELECT pg_temp.cadence('night-owl', jsonb_build_array(:'sms'::jsonb), '{"quietHours": null}');
SELECT pg_temp.cadence('late-owl', jsonb_build_array(:'sms'::jsonb), '{"quietHours": null}');
SELECT pg_temp.cadence('late-lark', jsonb_build_array(:'sms'::jsonb));
SELECT cadence.plan_run_for_lead('night-owl', 'ny', '2026-03-11 02:30Z') > 0 AS enrolled;
SELECT cadence.plan_run_for_lead(c, 'ny', '2026-03-11 00:30Z') > 0 AS enrolled
  FROM unnest(ARRAY['late-owl', 'late-lark']) AS c;
SELECT cadence.run_due_actions(10, '2026-03-11 02:30Z', 'rules') - 'claimed' AS late_round;
SELECT c AS cadence, a.status, a.moved, a.due_at AT TIME ZONE 'America/New_York' AS ny_time
  FROM unnest(ARRAY['night-owl', 'late-owl', 'late-lark']) AS c, pg_temp.actions(c) AS a;

--
-- Business hours are checked again when sending: a step due in hours but
-- sent late (the runner was off over the weekend) waits for Monday 09:00.
--
SELECT pg_temp.cadence('office', jsonb_build_array(:'sms'::jsonb),
	'{"excludeWeekends": true, "businessHours": {"monday": {"start": "09:00", "end": "17:00"}, "tuesday": {"start": "09:00", "end": "17:00"}, "wednesday": {"start": "09:00", "end": "17:00"}, "thursday": {"start": "09:00", "end": "17:00"}, "friday": {"start": "09:00", "end": "17:00"}}}');
SELECT cadence.plan_run_for_lead('office', 'ny', '2026-03-13 19:00Z') > 0 AS enrolled;
SELECT cadence.run_due_actions(10, '2026-03-14 15:00Z', 'rules') ->> 'moved' AS moved;
SELECT status, moved, due_at AT TIME ZONE 'America/New_York' AS ny_time FROM pg_temp.actions('office');

--
-- A daily cap (settings.maxContactsPerDay): two runs of this cadence
-- start a day, in its zone; the third starts the next open day, at its
-- first action's time of day (10:00 in Los Angeles).
--
SELECT pg_temp.cadence('capped-day', jsonb_build_array(:'sms'::jsonb), '{"maxContactsPerDay": 2}');
SELECT count(*) AS enrolled FROM cadence.plan_runs('capped-day', ARRAY['ny', 'la', 'sf'], '2026-03-10 17:00Z');
SELECT cadence.run_due_actions(10, '2026-03-10 17:00Z', 'rules');
SELECT lead, status, moved, due_at AT TIME ZONE 'America/New_York' AS ny_time FROM pg_temp.actions('capped-day');
SELECT day, started FROM cadence.daily_sends WHERE cadence_id = 'capped-day';

--
-- A provider's requests-per-second limit spaces the requests out, across
-- every runner: four messages at two per second are spread over 1.5 s.
--
UPDATE cadence.providers SET rate_per_second = 2 WHERE id = 'twilio';
SELECT pg_temp.mock_post('/_mock/reset');
SELECT pg_temp.cadence('paced', jsonb_build_array(:'sms'::jsonb));
INSERT INTO cadence.contacts (tenant_id, id, first_name, phone, timezone) VALUES
	('rules', 'p4', 'Pia', '+13105550104', 'America/Los_Angeles');
SELECT count(*) AS enrolled FROM cadence.plan_runs('paced', ARRAY['ny', 'la', 'sf', 'p4'], '2026-03-10 17:00Z');
SELECT extract(epoch FROM clock_timestamp()) AS started \gset
SELECT cadence.run_due_actions(10, '2026-03-10 17:00Z', 'rules') ->> 'sent' AS sent;
-- The k-th request (from 0) starts no sooner than k half-seconds after the
-- runner did.
SELECT count(*) AS requests,
	   bool_and((r ->> 'at')::numeric >= :started + 0.5 * (k - 1)) AS spaced
  FROM pg_temp.mock_requests('twilio') WITH ORDINALITY AS m(r, k);
UPDATE cadence.providers SET rate_per_second = NULL WHERE id = 'twilio';

--
-- Not sent at all: a lead who opted out or was put on the do-not-contact
-- list after planning, a lead without a phone number, a template variable
-- without a value, a channel the tenant has no provider account for.
--
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, timezone) VALUES
	('rules', 'optout', 'Oz', 'oz@x.test', '+12125550105', 'America/New_York'),
	('rules', 'listed', 'Li', 'li@x.test', '+12125550106', 'America/New_York'),
	('rules', 'nophone', 'Ned', 'ned@x.test', NULL, 'America/New_York'),
	('rules', 'noname', NULL, 'nn@x.test', '+12125550107', 'America/New_York');
SELECT pg_temp.cadence('skips', jsonb_build_array(:'sms'::jsonb));
SELECT count(*) AS enrolled
  FROM cadence.plan_runs('skips', ARRAY['optout', 'listed', 'nophone', 'noname'], '2026-03-10 17:00Z');
UPDATE cadence.contacts SET unsubscribed = true WHERE id = 'optout';
INSERT INTO cadence.suppressions (tenant_id, channel, address, reason)
VALUES ('rules', 'sms', '+12125550106', 'stop_keyword');
SELECT cadence.run_due_actions(10, '2026-03-10 17:00Z', 'rules');
SELECT lead, status, skip, error FROM pg_temp.actions('skips');
SELECT pg_temp.cadence('no-account', '[{"type": "whatsapp", "scheduleRule": {"kind": "immediately"}, "config": {"whatsapp": {"body": "Oi"}}}]');
SELECT cadence.plan_run_for_lead('no-account', 'ny', '2026-03-10 17:00Z') > 0 AS enrolled;
SELECT cadence.run_due_actions(10, '2026-03-10 17:00Z', 'rules') ->> 'failed' AS failed;
SELECT status, error FROM pg_temp.actions('no-account');

--
-- An SMS or WhatsApp text that renders empty (a template that does not
-- exist, a body of nothing but an empty fallback) fails before any request
-- is made: a provider would refuse it, or deliver an empty message.
--
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default)
VALUES ('rules', 'whatsapp', 'whatsapp', 'whatsapp_cloud', 'http://127.0.0.1:18025',
		'{"accessToken": "wa-secret"}', '{"phoneNumberId": "1055512345"}', true);
SELECT pg_temp.mock_post('/_mock/reset');
SELECT pg_temp.cadence('blank', '[{"type": "sms", "scheduleRule": {"kind": "immediately"}, "config": {"sms": {"templateId": "missing"}}},
	{"type": "whatsapp", "scheduleRule": {"kind": "immediately"}, "config": {"whatsapp": {"body": "{{nickname|}}"}}}]');
SELECT cadence.plan_run_for_lead('blank', 'ny', '2026-03-10 17:00Z') > 0 AS enrolled;
SELECT cadence.run_due_actions(10, '2026-03-10 17:00Z', 'rules') ->> 'failed' AS failed;
SELECT cadence.run_due_actions(10, '2026-03-10 17:00Z', 'rules') ->> 'failed' AS failed;
SELECT step, status, error FROM pg_temp.actions('blank');
SELECT count(*) AS requests_made FROM pg_temp.mock_requests();

--
-- Manual steps: a call falls due, becomes a task for the run's assignee
-- (else the lead's owner), and the run waits until a person completes it.
--
SELECT pg_temp.cadence('calls', jsonb_build_array(
	'{"type": "call_task", "name": "Discovery call", "scheduleRule": {"kind": "immediately"}, "config": {"task": {"description": "Ask about their renewal date"}}}'::jsonb,
	:'sms'::jsonb));
SELECT cadence.plan_run_for_lead('calls', 'ny', '2026-03-10 17:00Z') > 0 AS enrolled;
SELECT cadence.run_due_actions(10, '2026-03-10 17:00Z', 'rules');
SELECT step, status FROM pg_temp.actions('calls');
SELECT type, title, description, assignee_id, status, due_at FROM cadence.tasks WHERE tenant_id = 'rules';
SELECT cadence.complete_manual_step((SELECT id FROM cadence.runs WHERE tenant_id = 'rules' AND cadence_id = 'calls'), 1,
									'Left a voicemail', 'no_answer', '2026-03-10 17:20Z') ->> 'currentStep' AS now_at;
SELECT cadence.run_due_actions(10, '2026-03-10 17:20Z', 'rules') ->> 'sent' AS sent;
SELECT step, status FROM pg_temp.actions('calls');
SELECT status, outcome, notes FROM cadence.tasks WHERE tenant_id = 'rules';

--
-- A paused run is not dispatched, however due its step; after resuming it
-- goes out.
--
SELECT pg_temp.cadence('paused', jsonb_build_array(:'sms'::jsonb));
SELECT cadence.plan_run_for_lead('paused', 'ny', '2026-03-10 17:00Z') > 0 AS enrolled;
SELECT cadence.pause_run((SELECT id FROM cadence.runs WHERE tenant_id = 'rules' AND cadence_id = 'paused')) ->> 'status' AS run;
SELECT cadence.run_due_actions(10, '2026-03-10 18:00Z', 'rules') ->> 'claimed' AS claimed;
SELECT status FROM pg_temp.actions('paused');
SELECT cadence.resume_run((SELECT id FROM cadence.runs WHERE tenant_id = 'rules' AND cadence_id = 'paused'), '2026-03-10 18:00Z') ->> 'status' AS run;
SELECT cadence.run_due_actions(10, '2026-03-10 18:00Z', 'rules') ->> 'sent' AS sent;

-- Every outcome above is in the audit log.
SELECT type, count(*) FROM cadence.events
 WHERE tenant_id = 'rules' AND type LIKE 'action.%' GROUP BY type ORDER BY type;
