-- cadence.run_due_actions() without shared_preload_libraries: its round
-- runs in a background worker of its own, as the caller's role and with
-- the caller's settings, and commits there; a caller that has written is
-- refused, and so is a call when no background worker slot is free.  No
-- provider is needed: what is due here is a call, and an SMS that fails
-- before any request.
\set ON_ERROR_STOP 1
\set QUIET 1
\i test/helpers/wait.sql
CREATE EXTENSION cadence;
CREATE EXTENSION dblink;
SELECT plan(9);

SELECT is(current_setting('shared_preload_libraries'), '', 'nothing is preloaded');

INSERT INTO cadence.contacts (tenant_id, id, first_name, phone, timezone)
VALUES ('solo', 'ana', 'Ana', '+14155550101', 'America/New_York');
SET cadence.tenant_id = 'solo';
SELECT cadence.upsert_cadence('{"id": "c", "name": "c", "timezone": "America/New_York", "isActive": true,
	"days": [{"dayNumber": 1, "actions": [
		{"type": "call_task", "scheduleRule": {"kind": "immediately"}, "config": {"task": {"title": "Call {{firstName}}"}}},
		{"type": "sms", "scheduleRule": {"kind": "immediately"}, "config": {"sms": {"body": "Hi"}}}]}]}') IS NOT NULL;
SELECT cadence.plan_run_for_lead('c', 'ana', '2026-03-11 02:30Z') > 0;

--
-- A call falls due: the round hands it to a person, and what it wrote is
-- committed by the time the call returns.
--
SELECT is(cadence.run_due_actions(10, '2026-03-11 02:30Z', 'solo') - 'resumed' - 'executed',
		  '{"sent": 0, "moved": 0, "failed": 0, "claimed": 1, "retried": 0, "skipped": 0, "pendingManual": 1}',
		  'a round runs without the library preloaded');
SELECT is((SELECT title FROM cadence.tasks WHERE tenant_id = 'solo'), 'Call Ana',
		  'its task is there to read at once');

--
-- The caller's settings go with it: done, the call lets the SMS fall due;
-- say it has had its one attempt already, and that one is all the caller
-- allows.  The round fails it for that reason, before anything else.
--
SELECT cadence.complete_manual_step(id, 1, 'Spoke', 'connected', '2026-03-11 02:30Z') IS NOT NULL
  FROM cadence.runs WHERE tenant_id = 'solo';
UPDATE cadence.scheduled_actions SET attempts = 1 WHERE tenant_id = 'solo' AND type = 'sms';
SET cadence.max_attempts = 1;
SELECT is(cadence.run_due_actions(10, '2026-03-11 12:00Z', 'solo') ->> 'failed', '1',
		  'the SMS fails, its attempts spent');
SELECT is((SELECT last_error FROM cadence.scheduled_actions WHERE tenant_id = 'solo' AND type = 'sms'),
		  'attempts_exhausted: 1 attempts made, cadence.max_attempts is 1',
		  'by the caller''s cadence.max_attempts, not the server''s');
RESET cadence.max_attempts;

--
-- And its role: one that may call run_due_actions() but read none of the
-- tables fails there, with the worker's error and SQLSTATE.
--
CREATE ROLE cadence_test_runner;
GRANT USAGE ON SCHEMA cadence TO cadence_test_runner;
GRANT EXECUTE ON FUNCTION cadence.run_due_actions(integer, timestamptz, text) TO cadence_test_runner;
SET ROLE cadence_test_runner;
SELECT throws_ok($$SELECT cadence.run_due_actions(10, '2026-03-11 12:00Z', 'solo')$$, '42501', NULL,
				 'a role that cannot read the tables is refused, in the round');
RESET ROLE;
DROP OWNED BY cadence_test_runner;
DROP ROLE cadence_test_runner;

--
-- A transaction that has written cannot run a round (the round would not
-- see what it wrote).
--
BEGIN;
INSERT INTO cadence.holidays (tenant_id, day) VALUES ('solo', '2026-12-25');
SELECT throws_ok($$SELECT cadence.run_due_actions(10, '2026-03-11 12:00Z', 'solo')$$, '25001',
				 'cadence.run_due_actions() cannot run in a transaction that has written',
				 'a transaction that has written is refused');
ROLLBACK;

--
-- No free background worker slot: other sessions' rounds hold every one
-- left (max_worker_processes, less the logical replication launcher's),
-- each waiting for a lock a third session holds; this call is refused.
--
SELECT current_setting('max_worker_processes')::int
	   - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'logical replication launcher')
	   AS free_slots \gset
CREATE FUNCTION pg_temp.connect(name text) RETURNS text LANGUAGE sql AS $$
	SELECT dblink_connect(name, format('dbname=%s port=%s host=%s user=%s', current_database(),
									   current_setting('port'),
									   split_part(current_setting('unix_socket_directories'), ',', 1),
									   current_user))
$$;
SELECT pg_temp.connect('locker');
SELECT dblink_exec('locker', 'BEGIN'),
	   dblink_exec('locker', 'LOCK TABLE cadence.scheduled_actions IN ACCESS EXCLUSIVE MODE');
SELECT count(pg_temp.connect('round-' || g)) FROM generate_series(1, :free_slots) g;
SELECT count(dblink_send_query('round-' || g,
		   $$SELECT cadence.run_due_actions(10, '2026-03-11 12:00Z', 'solo')$$))
  FROM generate_series(1, :free_slots) g;
SELECT ok(pg_temp.wait_for(format($$SELECT count(*) = %s FROM pg_stat_activity
									 WHERE backend_type = 'cadence runner'
									   AND wait_event_type = 'Lock'$$, :free_slots)),
		  'other sessions'' rounds take the last worker slots and wait');
SELECT throws_ok($$SELECT cadence.run_due_actions(10, '2026-03-11 12:00Z', 'solo')$$, '53400',
				 'no background worker slot is free for cadence.run_due_actions()',
				 'then a call is refused, saying why');
SELECT dblink_exec('locker', 'COMMIT');
SELECT count(*) FROM generate_series(1, :free_slots) g,
	   LATERAL dblink_get_result('round-' || g) AS r(result jsonb);
SELECT count(dblink_disconnect('round-' || g)) FROM generate_series(1, :free_slots) g;
SELECT dblink_disconnect('locker');

SELECT * FROM finish();
DROP EXTENSION dblink;
DROP EXTENSION cadence;
