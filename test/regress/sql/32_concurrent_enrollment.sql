-- Two sessions enrolling the same lead at the same moment get one run.
-- The second session (through dblink) waits on the first one's
-- uncommitted run, then returns it instead of creating another.
CREATE EXTENSION IF NOT EXISTS dblink;
SET cadence.tenant_id = 'race';
SET cadence.user_id = 'rep-1';
SELECT cadence.upsert_cadence($$
{"id": "race", "name": "Race", "timezone": "UTC", "isActive": true,
 "days": [{"dayNumber": 1, "actions": [
   {"id": "a1", "type": "sms", "scheduleRule": {"kind": "immediately"},
    "config": {"sms": {"body": "Hi"}}}]}]}
$$) ->> 'status' AS status;
INSERT INTO cadence.contacts (tenant_id, id, phone) VALUES ('race', 'contested', '+15550001');

SELECT dblink_connect('other', format('dbname=%s port=%s host=%s', current_database(),
	current_setting('port'), split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT dblink_exec('other', 'SET cadence.tenant_id = ''race''');

BEGIN;
SELECT cadence.plan_run_for_lead('race', 'contested') AS first_run \gset
SELECT dblink_send_query('other', 'SELECT cadence.plan_run_for_lead(''race'', ''contested'')');
-- The other session is now blocked on this one's run (wait until it is).
DO $$
BEGIN
	FOR i IN 1 .. 3000 LOOP
		PERFORM pg_stat_clear_snapshot();
		EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity
						   WHERE datname = current_database() AND pid <> pg_backend_pid()
							 AND wait_event_type = 'Lock');
		PERFORM pg_sleep(0.01);
	END LOOP;
END
$$;
SELECT wait_event_type, wait_event FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active';
COMMIT;
SELECT run_id = :first_run AS same_run FROM dblink_get_result('other') AS t(run_id bigint);
SELECT count(*) AS runs FROM cadence.runs WHERE tenant_id = 'race' AND lead_id = 'contested';
SELECT dblink_disconnect('other');
