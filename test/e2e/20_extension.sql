-- DROP EXTENSION while the worker runs: it is not blocked, the worker
-- waits for the extension to come back and then sends again.
\set ON_ERROR_STOP 1
\set QUIET 1
\i test/helpers/wait.sql
SELECT plan(4);

SET statement_timeout = '15s';
SELECT lives_ok('DROP EXTENSION cadence', 'DROP EXTENSION goes through with the worker running');
SELECT ok(pg_temp.wait_for($$SELECT count(*) = 1 FROM pg_stat_activity
							  WHERE backend_type = 'cadence dispatcher'$$),
		  'the worker stays, waiting for the extension');
RESET statement_timeout;

CREATE EXTENSION cadence;
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default)
VALUES ('back', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
		'{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "tw-secret"}',
		'{"from": "+15005550006"}', true);
INSERT INTO cadence.contacts (tenant_id, id, first_name, phone, timezone)
VALUES ('back', 'lead-1', 'Ada', '+14155550001', 'UTC');
SET cadence.tenant_id = 'back';
SELECT cadence.upsert_cadence('{"id": "again", "name": "again", "timezone": "UTC", "isActive": true,
	"settings": {"quietHours": {"sms": null}},
	"days": [{"dayNumber": 1, "actions": [{"type": "sms", "scheduleRule": {"kind": "immediately"},
		"config": {"sms": {"body": "Hi {{firstName}}"}}}]}]}') IS NOT NULL;
SELECT cadence.plan_run_for_lead('again', 'lead-1') > 0;
SELECT ok(pg_temp.wait_for($$SELECT status = 'sent' FROM cadence.scheduled_actions$$),
		  'with the extension back, the worker sends again');
SELECT ok((cadence.worker_status() ->> 'running')::boolean, 'and reports itself running');

SELECT * FROM finish();
