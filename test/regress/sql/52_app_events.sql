-- Meetings booked through Calendly, the application's own events
-- (lead_assigned, reply, meeting_booked, stage_changed), each cadence's
-- exit conditions, a reply pausing the lead's colleagues, enrollment by
-- trigger and by inactivity, and the events published with pg_notify.
SET timezone = 'UTC';
\set ECHO none
\i test/helpers/fixtures.sql
\i test/helpers/webhooks.sql
\set ECHO all
INSERT INTO cadence.members (tenant_id, user_id, role) VALUES ('events', 'olga', 'owner');
SET cadence.tenant_id = 'events';
SET cadence.user_id = 'olga';
-- No provider is called here: every step is a manual task.
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, company, owner_id, timezone,
							  created_at, last_activity_at) VALUES
	('events', 'amy', 'Amy', 'test@example.com', 'Globex', NULL, 'UTC', '2026-01-01', NULL),
	('events', 'bob', 'Bob', 'bob@globex.test', 'globex', NULL, 'UTC', '2026-01-01', NULL),
	('events', 'cal', 'Cal', 'cal@initech.test', 'Initech', NULL, 'UTC', '2026-01-01', NULL),
	('events', 'dan', 'Dan', 'dan@umbrella.test', 'Umbrella', NULL, 'UTC', '2026-01-01', '2026-06-01'),
	('events', 'eve', 'Eve', 'eve@hooli.test', 'Hooli', NULL, 'UTC', '2026-01-01', '2026-03-01'),
	('events', 'fay', 'Fay', 'fay@hooli.test', NULL, NULL, 'UTC', '2026-05-20', NULL);
CREATE FUNCTION pg_temp.cadence(id text, body jsonb DEFAULT '{}') RETURNS void LANGUAGE sql AS $$
	SELECT cadence.upsert_cadence(jsonb_build_object('id', id, 'name', id, 'timezone', 'UTC',
		'isActive', true, 'days', jsonb_build_array(jsonb_build_object('dayNumber', 1, 'actions',
			'[{"id": "call", "type": "call_task", "scheduleRule": {"kind": "immediately"}},
			  {"id": "again", "type": "call_task", "scheduleRule": {"kind": "delay", "days": 2}}]'::jsonb)))
		|| body)
$$;
CREATE FUNCTION pg_temp.runs() RETURNS TABLE (lead text, cadence text, status text, exit_reason text,
											  assigned_to text)
LANGUAGE sql AS $$
	SELECT lead_id, cadence_id, status, exit_reason, assigned_to FROM cadence.runs
	 WHERE tenant_id = 'events' ORDER BY lead_id, cadence_id, id
$$;

-- Listeners: another session LISTENs on the channels events are published on.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SELECT dblink_connect('listener', format('dbname=%s port=%s host=%s', current_database(),
	current_setting('port'), split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT dblink_exec('listener', 'LISTEN "sequence.enrollment.created"; LISTEN "sequence.enrollment.replied";'
	|| ' LISTEN "sequence.enrollment.exited"; LISTEN "sequence.enrollment.completed";'
	|| ' LISTEN "sequence.step.pending_manual"; LISTEN "cadence.notify_user"');
-- heard(n): what the listener got since last asked (channel, event type,
-- lead, status), once n notifications are in (they reach it on their own
-- time after the commit), or after ten seconds without.
CREATE TEMP TABLE heard_log (name text, extra jsonb);
CREATE FUNCTION pg_temp.heard(n int) RETURNS TABLE (channel text, type text, lead text, status text)
LANGUAGE plpgsql AS $$
DECLARE
	deadline timestamptz := clock_timestamp() + interval '10 seconds';
BEGIN
	LOOP
		INSERT INTO heard_log SELECT notify_name, extra::jsonb FROM dblink_get_notify('listener');
		EXIT WHEN (SELECT count(*) FROM heard_log) >= n OR clock_timestamp() > deadline;
		PERFORM pg_sleep(0.02);
	END LOOP;
	RETURN QUERY SELECT h.name, h.extra ->> 'type', h.extra ->> 'leadId', h.extra -> 'data' ->> 'status'
				   FROM heard_log h ORDER BY (h.extra ->> 'eventId')::bigint, h.name;
	TRUNCATE heard_log;
END
$$;

--
-- lead_assigned: the lead gets an owner and is enrolled in every active
-- cadence triggered by lead_assigned for that owner or for anyone, with
-- the owner as the run's assignee.
--
SELECT pg_temp.cadence('for-raj', '{"trigger": {"type": "lead_assigned", "config": {"assignedTo": "raj"}}}');
SELECT pg_temp.cadence('for-anyone', '{"trigger": {"type": "lead_assigned"}}');
SELECT pg_temp.cadence('for-sam', '{"trigger": {"type": "lead_assigned", "config": {"assignedTo": "sam"}}}');
SELECT * FROM pg_temp.hook('app', '{"type": "lead_assigned", "leadId": "amy", "assignedTo": "raj", "eventId": "evt-1"}');
SELECT * FROM pg_temp.runs();
SELECT owner_id FROM cadence.contacts WHERE tenant_id = 'events' AND id = 'amy';
-- A runner hands the first call of each to the rep.
SELECT cadence.run_due_actions(10, now(), 'events') ->> 'pendingManual' AS calls;
SELECT * FROM pg_temp.heard(4);
-- The same event again (the app retried) is recognised.
SELECT * FROM pg_temp.hook('app', '{"type": "lead_assigned", "leadId": "amy", "assignedTo": "raj", "eventId": "evt-1"}');

-- The same from a row trigger on the leads table (here cadence.contacts
-- itself): giving Bob an owner enrolls him.
CREATE TRIGGER contacts_assigned AFTER INSERT OR UPDATE OF owner_id ON cadence.contacts
	FOR EACH ROW EXECUTE FUNCTION cadence.lead_assigned_trigger('id', 'owner_id', 'tenant_id');
UPDATE cadence.contacts SET owner_id = 'sam' WHERE tenant_id = 'events' AND id = 'bob';
UPDATE cadence.contacts SET first_name = 'Bobby' WHERE tenant_id = 'events' AND id = 'bob';
SELECT * FROM pg_temp.runs() WHERE lead = 'bob';
DROP TRIGGER contacts_assigned ON cadence.contacts;
SELECT count(*) AS created FROM pg_temp.heard(2);

--
-- A reply the app detected ends Amy's runs (replied), except in a cadence
-- whose exitConditions say onReply false: there it is recorded and the
-- run goes on.  The cadence for-anyone pauses the lead's colleagues' runs
-- (settings.pauseCompanyOnReply): Bob, also at Globex (any case).
--
SELECT cadence.upsert_cadence(cadence.get_cadence('for-raj') || '{"exitConditions": {"onReply": false}}') ->> 'version';
SELECT cadence.upsert_cadence(cadence.get_cadence('for-anyone')
	|| '{"settings": {"pauseCompanyOnReply": true}}') ->> 'version';
SELECT * FROM pg_temp.hook('app', '{"type": "reply", "leadId": "amy", "channel": "email", "text": "Sounds good, call me"}');
SELECT * FROM pg_temp.runs() WHERE lead IN ('amy', 'bob');
SELECT type, payload ->> 'kind' AS kind, payload ->> 'text' AS text
  FROM cadence.events WHERE tenant_id = 'events' AND lead_id = 'amy' AND type LIKE 'action.engagement' ORDER BY id;
SELECT * FROM pg_temp.heard(2);

--
-- Meetings: Calendly's documented invitee.created for Amy's address
-- (test@example.com), signed with the account's signing key.  A service
-- role that names no tenant is routed by the key that verifies it.  It
-- ends the runs left (meeting_booked).
--
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials) VALUES
	('events', 'calendly', 'calendar', 'calendly', 'https://api.calendly.com',
	 '{"signingKey": "cal-signing-key"}');
CREATE FUNCTION pg_temp.calendly(raw text, key text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('Calendly-Webhook-Signature', 't=' || ts || ',v1=' ||
		encode(cadence.hmac(convert_to(ts || '.' || raw, 'UTF8'), convert_to(key, 'UTF8'), 'sha256'), 'hex'))
	  FROM (SELECT extract(epoch FROM now())::bigint::text AS ts) x
$$;
RESET cadence.tenant_id;
SELECT pg_temp.try(format('SELECT cadence.ingest_webhook(%L, %L)', 'calendly',
	to_jsonb(pg_temp.fixture_text('calendly_invitee_created'))));
SELECT pg_temp.try(format('SELECT cadence.ingest_webhook(%L, %L, %L)', 'calendly',
	to_jsonb(pg_temp.fixture_text('calendly_invitee_created')),
	pg_temp.calendly(pg_temp.fixture_text('calendly_invitee_created'), 'another-key')));
SELECT r ->> 'signature' AS signature, r -> 'results' -> 0 ->> 'kind' AS kind,
	   r -> 'results' -> 0 ->> 'outcome' AS outcome, r -> 'results' -> 0 -> 'leadIds' AS leads
  FROM cadence.ingest_webhook('calendly', to_jsonb(pg_temp.fixture_text('calendly_invitee_created')),
	   pg_temp.calendly(pg_temp.fixture_text('calendly_invitee_created'), 'cal-signing-key')) AS r;
SET cadence.tenant_id = 'events';
SELECT * FROM pg_temp.runs() WHERE lead = 'amy';
SELECT type, payload ->> 'meeting' AS meeting, payload ->> 'startTime' AS starts
  FROM cadence.events WHERE tenant_id = 'events' AND lead_id = 'amy' AND type = 'lead.meeting_booked';
SELECT * FROM pg_temp.heard(1);

-- meeting_booked from the app, for Cal, in a cadence that does not exit on
-- meetings and one that does.
SELECT pg_temp.cadence('keep-going', '{"exitConditions": {"onMeetingBooked": false}}');
SELECT pg_temp.cadence('stop-on-meeting');
SELECT count(*) FROM cadence.plan_runs('keep-going', ARRAY['cal']);
SELECT count(*) FROM cadence.plan_runs('stop-on-meeting', ARRAY['cal']);
SELECT * FROM pg_temp.hook('app', '{"type": "meeting_booked", "leadId": "cal"}');
SELECT * FROM pg_temp.runs() WHERE lead = 'cal';

--
-- stage_changed: the lead's status becomes the stage, and cadences
-- triggered by that stage enroll it.
--
SELECT pg_temp.cadence('on-demo', '{"trigger": {"type": "stage_changed", "config": {"stage": "demo"}}}');
SELECT * FROM pg_temp.hook('app', '{"type": "stage_changed", "leadId": "dan", "stage": "demo"}');
SELECT status FROM cadence.contacts WHERE tenant_id = 'events' AND id = 'dan';
SELECT * FROM pg_temp.runs() WHERE lead = 'dan';

--
-- Inactivity: leads idle for 30 days as of 2026-07-01, not
-- enrolled since their last activity.  Dan was active on June 1; Eve last
-- on March 1; Fay never, created May 20; Amy, Bob and Cal never, created
-- January 1, but Cal is in a live run of it already.
--
SELECT pg_temp.cadence('reactivation', '{"trigger": {"type": "inactivity", "config": {"inactiveDays": 30}}}');
SELECT count(*) FROM cadence.plan_runs('reactivation', ARRAY['cal'], '2026-06-25');
SELECT lead_id, outcome FROM cadence.enroll_inactive('reactivation', as_of => '2026-07-01') ORDER BY 1;
-- Run again the next day: nobody new (all are enrolled since their last
-- activity).
SELECT count(*) AS again FROM cadence.enroll_inactive('reactivation', 30, 100, '2026-07-02');
-- Their runs end; Fay is heard from on July 5 and Eve on July 10, and
-- both go quiet again.  On August 15 both are idle for over 30 days;
-- limit 1 takes the one idle longest.
SELECT count(cadence.exit_run(id, 'completed')) AS ended FROM cadence.runs
 WHERE tenant_id = 'events' AND cadence_id = 'reactivation' AND status = 'active';
UPDATE cadence.contacts SET last_activity_at = CASE id WHEN 'fay' THEN timestamptz '2026-07-05'
													   ELSE '2026-07-10' END
 WHERE tenant_id = 'events' AND id IN ('eve', 'fay');
SELECT lead_id, outcome FROM cadence.enroll_inactive('reactivation', 30, 1, '2026-08-15');
SELECT lead_id, outcome FROM cadence.enroll_inactive('reactivation', 30, 1, '2026-08-15');
SELECT pg_temp.try($$SELECT * FROM cadence.enroll_inactive('for-raj')$$);
SELECT pg_temp.try($$SELECT * FROM cadence.enroll_inactive('reactivation', 0)$$);

--
-- App events that name what does not exist, or are malformed, change
-- nothing.
--
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('app', '{"type": "reply", "leadId": "nobody"}')$$);
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('app', '{"type": "lead_assigned", "leadId": "amy"}')$$);
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('app', '{"type": "closed_won", "leadId": "amy"}')$$);
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('app', '[]')$$);
RESET cadence.tenant_id;
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('app', '{"type": "reply", "leadId": "amy"}')$$);
SET cadence.tenant_id = 'events';
SELECT dblink_disconnect('listener');
