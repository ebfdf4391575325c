-- A/B variants and what the team reads back.  A message step may carry
-- variants; each run gets one, by a hash of the run and the step (never a
-- random number), weighted, the same on every attempt, until a winner is
-- declared for runs enrolled afterwards.  cadence.sequence_stats() reads
-- the counters the runners and the webhooks keep (the sequence statistics
-- response); list_enrollments, get_enrollment and list_tasks page through
-- runs and manual work.  The runner's clock is as_of.
SET timezone = 'UTC';
\set ECHO none
\i test/helpers/mock.sql
\set ECHO all
SELECT pg_temp.mock_post('/_mock/reset');
SET cadence.retry_base_seconds = 1;

INSERT INTO cadence.members (tenant_id, user_id, role) VALUES
	('abtest', 'ada', 'owner'), ('abtest', 'mo', 'member');
SET cadence.tenant_id = 'abtest';
SET cadence.user_id = 'ada';
-- Resend has no webhook secret (its webhooks are accepted unsigned); the
-- Twilio account checks X-Twilio-Signature against its auth token.
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default) VALUES
	('abtest', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
	 '{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "tw-secret"}',
	 '{"from": "+15005550006", "webhookUrl": "https://crm.test/hooks/twilio"}', true),
	('abtest', 'resend', 'email', 'resend', 'http://127.0.0.1:18025',
	 '{"apiKey": "re_secret"}', '{"from": "sales@acme.test"}', true);

-- cadence(id, steps): an active cadence in New York time (returns its
-- status).
CREATE FUNCTION pg_temp.cadence(id text, steps jsonb) RETURNS text
LANGUAGE sql AS $$
	SELECT cadence.upsert_cadence(jsonb_build_object('id', id, 'name', id,
		'timezone', 'America/New_York', 'isActive', true,
		'days', jsonb_build_array(jsonb_build_object('dayNumber', 1, 'actions', steps)))) ->> 'status'
$$;
-- run(as_of): one pass of the runner for this file's tenant; what it did.
CREATE FUNCTION pg_temp.run(as_of timestamptz) RETURNS jsonb LANGUAGE sql AS $$
	SELECT coalesce(jsonb_object_agg(k, v), '{}')
	  FROM jsonb_each(cadence.run_due_actions(100, as_of, 'abtest')) AS x(k, v) WHERE v <> '0'
$$;
CREATE FUNCTION pg_temp.run_of(cid text, lead text) RETURNS bigint LANGUAGE sql AS $$
	SELECT id FROM cadence.runs WHERE tenant_id = 'abtest' AND cadence_id = cid AND lead_id = lead
	 ORDER BY id DESC LIMIT 1
$$;
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

--
-- A text in two variants, B three times as likely as A.  The step's own
-- body is what a variant does not replace (here, nothing).
--
\set pitch '{"id": "pitch", "type": "sms", "scheduleRule": {"kind": "immediately"}, "config": {"sms": {"body": "Hi {{firstName}}"}}, "variants": [{"id": "A", "sms": {"body": "A: Hi {{firstName}}, got a minute?"}}, {"id": "B", "weight": 3, "sms": {"body": "B: {{firstName}}, quick one for you"}}]}'
SELECT pg_temp.cadence('ab', jsonb_build_array(:'pitch'::jsonb));
-- Which variant a run gets is decided by its run id, so the leads below
-- are not told apart by name: what is shown holds whatever their ids.
INSERT INTO cadence.contacts (tenant_id, id, first_name, phone, timezone)
SELECT 'abtest', 'p' || g, 'P' || g, '+1212555' || lpad(g::text, 4, '0'), 'America/New_York'
  FROM generate_series(1, 18) g;
SELECT count(*) FILTER (WHERE outcome = 'enrolled') AS enrolled
  FROM cadence.plan_runs('ab', ARRAY(SELECT 'p' || g FROM generate_series(1, 12) g), '2026-03-10 15:00Z');
SELECT pg_temp.run('2026-03-10 15:00Z');
-- Each lead got the text of the variant its action records (as the
-- mock received it), and that is the variant pick_variant gives its run.
CREATE TEMP VIEW pitched AS
SELECT r.lead_id, r.id AS run_id, r.enrolled_at, c.first_name, c.phone, a.status, a.attempts, a.variant,
	   cadence.pick_variant(ca.variants, r.id, 'pitch') ->> 'id' AS picked,
	   CASE a.variant WHEN 'A' THEN 'A: Hi ' || c.first_name || ', got a minute?'
					  WHEN 'B' THEN 'B: ' || c.first_name || ', quick one for you' END AS variant_text
  FROM cadence.runs r
  JOIN cadence.contacts c ON c.tenant_id = r.tenant_id AND c.id = r.lead_id
  JOIN cadence.scheduled_actions a ON a.tenant_id = r.tenant_id AND a.run_id = r.id
  JOIN cadence.cadence_actions ca ON ca.tenant_id = r.tenant_id AND ca.cadence_id = r.cadence_id
   AND ca.version = r.cadence_version AND ca.step_number = a.step_number
 WHERE r.tenant_id = 'abtest' AND r.cadence_id = 'ab';
CREATE FUNCTION pg_temp.texts() RETURNS TABLE ("to" text, body text) LANGUAGE sql AS $$
	SELECT r -> 'form' ->> 'To', r -> 'form' ->> 'Body' FROM pg_temp.mock_requests('twilio') AS r
$$;
SELECT count(*) AS sent, count(*) FILTER (WHERE t.body = p.variant_text) AS text_of_its_variant,
	   count(*) FILTER (WHERE p.variant = p.picked) AS variant_picked_for_run
  FROM pitched p JOIN pg_temp.texts() t ON t."to" = p.phone
 WHERE p.status = 'sent';

--
-- pick_variant is a function of the run and the step alone: the same
-- answer every time, and for another step an answer of its own.  Over
-- 10,000 run ids the shares follow the weights: A 25 %, B 75 %, each
-- within 1.5 points (three standard deviations of a fair draw are 1.3).
-- The counts themselves are fixed: the hash is.
--
\set ab '[{"id": "A"}, {"id": "B", "weight": 3}]'
SELECT count(*) FILTER (WHERE cadence.pick_variant(:'ab', g, 'pitch') = cadence.pick_variant(:'ab', g, 'pitch')) AS same_twice,
	   count(*) FILTER (WHERE cadence.pick_variant(:'ab', g, 'pitch') <> cadence.pick_variant(:'ab', g, 'other-step')) AS differs_by_step
  FROM generate_series(1, 1000) g;
SELECT v ->> 'id' AS variant, count(*) AS runs, abs(count(*) / 10000.0 - w) <= 0.015 AS within_tolerance
  FROM generate_series(1, 10000) g, cadence.pick_variant(:'ab', g, 'pitch') AS v,
	   LATERAL (SELECT CASE v ->> 'id' WHEN 'A' THEN 0.25 ELSE 0.75 END AS w) x
 GROUP BY 1, w ORDER BY 1;
-- Three variants weighted 2 : 0 : 1 (a weight of 0 is never picked), and
-- all weights 0 (the first variant).
SELECT v ->> 'id' AS variant, count(*) AS runs
  FROM generate_series(1, 10000) g,
	   cadence.pick_variant('[{"id": "X", "weight": 2}, {"id": "Y", "weight": 0}, {"id": "Z"}]', g, 's') AS v
 GROUP BY 1 ORDER BY 1;
SELECT DISTINCT cadence.pick_variant('[{"id": "X", "weight": 0}, {"id": "Y", "weight": 0}]', g, 's') ->> 'id' AS variant
  FROM generate_series(1, 1000) g;

--
-- A retried action keeps its variant: the provider answers 500 once; the
-- second attempt, a second later, sends the same text.
--
SELECT pg_temp.mock_post('/_mock/reset');
SELECT cadence.plan_run_for_lead('ab', 'p13', '2026-03-10 16:00Z') > 0 AS enrolled;
SELECT pg_temp.mock_post('/_mock/fail', '{"kind": "twilio", "mode": "500", "times": 1}');
SELECT pg_temp.run('2026-03-10 16:00Z');
SELECT status, attempts, variant = picked AS variant_picked_for_run FROM pitched WHERE lead_id = 'p13';
SELECT pg_temp.run('2026-03-10 16:01Z');
SELECT p.status, p.attempts, p.variant = p.picked AS variant_picked_for_run,
	   count(*) AS requests, count(DISTINCT t.body) AS texts, bool_and(t.body = p.variant_text) AS text_of_its_variant
  FROM pitched p JOIN pg_temp.texts() t ON t."to" = p.phone
 WHERE p.lead_id = 'p13' GROUP BY 1, 2, 3;

--
-- Declaring a winner: runs enrolled afterwards get it; runs enrolled
-- before keep theirs, even if their message goes out afterwards.  A is
-- declared the winner after p14 and p15 were enrolled (due the next
-- day) and before p16 to p18 were.
--
SELECT count(*) FILTER (WHERE outcome = 'enrolled') AS enrolled
  FROM cadence.plan_runs('ab', ARRAY['p14', 'p15'], '2026-03-11 15:00Z');
SELECT r - 'declaredAt' AS declared, (r ->> 'declaredAt')::timestamptz <= clock_timestamp() AS declared_at_set
  FROM cadence.declare_winner('ab', 'pitch', 'A') AS r;
SELECT count(*) FILTER (WHERE outcome = 'enrolled') AS enrolled
  FROM cadence.plan_runs('ab', ARRAY['p16', 'p17', 'p18'], '2026-03-11 15:00Z');
SELECT pg_temp.run('2026-03-11 15:00Z');
SELECT w.variant AS winner, (SELECT count(*) FROM pitched p WHERE p.enrolled_at < w.declared_at) AS runs_before,
	   (SELECT count(*) FROM pitched p WHERE p.enrolled_at < w.declared_at AND p.variant = p.picked) AS kept_their_pick,
	   (SELECT count(*) FROM pitched p WHERE p.enrolled_at < w.declared_at AND p.variant = 'B') > 0 AS some_kept_b,
	   (SELECT count(*) FROM pitched p WHERE p.enrolled_at >= w.declared_at) AS runs_after,
	   (SELECT count(*) FROM pitched p WHERE p.enrolled_at >= w.declared_at AND p.variant = 'A') AS got_a
  FROM cadence.variant_winners w WHERE w.tenant_id = 'abtest' AND w.cadence_id = 'ab';
SELECT count(*) AS sent_today, count(*) FILTER (WHERE t.body = p.variant_text) AS text_of_its_variant
  FROM pitched p JOIN pg_temp.texts() t ON t."to" = p.phone WHERE p.lead_id IN ('p14', 'p15', 'p16', 'p17', 'p18');
-- The winner overrides the hash: a run whose pick is B gets A when it was
-- enrolled after the declaration, and B when before.
SELECT cadence.pick_variant(:'ab', g, 'pitch') ->> 'id' AS picked,
	   cadence.step_variant('abtest', 'ab', 'pitch', :'ab', g, w.declared_at + interval '1 s') ->> 'id' AS enrolled_after,
	   cadence.step_variant('abtest', 'ab', 'pitch', :'ab', g, w.declared_at - interval '1 s') ->> 'id' AS enrolled_before
  FROM generate_series(1, 10) g, cadence.variant_winners w
 WHERE w.tenant_id = 'abtest' AND w.cadence_id = 'ab' AND cadence.pick_variant(:'ab', g, 'pitch') ->> 'id' = 'B'
 ORDER BY g LIMIT 1;
SELECT type, payload FROM cadence.events WHERE tenant_id = 'abtest' AND type = 'cadence.variant_winner';
-- Only a variant of the step can win; only the cadence's owner or a
-- tenant owner or admin may declare one.
SELECT pg_temp.try($$SELECT cadence.declare_winner('ab', 'pitch', 'C')$$) AS unknown_variant;
SELECT pg_temp.try($$SELECT cadence.declare_winner('ab', 'nope', 'A')$$) AS unknown_step;
-- (Rights are checked for application roles; the superuser running this
-- file may do anything, so the check is made as a role that grant_access
-- set up, in a transaction rolled back afterwards.)
BEGIN;
CREATE ROLE regress_cadence_abtest NOLOGIN;
SELECT cadence.grant_access('regress_cadence_abtest');
SET LOCAL ROLE regress_cadence_abtest;
SET LOCAL cadence.user_id = 'mo';
SELECT pg_temp.try($$SELECT cadence.declare_winner('ab', 'pitch', 'B')$$) AS by_a_member;
SET LOCAL cadence.user_id = 'ada';
SELECT pg_temp.try($$SELECT cadence.declare_winner('ab', 'pitch', 'B')$$) AS by_the_owner;
ROLLBACK;
SELECT variant FROM cadence.variant_winners WHERE tenant_id = 'abtest' AND cadence_id = 'ab';
-- A variant names only what it changes: its email subject, say, over the
-- step's body (the other members of the step's email object stay).  Quin
-- is enrolled after B is declared the winner, so B is what he gets.
SELECT cadence.variant_config('{"email": {"subject": "Hello", "bodyText": "Hi {{firstName}}"}, "providerId": "resend"}',
							  'email', '{"id": "B", "weight": 30, "email": {"subject": "Quick question"}}') AS config;
SELECT pg_temp.cadence('ab-subject', '[{"id": "mail", "type": "email", "scheduleRule": {"kind": "immediately"},
	"config": {"email": {"subject": "Hello", "bodyText": "Hi {{firstName}}, here is what we do."}},
	"variants": [{"id": "A", "email": {"subject": "Quick question, {{firstName}}"}},
				 {"id": "B", "email": {"subject": "An idea for {{company}}"}}]}]');
SELECT cadence.declare_winner('ab-subject', 'mail', 'B') ->> 'variant' AS winner;
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, company, timezone)
VALUES ('abtest', 'q1', 'Quin', 'quin@x.test', 'Quinco', 'America/New_York');
SELECT cadence.plan_run_for_lead('ab-subject', 'q1', '2026-03-10 17:00Z') > 0 AS enrolled;
SELECT pg_temp.run('2026-03-10 17:00Z');
SELECT r -> 'json' ->> 'subject' AS subject, r -> 'json' ->> 'text' AS text FROM pg_temp.mock_requests('resend') AS r;

--
-- sequence_stats against numbers worked out by hand.  A three-step
-- cadence: an intro email in two variants, a follow-up email a day later,
-- a text a day after that; it exits on replies and bounces (the default).
-- Which lead gets which variant is fixed here by declaring A the winner
-- before s01 to s05 are enrolled and B before s06 to s11 are (otherwise
-- the hash of their run ids would decide).
--
SELECT pg_temp.cadence('stats', '[
	{"id": "intro", "name": "Intro", "type": "email", "scheduleRule": {"kind": "immediately"},
	 "config": {"email": {"subject": "Hello", "bodyText": "Hi {{firstName}}"}},
	 "variants": [{"id": "A", "name": "Question", "email": {"subject": "Quick question, {{firstName}}", "bodyText": "Hi {{firstName}}"}},
				  {"id": "B", "name": "Company", "email": {"subject": "{{company}} and Acme", "bodyText": "Hi {{firstName}}"}}]},
	{"id": "follow", "name": "Follow-up", "type": "email", "scheduleRule": {"kind": "delay", "days": 1},
	 "config": {"email": {"subject": "Following up", "bodyText": "Any thoughts, {{firstName}}?"}}},
	{"id": "text", "name": "Text", "type": "sms", "scheduleRule": {"kind": "delay", "days": 1},
	 "config": {"sms": {"body": "{{firstName}}, worth a call this week?"}}}]');
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, company, timezone)
SELECT 'abtest', 's' || lpad(g::text, 2, '0'), 'S' || g, 's' || g || '@x.test', '+1646555' || lpad(g::text, 4, '0'),
	   'Co' || g, 'America/New_York'
  FROM generate_series(1, 11) g;

-- Engagement comes in as the providers and the application report it:
-- Resend's webhooks (delivered, opened, clicked, bounced) naming the
-- email by the id Resend gave it, Twilio's signed status callback
-- (delivered), and the application's reply event.  Each says how many
-- signals ingest_webhook applied (1).
CREATE FUNCTION pg_temp.resend(kind text, lead text, action text, at timestamptz) RETURNS text
LANGUAGE sql AS $$
	SELECT cadence.ingest_webhook('resend', jsonb_build_object(
		'type', 'email.' || kind, 'created_at', at,
		'data', jsonb_build_object('email_id', a.provider_message_id, 'to', jsonb_build_array(c.email))
				|| CASE WHEN kind = 'bounced' THEN '{"bounce": {"type": "Permanent"}}'::jsonb ELSE '{}' END))
		   ->> 'applied'
	  FROM cadence.scheduled_actions a
	  JOIN cadence.contacts c ON c.tenant_id = a.tenant_id AND c.id = lead
	 WHERE a.tenant_id = 'abtest' AND a.run_id = pg_temp.run_of('stats', lead) AND a.action_id = action
$$;
CREATE FUNCTION pg_temp.twilio_delivered(lead text, action text) RETURNS text
LANGUAGE sql AS $$
	SELECT cadence.ingest_webhook('twilio', p,
			jsonb_build_object('X-Twilio-Signature',
				cadence.twilio_signature('tw-secret', 'https://crm.test/hooks/twilio', p))) ->> 'applied'
	  FROM (SELECT jsonb_build_object('MessageSid', a.provider_message_id, 'MessageStatus', 'delivered',
									  'AccountSid', 'AC0123456789abcdef0123456789abcdef',
									  'From', '+15005550006', 'To', c.phone) AS p
			  FROM cadence.scheduled_actions a
			  JOIN cadence.contacts c ON c.tenant_id = a.tenant_id AND c.id = lead
			 WHERE a.tenant_id = 'abtest' AND a.run_id = pg_temp.run_of('stats', lead) AND a.action_id = action) x
$$;
CREATE FUNCTION pg_temp.reply(lead text, at timestamptz) RETURNS text LANGUAGE sql AS $$
	SELECT cadence.ingest_webhook('app', jsonb_build_object('type', 'reply', 'leadId', lead,
		'occurredAt', at, 'text', 'Interested, tell me more')) ->> 'applied'
$$;

-- Day 1, 10:00 New York: s01-s05 (rep-a) get variant A; s05 opted out in
-- the meantime and is skipped.
SELECT cadence.declare_winner('stats', 'intro', 'A') ->> 'variant' AS winner;
SELECT count(*) FILTER (WHERE outcome = 'enrolled') AS enrolled
  FROM cadence.plan_runs('stats', ARRAY['s01', 's02', 's03', 's04', 's05'], '2026-03-10 14:00Z',
						 '{"assignedTo": "rep-a"}');
UPDATE cadence.contacts SET unsubscribed = true WHERE tenant_id = 'abtest' AND id = 's05';
SELECT pg_temp.run('2026-03-10 14:00Z');
-- 11:00: s06-s11 (rep-b) get variant B; s10 opted out, s11's run is
-- paused before its email goes; s09 (11:05) is refused by the provider.
SELECT cadence.declare_winner('stats', 'intro', 'B') ->> 'variant' AS winner;
SELECT count(*) FILTER (WHERE outcome = 'enrolled') AS enrolled
  FROM cadence.plan_runs('stats', ARRAY['s06', 's07', 's08', 's10', 's11'], '2026-03-10 15:00Z',
						 '{"assignedTo": "rep-b"}');
SELECT cadence.plan_run_for_lead('stats', 's09', '2026-03-10 15:05Z', '{"assignedTo": "rep-b"}') > 0 AS enrolled;
UPDATE cadence.contacts SET unsubscribed = true WHERE tenant_id = 'abtest' AND id = 's10';
SELECT cadence.pause_run(pg_temp.run_of('stats', 's11')) ->> 'status' AS s11;
SELECT pg_temp.run('2026-03-10 15:00Z');
SELECT pg_temp.mock_post('/_mock/fail', '{"kind": "resend", "mode": "400", "times": 1}');
SELECT pg_temp.run('2026-03-10 15:05Z');
SELECT r.lead_id AS lead, a.variant, a.status, a.skip_reason
  FROM cadence.runs r JOIN cadence.scheduled_actions a ON a.tenant_id = r.tenant_id AND a.run_id = r.id
 WHERE r.tenant_id = 'abtest' AND r.cadence_id = 'stats' AND a.step_number = 1 ORDER BY 1;
-- What comes back for the intro:
--   A (s01-s04 sent): s01 delivered and opened; s02 delivered, clicked
--     (an open too); s03 replied (its run ends, replied); s04 bounced
--     (its run ends, bounced).
--   B (s06-s08 sent): s06 delivered and opened; s07 opened; s08 opened
--     and replied (its run ends).
SELECT pg_temp.resend('delivered', 's01', 'intro', '2026-03-10 14:01Z') AS s01_delivered,
	   pg_temp.resend('opened', 's01', 'intro', '2026-03-10 14:30Z') AS s01_opened,
	   pg_temp.resend('delivered', 's02', 'intro', '2026-03-10 14:01Z') AS s02_delivered,
	   pg_temp.resend('clicked', 's02', 'intro', '2026-03-10 14:40Z') AS s02_clicked,
	   pg_temp.reply('s03', '2026-03-10 16:00Z') AS s03_replied,
	   pg_temp.resend('bounced', 's04', 'intro', '2026-03-10 14:02Z') AS s04_bounced;
SELECT pg_temp.resend('delivered', 's06', 'intro', '2026-03-10 15:01Z') AS s06_delivered,
	   pg_temp.resend('opened', 's06', 'intro', '2026-03-10 15:30Z') AS s06_opened,
	   pg_temp.resend('opened', 's07', 'intro', '2026-03-10 15:31Z') AS s07_opened,
	   pg_temp.resend('opened', 's08', 'intro', '2026-03-10 15:32Z') AS s08_opened,
	   pg_temp.reply('s08', '2026-03-10 17:00Z') AS s08_replied;
-- A second open of the same email is applied, but it is not a second
-- open (A's opens below stay 2).
SELECT pg_temp.resend('opened', 's01', 'intro', '2026-03-10 19:00Z') AS s01_opened_again;
-- Day 2: the follow-up for s01, s02, s06, s07, s09 (s05 and s10 skipped).
-- s01 replies to it, s06's bounces, s07 opens it.
SELECT pg_temp.run('2026-03-11 16:00Z');
SELECT pg_temp.reply('s01', '2026-03-11 18:00Z') AS s01_replied,
	   pg_temp.resend('bounced', 's06', 'follow', '2026-03-11 16:01Z') AS s06_bounced,
	   pg_temp.resend('opened', 's07', 'follow', '2026-03-11 17:00Z') AS s07_opened;
-- Day 3: the text for s02, s07, s09 (s05 and s10 skipped); s02's and
-- s07's are delivered.
SELECT pg_temp.run('2026-03-12 17:00Z');
SELECT pg_temp.twilio_delivered('s02', 'text') AS s02_delivered, pg_temp.twilio_delivered('s07', 'text') AS s07_delivered;

-- By hand:
--   enrollments 11: completed 5 (s02, s07, s09 after the text; s05, s10
--   with every step skipped), replied 3 (s01, s03, s08), bounced 2 (s04,
--   s06), paused 1 (s11), active 0; reply rate 3/11 = 27.3 %.
SELECT jsonb_pretty(s - 'data') AS envelope, jsonb_pretty((s -> 'data') - 'stepStats') AS data
  FROM cadence.sequence_stats('stats') AS s;
--   intro:  sent 7 (A 4 + B 3), delivered 3, opened 5 (s01, s02, s06,
--           s07, s08), clicked 1, replied 2 (s03, s08), bounced 1 (s04),
--           failed 1 (s09), skipped 2 (s05, s10); per sent: opened 5/7 =
--           71.4 %, clicked 1/7 = 14.3 %, replied 2/7 = 28.6 %, bounced
--           1/7 = 14.3 %.
--   follow: sent 5, opened 1 (s07), replied 1 (s01), bounced 1 (s06),
--           skipped 2 (s05, s10); opened, replied, bounced 1/5 = 20.0 %
--           each, clicked 0.0 %.
--   text:   sent 3, delivered 2 (s02, s07), skipped 2; nothing opened,
--           clicked, replied or bounced: 0.0 %.
SELECT x.* FROM cadence.sequence_stats('stats') AS s,
	   jsonb_to_recordset(s -> 'data' -> 'stepStats') AS x("stepNumber" int, "actionId" text, type text, name text,
		   sent int, delivered int, opened int, clicked int, replied int, bounced int, failed int, skipped int,
		   "openRate" numeric, "clickRate" numeric, "replyRate" numeric, "bounceRate" numeric);
--   A: sent 4, delivered 2, opened 2, clicked 1, replied 1, bounced 1,
--      skipped 1 (s05); 50.0 %, 25.0 %, 25.0 %, 25.0 %.
--   B: sent 3, delivered 1, opened 3, replied 1, failed 1 (s09), skipped
--      1 (s10); 100.0 %, 0.0 %, 33.3 %, 0.0 %.  B, declared last, is the
--      winner.
SELECT v.* FROM cadence.sequence_stats('stats') AS s,
	   jsonb_to_recordset(s -> 'data' -> 'stepStats' -> 0 -> 'variants') AS v("variantId" text, name text, weight numeric,
		   winner boolean, sent int, delivered int, opened int, clicked int, replied int, bounced int, failed int,
		   skipped int, "openRate" numeric, "clickRate" numeric, "replyRate" numeric, "bounceRate" numeric);
-- Every member of a step and of a variant is shown above.
SELECT m.of, (SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(m.o) AS k) AS members
  FROM cadence.sequence_stats('stats') AS s,
	   LATERAL (VALUES ('step', s -> 'data' -> 'stepStats' -> 0),
					   ('variant', s -> 'data' -> 'stepStats' -> 0 -> 'variants' -> 0)) AS m(of, o);

-- The counters kept as things happened equal a count from the actions
-- themselves: recount_stats rewrites them and nothing changes.
CREATE TEMP TABLE kept AS SELECT cadence.sequence_stats('stats') AS s;
CREATE TEMP VIEW counters AS
SELECT step_number, variant, sent, failed, skipped, delivered, opened, clicked, replied, bounced
  FROM cadence.step_stats WHERE tenant_id = 'abtest' AND cadence_id = 'stats'
   AND sent + failed + skipped + delivered + opened + clicked + replied + bounced > 0;
CREATE TEMP TABLE kept_rows AS SELECT * FROM counters;
SELECT cadence.recount_stats('stats') AS rows_counted;
SELECT k.s = cadence.sequence_stats('stats') AS same_stats FROM kept k;
SELECT count(*) AS rows_differing
  FROM ((TABLE kept_rows EXCEPT TABLE counters) UNION ALL (TABLE counters EXCEPT TABLE kept_rows)) d;

--
-- The enrollments of a cadence, newest first, by status and assignee, a
-- page at a time.  s09 was enrolled last (on its own), s06-s11 before it
-- in one call (the later run id first), s01-s05 first.
--
CREATE FUNCTION pg_temp.enrollments(page jsonb) RETURNS TABLE (lead text, status text, assigned text, step int)
LANGUAGE sql AS $$
	SELECT e ->> 'contactId', e ->> 'status', e ->> 'assignedTo', (e ->> 'currentStepNumber')::int
	  FROM jsonb_array_elements(page -> 'data') AS e
$$;
SELECT l - 'data' AS page, (SELECT string_agg(x.lead, ' ') FROM pg_temp.enrollments(l) x) AS leads
  FROM cadence.list_enrollments('stats') AS l;
SELECT l - 'data' AS page, (SELECT string_agg(x.lead, ' ') FROM pg_temp.enrollments(l) x) AS leads
  FROM cadence.list_enrollments('stats', page => 2, page_size => 3) AS l;
SELECT l - 'data' AS page, (SELECT string_agg(x.lead, ' ') FROM pg_temp.enrollments(l) x) AS leads
  FROM cadence.list_enrollments('stats', page => 4, page_size => 3) AS l;
SELECT * FROM pg_temp.enrollments(cadence.list_enrollments('stats', status => 'completed'));
SELECT * FROM pg_temp.enrollments(cadence.list_enrollments('stats', status => 'replied', assigned_to => 'rep-a'));
SELECT l - 'data' AS page, (SELECT string_agg(x.lead, ' ') FROM pg_temp.enrollments(l) x) AS leads
  FROM cadence.list_enrollments('stats', assigned_to => 'rep-b', page => 2, page_size => 4) AS l;
SELECT l - 'data' AS page FROM cadence.list_enrollments('stats', status => 'cancelled') AS l;
-- One enrollment in the list's shape (ids and wall-clock times left out).
SELECT (cadence.list_enrollments('stats', status => 'paused') -> 'data' -> 0)
	   - 'id' - 'enrolledAt' - 'lastActivityAt' - 'pausedAt' AS enrollment;
-- get_enrollment: one run with what happened at each of its steps.  s02
-- got variant A, delivered, opened (by its click) and clicked; its
-- follow-up, due a day later, went out when the runner came two hours
-- after that, so the text is due a day after it went out; the text was
-- delivered (Twilio's callback carries no time: it is when it came).
SELECT e - 'id' - 'enrolledAt' - 'lastActivityAt' - 'completedAt' - 'steps' AS enrollment
  FROM cadence.get_enrollment(pg_temp.run_of('stats', 's02')) AS e;
SELECT s."stepNumber", s."actionId", s.type, s.status, s.variant, s."dueAt", s."sentAt",
	   s."deliveredAt" IS NOT NULL AS delivered, s."openedAt", s."clickedAt", s.attempts,
	   s."providerMessageId" IS NOT NULL AS has_provider_id
  FROM cadence.get_enrollment(pg_temp.run_of('stats', 's02')) AS e,
	   jsonb_to_recordset(e -> 'steps') AS s("stepNumber" int, "actionId" text, type text, status text,
		   variant text, "dueAt" timestamptz, "sentAt" timestamptz, "deliveredAt" timestamptz,
		   "openedAt" timestamptz, "clickedAt" timestamptz, attempts int, "providerMessageId" text);
-- s01 replied to the follow-up (the run ends; the text is cancelled); s10
-- opted out (every step skipped).
SELECT x.lead, s.value ->> 'stepNumber' AS step, s.value ->> 'status' AS status, s.value ->> 'skipReason' AS skip,
	   s.value ->> 'repliedAt' AS replied_at
  FROM (VALUES ('s01'), ('s10')) x(lead),
	   jsonb_array_elements(cadence.get_enrollment(pg_temp.run_of('stats', x.lead)) -> 'steps') AS s
 ORDER BY 1, 2;
SELECT e ->> 'status' AS status, e ->> 'exitReason' AS exit_reason
  FROM cadence.get_enrollment(pg_temp.run_of('stats', 's01')) AS e;

--
-- The manual task list.  Calls for three leads, due on three days: Uma's
-- for rep-a, Vic's for rep-b, Wes's for nobody (his owner, rep-a, gets
-- it).
--
SELECT pg_temp.cadence('calls', '[
	{"id": "call", "name": "Discovery call", "type": "call_task", "scheduleRule": {"kind": "immediately"},
	 "config": {"task": {"description": "Ask about their renewal date"}}},
	{"id": "recap", "type": "email", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 30},
	 "config": {"email": {"subject": "Recap", "bodyText": "Thanks for the call, {{firstName}}"}}}]');
INSERT INTO cadence.contacts (tenant_id, id, first_name, last_name, email, phone, company, timezone, owner_id) VALUES
	('abtest', 'uma', 'Uma', 'Ulm', 'uma@x.test', '+13125550001', 'Umbra', 'America/New_York', 'rep-c'),
	('abtest', 'vic', 'Vic', 'Vale', 'vic@x.test', '+13125550002', 'Vortex', 'America/New_York', 'rep-c'),
	('abtest', 'wes', 'Wes', 'West', 'wes@x.test', '+13125550003', 'Westco', 'America/New_York', 'rep-a');
SELECT cadence.plan_run_for_lead('calls', 'uma', '2026-03-10 14:00Z', '{"assignedTo": "rep-a"}') > 0 AS uma,
	   cadence.plan_run_for_lead('calls', 'vic', '2026-03-11 14:00Z', '{"assignedTo": "rep-b"}') > 0 AS vic,
	   cadence.plan_run_for_lead('calls', 'wes', '2026-03-12 14:00Z') > 0 AS wes;
SELECT pg_temp.run('2026-03-12 14:00Z');
CREATE FUNCTION pg_temp.tasks(page jsonb) RETURNS TABLE (lead text, name text, company text, assigned text, type text,
														  title text, step int, status text, due timestamptz, outcome text)
LANGUAGE sql AS $$
	SELECT t ->> 'contactId', t ->> 'contactName', t ->> 'company', t ->> 'assignedTo', t ->> 'type',
		   t ->> 'title', (t ->> 'stepNumber')::int, t ->> 'status', (t ->> 'dueAt')::timestamptz, t ->> 'outcome'
	  FROM jsonb_array_elements(page -> 'data') AS t
$$;
-- Open tasks (the default), oldest due first.
SELECT * FROM pg_temp.tasks(cadence.list_tasks());
SELECT l - 'data' AS page FROM cadence.list_tasks() AS l;
-- One task in full (ids left out).
SELECT (cadence.list_tasks() -> 'data' -> 0) - 'id' - 'runId' AS task;
-- By assignee; due by the end of a day (in the run's zone, overdue
-- included); a page at a time.
SELECT lead, assigned FROM pg_temp.tasks(cadence.list_tasks(assigned_to => 'rep-a'));
SELECT lead, due FROM pg_temp.tasks(cadence.list_tasks(due_date => '2026-03-11'));
SELECT lead, due FROM pg_temp.tasks(cadence.list_tasks(due_date => '2026-03-09'));
SELECT l - 'data' AS page, (SELECT string_agg(x.lead, ' ') FROM pg_temp.tasks(l) x) AS leads
  FROM cadence.list_tasks(page => 2, page_size => 2) AS l;
-- Vic's call is done: it leaves the open list for the completed one, and
-- the run goes on to its recap email.
SELECT cadence.complete_manual_step(pg_temp.run_of('calls', 'vic'), 1, 'Renewal in June', 'interested',
									'2026-03-12 15:00Z') ->> 'currentStep' AS vic_now_at;
SELECT lead FROM pg_temp.tasks(cadence.list_tasks());
SELECT lead, status, outcome FROM pg_temp.tasks(cadence.list_tasks(status => 'completed'));
SELECT (cadence.list_tasks(status => 'completed') -> 'data' -> 0) ->> 'notes' AS notes,
	   (cadence.list_tasks(status => 'completed') -> 'data' -> 0) ->> 'completedAt' AS completed_at;
SELECT lead, status FROM pg_temp.tasks(cadence.list_tasks(status => 'all'));
SELECT lead, status FROM pg_temp.tasks(cadence.list_tasks(assigned_to => 'rep-b', status => 'pending_manual'));

-- Pages and filters are checked.
SELECT pg_temp.try($$SELECT cadence.list_enrollments('stats', page => 0)$$) AS page_zero;
SELECT pg_temp.try($$SELECT cadence.list_enrollments('stats', page_size => 0)$$) AS page_size_zero;
SELECT pg_temp.try($$SELECT cadence.list_enrollments('stats', page_size => 501)$$) AS page_size_501;
SELECT pg_temp.try($$SELECT cadence.list_enrollments('stats', page => NULL)$$) AS page_null;
SELECT pg_temp.try($$SELECT cadence.list_enrollments('stats', status => 'done')$$) AS unknown_status;
SELECT pg_temp.try($$SELECT cadence.list_enrollments('nope')$$) AS unknown_cadence;
SELECT pg_temp.try($$SELECT cadence.list_tasks(page => -1)$$) AS tasks_page;
SELECT pg_temp.try($$SELECT cadence.list_tasks(page_size => 1000)$$) AS tasks_page_size;
SELECT pg_temp.try($$SELECT cadence.list_tasks(status => 'done')$$) AS tasks_status;
SELECT pg_temp.try($$SELECT cadence.get_enrollment(-1)$$) AS unknown_run;
SELECT pg_temp.try($$SELECT cadence.sequence_stats('nope')$$) AS stats_unknown_cadence;

-- A step with variants may leave to them what they all set (here the
-- subject); each variant laid over the step must be a whole message.
SELECT cadence.upsert_cadence('{"id": "subjects", "name": "Subjects", "days": [{"dayNumber": 1, "actions": [
	{"id": "e", "type": "email", "scheduleRule": {"kind": "immediately"}, "config": {"email": {"bodyText": "Hi"}},
	 "variants": [{"id": "A", "email": {"subject": "Quick question"}},
				  {"id": "B", "weight": 3, "email": {"subject": "{{company}} + Acme?"}}]}]}]}')
	   -> 'days' -> 0 -> 'actions' -> 0 -> 'variants' AS variants;
SELECT pg_temp.try($$SELECT cadence.upsert_cadence('{"id": "subjects-2", "name": "Subjects", "days": [{"dayNumber": 1, "actions": [
	{"id": "e", "type": "email", "scheduleRule": {"kind": "immediately"}, "config": {"email": {"bodyText": "Hi"}},
	 "variants": [{"id": "A", "email": {"subject": "Quick question"}}, {"id": "B", "weight": 3}]}]}]}')$$) AS b_has_no_subject;
