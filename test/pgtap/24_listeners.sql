-- Events are published only where someone listens.  With cadence
-- preloaded, an event of a channel no session LISTENs on is left out:
-- nothing reaches the notification queue.  Every session that listens
-- gets every event, through UNLISTEN rolled back, LISTEN again, a second
-- listener, one of them leaving; and a LISTEN that comes while a
-- transaction has left an event out waits for that transaction.
-- No transaction wraps the file: the listeners are other sessions, which
-- must see what this one commits.
\set ON_ERROR_STOP 1
\set QUIET 1
\i test/helpers/wait.sql
\i test/helpers/steps.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SELECT plan(21);

-- pg_temp.connect(name): another session on this database.
CREATE FUNCTION pg_temp.connect(name text) RETURNS text LANGUAGE sql AS $$
	SELECT dblink_connect(name, format('dbname=%s port=%s host=%s', current_database(),
		current_setting('port'), split_part(current_setting('unix_socket_directories'), ',', 1)))
$$;

-- pg_temp.published(type): whether an event of that type is published now
-- (of a tenant of its own, which the listeners' tallies leave out).
CREATE FUNCTION pg_temp.published(type text) RETURNS boolean LANGUAGE sql AS $$
	SELECT cadence.publish_event(type, 0, 'probe', NULL, NULL, NULL, NULL, now(), NULL)
$$;

-- pg_temp.heard(conn, channel, n): the leads of the events a session
-- got on that channel since last asked, once n are in or after ten
-- seconds; probes left out.
CREATE TEMP TABLE heard_log (conn text, channel text, payload jsonb);
CREATE FUNCTION pg_temp.heard(conn text, channel text, n int) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
	deadline timestamptz := clock_timestamp() + interval '10 seconds';
	leads text[];
BEGIN
	LOOP
		INSERT INTO heard_log SELECT conn, notify_name, extra::jsonb
		  FROM dblink_get_notify(conn) WHERE extra::jsonb ->> 'tenantId' <> 'probe';
		EXIT WHEN (SELECT count(*) FROM heard_log h WHERE h.conn = heard.conn
					  AND h.channel = heard.channel) >= n OR clock_timestamp() > deadline;
		PERFORM pg_sleep(0.02);
	END LOOP;
	SELECT coalesce(array_agg(h.payload ->> 'leadId' ORDER BY h.payload ->> 'leadId'), '{}') INTO leads
	  FROM heard_log h WHERE h.conn = heard.conn AND h.channel = heard.channel;
	DELETE FROM heard_log h WHERE h.conn = heard.conn AND h.channel = heard.channel;
	RETURN leads;
END
$$;

-- A cadence of one call, and leads to enroll in it by the hundred.
SET cadence.tenant_id = 'hear';
INSERT INTO cadence.contacts (tenant_id, id, first_name, phone, timezone)
SELECT 'hear', 'lead-' || lpad(g::text, 3, '0'), 'L', '+1415555' || lpad(g::text, 4, '0'), 'UTC'
  FROM generate_series(1, 600) g;
SELECT cadence.upsert_cadence(pg_temp.one_step_body('call',
	'{"type": "call_task", "config": {"task": {"title": "Call"}}}')) IS NOT NULL AS saved \gset
-- pg_temp.enroll(from, to): enroll leads from..to.
CREATE FUNCTION pg_temp.enroll(a int, b int) RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM cadence.plan_runs('call',
		ARRAY(SELECT 'lead-' || lpad(g::text, 3, '0') FROM generate_series(a, b) g),
		'2026-03-10 16:00Z')
$$;
CREATE FUNCTION pg_temp.leads(a int, b int) RETURNS text[] LANGUAGE sql AS $$
	SELECT array_agg('lead-' || lpad(g::text, 3, '0') ORDER BY g) FROM generate_series(a, b) g
$$;

--
-- Nobody listens: nothing is published, nothing reaches the queue, and
-- the events are written all the same.  A session listening on another
-- channel and reading nothing (in a transaction) keeps the queue from
-- being emptied, so that what is written there stays to be seen.
--
SELECT pg_temp.connect('holder') IS NOT NULL AS connected \gset
SELECT dblink_exec('holder', 'LISTEN "some.other.channel"') IS NOT NULL AS listening \gset
SELECT dblink_exec('holder', 'BEGIN') IS NOT NULL AS began \gset
SELECT ok(NOT pg_temp.published('run.enrolled'), 'with nobody listening, an event is not published');
SELECT pg_notification_queue_usage() AS usage_before \gset
SELECT pg_temp.enroll(1, 200) AS enrolled \gset
SELECT is(pg_notification_queue_usage(), :usage_before::float8,
		  'enrolling 200 leads with nobody listening writes nothing to the notification queue');
SELECT is((SELECT count(*) FROM cadence.events WHERE tenant_id = 'hear' AND type = 'run.enrolled'),
		  200::bigint, 'the events are written all the same');

--
-- A session listens: it gets every event of its channel, and only those.
--
SELECT pg_temp.connect('a') IS NOT NULL AS connected \gset
SELECT dblink_exec('a', 'LISTEN "sequence.enrollment.created"') IS NOT NULL AS listening \gset
SELECT ok(pg_temp.published('run.enrolled'), 'with a session listening, its channel''s events are published');
SELECT ok(NOT pg_temp.published('action.pending_manual'), 'another channel''s are not');
SELECT pg_temp.enroll(201, 400) AS enrolled \gset
SELECT is(pg_temp.heard('a', 'sequence.enrollment.created', 200), pg_temp.leads(201, 400),
		  'the listener gets the enrollment of each of the 200 leads');
SELECT ok(pg_notification_queue_usage() > :usage_before::float8, 'and they went through the queue');
SELECT dblink_exec('holder', 'COMMIT') IS NOT NULL AS committed \gset

--
-- What a runner writes, from its own background worker, reaches a
-- listener too.
--
SELECT dblink_exec('a', 'LISTEN "sequence.step.pending_manual"') IS NOT NULL AS listening \gset
SELECT is((pg_temp.run() ->> 'pendingManual')::int, 50, 'a round hands 50 calls to people');
SELECT is(cardinality(pg_temp.heard('a', 'sequence.step.pending_manual', 50)), 50,
		  'the listener gets each of the 50');

--
-- UNLISTEN counts once committed: not when rolled back, nor in a
-- subtransaction rolled back, nor when a LISTEN follows it.
--
SELECT dblink_exec('a', 'BEGIN; UNLISTEN "sequence.enrollment.created"; ROLLBACK') IS NOT NULL AS done \gset
SELECT ok(pg_temp.published('run.enrolled'), 'an UNLISTEN rolled back leaves the session listening');
SELECT dblink_exec('a', 'BEGIN; SAVEPOINT s; UNLISTEN *; ROLLBACK TO s; COMMIT') IS NOT NULL AS done \gset
SELECT ok(pg_temp.published('run.enrolled'), 'so does an UNLISTEN * in a subtransaction rolled back');
SELECT dblink_exec('a', 'BEGIN; UNLISTEN "sequence.enrollment.created"; LISTEN "sequence.enrollment.created"; COMMIT')
	IS NOT NULL AS done \gset
SELECT ok(pg_temp.published('run.enrolled'), 'and an UNLISTEN followed by a LISTEN');
SELECT dblink_exec('a', 'UNLISTEN "sequence.enrollment.created"') IS NOT NULL AS done \gset
SELECT ok(NOT pg_temp.published('run.enrolled'), 'once UNLISTEN commits, the channel has nobody');
SELECT ok(pg_temp.published('action.pending_manual'), 'while the session''s other channel still has it');

--
-- LISTEN after UNLISTEN, a second listener, DISCARD ALL, one leaving.
--
SELECT dblink_exec('a', 'LISTEN "sequence.enrollment.created"') IS NOT NULL AS listening \gset
SELECT pg_temp.connect('b') IS NOT NULL AS connected \gset
SELECT dblink_exec('b', 'LISTEN "sequence.enrollment.created"') IS NOT NULL AS listening \gset
SELECT dblink_exec('a', 'DISCARD ALL') IS NOT NULL AS discarded \gset
SELECT pg_temp.enroll(401, 450) AS enrolled \gset
SELECT is(pg_temp.heard('b', 'sequence.enrollment.created', 50), pg_temp.leads(401, 450),
		  'with one of two listeners gone by DISCARD ALL, the other gets every event');
SELECT dblink_exec('a', 'LISTEN "sequence.enrollment.created"') IS NOT NULL AS listening \gset
SELECT (SELECT pid FROM dblink('b', 'SELECT pg_backend_pid()') AS t(pid int)) AS b_pid \gset
SELECT dblink_disconnect('b') IS NOT NULL AS gone \gset
SELECT pg_temp.wait_for(format('SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)', :b_pid))
	AS b_exited \gset
SELECT pg_temp.enroll(451, 500) AS enrolled \gset
SELECT is(pg_temp.heard('a', 'sequence.enrollment.created', 50), pg_temp.leads(451, 500),
		  'after LISTEN again and the other listener''s exit, the first gets every event');
SELECT dblink_exec('a', 'UNLISTEN *') IS NOT NULL AS done \gset
SELECT ok(NOT pg_temp.published('run.enrolled'), 'with both gone, nothing is published');

--
-- A transaction left an event out for want of listeners and has not
-- committed: a LISTEN waits for it, as if it had published before the
-- LISTEN; meanwhile publishers do not wait, they publish.
--
SELECT pg_temp.connect('writer') IS NOT NULL AS connected \gset
SELECT dblink_exec('writer', 'BEGIN') IS NOT NULL AS began \gset
SELECT is((SELECT p FROM dblink('writer', $$SELECT cadence.publish_event('run.enrolled', 0, 'probe',
		NULL, NULL, NULL, NULL, now(), NULL)$$) AS t(p boolean)), false,
		  'a transaction leaves out an event nobody listens for');
SELECT dblink_send_query('a', 'LISTEN "sequence.enrollment.created"') AS sent \gset
SELECT ok(pg_temp.wait_for($$SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory'
		AND objsubid = 3 AND NOT granted)$$), 'a LISTEN then waits for that transaction');
SELECT ok(pg_temp.published('action.sent'), 'a publisher meanwhile publishes instead of waiting');
SELECT dblink_exec('writer', 'COMMIT') IS NOT NULL AS committed \gset
SELECT is((SELECT s FROM dblink_get_result('a') AS t(s text)), 'LISTEN',
		  'the LISTEN completes once the transaction has committed');

SELECT dblink_disconnect('writer') IS NOT NULL AS gone \gset
SELECT dblink_disconnect('holder') IS NOT NULL AS gone \gset
SELECT dblink_disconnect('a') IS NOT NULL AS gone \gset
SELECT * FROM finish();
