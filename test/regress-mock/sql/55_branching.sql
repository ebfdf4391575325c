-- Condition steps and lead action steps: what the runners carry out in
-- the database when such a step falls due.  A condition looks at what the
-- lead did with the messages before it (replied, opened, clicked,
-- bounced, opted out) and continues, jumps forward or stops the run; a
-- lead action changes the lead (status, tags, owner), notifies a user or
-- enrolls the lead elsewhere.  A message step may carry a condition of
-- its own: it is skipped when that does not hold.  The runner's clock is
-- as_of; engagement comes in through cadence.ingest_webhook, the way
-- providers and the application report it.
SET timezone = 'UTC';
\set ECHO none
\i test/helpers/mock.sql
\set ECHO all
SELECT pg_temp.mock_post('/_mock/reset');

INSERT INTO cadence.members (tenant_id, user_id, role) VALUES ('branching', 'bea', 'owner');
SET cadence.tenant_id = 'branching';
SET cadence.user_id = 'bea';
-- Resend without a webhook secret accepts unsigned webhooks: the tests
-- below report opens, clicks and bounces as Resend would.
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default) VALUES
	('branching', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
	 '{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "tw-secret"}',
	 '{"from": "+15005550006"}', true),
	('branching', 'resend', 'email', 'resend', 'http://127.0.0.1:18025',
	 '{"apiKey": "re_secret"}', '{"from": "sales@acme.test"}', true);

-- cadence(id, steps, exit): an active cadence in New York time (returns
-- its status).  Exits on replies, bounces and opt-outs are off unless
-- asked for, so that the condition steps are what reacts to them.
CREATE FUNCTION pg_temp.cadence(id text, steps jsonb,
								exit jsonb DEFAULT '{"onReply": false, "onBounce": false, "onUnsubscribe": false}')
RETURNS text
LANGUAGE sql AS $$
	SELECT cadence.upsert_cadence(jsonb_build_object('id', id, 'name', id,
		'timezone', 'America/New_York', 'isActive', true, 'exitConditions', exit,
		'days', jsonb_build_array(jsonb_build_object('dayNumber', 1, 'actions', steps)))) ->> 'status'
$$;
-- run(as_of): passes of the runner at as_of until nothing more is due
-- (a condition or lead action step lets the next step fall due at once),
-- with what they did, summed.
CREATE FUNCTION pg_temp.run(as_of timestamptz) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	total jsonb := '{}';
	pass jsonb;
BEGIN
	FOR i IN 1 .. 20 LOOP
		pass := cadence.run_due_actions(100, as_of, 'branching');
		EXIT WHEN (pass ->> 'claimed')::int = 0;
		SELECT jsonb_object_agg(k, coalesce((total ->> k)::int, 0) + (pass ->> k)::int)
		  INTO total FROM jsonb_object_keys(pass) AS k;
	END LOOP;
	RETURN (SELECT coalesce(jsonb_object_agg(k, v), '{}') FROM jsonb_each(total) AS x(k, v) WHERE v <> '0');
END
$$;
-- The run of a lead in a cadence.
CREATE FUNCTION pg_temp.run_of(cid text, lead text) RETURNS bigint LANGUAGE sql AS $$
	SELECT id FROM cadence.runs WHERE tenant_id = 'branching' AND cadence_id = cid AND lead_id = lead
	 ORDER BY id DESC LIMIT 1
$$;
-- The steps of a lead's run: status, why skipped, due time in New York.
CREATE FUNCTION pg_temp.steps(cid text, lead text)
RETURNS TABLE (step int, action text, status text, skip text, ny_due timestamp)
LANGUAGE sql AS $$
	SELECT a.step_number, a.action_id, a.status, a.skip_reason, a.due_at AT TIME ZONE 'America/New_York'
	  FROM cadence.scheduled_actions a
	 WHERE a.tenant_id = 'branching' AND a.run_id = pg_temp.run_of(cid, lead)
	 ORDER BY a.step_number
$$;
-- Engagement, reported the way it arrives: Resend's webhook for an email
-- a lead opened, clicked or that bounced (naming the message by the id
-- Resend gave it), and the application's event for a reply.  Each says
-- how many signals ingest_webhook applied (1).
CREATE FUNCTION pg_temp.resend(kind text, cid text, lead text, action text, at timestamptz)
RETURNS text LANGUAGE sql AS $$
	SELECT cadence.ingest_webhook('resend', jsonb_build_object(
		'type', 'email.' || kind, 'created_at', at,
		'data', jsonb_build_object('email_id', a.provider_message_id, 'to', jsonb_build_array(c.email))
				|| CASE WHEN kind = 'bounced' THEN '{"bounce": {"type": "Permanent"}}'::jsonb ELSE '{}' END))
		   ->> 'applied'
	  FROM cadence.scheduled_actions a
	  JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
	  JOIN cadence.contacts c ON c.tenant_id = r.tenant_id AND c.id = r.lead_id
	 WHERE a.tenant_id = 'branching' AND a.run_id = pg_temp.run_of(cid, lead) AND a.action_id = action
$$;
CREATE FUNCTION pg_temp.reply(lead text, at timestamptz) RETURNS text LANGUAGE sql AS $$
	SELECT cadence.ingest_webhook('app', jsonb_build_object('type', 'reply', 'leadId', lead,
		'occurredAt', at, 'text', 'Sounds good, call me')) ->> 'applied'
$$;

\set email1 '{"id": "m1", "type": "email", "scheduleRule": {"kind": "immediately"}, "config": {"email": {"subject": "Quick question", "bodyText": "Hi {{firstName}}"}}}'
\set email2 '{"id": "m2", "type": "email", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 10}, "config": {"email": {"subject": "Following up", "bodyText": "Hi again {{firstName}}"}}}'

--
-- Every condition, evaluated for leads who did different things with two
-- emails.  Each condition step continues (no then/else), and its action
-- records whether the condition was met.  The last two look at the first
-- email only (condition.step).
--
SELECT pg_temp.cadence('kinds', jsonb_build_array(:'email1'::jsonb, :'email2'::jsonb)
	|| (SELECT jsonb_agg(jsonb_build_object('id', id, 'type', 'condition',
			'scheduleRule', CASE WHEN n = 1 THEN '{"kind": "afterPrevious", "minutesAfterPrev": 60}'::jsonb
								 ELSE '{"kind": "immediately"}' END,
			'condition', jsonb_build_object('when', c) || coalesce(jsonb_build_object('step', s), '{}'))
			ORDER BY n)
		  FROM (VALUES (1, 'replied', 'if_replied', NULL), (2, 'not-replied', 'if_not_replied', NULL),
					   (3, 'opened', 'if_opened', NULL), (4, 'not-opened', 'if_not_opened', NULL),
					   (5, 'clicked', 'if_clicked', NULL), (6, 'bounced', 'if_bounced', NULL),
					   (7, 'unsubscribed', 'if_unsubscribed', NULL), (8, 'always', 'always', NULL),
					   (9, 'opened-m1', 'if_opened', 'm1'), (10, 'replied-m1', 'if_replied', 'm1'))
			   AS k(n, id, c, s)));
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, timezone, owner_id) VALUES
	('branching', 'quiet', 'Quinn', 'quinn@x.test', '+12125550201', 'America/New_York', 'rep-1'),
	('branching', 'opener', 'Olga', 'olga@x.test', '+12125550202', 'America/New_York', 'rep-1'),
	('branching', 'clicker', 'Cleo', 'cleo@x.test', '+12125550203', 'America/New_York', 'rep-1'),
	('branching', 'replier', 'Remy', 'remy@x.test', '+12125550204', 'America/New_York', 'rep-1'),
	('branching', 'bouncer', 'Bo', 'bo@x.test', '+12125550205', 'America/New_York', 'rep-1'),
	('branching', 'optout', 'Ossie', 'ossie@x.test', '+12125550206', 'America/New_York', 'rep-1'),
	('branching', 'stopped', 'Stu', 'stu@x.test', '+12125550207', 'America/New_York', 'rep-1');
SELECT count(*) FILTER (WHERE outcome = 'enrolled') AS enrolled
  FROM cadence.plan_runs('kinds', ARRAY['quiet', 'opener', 'clicker', 'replier', 'bouncer', 'optout', 'stopped'],
						 '2026-03-10 14:00Z');
-- Both emails go out (10:00 and 10:10 in New York).
SELECT pg_temp.run('2026-03-10 14:00Z');
SELECT pg_temp.run('2026-03-10 14:10Z');
-- Then: Olga opens the first email; Cleo clicks a link in the second
-- (a click is an open too); Remy replies (the reply is recorded on the
-- latest email, the second); Bo's first email bounces; Ossie opts out in
-- the application (contacts.unsubscribed); Stu's number is put on the
-- do-not-contact list after a STOP.  A bounce on the list is not an
-- opt-out.
SELECT pg_temp.resend('opened', 'kinds', 'opener', 'm1', '2026-03-10 14:20Z') AS olga,
	   pg_temp.resend('clicked', 'kinds', 'clicker', 'm2', '2026-03-10 14:21Z') AS cleo,
	   pg_temp.reply('replier', '2026-03-10 14:22Z') AS remy,
	   pg_temp.resend('bounced', 'kinds', 'bouncer', 'm1', '2026-03-10 14:23Z') AS bo;
UPDATE cadence.contacts SET unsubscribed = true WHERE tenant_id = 'branching' AND id = 'optout';
INSERT INTO cadence.suppressions (tenant_id, channel, address, reason)
VALUES ('branching', 'sms', '+12125550207', 'stop_keyword');
SELECT r.lead_id AS lead, a.action_id, a.opened_at IS NOT NULL AS opened, a.clicked_at IS NOT NULL AS clicked,
	   a.replied_at IS NOT NULL AS replied, a.bounced_at IS NOT NULL AS bounced
  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
 WHERE r.tenant_id = 'branching' AND r.cadence_id = 'kinds' AND a.type = 'email'
   AND (a.opened_at IS NOT NULL OR a.replied_at IS NOT NULL OR a.bounced_at IS NOT NULL)
 ORDER BY 1, 2;
-- An hour after the second email the ten conditions are evaluated, one
-- after the other.
SELECT pg_temp.run('2026-03-10 15:10Z');
SELECT r.lead_id AS lead,
	   bool_or(met) FILTER (WHERE step = 3) AS replied, bool_or(met) FILTER (WHERE step = 4) AS not_replied,
	   bool_or(met) FILTER (WHERE step = 5) AS opened, bool_or(met) FILTER (WHERE step = 6) AS not_opened,
	   bool_or(met) FILTER (WHERE step = 7) AS clicked, bool_or(met) FILTER (WHERE step = 8) AS bounced,
	   bool_or(met) FILTER (WHERE step = 9) AS unsubscribed, bool_or(met) FILTER (WHERE step = 10) AS always,
	   bool_or(met) FILTER (WHERE step = 11) AS opened_m1, bool_or(met) FILTER (WHERE step = 12) AS replied_m1
  FROM cadence.runs r,
	   LATERAL (SELECT a.step_number AS step, (a.rendered ->> 'met')::boolean AS met
				  FROM cadence.scheduled_actions a
				 WHERE a.tenant_id = r.tenant_id AND a.run_id = r.id AND a.type = 'condition') a
 WHERE r.tenant_id = 'branching' AND r.cadence_id = 'kinds'
 GROUP BY r.lead_id ORDER BY r.lead_id;
-- What a condition step's action records: completed, with the outcome.
SELECT a.status, a.rendered, r.status AS run, r.current_step
  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
 WHERE a.tenant_id = 'branching' AND a.run_id = pg_temp.run_of('kinds', 'clicker') AND a.action_id = 'opened-m1';

--
-- Branches.  An intro email at 10:00 New York time; an hour later a
-- condition stops the run of a lead who replied, as replied, with a
-- reason; the others go on (continue) to a second condition, which jumps
-- a lead who opened the email to the case study (by action id) and one
-- who did not to the breakup email (by step number).  The steps jumped
-- over are skipped, branched_past; the target is planned from the
-- condition's time by its own rule: the case study the next day at 10:00,
-- the breakup at 16:00.
--
SELECT pg_temp.cadence('branches', jsonb_build_array(
	'{"id": "intro", "type": "email", "scheduleRule": {"kind": "immediately"},
	  "config": {"email": {"subject": "Intro", "bodyText": "Hi {{firstName}}"}}}'::jsonb,
	'{"id": "check", "type": "condition", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 60},
	  "condition": {"when": "if_replied",
					"then": {"action": "stop", "status": "replied", "reason": "replied to the intro"},
					"else": {"action": "continue"}}}'::jsonb,
	'{"id": "route", "type": "condition", "scheduleRule": {"kind": "immediately"},
	  "condition": {"when": "if_opened",
					"then": {"action": "jump", "toStep": "case-study"},
					"else": {"action": "jump", "toStep": 6}}}'::jsonb,
	'{"id": "nudge", "type": "email", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 30},
	  "config": {"email": {"subject": "Nudge", "bodyText": "Any thoughts?"}}}'::jsonb,
	'{"id": "case-study", "type": "email", "scheduleRule": {"kind": "delay", "days": 1, "sendAt": "10:00"},
	  "config": {"email": {"subject": "How Acme did it", "bodyText": "A case study"}}}'::jsonb,
	'{"id": "breakup", "type": "email", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "16:00"},
	  "config": {"email": {"subject": "Closing the loop", "bodyText": "Last one from me"}}}'::jsonb));
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, timezone) VALUES
	('branching', 'ann', 'Ann', 'ann@x.test', 'America/New_York'),
	('branching', 'ben', 'Ben', 'ben@x.test', 'America/New_York'),
	('branching', 'cat', 'Cat', 'cat@x.test', 'America/New_York');
SELECT count(*) FILTER (WHERE outcome = 'enrolled') AS enrolled
  FROM cadence.plan_runs('branches', ARRAY['ann', 'ben', 'cat'], '2026-03-10 14:00Z');
SELECT pg_temp.run('2026-03-10 14:00Z');
-- Ann replies, Ben opens the intro, Cat does nothing.
SELECT pg_temp.reply('ann', '2026-03-10 14:30Z') AS ann,
	   pg_temp.resend('opened', 'branches', 'ben', 'intro', '2026-03-10 14:40Z') AS ben;
SELECT pg_temp.run('2026-03-10 15:00Z');
SELECT * FROM pg_temp.steps('branches', 'ann');
SELECT * FROM pg_temp.steps('branches', 'ben');
SELECT * FROM pg_temp.steps('branches', 'cat');
SELECT lead_id AS lead, status, exit_reason, current_step FROM cadence.runs
 WHERE tenant_id = 'branching' AND cadence_id = 'branches' ORDER BY lead_id;
-- Ann's run ended when the runner stopped it, at its clock (as_of).
SELECT completed_at, last_activity_at FROM cadence.runs WHERE id = pg_temp.run_of('branches', 'ann');
-- What each condition's action recorded (a jump by action id is recorded
-- as the step number it resolved to).
SELECT r.lead_id AS lead, a.action_id, a.status, a.rendered
  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
 WHERE r.tenant_id = 'branching' AND r.cadence_id = 'branches' AND a.type = 'condition'
 ORDER BY r.lead_id, a.step_number;
-- The runs' events since the intro was sent.
SELECT r.lead_id AS lead, e.type, e.payload - 'providerId' AS payload
  FROM cadence.events e JOIN cadence.runs r ON r.tenant_id = e.tenant_id AND r.id = e.run_id
 WHERE r.tenant_id = 'branching' AND r.cadence_id = 'branches'
   AND e.type IN ('action.executed', 'run.branched', 'run.exited', 'run.completed')
 ORDER BY r.lead_id, e.id;
-- The rest goes out as planned: Cat's breakup at 16:00, Ben's case study
-- the next morning and his breakup at 16:00 that day; then both runs
-- are complete.
SELECT pg_temp.run('2026-03-10 20:00Z');
SELECT pg_temp.run('2026-03-11 14:00Z');
SELECT pg_temp.run('2026-03-11 20:00Z');
SELECT * FROM pg_temp.steps('branches', 'ben');
SELECT lead_id AS lead, status, completed_at FROM cadence.runs
 WHERE tenant_id = 'branching' AND cadence_id = 'branches' AND lead_id <> 'ann' ORDER BY lead_id;

--
-- A branching sequence, end to end: an email; three days later
-- "if replied, stop (qualified), else continue"; a follow-up; four days
-- later "if the follow-up was not opened, go to the breakup email", else
-- an interested follow-up after which the run stops ("always"); the
-- breakup; and a lead action marking the lead unresponsive.
--
SELECT pg_temp.cadence('example', jsonb_build_array(
	'{"id": "email-1", "type": "email", "scheduleRule": {"kind": "immediately"},
	  "config": {"email": {"subject": "Quick question about {{company}}", "bodyText": "Hi {{firstName}}, I noticed..."}}}'::jsonb,
	'{"id": "replied?", "type": "condition", "scheduleRule": {"kind": "delay", "days": 3},
	  "condition": {"when": "if_replied", "then": {"action": "stop", "status": "replied", "reason": "qualified"},
					"else": {"action": "continue"}}}'::jsonb,
	'{"id": "follow-up", "type": "email", "scheduleRule": {"kind": "immediately"},
	  "config": {"email": {"subject": "Following up - {{company}}", "bodyText": "Hi {{firstName}}, just circling back..."}}}'::jsonb,
	'{"id": "opened?", "type": "condition", "scheduleRule": {"kind": "delay", "days": 4},
	  "condition": {"when": "if_not_opened", "step": "follow-up", "then": {"action": "jump", "toStep": "breakup"}}}'::jsonb,
	'{"id": "interested", "type": "email", "scheduleRule": {"kind": "immediately"},
	  "config": {"email": {"subject": "Re: {{company}}", "bodyText": "Glad it caught your eye, {{firstName}}"}}}'::jsonb,
	'{"id": "done", "type": "condition", "scheduleRule": {"kind": "immediately"},
	  "condition": {"when": "always", "then": {"action": "stop", "status": "completed", "reason": "interested"}}}'::jsonb,
	'{"id": "breakup", "type": "email", "scheduleRule": {"kind": "immediately"},
	  "config": {"email": {"subject": "Last email from me", "bodyText": "Hi {{firstName}}, I understand you are busy..."}}}'::jsonb,
	'{"id": "unresponsive", "type": "lead_action", "scheduleRule": {"kind": "immediately"},
	  "config": {"leadAction": {"action": "update_status", "status": "unresponsive"}}}'::jsonb));
-- Dot replies to the first email; Eve opens the follow-up; Fay opens only
-- the first email; Gus does nothing.
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, company, timezone) VALUES
	('branching', 'dot', 'Dot', 'dot@x.test', 'Dotcom', 'America/New_York'),
	('branching', 'eve', 'Eve', 'eve@x.test', 'Evenflow', 'America/New_York'),
	('branching', 'fay', 'Fay', 'fay@x.test', 'Fayre', 'America/New_York'),
	('branching', 'gus', 'Gus', 'gus@x.test', 'Gusto', 'America/New_York');
SELECT pg_temp.mock_post('/_mock/reset');
SELECT count(*) FILTER (WHERE outcome = 'enrolled') AS enrolled
  FROM cadence.plan_runs('example', ARRAY['dot', 'eve', 'fay', 'gus'], '2026-03-10 14:00Z');
SELECT pg_temp.run('2026-03-10 14:00Z');
SELECT pg_temp.reply('dot', '2026-03-11 15:00Z') AS dot,
	   pg_temp.resend('opened', 'example', 'fay', 'email-1', '2026-03-11 16:00Z') AS fay;
-- Friday 10:00: the reply check, then the follow-up for the other three.
SELECT pg_temp.run('2026-03-13 14:00Z');
SELECT pg_temp.resend('opened', 'example', 'eve', 'follow-up', '2026-03-14 09:00Z') AS eve;
-- Tuesday 10:00: the open check, and what follows it.
SELECT pg_temp.run('2026-03-17 14:00Z');
SELECT a.step_number AS step, a.action_id AS action,
	   max(a.status || coalesce(': ' || a.skip_reason, '')) FILTER (WHERE r.lead_id = 'dot') AS dot,
	   max(a.status || coalesce(': ' || a.skip_reason, '')) FILTER (WHERE r.lead_id = 'eve') AS eve,
	   max(a.status || coalesce(': ' || a.skip_reason, '')) FILTER (WHERE r.lead_id = 'fay') AS fay,
	   max(a.status || coalesce(': ' || a.skip_reason, '')) FILTER (WHERE r.lead_id = 'gus') AS gus
  FROM cadence.runs r JOIN cadence.scheduled_actions a ON a.tenant_id = r.tenant_id AND a.run_id = r.id
 WHERE r.tenant_id = 'branching' AND r.cadence_id = 'example'
 GROUP BY a.step_number, a.action_id ORDER BY a.step_number;
SELECT r.lead_id AS lead, r.status, r.exit_reason, c.status AS lead_status
  FROM cadence.runs r JOIN cadence.contacts c ON c.tenant_id = r.tenant_id AND c.id = r.lead_id
 WHERE r.tenant_id = 'branching' AND r.cadence_id = 'example' ORDER BY r.lead_id;
-- The emails each lead got, as the provider received them, in order.
SELECT r -> 'json' -> 'to' ->> 0 AS "to", string_agg(r -> 'json' ->> 'subject', ' | ' ORDER BY (r ->> 'seq')::int) AS subjects
  FROM pg_temp.mock_requests('resend') AS r
 GROUP BY 1 ORDER BY 1;

--
-- Lead actions, one after the other for Hal, whose run is assigned to
-- rep-1: his status, qualified, a tag added, one removed, the lead
-- reassigned to rep-2, two notifications, and an enrollment in the
-- nurture cadence; a call task last, which now goes to rep-2.
--
SELECT pg_temp.cadence('nurture', '[{"id": "welcome", "type": "email", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 60},
	"config": {"email": {"subject": "Welcome", "bodyText": "Hi {{firstName}}"}}}]');
SELECT pg_temp.cadence('leadwork', jsonb_build_array(
	'{"id": "working", "type": "lead_action", "scheduleRule": {"kind": "immediately"},
	  "config": {"leadAction": {"action": "update_status", "status": "working"}}}'::jsonb,
	'{"id": "qualify", "type": "lead_action", "scheduleRule": {"kind": "immediately"},
	  "config": {"leadAction": {"action": "mark_qualified"}}}'::jsonb,
	'{"id": "tag", "type": "lead_action", "scheduleRule": {"kind": "immediately"},
	  "config": {"leadAction": {"action": "tag_lead", "tags": ["hot", "cold"]}}}'::jsonb,
	'{"id": "untag", "type": "lead_action", "scheduleRule": {"kind": "immediately"},
	  "config": {"leadAction": {"action": "tag_lead", "removeTags": ["cold", "webinar"]}}}'::jsonb,
	'{"id": "assign", "type": "lead_action", "scheduleRule": {"kind": "immediately"},
	  "config": {"leadAction": {"action": "assign_to_user", "userId": "rep-2"}}}'::jsonb,
	'{"id": "notify-owner", "type": "lead_action", "scheduleRule": {"kind": "immediately"},
	  "config": {"leadAction": {"action": "notify_user"}}}'::jsonb,
	'{"id": "notify-manager", "type": "lead_action", "scheduleRule": {"kind": "immediately"},
	  "config": {"leadAction": {"action": "notify_user", "userId": "manager",
				 "message": "{{firstName}} ({{attributes.title}} at {{company}}) is {{status}}; owner {{ownerId}}"}}}'::jsonb,
	'{"id": "to-nurture", "type": "lead_action", "scheduleRule": {"kind": "immediately"},
	  "config": {"leadAction": {"action": "add_to_campaign", "cadenceId": "nurture"}}}'::jsonb,
	'{"id": "call", "type": "call_task", "name": "Qualification call", "scheduleRule": {"kind": "immediately"}}'::jsonb));
INSERT INTO cadence.contacts (tenant_id, id, first_name, last_name, email, company, timezone, owner_id, tags, attributes)
VALUES ('branching', 'hal', 'Hal', 'Hart', 'hal@x.test', 'Hartware', 'America/New_York', 'rep-1',
		'{webinar,cold}', '{"title": "CTO"}');
SELECT cadence.plan_run_for_lead('leadwork', 'hal', '2026-03-10 14:00Z', '{"assignedTo": "rep-1"}') > 0 AS enrolled;
SELECT pg_temp.run('2026-03-10 14:00Z');
-- What each step did.
SELECT a.step_number AS step, a.action_id, a.status,
	   CASE WHEN a.rendered -> 'result' ? 'runId' THEN jsonb_set(a.rendered -> 'result', '{runId}', '"(masked)"')
			ELSE a.rendered -> 'result' END AS result
  FROM cadence.scheduled_actions a
 WHERE a.tenant_id = 'branching' AND a.run_id = pg_temp.run_of('leadwork', 'hal')
 ORDER BY a.step_number;
-- The lead now: qualified, tagged, owned by rep-2; the run assigned to
-- rep-2, and the call task too.
SELECT status, tags, owner_id FROM cadence.contacts WHERE tenant_id = 'branching' AND id = 'hal';
SELECT status, current_step, assigned_to FROM cadence.runs WHERE id = pg_temp.run_of('leadwork', 'hal');
SELECT type, title, assignee_id, status FROM cadence.tasks WHERE tenant_id = 'branching' AND run_id = pg_temp.run_of('leadwork', 'hal');
-- assign_to_user also hands the run's open tasks to the new user.  Through
-- the runner a run's only open task is its current step's, so this is
-- shown by calling cadence.apply_lead_action directly while Hal's call
-- waits.
SELECT cadence.apply_lead_action('branching', pg_temp.run_of('leadwork', 'hal'),
								 '{"action": "assign_to_user", "userId": "rep-3"}') AS result;
SELECT t.assignee_id AS task, r.assigned_to AS run, c.owner_id AS lead
  FROM cadence.tasks t JOIN cadence.runs r ON r.tenant_id = t.tenant_id AND r.id = t.run_id
  JOIN cadence.contacts c ON c.tenant_id = r.tenant_id AND c.id = r.lead_id
 WHERE t.tenant_id = 'branching' AND t.run_id = pg_temp.run_of('leadwork', 'hal');
SELECT cadence.complete_manual_step(pg_temp.run_of('leadwork', 'hal'), 9, 'Budget approved', 'qualified',
									'2026-03-10 15:00Z') ->> 'status' AS run;
-- The notifications, as events (each also a NOTIFY on channel
-- cadence.notify_user): the default one goes to the run's assignee.
SELECT payload - 'runId' AS notified, payload ->> 'runId' = run_id::text AS names_run
  FROM cadence.events WHERE tenant_id = 'branching' AND type = 'user.notified' ORDER BY id;
-- Hal's run in nurture: same assignee, it says which run enrolled it, and
-- it was triggered at the runner's clock (as_of), its welcome email an hour
-- later.
SELECT n.status, n.assigned_to, n.metadata ->> 'enrolledByRun' = pg_temp.run_of('leadwork', 'hal')::text AS enrolled_by_hal,
	   n.id = (SELECT (a.rendered #>> '{result,runId}')::bigint FROM cadence.scheduled_actions a
				WHERE a.tenant_id = n.tenant_id AND a.run_id = pg_temp.run_of('leadwork', 'hal')
				  AND a.action_id = 'to-nurture') AS named_in_result,
	   n.trigger_at, (SELECT a.due_at FROM cadence.scheduled_actions a
					   WHERE a.tenant_id = n.tenant_id AND a.run_id = n.id AND a.step_number = 1) AS welcome_due
  FROM cadence.runs n WHERE n.id = pg_temp.run_of('nurture', 'hal');
-- Hal's welcome goes out at 11:00.
SELECT pg_temp.run('2026-03-10 15:00Z') AS welcome_for_hal;

--
-- A lead action that fails (add_to_campaign naming a draft cadence) fails
-- its action with the error, in a subtransaction of its own: the run goes
-- on, and the rest of the batch (Kim's email) is unaffected.
--
SELECT cadence.upsert_cadence('{"id": "drafty", "name": "Drafty", "isActive": false, "days": [{"dayNumber": 1, "actions": [
	{"id": "x", "type": "email", "scheduleRule": {"kind": "immediately"}, "config": {"email": {"subject": "X", "bodyText": "X"}}}]}]}') ->> 'status' AS drafty;
SELECT pg_temp.cadence('broken', '[
	{"id": "to-drafty", "type": "lead_action", "scheduleRule": {"kind": "immediately"},
	 "config": {"leadAction": {"action": "add_to_campaign", "cadenceId": "drafty"}}},
	{"id": "tag", "type": "lead_action", "scheduleRule": {"kind": "immediately"},
	 "config": {"leadAction": {"action": "tag_lead", "tags": ["went-on"]}}}]');
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, timezone) VALUES
	('branching', 'ivy', 'Ivy', 'ivy@x.test', 'America/New_York'),
	('branching', 'jay', 'Jay', 'jay@x.test', 'America/New_York'),
	('branching', 'kim', 'Kim', 'kim@x.test', 'America/New_York');
SELECT count(*) FILTER (WHERE outcome = 'enrolled') AS enrolled
  FROM cadence.plan_runs('broken', ARRAY['ivy', 'jay'], '2026-03-12 14:00Z');
SELECT cadence.plan_run_for_lead('nurture', 'kim', '2026-03-12 13:00Z') > 0 AS enrolled;
-- One pass: both lead actions fail, Kim's email goes out.
SELECT cadence.run_due_actions(100, '2026-03-12 14:00Z', 'branching');
SELECT r.lead_id AS lead, r.cadence_id, a.action_id, a.status, a.last_error
  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
 WHERE r.tenant_id = 'branching' AND r.lead_id IN ('ivy', 'jay', 'kim') AND a.step_number = 1
 ORDER BY 1;
SELECT e.payload ->> 'error' AS error FROM cadence.events e
 WHERE e.tenant_id = 'branching' AND e.type = 'action.failed' AND e.run_id = pg_temp.run_of('broken', 'ivy');
-- The next pass carries on with their second step.
SELECT pg_temp.run('2026-03-12 14:00Z');
SELECT c.id AS lead, c.tags, r.status AS run FROM cadence.contacts c
  JOIN cadence.runs r ON r.tenant_id = c.tenant_id AND r.lead_id = c.id AND r.cadence_id = 'broken'
 WHERE c.tenant_id = 'branching' AND c.id IN ('ivy', 'jay') ORDER BY 1;
SELECT count(*) AS runs_in_drafty FROM cadence.runs WHERE tenant_id = 'branching' AND cadence_id = 'drafty';

--
-- A condition on a message or manual step ({"when": ...}, no branches)
-- decides whether the step happens: when it does not hold, the step is
-- skipped, condition_not_met, and the run goes on.  Lia opens and clicks
-- the first email and gets the text and the call; Max gets neither.
--
SELECT pg_temp.mock_post('/_mock/reset');
SELECT pg_temp.cadence('guarded', '[
	{"id": "m1", "type": "email", "scheduleRule": {"kind": "immediately"},
	 "config": {"email": {"subject": "Pricing", "bodyText": "Our pricing, {{firstName}}"}}},
	{"id": "text", "type": "sms", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 60},
	 "condition": {"when": "if_opened"}, "config": {"sms": {"body": "Saw you had a look, {{firstName}}. Questions?"}}},
	{"id": "call", "type": "call_task", "scheduleRule": {"kind": "immediately"},
	 "condition": {"when": "if_clicked", "step": "m1"}}]');
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, timezone, owner_id) VALUES
	('branching', 'lia', 'Lia', 'lia@x.test', '+12125550301', 'America/New_York', 'rep-1'),
	('branching', 'max', 'Max', 'max@x.test', '+12125550302', 'America/New_York', 'rep-1');
SELECT count(*) FILTER (WHERE outcome = 'enrolled') AS enrolled
  FROM cadence.plan_runs('guarded', ARRAY['lia', 'max'], '2026-03-10 14:00Z');
SELECT pg_temp.run('2026-03-10 14:00Z');
SELECT pg_temp.resend('clicked', 'guarded', 'lia', 'm1', '2026-03-10 14:30Z') AS lia;
SELECT pg_temp.run('2026-03-10 15:00Z');
SELECT r.lead_id AS lead, a.action_id, a.status, a.skip_reason
  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
 WHERE r.tenant_id = 'branching' AND r.cadence_id = 'guarded' ORDER BY 1, a.step_number;
SELECT lead_id AS lead, status FROM cadence.runs WHERE tenant_id = 'branching' AND cadence_id = 'guarded' ORDER BY 1;
SELECT r -> 'form' ->> 'To' AS "to", r -> 'form' ->> 'Body' AS body FROM pg_temp.mock_requests('twilio') AS r;
SELECT e.payload ->> 'reason' AS reason, count(*) FROM cadence.events e
  JOIN cadence.runs r ON r.tenant_id = e.tenant_id AND r.id = e.run_id
 WHERE r.tenant_id = 'branching' AND r.cadence_id = 'guarded' AND e.type = 'action.skipped'
 GROUP BY 1;

--
-- What upsert_cadence refuses, with the SQLSTATE and the path of the bad
-- field; nothing is written.
--
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
-- bad(step): upsert a cadence "bad" whose day 1 is an email "m1" and
-- then this step, due immediately.
CREATE FUNCTION pg_temp.bad(step jsonb) RETURNS text LANGUAGE sql AS $$
	SELECT pg_temp.try(format('SELECT cadence.upsert_cadence(%L)', jsonb_build_object('id', 'bad', 'name', 'bad',
		'days', jsonb_build_array(jsonb_build_object('dayNumber', 1, 'actions', jsonb_build_array(
			'{"id": "m1", "type": "email", "scheduleRule": {"kind": "immediately"}, "config": {"email": {"subject": "S", "bodyText": "B"}}}'::jsonb,
			'{"scheduleRule": {"kind": "immediately"}}'::jsonb || step))))))
$$;
-- Conditions and their branches.
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "if_maybe"}}') AS unknown_condition;
SELECT pg_temp.bad('{"id": "c", "type": "condition"}') AS no_condition;
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"then": {"action": "continue"}}}') AS no_when;
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "always", "then": "stop"}}') AS then_not_object;
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "always", "else": {}}}') AS else_no_action;
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "always", "then": {"action": "goto"}}}') AS unknown_branch;
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "always", "then": {"action": "jump"}}}') AS jump_nowhere;
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "always", "then": {"action": "jump", "toStep": 2.5}}}') AS jump_fraction;
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "always", "then": {"action": "continue", "toStep": 3}}}') AS continue_to;
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "always", "then": {"action": "jump", "toStep": 3, "status": "replied"}}}') AS jump_status;
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "always", "then": {"action": "stop", "status": "won"}}}') AS stop_status;
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "always", "then": {"action": "stop", "why": "x"}}}') AS branch_field;
-- Jumps go forward to a step that exists.
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "if_opened", "else": {"action": "jump", "toStep": "m1"}}}') AS back_by_id;
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "if_opened", "then": {"action": "jump", "toStep": 2}}}') AS to_itself;
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "if_opened", "then": {"action": "jump", "toStep": "nowhere"}}}') AS missing_by_id;
SELECT pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "if_opened", "then": {"action": "jump", "toStep": 3}}}') AS missing_by_number;
-- A condition on another step only says whether it happens: no branches.
SELECT pg_temp.bad('{"id": "s", "type": "sms", "config": {"sms": {"body": "Hi"}}, "condition": {"when": "if_opened", "then": {"action": "stop"}}}') AS branch_on_sms;
SELECT pg_temp.bad('{"id": "s", "type": "sms", "config": {"sms": {"body": "Hi"}}, "condition": {"when": "if_opened", "step": 1}}') AS step_not_id;
-- Lead actions.
SELECT pg_temp.bad('{"id": "l", "type": "lead_action"}') AS no_lead_action;
SELECT pg_temp.bad('{"id": "l", "type": "lead_action", "config": {"leadAction": {"action": "delete_lead"}}}') AS unknown_lead_action;
SELECT pg_temp.bad('{"id": "l", "type": "lead_action", "config": {"leadAction": {"action": "tag_lead"}}}') AS tag_nothing;
SELECT pg_temp.bad('{"id": "l", "type": "lead_action", "config": {"leadAction": {"action": "tag_lead", "tags": [], "removeTags": []}}}') AS tag_empty_lists;
SELECT pg_temp.bad('{"id": "l", "type": "lead_action", "config": {"leadAction": {"action": "tag_lead", "tags": ["ok", ""]}}}') AS tag_empty_string;
SELECT pg_temp.bad('{"id": "l", "type": "lead_action", "config": {"leadAction": {"action": "update_status", "status": " "}}}') AS blank_status;
SELECT pg_temp.bad('{"id": "l", "type": "lead_action", "config": {"leadAction": {"action": "assign_to_user"}}}') AS assign_nobody;
SELECT pg_temp.bad('{"id": "l", "type": "lead_action", "config": {"leadAction": {"action": "add_to_campaign", "cadenceId": "nurture", "startAtStep": 0}}}') AS start_at_zero;
SELECT pg_temp.bad('{"id": "l", "type": "lead_action", "config": {"leadAction": {"action": "mark_qualified", "status": "x"}}}') AS qualify_extra;
-- A/B variants belong to message steps.
SELECT pg_temp.bad('{"id": "t", "type": "call_task", "variants": [{"id": "A"}, {"id": "B"}]}') AS variants_on_call;
SELECT pg_temp.bad('{"id": "l", "type": "lead_action", "config": {"leadAction": {"action": "mark_qualified"}}, "variants": [{"id": "A"}, {"id": "B"}]}') AS variants_on_lead_action;
SELECT count(*) AS written FROM cadence.cadences WHERE tenant_id = 'branching' AND id = 'bad';
-- condition.step names an earlier step of the cadence: one that does not
-- exist, or comes later, would make the condition look at nothing.
SELECT left(pg_temp.bad('{"id": "s", "type": "sms", "config": {"sms": {"body": "Hi"}}, "condition": {"when": "if_opened", "step": "m9"}}'), 5) AS step_missing;
SELECT left(pg_temp.bad('{"id": "c", "type": "condition", "condition": {"when": "if_opened", "step": "c"}}'), 5) AS step_itself;
