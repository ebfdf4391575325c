-- A role with CREATE on a schema that is on a superuser's search_path
-- plants look-alikes of the built-ins cadence's SQL uses
-- (test/helpers/planted.sql), which, once called, would run as that superuser.
-- pg_cron's superuser then runs the planner, the run state machine, the
-- runner and the webhook entry point with that schema first on its path,
-- pg_catalog last.  Each of them pins its own search_path, so none of the
-- planted objects is ever called.  (test/e2e/50_search_path.sql does the
-- same to the background worker.)
\set ON_ERROR_STOP 1
\set QUIET 1
\i test/helpers/mock.sql
SELECT pg_temp.mock_post('/_mock/reset');
SELECT plan(15);

\i test/helpers/planted.sql

INSERT INTO cadence.members (tenant_id, user_id, role) VALUES ('searchpath', 'sam', 'owner');
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default)
VALUES ('searchpath', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
		'{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "tw-secret"}',
		'{"from": "+15005550006"}', true);
INSERT INTO cadence.contacts (tenant_id, id, first_name, last_name, phone, timezone)
SELECT 'searchpath', 'l' || g, 'Lead', 'No' || g, '+1415555020' || g, 'UTC'
  FROM generate_series(1, 5) g;
SET cadence.tenant_id = 'searchpath';
SET cadence.user_id = 'sam';

-- The run of a lead, looked up with a pinned path of its own: the
-- statements below use no operator and no unqualified function themselves.
CREATE FUNCTION pg_temp.run_of(lead text) RETURNS bigint LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ SELECT id FROM cadence.runs WHERE tenant_id = 'searchpath' AND lead_id = lead $$;
CREATE TEMP TABLE changes (what text, result jsonb);

-- Everything below runs with the planted schema first on the path, and
-- keeps what it returns in temporary tables to look at afterwards.
SET search_path = planted, public, pg_catalog;
CREATE TEMP TABLE saved AS
SELECT cadence.upsert_cadence('{"id": "sp", "name": "sp", "timezone": "UTC", "isActive": true,
	"settings": {"quietHours": {"sms": null}},
	"days": [{"dayNumber": 1, "actions": [
		{"id": "hello", "type": "sms", "scheduleRule": {"kind": "immediately"},
		 "config": {"sms": {"body": "Hi {{firstName}} {{lastName}}"}}},
		{"id": "check", "type": "condition", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 10},
		 "condition": {"when": "always", "then": {"action": "continue"}}},
		{"id": "call", "type": "call_task", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 10}},
		{"id": "tag", "type": "lead_action", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 10},
		 "config": {"leadAction": {"action": "tag_lead", "tags": ["reached"]}}}]}]}') AS body;
CREATE TEMP TABLE planned AS
SELECT * FROM cadence.plan_runs('sp', ARRAY['l1', 'l2'], '2026-03-10 16:00Z');
CREATE TEMP TABLE one AS
SELECT cadence.plan_run_for_lead('sp', l, '2026-03-10 16:00Z') AS run_id
  FROM (VALUES ('l3'), ('l4'), ('l5')) AS v(l);
CREATE TEMP TABLE preview AS
SELECT * FROM cadence.preview_schedule('sp', 'l1', '2026-03-10 16:00Z');
-- (One round a statement: a round runs in transactions of its own, and
-- refuses to start in one that has written.)
CREATE TEMP TABLE rounds (t timestamptz, counts jsonb);
INSERT INTO rounds VALUES ('2026-03-10 16:00Z',
	cadence.run_due_actions(50, '2026-03-10 16:00Z', 'searchpath'));
INSERT INTO rounds VALUES ('2026-03-10 17:00Z',
	cadence.run_due_actions(50, '2026-03-10 17:00Z', 'searchpath'));
INSERT INTO rounds VALUES ('2026-03-10 18:00Z',
	cadence.run_due_actions(50, '2026-03-10 18:00Z', 'searchpath'));
INSERT INTO changes VALUES ('complete',
	cadence.complete_manual_step(pg_temp.run_of('l1'), 3, 'spoke', 'connected', '2026-03-10 18:30Z'));
INSERT INTO changes VALUES ('pause', cadence.pause_run(pg_temp.run_of('l2'), NULL, 'out of office'));
INSERT INTO changes VALUES ('resume', cadence.resume_run(pg_temp.run_of('l2'), '2026-03-10 19:00Z'));
INSERT INTO changes VALUES ('skip', cadence.skip_to_step(pg_temp.run_of('l2'), 4, '2026-03-10 19:00Z'));
INSERT INTO changes VALUES ('advance', cadence.advance_to_next_step(pg_temp.run_of('l3'), '2026-03-10 19:00Z'));
INSERT INTO changes VALUES ('cancel', cadence.cancel_run(pg_temp.run_of('l4'), 'not a fit'));
INSERT INTO changes VALUES ('ingest',
	cadence.ingest_webhook('app', '{"type": "reply", "leadId": "l5", "eventId": "sp-1"}'));
INSERT INTO rounds VALUES ('2026-03-10 20:00Z',
	cadence.run_due_actions(50, '2026-03-10 20:00Z', 'searchpath'));
CREATE TEMP TABLE status AS SELECT cadence.worker_status() AS s;
RESET search_path;

SELECT is((SELECT is_called FROM planted.calls), false,
		  'no planted operator or function was ever called');
SELECT is((SELECT body ->> 'id' FROM saved), 'sp', 'upsert_cadence saved the cadence');
SELECT is((SELECT count(*) FROM planned WHERE outcome = 'enrolled'), 2::bigint,
		  'plan_runs enrolled its two leads');
SELECT is((SELECT count(*) FROM one WHERE run_id > 0), 3::bigint,
		  'plan_run_for_lead enrolled three more');
SELECT is((SELECT array_agg(action_id ORDER BY step_number) FROM preview),
		  ARRAY['hello', 'check', 'call', 'tag'], 'preview_schedule showed the four steps');
SELECT is((SELECT counts ->> 'sent' FROM rounds WHERE t = '2026-03-10 16:00Z'), '5',
		  'run_due_actions sent the five SMS');
SELECT is((SELECT array_agg(r -> 'form' ->> 'Body' ORDER BY r -> 'form' ->> 'Body')
			 FROM pg_temp.mock_requests('twilio') r),
		  ARRAY['Hi Lead No1', 'Hi Lead No2', 'Hi Lead No3', 'Hi Lead No4', 'Hi Lead No5'],
		  'each with its lead''s variables');
SELECT is((SELECT sum((counts ->> 'executed')::int) FROM rounds), 8::bigint,
		  'the runner carried out five conditions and three lead actions');
SELECT is((SELECT array_agg(id ORDER BY id) FROM cadence.contacts
			WHERE tenant_id = 'searchpath' AND tags = ARRAY['reached']),
		  ARRAY['l1', 'l2', 'l3'], 'tagging the leads that reached that step');
SELECT is((SELECT string_agg(what, ',' ORDER BY what) FROM changes WHERE result IS NOT NULL),
		  'advance,cancel,complete,ingest,pause,resume,skip',
		  'every run transition answered');
SELECT is((SELECT status FROM cadence.runs WHERE tenant_id = 'searchpath' AND lead_id = 'l1'),
		  'completed', 'the run whose call was done went on to the end');
SELECT is((SELECT tags FROM cadence.contacts WHERE tenant_id = 'searchpath' AND id = 'l1'),
		  ARRAY['reached'], 'and its lead action tagged the lead');
SELECT is((SELECT array_agg(status ORDER BY lead_id) FROM cadence.runs
			WHERE tenant_id = 'searchpath' AND lead_id IN ('l4', 'l5')),
		  ARRAY['cancelled', 'replied'], 'a cancelled run, and a run ended by a reply');
SELECT ok((SELECT (s ->> 'running') IS NOT NULL FROM status), 'worker_status answered');
SELECT is((SELECT is_called FROM planted.calls), false,
		  'and still nothing planted was called');

DROP SCHEMA planted CASCADE;
DROP ROLE cadence_test_planter;
SELECT pg_temp.mock_post('/_mock/reset');
SELECT * FROM finish();
