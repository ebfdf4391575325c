-- make demo: the whole life of one cadence, narrated for the people who run
-- sales, on a throwaway cluster (see demo/run).
--
-- demo/run starts the mock provider (test/mock/provider.py, which answers
-- like Twilio and SendGrid) and passes its port as :mock.  No real clock is
-- waited for: cadence.run_due_actions() is called with its as_of set to
-- each due time in turn, as the background worker would wake for it, over
-- the week of Monday 11 May 2026.  What leads send back goes through
-- cadence.ingest_webhook() in the providers' own formats, filled in from
-- their documented examples (test/fixtures/webhooks/).  The week is in the
-- past on purpose: ingest_webhook reads the real clock, and an out-of-office
-- pause lasts until a return date after it, so Elena's stays paused to the
-- end of the demo.  demo/helpers.sql posts the webhooks and puts cadence's
-- answers into words.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set start '2026-05-11 07:30Z'
CREATE EXTENSION cadence;
\pset footer off
\pset null ''

\ir helpers.sql

\echo
\echo 'cadence demo: one sales cadence from start to finish, on a throwaway PostgreSQL'
\echo 'server.  Texts and emails go to a stand-in for Twilio and SendGrid running on'
\echo 'this machine; nothing leaves it.  The clock is simulated: it is the week of'
\echo 'Monday 11 May 2026.'

\echo
\echo '== 1. The team'
\echo '   Seed sells software.  Olivia runs sales operations; Raj covers the leads in'
\echo '   the Americas, Mia those in London and São Paulo.  Texts go out through'
\echo '   Seed''s Twilio account, emails through its SendGrid account.'
INSERT INTO cadence.members (tenant_id, user_id, role) VALUES
	('seed', 'olivia', 'owner'), ('seed', 'raj', 'member'), ('seed', 'mia', 'member');
SET cadence.tenant_id = 'seed';
SET cadence.user_id = 'olivia';
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default) VALUES
	('seed', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:' || :'mock',
	 '{"accountSid": "AC5eed0000000000000000000000000001", "authToken": "demo-twilio-auth-token"}',
	 '{"from": "+14155550100", "webhookUrl": "https://hooks.seed.test/twilio"}', true),
	('seed', 'sendgrid', 'email', 'sendgrid', 'http://127.0.0.1:' || :'mock',
	 '{"apiKey": "SG.demo-key", "inboundToken": "demo-inbound-token"}',
	 '{"from": "olivia@seed.test", "fromName": "Olivia at Seed"}', true);

\echo
\echo '== 2. The cadence'
\echo '   Olivia saves the "New Lead Cadence" exactly as the app sends it: a welcome'
\echo '   text at 09:00 and a "Getting started" email 30 minutes later.'
SELECT cadence.upsert_cadence($json$
{
  "id": "cad-123",
  "name": "New Lead Cadence",
  "isActive": false,
  "timezone": "America/Los_Angeles",
  "trigger": { "type": "lead_assigned", "config": { "assignedTo": "<user-id-uuid>" } },
  "days": [
    {
      "dayNumber": 1,
      "actions": [
        {
          "id": "a1",
          "type": "sms",
          "scheduleRule": { "kind": "timeOfDay", "timeOfDay": "09:00" },
          "config": { "sms": { "body": "Hi {{firstName}}, welcome to Seed!" } }
        },
        {
          "id": "a2",
          "type": "email",
          "scheduleRule": { "kind": "afterPrevious", "minutesAfterPrev": 30 },
          "config": { "email": { "subject": "Getting started", "bodyHtml": "<p>Hello!</p>" } }
        }
      ]
    }
  ]
}
$json$) ->> 'status' AS saved \gset
\echo '   Saved as a' :saved'.'
\echo

\echo '   Then she builds it out, before anyone is enrolled:'
\echo '   - every lead is reached in their own time zone, on weekdays, 09:00-17:00;'
\echo '   - the email''s subject is A/B tested: "Getting started" against a personal'
\echo '     question;'
\echo '   - day 2: a follow-up email with a link to a product tour;'
\echo '   - day 4: whoever clicked a link gets a call from their rep, the others a'
\echo '     short "should I close your file?" email;'
\echo '   - a reply, a bounce, an opt-out or a booked meeting ends a lead''s cadence;'
\echo '     a reply also pauses it for the lead''s colleagues at the same company.'
SELECT cadence.upsert_cadence($json$
{
  "id": "cad-123",
  "name": "New Lead Cadence",
  "isActive": false,
  "timezone": "America/Los_Angeles",
  "trigger": { "type": "lead_assigned", "config": { "assignedTo": "<user-id-uuid>" } },
  "settings": {
    "timezoneMode": "recipient",
    "excludeWeekends": true,
    "businessHours": {
      "monday":    { "start": "09:00", "end": "17:00" },
      "tuesday":   { "start": "09:00", "end": "17:00" },
      "wednesday": { "start": "09:00", "end": "17:00" },
      "thursday":  { "start": "09:00", "end": "17:00" },
      "friday":    { "start": "09:00", "end": "17:00" }
    },
    "pauseCompanyOnReply": true
  },
  "exitConditions": { "onReply": true, "onBounce": true, "onUnsubscribe": true, "onMeetingBooked": true },
  "days": [
    {
      "dayNumber": 1,
      "actions": [
        {
          "id": "a1",
          "name": "Welcome text",
          "type": "sms",
          "scheduleRule": { "kind": "timeOfDay", "timeOfDay": "09:00" },
          "config": { "sms": { "body": "Hi {{firstName}}, welcome to Seed!" } }
        },
        {
          "id": "a2",
          "name": "Getting started email",
          "type": "email",
          "scheduleRule": { "kind": "afterPrevious", "minutesAfterPrev": 30 },
          "config": { "email": { "subject": "Getting started", "bodyHtml": "<p>Hello!</p>" } },
          "variants": [
            { "id": "A", "name": "Getting started",
              "email": { "subject": "Getting started", "bodyHtml": "<p>Hello!</p>" } },
            { "id": "B", "name": "Personal question",
              "email": { "subject": "{{firstName}}, got 2 minutes for a tour of Seed?",
                         "bodyHtml": "<p>Hello!</p>" } }
          ]
        }
      ]
    },
    {
      "dayNumber": 2,
      "actions": [
        {
          "id": "a3",
          "name": "Follow-up email",
          "type": "email",
          "scheduleRule": { "kind": "timeOfDay", "timeOfDay": "10:00" },
          "config": { "email": {
            "subject": "Did you get a chance to look, {{firstName}}?",
            "bodyHtml": "<p>Hi {{firstName}}, here is how teams like {{company}} use Seed: <a href=\"https://seed.test/tour\">a 2-minute tour</a>.</p>" } }
        }
      ]
    },
    {
      "dayNumber": 4,
      "actions": [
        {
          "id": "a4",
          "name": "Clicked a link?",
          "type": "condition",
          "scheduleRule": { "kind": "timeOfDay", "timeOfDay": "09:00" },
          "condition": { "when": "if_clicked", "then": { "action": "jump", "toStep": "a6" } }
        },
        {
          "id": "a5",
          "name": "Breakup email",
          "type": "email",
          "scheduleRule": { "kind": "immediately" },
          "config": { "email": {
            "subject": "Should I close your file, {{firstName}}?",
            "bodyHtml": "<p>Hi {{firstName}}, I have not heard back, so I will stop writing. Reply any time Seed becomes a priority for {{company}}.</p>" } }
        },
        {
          "id": "a6",
          "name": "Call",
          "type": "call_task",
          "scheduleRule": { "kind": "immediately" },
          "condition": { "when": "if_clicked" },
          "config": { "task": {
            "title": "Call: offer a demo",
            "description": "Clicked a link in our emails." } }
        }
      ]
    }
  ]
}
$json$) ->> 'version' AS version \gset
SELECT a.day_number AS day, a.step_number AS step, a.name AS what,
	   CASE a.schedule_rule ->> 'kind'
		WHEN 'timeOfDay' THEN 'at ' || (a.schedule_rule ->> 'timeOfDay')
		WHEN 'afterPrevious' THEN (a.schedule_rule ->> 'minutesAfterPrev') || ' minutes later'
		ELSE 'right after' END AS "when (lead's time)",
	   coalesce(a.config -> 'sms' ->> 'body', a.config -> 'email' ->> 'subject',
				a.config -> 'task' ->> 'title',
				'if so, straight to the call; if not, the breakup email')
	   || CASE WHEN a.variants IS NOT NULL
			   THEN ' / B: ' || (a.variants -> 1 -> 'email' ->> 'subject') ELSE '' END
	   || CASE WHEN a.condition IS NOT NULL AND a.type <> 'condition'
			   THEN ' (only if they clicked)' ELSE '' END AS message
  FROM cadence.cadence_actions a
 WHERE a.tenant_id = 'seed' AND a.cadence_id = 'cad-123'
   AND a.version = (SELECT version FROM cadence.cadences WHERE tenant_id = 'seed' AND id = 'cad-123')
 ORDER BY a.step_number;
SELECT cadence.activate('cad-123') ->> 'success' AS activated \gset
\echo '   Still version' :version 'of the cadence (nobody is enrolled yet), and now active.'

\echo
\echo '== 3. The leads'
\echo '   300 new leads in six time zones, each with a name, a company, an email'
\echo '   address and, most of them, a mobile number.  Three work at each company.'
CREATE TEMP TABLE regions (n int, zone text, phone text, rep text);
INSERT INTO regions VALUES
	(0, 'Europe/London', '+447700900', 'mia'), (1, 'America/Sao_Paulo', '+55119555', 'mia'),
	(2, 'America/New_York', '+1212555', 'raj'), (3, 'America/Chicago', '+1312555', 'raj'),
	(4, 'America/Denver', '+1303555', 'raj'), (5, 'America/Los_Angeles', '+1310555', 'raj');
INSERT INTO cadence.contacts (tenant_id, id, first_name, last_name, email, phone, timezone, company, owner_id)
SELECT 'seed', 'lead-' || lpad((i + 1)::text, 3, '0'), f, l,
	   lower(f || '.' || l || '@' || replace(c, ' ', '') || '.test'),
	   CASE WHEN i % 60 <> 7 THEN z.phone || lpad((100 + i / 6)::text, CASE z.n WHEN 0 THEN 3 ELSE 4 END, '0') END,
	   z.zone, c, z.rep
  FROM generate_series(0, 299) AS i
  JOIN regions z ON z.n = i % 6,
  LATERAL (SELECT (ARRAY['Ana', 'Ben', 'Chloe', 'Dev', 'Elena', 'Farid', 'Grace', 'Hugo', 'Ines', 'Jamal',
						 'Kara', 'Liam', 'Maya', 'Noah', 'Olga', 'Pedro', 'Quinn', 'Rosa', 'Sam', 'Tara',
						 'Umar', 'Vera', 'Wes', 'Ximena', 'Yusuf', 'Zoe', 'Aiko', 'Bruno', 'Carmen', 'Diego',
						 'Emma', 'Felix', 'Gita', 'Hana', 'Ivan', 'Julia', 'Kofi', 'Lena', 'Marco', 'Nina',
						 'Omar', 'Priya', 'Rafael', 'Sofia', 'Tomas', 'Uma', 'Victor', 'Wen', 'Yara', 'Zane'])
						 [1 + (i + i / 50) % 50] AS f,
				  (ARRAY['Lima', 'Baker', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Hughes', 'Ito', 'Jensen',
						 'Khan', 'Lopez', 'Murphy', 'Nakamura', 'Okafor', 'Patel', 'Quinn', 'Rossi', 'Silva', 'Tanaka',
						 'Usman', 'Varga', 'Walsh', 'Xu', 'Young', 'Zhang', 'Abbott', 'Brooks', 'Costa', 'Dubois',
						 'Ellis', 'Ferreira', 'Gupta', 'Hall', 'Iyer', 'Jones', 'Kim', 'Larsen', 'Moreau', 'Novak',
						 'Olsen', 'Park', 'Reyes', 'Santos', 'Torres', 'Ueda', 'Vidal', 'Weber', 'Yilmaz', 'Zimmer'])
						 [1 + (i / 50 * 7 + i) % 50] AS l,
				  (ARRAY['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Wonka', 'Tyrell',
						 'Cyberdyne', 'Soylent', 'Vandelay', 'Pied Piper', 'Dunder', 'Gringotts', 'Oscorp',
						 'Aperture', 'Massive', 'Nakatomi', 'Monarch'])[1 + i % 20]
				  || ' ' || (ARRAY['Labs', 'Foods', 'Logistics', 'Health', 'Energy'])[1 + (i / 20) % 5] AS c) AS names;
-- Ines gave her office landline as her mobile (Twilio's test number for
-- "not a mobile number").
UPDATE cadence.contacts SET phone = '+15005550009' WHERE tenant_id = 'seed' AND id = 'lead-009';
SELECT pg_temp.city(timezone) AS city, count(*) AS leads, count(phone) AS "with a mobile", min(owner_id) AS rep
  FROM cadence.contacts WHERE tenant_id = 'seed'
 GROUP BY timezone ORDER BY min(:'start'::timestamptz AT TIME ZONE timezone) DESC;
SELECT id AS lead, pg_temp.who(id) AS name, company, email, phone, pg_temp.city(timezone) AS city
  FROM cadence.contacts WHERE tenant_id = 'seed' ORDER BY id LIMIT 6;

\echo
\echo '== 4. Before enrolling anyone, Olivia previews what Ana Lima in London would'
\echo '   get (nothing is written).  Day 3 is left empty on purpose; day 4 is'
\echo '   Thursday.  Nothing has to move: every touch falls on a weekday between'
\echo '   09:00 and 17:00, her time.  (A time that did not would show why it moved:'
\echo '   a weekend, a holiday, outside business hours.)'
SELECT p.day_number AS day, p.step_number AS step, a.name AS what,
	   to_char(p.local_time, 'Dy DD Mon HH24:MI') AS "her time", to_char(p.due_at, 'HH24:MI') AS "UTC",
	   coalesce(replace(p.reason, '_', ' '), '') AS "moved because"
  FROM cadence.preview_schedule('cad-123', 'lead-001', :'start') AS p
  JOIN cadence.cadence_actions a ON a.tenant_id = 'seed' AND a.cadence_id = 'cad-123'
   AND a.version = 1 AND a.action_id = p.action_id
 ORDER BY p.step_number;

\echo
\echo '== 5. Enrolling: the whole list in one call, on Monday 11 May at 07:30 UTC,'
\echo '   which is 00:30 in Los Angeles and 08:30 in London: before anyone''s working'
\echo '   day has started.'
SELECT outcome, count(*) AS leads
  FROM cadence.plan_runs('cad-123', ARRAY(SELECT id FROM cadence.contacts WHERE tenant_id = 'seed'), :'start')
 GROUP BY outcome;
\echo '   The same list imported again by mistake: nobody is enrolled twice.'
SELECT outcome, count(*) AS leads
  FROM cadence.plan_runs('cad-123', ARRAY(SELECT id FROM cadence.contacts WHERE tenant_id = 'seed'), :'start')
 GROUP BY outcome;

\echo
\echo '== 6. Monday 11 May, day 1'
\echo '   In production the background worker (or pg_cron calling'
\echo '   cadence.run_due_actions every minute) sends each message the moment it is'
\echo '   due.  Here the clock jumps from one due time to the next.  The welcome text'
\echo '   goes at 09:00 in each lead''s own time zone, so the day starts in London'
\echo '   and ends in Los Angeles; each email follows its text by 30 minutes.'
\pset format unaligned
\pset tuples_only on
SELECT * FROM pg_temp.run_until('2026-05-11 23:59Z');
\pset tuples_only off
\pset format aligned
\echo '   A lead with no mobile number, or whose number Twilio refuses, still gets'
\echo '   the email: the cadence moves on to the next step.'

\echo
\echo '== 7. What comes back on Monday'
\echo '   Each provider posts to Seed''s webhook endpoint, which hands the body to'
\echo '   cadence.ingest_webhook.  Twilio signs its posts with the account''s auth'
\echo '   token; the signature is checked before anything is recorded.'
SELECT coalesce(max(n), 0) AS since FROM posts \gset
SELECT count(*) AS receipts FROM cadence.scheduled_actions a,
	   LATERAL pg_temp.from_twilio(pg_temp.fixture('twilio_status_delivered') || jsonb_build_object(
		   'MessageSid', a.provider_message_id, 'SmsSid', a.provider_message_id,
		   'From', '+14155550100', 'To', a.rendered ->> 'to',
		   'RawDlrDoneDate', to_char(a.sent_at + interval '1 minute', 'YYMMDDHH24MI'))) AS r
 WHERE a.tenant_id = 'seed' AND a.action_id = 'a1' AND a.status = 'sent' \gset
\pset format unaligned
\pset tuples_only on
SELECT pg_temp.heard(:'since', 'the welcome texts');
SELECT coalesce(max(n), 0) AS since FROM posts \gset
SELECT pg_temp.sendgrid_day('a2', 'lead-011') IS NOT NULL AS posted \gset
SELECT pg_temp.heard(:'since', 'the "Getting started" emails');
\echo '   The bounce is Kara Khan''s: she has left Soylent Labs.'
\pset tuples_only off
\pset format aligned
\echo
\echo '   Chloe Chen texts back.  Grace Garcia texts STOP.  Elena Evans''s mailbox'
\echo '   answers the email with an out-of-office note, which Postmark forwards.'
SELECT coalesce(max(n), 0) AS since FROM posts \gset
SELECT pg_temp.text_from('lead-003', 'Thanks! Yes, I''d like to see it. Free tomorrow after 2pm?') IS NOT NULL AS posted \gset
SELECT pg_temp.text_from('lead-007', 'STOP') IS NOT NULL AS posted \gset
SELECT pg_temp.email_from('lead-005', 'a2', 'Automatic reply: Getting started',
	'I am out of the office until Friday, May 22, with limited access to email. I will reply when I am back.',
	auto => true) IS NOT NULL AS posted \gset
SELECT * FROM pg_temp.messages(:'since');
\echo '   Where that leaves them.  A reply is a reply only when a person wrote it:'
\echo '   the out-of-office note pauses Elena''s cadence instead of ending it.'
\echo '   Chloe''s two colleagues at Initech Labs are paused so that Raj can talk to'
\echo '   Chloe first.  Bounced addresses and STOPs go on the do-not-contact list.'
SELECT pg_temp.who(r.lead_id) AS lead, c.company, pg_temp.standing(r.lead_id) AS "their cadence",
	   pg_temp.blocked(r.lead_id) AS "do not contact"
  FROM cadence.runs r JOIN cadence.contacts c ON c.tenant_id = r.tenant_id AND c.id = r.lead_id
 WHERE r.tenant_id = 'seed' AND r.status <> 'active'
 ORDER BY r.status DESC, r.lead_id;

\echo
\echo '== 8. Tuesday 12 May, day 2: the follow-up email, at 10:00 the lead''s time,'
\echo '   to everyone whose cadence is still running.'
\echo '   But the database server goes down for an upgrade from 08:45 to 16:15 UTC.'
\echo '   When it is back the sender catches up at once: what is late but still'
\echo '   inside the lead''s business hours goes out; London''s day is over (17:15'
\echo '   there), so London''s emails wait for 09:00 on Wednesday.  (Texts would'
\echo '   also wait out quiet hours, 21:00-08:00 in the lead''s time zone.)'
\pset format unaligned
\pset tuples_only on
SELECT * FROM pg_temp.run_until('2026-05-12 08:45Z');
SELECT * FROM pg_temp.run_until('2026-05-12 23:59Z', not_before => '2026-05-12 16:15Z');
\pset tuples_only off
\pset format aligned
\echo
\echo '   Liam Lopez answers his by email; his two colleagues at Vandelay Labs are'
\echo '   paused.'
SELECT coalesce(max(n), 0) AS since FROM posts \gset
SELECT pg_temp.email_from('lead-012', 'a3', 'Re: Did you get a chance to look, Liam?',
	'Looks good. Can you send pricing for a team of 20?') IS NOT NULL AS posted \gset
SELECT * FROM pg_temp.messages(:'since');

\echo
\echo '== 9. Wednesday 13 May, day 3: nothing is planned; only London''s delayed'
\echo '   follow-ups go out, as soon as business hours open.  Then SendGrid'
\echo '   reports on all the follow-ups.'
\pset format unaligned
\pset tuples_only on
SELECT * FROM pg_temp.run_until('2026-05-13 23:59Z');
SELECT coalesce(max(n), 0) AS since FROM posts \gset
SELECT pg_temp.sendgrid_day('a3') IS NOT NULL AS posted \gset
SELECT pg_temp.heard(:'since', 'the follow-up emails');
\pset tuples_only off
\pset format aligned

\echo
\echo '== 10. Thursday 14 May, day 4: who clicked a link?  Those who did go straight'
\echo '   to a call from their rep; the others get the breakup email, and no call.'
\pset format unaligned
\pset tuples_only on
SELECT * FROM pg_temp.run_until('2026-05-14 23:59Z');
SELECT coalesce(max(n), 0) AS since FROM posts \gset
SELECT pg_temp.sendgrid_day('a5') IS NOT NULL AS posted \gset
SELECT pg_temp.heard(:'since', 'the breakup emails');
\pset tuples_only off
\pset format aligned
\echo
\echo '   The reps'' call lists (cadence.list_tasks), Thursday evening:'
SELECT t ->> 'assignedTo' AS rep, count(*) AS calls
  FROM jsonb_array_elements(cadence.list_tasks(page_size => 100) -> 'data') AS t
 GROUP BY 1 ORDER BY 1;
\echo '   Mia''s, as her screen shows it:'
SELECT t ->> 'contactName' AS lead, t ->> 'company' AS company, coalesce(t ->> 'phone', 'no mobile') AS phone,
	   pg_temp.city(r.timezone) AS city, to_char((t ->> 'dueAt')::timestamptz AT TIME ZONE r.timezone, 'Dy HH24:MI') AS "due (their time)",
	   t ->> 'title' AS task
  FROM jsonb_array_elements(cadence.list_tasks(assigned_to => 'mia') -> 'data') AS t
  JOIN cadence.runs r ON r.tenant_id = 'seed' AND r.id = (t ->> 'runId')::bigint;

\echo
\echo '   Before Raj gets round to calling, the last lead on his list books a demo'
\echo '   from the tour page, and Calendly tells Seed: that cadence ends as "meeting'
\echo '   booked", and the call comes off Raj''s list.'
SELECT coalesce(max(n), 0) AS since FROM posts \gset
SELECT pg_temp.post('calendly', jsonb_set(jsonb_set(jsonb_set(pg_temp.fixture('calendly_invitee_created'),
		   '{payload,email}', to_jsonb(t ->> 'email')), '{payload,name}', to_jsonb(t ->> 'contactName')),
		   '{created_at}', '"2026-05-14T17:20:00Z"'),
		   '{}', 'Booked "15 Minute Meeting"') IS NOT NULL AS posted
  FROM jsonb_array_elements(cadence.list_tasks(assigned_to => 'raj', page_size => 100) -> 'data') AS t
 ORDER BY t ->> 'dueAt' DESC, t ->> 'contactName' DESC LIMIT 1 \gset
SELECT * FROM pg_temp.messages(:'since');
SELECT t ->> 'assignedTo' AS rep, count(*) AS "calls to make"
  FROM jsonb_array_elements(cadence.list_tasks(page_size => 100) -> 'data') AS t
 GROUP BY 1 ORDER BY 1;

\echo
\echo '== 11. Friday 15 May: the reps start on their lists and log each call.  The'
\echo '   call is the cadence''s last step, so a logged call completes that lead''s'
\echo '   cadence.'
SELECT t.lead AS lead, t.rep, x.outcome, x.notes,
	   cadence.complete_manual_step(t.run_id, t.step, x.notes, x.outcome,
									(x.at::timestamp AT TIME ZONE t.timezone)) ->> 'status' AS "their cadence"
  FROM (SELECT t ->> 'contactName' AS lead, t ->> 'assignedTo' AS rep, (t ->> 'runId')::bigint AS run_id,
			   (t ->> 'stepNumber')::int AS step, r.timezone,
			   row_number() OVER (PARTITION BY t ->> 'assignedTo' ORDER BY t ->> 'dueAt', t ->> 'contactName') AS n
		  FROM jsonb_array_elements(cadence.list_tasks(page_size => 100) -> 'data') AS t
		  JOIN cadence.runs r ON r.tenant_id = 'seed' AND r.id = (t ->> 'runId')::bigint) AS t
  JOIN (VALUES ('raj', 1, 'interested', 'Wants a proposal for 15 seats', '2026-05-15 09:40'),
			   ('raj', 2, 'no answer', 'Left a voicemail', '2026-05-15 10:05'),
			   ('raj', 3, 'not now', 'Budget frozen until Q3; try again in July', '2026-05-15 11:30'),
			   ('mia', 1, 'interested', 'Starting a trial with a team of 8', '2026-05-15 09:15'),
			   ('mia', 2, 'wrong person', 'Passed us to their head of operations', '2026-05-15 14:10'))
	   AS x(rep, n, outcome, notes, at) ON x.rep = t.rep AND x.n = t.n
 ORDER BY t.rep, t.n;

\echo
\echo '== 12. The results: cadence.sequence_stats, the numbers behind the app''s'
\echo '   report page.  Rates are per message sent.'
CREATE TEMP VIEW stats AS SELECT cadence.sequence_stats('cad-123') -> 'data' AS d;
SELECT CASE WHEN v.v IS NULL THEN (s ->> 'stepNumber') ELSE '' END AS step,
	   CASE WHEN v.v IS NULL THEN s ->> 'name'
			ELSE '  ' || (v.v ->> 'variantId') || ': ' || (v.v ->> 'name')
				 || CASE WHEN (v.v ->> 'winner')::boolean THEN ' (winner)' ELSE '' END END AS what,
	   n.sent, n.delivered, n.opened, n.clicked, n.replied, n.bounced, n."not sent",
	   CASE WHEN s ->> 'type' = 'email' THEN (x ->> 'openRate') || '%' END AS "open rate",
	   CASE WHEN s ->> 'type' = 'email' THEN (x ->> 'clickRate') || '%' END AS "click rate",
	   CASE WHEN s ->> 'type' IN ('email', 'sms') THEN (x ->> 'replyRate') || '%' END AS "reply rate"
  FROM stats, jsonb_array_elements(d -> 'stepStats') WITH ORDINALITY AS e(s, o)
  LEFT JOIN LATERAL (SELECT NULL::jsonb AS v, 0 AS vo
					 UNION ALL
					 SELECT vv, vo FROM jsonb_array_elements(s -> 'variants') WITH ORDINALITY AS w(vv, vo)) v ON true,
	   LATERAL (SELECT coalesce(v.v, s) AS x) AS y,
	   -- a condition sends nothing, and a call is not a message: their
	   -- columns stay empty, but for the calls not needed
	   LATERAL (SELECT (x ->> 'sent')::int AS sent, (x ->> 'delivered')::int AS delivered,
					   (x ->> 'opened')::int AS opened, (x ->> 'clicked')::int AS clicked,
					   (x ->> 'replied')::int AS replied, (x ->> 'bounced')::int AS bounced,
					   nullif((x ->> 'skipped')::int + (x ->> 'failed')::int, 0) AS "not sent"
				 WHERE s ->> 'type' IN ('sms', 'email')
				UNION ALL
				SELECT NULL, NULL, NULL, NULL, NULL, NULL,
					   nullif((x ->> 'skipped')::int + (x ->> 'failed')::int, 0)
				 WHERE s ->> 'type' NOT IN ('sms', 'email')) AS n
 ORDER BY o, v.vo;
\echo '   Not sent: the texts to leads with no mobile number (5) or a landline (1),'
\echo '   and the calls that were not needed because the lead did not click.'
\echo
\echo '   The calls, from the reps'' task lists:'
SELECT count(*) AS "put on the lists",
	   count(*) FILTER (WHERE t ->> 'status' = 'completed') AS made,
	   count(*) FILTER (WHERE t ->> 'status' = 'open') AS "still to make",
	   count(*) FILTER (WHERE t ->> 'status' = 'cancelled') AS "no longer needed"
  FROM jsonb_array_elements(cadence.list_tasks(status => 'all', page_size => 500) -> 'data') AS t;
\echo
\echo '   Where the 300 leads stand:'
SELECT x.what AS "the lead's cadence", (d ->> x.key)::int AS leads
  FROM stats, (VALUES (1, 'completed (breakup email sent, or call made)', 'completedEnrollments'),
					  (2, 'still running (a call to make)', 'activeEnrollments'),
					  (3, 'paused (out of office, or a colleague replied)', 'pausedEnrollments'),
					  (4, 'replied', 'repliedEnrollments'),
					  (5, 'booked a meeting', 'meetingBookedEnrollments'),
					  (6, 'bounced', 'bouncedEnrollments'),
					  (7, 'opted out', 'unsubscribedEnrollments')) AS x(o, what, key)
 UNION ALL SELECT 'total', (d ->> 'totalEnrollments')::int FROM stats;
\echo
\pset format unaligned
\pset tuples_only on
SELECT format(E'   The A/B test on the first email''s subject: A was opened by %s%% of the\n'
			  '   leads who got it, B by %s%%.  Olivia declares %s the winner: leads\n'
			  '   enrolled from now on get it; those already under way keep theirs.',
			  a.v ->> 'openRate', b.v ->> 'openRate',
			  CASE WHEN (b.v ->> 'openRate')::numeric > (a.v ->> 'openRate')::numeric THEN 'B' ELSE 'A' END)
  FROM stats, LATERAL (SELECT d -> 'stepStats' -> 1 -> 'variants' -> 0) AS a(v),
	   LATERAL (SELECT d -> 'stepStats' -> 1 -> 'variants' -> 1) AS b(v);
\pset tuples_only off
\pset format aligned
SELECT cadence.declare_winner('cad-123', 'a2', CASE WHEN (b.v ->> 'openRate')::numeric > (a.v ->> 'openRate')::numeric
												   THEN 'B' ELSE 'A' END) ->> 'success' AS declared
  FROM stats, LATERAL (SELECT d -> 'stepStats' -> 1 -> 'variants' -> 0) AS a(v),
	   LATERAL (SELECT d -> 'stepStats' -> 1 -> 'variants' -> 1) AS b(v) \gset
SELECT sv ->> 'variantId' AS variant, c.v -> 'email' ->> 'subject' AS subject, (sv ->> 'sent')::int AS sent,
	   (sv ->> 'openRate') || '%' AS "open rate", (sv ->> 'clickRate') || '%' AS "click rate",
	   CASE WHEN (sv ->> 'winner')::boolean THEN 'yes' ELSE '' END AS winner
  FROM stats, jsonb_array_elements(d -> 'stepStats' -> 1 -> 'variants') WITH ORDINALITY AS e(sv, o)
  JOIN cadence.cadence_actions a ON a.tenant_id = 'seed' AND a.cadence_id = 'cad-123' AND a.version = 1
   AND a.action_id = 'a2',
	   LATERAL (SELECT a.variants -> (o::int - 1)) AS c(v)
 ORDER BY o;
\echo
\pset format unaligned
\pset tuples_only on
SELECT format(E'That was one cadence''s week: %s leads planned in their own time zones in\n'
			  'one call; %s texts and emails sent on time (late only while the server\n'
			  'was down, and never outside business hours); replies, a bounce, an opt-out,\n'
			  'an out-of-office note and a booked meeting taken in from the providers; the\n'
			  'reps'' calls logged.  In production nobody moves the clock: the background\n'
			  'worker (or pg_cron) sends, and the providers post back.',
			  count(DISTINCT a.run_id), to_char(count(*) FILTER (WHERE a.status = 'sent'), 'FM9,999'))
  FROM cadence.scheduled_actions a WHERE a.tenant_id = 'seed';
\pset tuples_only off
\pset format aligned
