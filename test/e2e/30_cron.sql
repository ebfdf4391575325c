-- The pg_cron path: with the background worker turned off, a pg_cron job
-- calling cadence.run_due_actions() sends what is due.  pg_cron lives in
-- the postgres database (cron.database_name) and runs the job here.
\set ON_ERROR_STOP 1
\set QUIET 1
\i test/helpers/mock.sql
\i test/helpers/wait.sql
SELECT pg_temp.mock_post('/_mock/reset');
SELECT plan(5);
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT format('dbname=postgres port=%s host=%s', current_setting('port'),
			  split_part(current_setting('unix_socket_directories'), ',', 1)) AS cron_db \gset

ALTER SYSTEM SET cadence.enabled = off;
SELECT pg_reload_conf();
SELECT ok(pg_temp.wait_for($$SELECT NOT (cadence.worker_status() ->> 'running')::boolean$$),
		  'with cadence.enabled off the worker stops');

SET cadence.tenant_id = 'cron';
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default)
VALUES ('cron', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
		'{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "tw-secret"}',
		'{"from": "+15005550006"}', true);
INSERT INTO cadence.contacts (tenant_id, id, first_name, phone, timezone)
VALUES ('cron', 'lead-1', 'Cy', '+14155550001', 'UTC');
SELECT cadence.upsert_cadence('{"id": "by-cron", "name": "by-cron", "timezone": "UTC", "isActive": true,
	"settings": {"quietHours": {"sms": null}},
	"days": [{"dayNumber": 1, "actions": [{"type": "sms", "scheduleRule": {"kind": "immediately"},
		"config": {"sms": {"body": "Hi {{firstName}}"}}}]}]}') IS NOT NULL;
SELECT cadence.plan_run_for_lead('by-cron', 'lead-1') > 0;

SELECT dblink_exec(:'cron_db', 'CREATE EXTENSION IF NOT EXISTS pg_cron');
SELECT * FROM dblink(:'cron_db',
	$$SELECT cron.schedule_in_database('cadence', '* * * * *',
									   'SELECT cadence.run_due_actions(500)', 'cadence_e2e')$$) AS t(job bigint);
-- pg_cron runs jobs on minute boundaries: allow a little over a minute.
SELECT ok(pg_temp.wait_for($$SELECT a.status = 'sent' FROM cadence.scheduled_actions a
							  JOIN cadence.runs r ON r.id = a.run_id WHERE r.cadence_id = 'by-cron'$$,
						   '90 s'),
		  'the pg_cron job sends the due SMS');
SELECT is((SELECT count(*) FROM pg_temp.mock_requests('twilio')), 1::bigint, 'one request');
SELECT ok(pg_temp.wait_for(format($$SELECT status = 'succeeded' FROM dblink(%L,
			'SELECT status FROM cron.job_run_details ORDER BY runid DESC LIMIT 1') AS t(status text)$$,
			:'cron_db')),
		  'pg_cron records the run as succeeded');

SELECT * FROM dblink(:'cron_db', $$SELECT cron.unschedule('cadence')$$) AS t(done boolean);
ALTER SYSTEM RESET cadence.enabled;
SELECT pg_reload_conf();
SELECT ok(pg_temp.wait_for($$SELECT (cadence.worker_status() ->> 'running')::boolean$$),
		  'turned on again, the launcher starts the worker again');

SELECT * FROM finish();
