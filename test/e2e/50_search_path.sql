-- The background worker with a hostile search_path: its database's
-- setting puts a schema another role writes first, pg_catalog last, and
-- that schema holds look-alikes of the operators and functions the
-- dispatch statements use (test/helpers/planted.sql).  The worker
-- pins its own path, so after a restart it sends as before and calls none
-- of them.
\set ON_ERROR_STOP 1
\set QUIET 1
\i test/helpers/mock.sql
\i test/helpers/wait.sql
SELECT pg_temp.mock_post('/_mock/reset');
SELECT plan(4);

\i test/helpers/planted.sql

-- The dispatcher starts again under the database's new setting.
ALTER DATABASE cadence_e2e SET search_path = planted, public, pg_catalog;
SELECT (cadence.worker_status() -> 'pids' ->> 0)::int AS old_pid \gset
SELECT pg_terminate_backend(:old_pid);
SELECT ok(pg_temp.wait_for(format($$SELECT (cadence.worker_status() -> 'pids' ->> 0)::int
										   IS DISTINCT FROM %s
									  AND (cadence.worker_status() ->> 'running')::boolean$$,
								  :old_pid)),
		  'the dispatcher started again under a hostile search_path');

INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default)
VALUES ('planted', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
		'{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "tw-secret"}',
		'{"from": "+15005550006"}', true);
INSERT INTO cadence.contacts (tenant_id, id, first_name, phone, timezone)
VALUES ('planted', 'lead-1', 'Pat', '+14155550301', 'UTC');
SET cadence.tenant_id = 'planted';
SELECT cadence.upsert_cadence('{"id": "planted", "name": "planted", "timezone": "UTC", "isActive": true,
	"settings": {"quietHours": {"sms": null}},
	"days": [{"dayNumber": 1, "actions": [{"type": "sms", "scheduleRule": {"kind": "immediately"},
		"config": {"sms": {"body": "Hi {{firstName}}"}}}]}]}') IS NOT NULL;
SELECT cadence.plan_run_for_lead('planted', 'lead-1') > 0;
SELECT ok(pg_temp.wait_for($$SELECT status = 'sent' FROM cadence.scheduled_actions
							  WHERE tenant_id = 'planted'$$),
		  'the worker sends as before');
SELECT is((SELECT r -> 'form' ->> 'Body' FROM pg_temp.mock_requests('twilio') r), 'Hi Pat',
		  'the message it sent is the lead''s');
SELECT is((SELECT is_called FROM planted.calls), false,
		  'no planted operator or function was called');

ALTER DATABASE cadence_e2e RESET search_path;
DROP SCHEMA planted CASCADE;
DROP ROLE cadence_test_planter;
SELECT * FROM finish();
