-- What comes back over e-mail, through cadence.ingest_webhook(): SendGrid's
-- event webhook (signed with ECDSA), Resend's (Standard Webhooks), replies
-- posted by Postmark's and SendGrid's inbound parsing, matched to the
-- message they answer by In-Reply-To / References, and out-of-office
-- replies that pause a run until the sender is back.  Payloads are the
-- providers' documented examples (test/fixtures/webhooks/) with our ids
-- and addresses filled in.
SET timezone = 'UTC';
\set ECHO none
\i test/helpers/mock.sql
\i test/helpers/fixtures.sql
\i test/helpers/webhooks.sql
\i test/helpers/sendgrid_keys.sql
\set ECHO all
SELECT pg_temp.mock_post('/_mock/reset');

-- The Standard Webhooks reference test vector (what Resend signs with).
SELECT cadence.standard_webhook_signature(v ->> 'secret', v ->> 'id', v ->> 'timestamp', v ->> 'body')
	   = v ->> 'signature' AS documented_signature
  FROM pg_temp.fixture('standard_webhooks_signature_example') AS v;

SET cadence.tenant_id = 'hooks-mail';
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default) VALUES
	('hooks-mail', 'resend', 'email', 'resend', 'http://127.0.0.1:18025',
	 '{"apiKey": "re_secret", "webhookSecret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}',
	 '{"from": "sales@acme.test"}', true),
	('hooks-mail', 'sendgrid', 'email', 'sendgrid', 'http://127.0.0.1:18025',
	 '{"apiKey": "SG.secret"}', '{"from": "sales@acme.test"}', false);
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, timezone) VALUES
	('hooks-mail', 'sue', 'Sue', 'sue@sue.test', 'UTC'),
	('hooks-mail', 'sam', 'Sam', 'Sam@Sam.test', 'UTC'),
	('hooks-mail', 'sid', 'Sid', 'sid@sid.test', 'UTC'),
	('hooks-mail', 'sol', 'Sol', 'sol@sol.test', 'UTC'),
	('hooks-mail', 'sky', 'Sky', 'sky@sky.test', 'UTC'),
	('hooks-mail', 'rae', 'Rae', 'rae@rae.test', 'UTC'),
	('hooks-mail', 'rex', 'Rex', 'rex@rex.test', 'UTC'),
	('hooks-mail', 'roy', 'Roy', 'roy@roy.test', 'Europe/Berlin'),
	('hooks-mail', 'ron', 'Ron', 'ron@ron.test', 'UTC');

-- Two e-mails a day apart, through SendGrid or through Resend (the default).
CREATE FUNCTION pg_temp.cadence(id text, config jsonb) RETURNS void LANGUAGE sql AS $$
	SELECT cadence.upsert_cadence(jsonb_build_object('id', id, 'name', id, 'timezone', 'UTC',
		'isActive', true, 'days', jsonb_build_array(
			jsonb_build_object('dayNumber', 1, 'actions', jsonb_build_array(jsonb_build_object(
				'id', 'first', 'type', 'email', 'scheduleRule', '{"kind": "immediately"}'::jsonb,
				'config', config || '{"email": {"subject": "Hi {{firstName}}", "bodyText": "Hello"}}'))),
			jsonb_build_object('dayNumber', 2, 'actions', jsonb_build_array(jsonb_build_object(
				'id', 'second', 'type', 'email', 'scheduleRule', '{"kind": "timeOfDay", "timeOfDay": "10:00"}'::jsonb,
				'config', config || '{"email": {"subject": "Following up", "bodyText": "Hello again"}}'))))))
$$;
SELECT pg_temp.cadence('via-sendgrid', '{"providerId": "sendgrid"}');
SELECT pg_temp.cadence('via-resend', '{}');
SELECT count(*) FROM cadence.plan_runs('via-sendgrid', ARRAY['sue', 'sam', 'sid', 'sol', 'sky'], '2026-05-04 09:00Z');
SELECT count(*) FROM cadence.plan_runs('via-resend', ARRAY['rae', 'rex', 'roy', 'ron'], '2026-05-04 09:00Z');
SELECT cadence.run_due_actions(50, '2026-05-04 09:00Z', 'hooks-mail') ->> 'sent' AS sent;

-- A lead's first e-mail.
CREATE FUNCTION pg_temp.mail(lead text, step int DEFAULT 1) RETURNS cadence.scheduled_actions
LANGUAGE sql AS $$
	SELECT a.* FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
	 WHERE r.tenant_id = 'hooks-mail' AND r.lead_id = lead AND a.step_number = step
$$;
CREATE FUNCTION pg_temp.runs() RETURNS TABLE (lead text, status text, exit_reason text)
LANGUAGE sql AS $$
	SELECT lead_id, status, exit_reason FROM cadence.runs WHERE tenant_id = 'hooks-mail' ORDER BY lead_id
$$;

--
-- SendGrid's documented batch of twelve events, dealt out to our messages:
-- Sue's was processed, delivered, opened and clicked; Sam's bounced; Sid
-- reported spam; Sol unsubscribed (and unsubscribed from a group, and came
-- back to it); Sky's was dropped, deferred and blocked.  Each event names
-- our message by sg_message_id, whose first part is the X-Message-Id the
-- send got back.
--
CREATE FUNCTION pg_temp.sendgrid_batch() RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_agg(e || jsonb_build_object('email', c.email,
			 'sg_message_id', a.provider_message_id || '.filter0001.16648.5515E0B88.0') ORDER BY n)
	  FROM jsonb_array_elements(pg_temp.fixture('sendgrid_events')) WITH ORDINALITY AS x(e, n)
	  JOIN cadence.contacts c ON c.tenant_id = 'hooks-mail'
	   AND c.id = CASE e ->> 'event' WHEN 'bounce' THEN CASE e ->> 'type' WHEN 'blocked' THEN 'sky' ELSE 'sam' END
									 WHEN 'spamreport' THEN 'sid'
									 WHEN 'dropped' THEN 'sky' WHEN 'deferred' THEN 'sky'
									 WHEN 'unsubscribe' THEN 'sol' WHEN 'group_unsubscribe' THEN 'sol'
									 WHEN 'group_resubscribe' THEN 'sol' ELSE 'sue' END
	  JOIN cadence.runs r ON r.tenant_id = c.tenant_id AND r.lead_id = c.id
	  JOIN cadence.scheduled_actions a ON a.tenant_id = r.tenant_id AND a.run_id = r.id AND a.step_number = 1
$$;
SELECT e ->> 'event' AS event, e ->> 'type' AS type, e ->> 'email' AS email
  FROM jsonb_array_elements(pg_temp.sendgrid_batch()) AS e;

-- The account verifies SendGrid's signatures: an ECDSA P-256 key pair
-- made for the test (test/helpers/sendgrid_keys.sql); SendGrid signs the
-- timestamp header followed by the raw body.
UPDATE cadence.providers SET credentials = credentials || jsonb_build_object('webhookVerificationKey',
	   pg_temp.sendgrid_key('hooks-mail'))
 WHERE tenant_id = 'hooks-mail' AND id = 'sendgrid';
-- Unsigned, or signed over another body, the batch is refused whole.
SELECT pg_temp.try(format('SELECT cadence.ingest_webhook(%L, %L)', 'sendgrid',
	to_jsonb(pg_temp.sendgrid_batch()::text)));
SELECT pg_temp.try(format('SELECT cadence.ingest_webhook(%L, %L, %L)', 'sendgrid',
	to_jsonb(pg_temp.sendgrid_batch()::text), pg_temp.sendgrid_signed('hooks-mail', '[]')));
SELECT count(*) AS nothing_applied FROM cadence.inbound_events WHERE tenant_id = 'hooks-mail';
SELECT h.* FROM pg_temp.sendgrid_batch() AS b,
	   pg_temp.hook('sendgrid', to_jsonb(b::text), pg_temp.sendgrid_signed('hooks-mail', b::text)) AS h;
-- Delivered, opened, clicked (Sue); bounced (Sam); the rest changed no
-- message.  Sam's address goes on the list in lower case.
SELECT r.lead_id, a.delivered_at IS NOT NULL AS delivered, a.opened_at IS NOT NULL AS opened,
	   a.clicked_at IS NOT NULL AS clicked, a.bounced_at IS NOT NULL AS bounced
  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
 WHERE r.tenant_id = 'hooks-mail' AND r.cadence_id = 'via-sendgrid' AND a.step_number = 1 ORDER BY 1;
SELECT channel, address, reason FROM cadence.suppressions WHERE tenant_id = 'hooks-mail' ORDER BY address;
SELECT * FROM pg_temp.runs() WHERE lead IN ('sam', 'sid', 'sol', 'sky', 'sue');
SELECT step_number, sent, delivered, opened, clicked, replied, bounced FROM cadence.step_stats
 WHERE tenant_id = 'hooks-mail' AND cadence_id = 'via-sendgrid';
-- SendGrid delivers at least once: the same batch again changes nothing.
SELECT h.* FROM pg_temp.sendgrid_batch() AS b,
	   pg_temp.hook('sendgrid', to_jsonb(b::text), pg_temp.sendgrid_signed('hooks-mail', b::text)) AS h;
SELECT step_number, sent, delivered, opened, clicked, replied, bounced FROM cadence.step_stats
 WHERE tenant_id = 'hooks-mail' AND cadence_id = 'via-sendgrid';

--
-- Resend: the documented email.opened, email.clicked and email.bounced
-- events for Rae's and Rex's e-mails, signed the Standard Webhooks way
-- (svix-id, svix-timestamp, svix-signature) with the account's secret.
--
CREATE FUNCTION pg_temp.resend(event text, lead text, svix_id text) RETURNS TABLE (raw text, headers jsonb)
LANGUAGE sql AS $$
	SELECT b::text, jsonb_build_object('svix-id', svix_id, 'svix-timestamp', ts,
		'svix-signature', 'v1,bm90IGl0 ' || cadence.standard_webhook_signature(
			'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', svix_id, ts, b::text))
	  FROM (SELECT jsonb_set(pg_temp.fixture(event), '{data,email_id}',
							 to_jsonb((pg_temp.mail(lead)).provider_message_id)) AS b,
				   extract(epoch FROM now())::bigint::text AS ts) x
$$;
SELECT h.* FROM pg_temp.resend('resend_email_opened', 'rae', 'msg_1') AS r,
	   pg_temp.hook('resend', to_jsonb(r.raw), r.headers) AS h;
SELECT h.* FROM pg_temp.resend('resend_email_clicked', 'rae', 'msg_2') AS r,
	   pg_temp.hook('resend', to_jsonb(r.raw), r.headers) AS h;
SELECT h.* FROM pg_temp.resend('resend_email_bounced', 'rex', 'msg_3') AS r,
	   pg_temp.hook('resend', to_jsonb(r.raw), r.headers) AS h;
-- The same svix-id again is a redelivery.
SELECT h.* FROM pg_temp.resend('resend_email_opened', 'rae', 'msg_1') AS r,
	   pg_temp.hook('resend', to_jsonb(r.raw), r.headers) AS h;
-- Signed ten minutes ago: a replay, refused.
SELECT pg_temp.try(format('SELECT cadence.ingest_webhook(%L, %L, %L)', 'resend', to_jsonb(r.raw),
	   r.headers || jsonb_build_object('svix-timestamp', (extract(epoch FROM now())::bigint - 600)::text)))
  FROM pg_temp.resend('resend_email_delivered', 'rae', 'msg_4') AS r;
SELECT r.lead_id, a.opened_at IS NOT NULL AS opened, a.clicked_at IS NOT NULL AS clicked,
	   a.bounced_at IS NOT NULL AS bounced, r.status
  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
 WHERE r.tenant_id = 'hooks-mail' AND r.cadence_id = 'via-resend' AND a.step_number = 1 ORDER BY 1;

--
-- A reply, through Postmark's inbound webhook: it names our Message-ID in
-- In-Reply-To, so it is matched to Ron's e-mail even from another address.
--
SELECT h.*
  FROM (SELECT jsonb_set(pg_temp.fixture('postmark_inbound'), '{Headers}',
			   (SELECT jsonb_agg(CASE WHEN x ->> 'Name' IN ('In-Reply-To', 'References')
									  THEN jsonb_build_object('Name', x ->> 'Name', 'Value',
										   '<' || cadence.idempotency_key((pg_temp.mail('ron')).id) || '@acme.test>')
									  ELSE x END)
				  FROM jsonb_array_elements(pg_temp.fixture('postmark_inbound') -> 'Headers') AS x)) AS p) y,
	   pg_temp.hook('postmark', y.p) AS h;
SELECT replied_at IS NOT NULL AS replied FROM pg_temp.mail('ron');
SELECT * FROM pg_temp.runs() WHERE lead = 'ron';

--
-- A reply through SendGrid's Inbound Parse: the raw header block's
-- References names the message.
--
SELECT h.*
  FROM (SELECT pg_temp.fixture('sendgrid_inbound_parse') || jsonb_build_object(
			   'from', 'Sue <sue@sue.test>',
			   'headers', replace(pg_temp.fixture('sendgrid_inbound_parse') ->> 'headers',
								  '<14c5d75ce93.dfd.64b469@ismtpd-555>',
								  '<' || cadence.idempotency_key((pg_temp.mail('sue')).id) || '@acme.test>')) AS p) y,
	   pg_temp.hook('sendgrid_inbound', y.p) AS h;
SELECT * FROM pg_temp.runs() WHERE lead = 'sue';
SELECT step_number, sent, opened, clicked, replied, bounced FROM cadence.step_stats
 WHERE tenant_id = 'hooks-mail' ORDER BY cadence_id, step_number;

--
-- Out of office.  Roy (in Berlin) answers with an auto-reply
-- (Auto-Submitted: auto-replied) saying when he is back: his run pauses
-- until that day, at the time of day it paused, and a runner resumes it
-- then.  Nothing counts as a reply.
--
CREATE FUNCTION pg_temp.auto_reply(lead text, body text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.fixture('postmark_inbound_auto_reply') || jsonb_build_object(
		'MessageID', 'auto-' || lead, 'From', lead || '@' || lead || '.test',
		'FromFull', jsonb_build_object('Email', lead || '@' || lead || '.test'),
		'TextBody', body, 'StrippedTextReply', body,
		'Headers', (SELECT jsonb_agg(CASE WHEN x ->> 'Name' IN ('In-Reply-To', 'References')
										  THEN jsonb_build_object('Name', x ->> 'Name', 'Value',
											   '<' || cadence.idempotency_key((pg_temp.mail(lead)).id) || '@acme.test>')
										  ELSE x END)
					  FROM jsonb_array_elements(pg_temp.fixture('postmark_inbound_auto_reply') -> 'Headers') AS x))
$$;
SELECT h.* FROM pg_temp.hook('postmark', pg_temp.auto_reply('roy',
	'I am out of the office with limited access to email. I will be back on '
	|| to_char(now() AT TIME ZONE 'Europe/Berlin' + interval '10 days', 'FMMonth FMDD, YYYY')
	|| ' and will reply then.')) AS h;
SELECT status, exit_reason,
	   (resume_at AT TIME ZONE 'Europe/Berlin')::date
		 = (now() AT TIME ZONE 'Europe/Berlin' + interval '10 days')::date AS resumes_on_return_day,
	   (resume_at AT TIME ZONE 'Europe/Berlin')::time = (paused_at AT TIME ZONE 'Europe/Berlin')::time
		 AS at_the_same_time_of_day
  FROM cadence.runs WHERE tenant_id = 'hooks-mail' AND lead_id = 'roy';
SELECT replied_at IS NULL AS not_a_reply FROM pg_temp.mail('roy');
SELECT type, payload ->> 'kind' AS kind, payload ->> 'autoReply' AS signal, payload ->> 'reason' AS reason
  FROM cadence.events WHERE tenant_id = 'hooks-mail' AND lead_id = 'roy'
   AND type IN ('action.engagement', 'run.paused') ORDER BY id;
-- Rae's auto-reply gives no date: paused for settings.autoReplyPauseDays (7).
SELECT h.* FROM pg_temp.hook('postmark', pg_temp.auto_reply('rae',
	'Thank you for your message. I am currently on parental leave.')) AS h;
SELECT status, resume_at - paused_at BETWEEN interval '6 days 23 hours' AND interval '7 days 1 minute'
	   AS paused_a_week
  FROM cadence.runs WHERE tenant_id = 'hooks-mail' AND lead_id = 'rae';
-- Before Roy is back nothing of his is sent; on the day a runner resumes
-- his run (and Rae's), and their second e-mails go out then.
SELECT r ->> 'resumed' AS resumed, r ->> 'sent' AS sent
  FROM cadence.run_due_actions(50, now() + interval '5 days', 'hooks-mail') AS r;
SELECT r ->> 'resumed' AS resumed, r ->> 'sent' AS sent
  FROM cadence.run_due_actions(50, now() + interval '10 days 1 hour', 'hooks-mail') AS r;
SELECT status, paused_at IS NULL AS unpaused, resume_at IS NULL AS no_resume_due
  FROM cadence.runs WHERE tenant_id = 'hooks-mail' AND lead_id = 'roy';
SELECT step_number, status, due_at >= (SELECT max(created_at) FROM cadence.events
									   WHERE tenant_id = 'hooks-mail' AND type = 'run.paused'
										 AND lead_id = 'roy') AS moved_past_the_pause
  FROM pg_temp.mail('roy', 2);

--
-- Malformed deliveries: refused with what is wrong, nothing written.
--
SELECT count(*) AS before FROM cadence.inbound_events WHERE tenant_id = 'hooks-mail';
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('sendgrid', '{"event": "open"}')$$);
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('sendgrid', '[{"event": "open", "sg_event_id": "e1"}, {"sg_event_id": "e2"}]')$$);
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('resend', '{"type": "email.opened", "data": {}}')$$);
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('postmark', '{"MessageID": "m1"}')$$);
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('sendgrid_inbound', '{"from": "a@b.test"}')$$);
SELECT count(*) AS after FROM cadence.inbound_events WHERE tenant_id = 'hooks-mail';

--
-- From the webhook endpoint, which calls with no tenant: Postmark and the
-- Inbound Parse cannot sign, so a reply is taken only with the
-- inboundToken of the e-mail account that sent the message it answers,
-- in the URL the provider posts to (?token=) or as the password of HTTP
-- basic auth.  Sky answers her first SendGrid e-mail.
--
UPDATE cadence.providers SET credentials = credentials || '{"inboundToken": "in-7Hq2xV9pL"}'
 WHERE tenant_id = 'hooks-mail' AND id = 'sendgrid';
CREATE FUNCTION pg_temp.reply_from(lead text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_set(pg_temp.fixture('postmark_inbound'), '{Headers}',
		   (SELECT jsonb_agg(CASE WHEN x ->> 'Name' IN ('In-Reply-To', 'References')
								  THEN jsonb_build_object('Name', x ->> 'Name', 'Value',
									   '<' || cadence.idempotency_key((pg_temp.mail(lead)).id) || '@acme.test>')
								  ELSE x END)
			  FROM jsonb_array_elements(pg_temp.fixture('postmark_inbound') -> 'Headers') AS x))
		   || jsonb_build_object('MessageID', 'reply-' || lead)
$$;
RESET cadence.tenant_id;
SELECT pg_temp.try(format('SELECT cadence.ingest_webhook(%L, %L, %L, %L)', 'postmark',
	pg_temp.reply_from('sky'), '{}', 'https://crm.example/hooks/postmark'));
SELECT pg_temp.try(format('SELECT cadence.ingest_webhook(%L, %L, %L, %L)', 'postmark',
	pg_temp.reply_from('sky'), '{}', 'https://crm.example/hooks/postmark?token=in-guess'));
SELECT * FROM pg_temp.hook('postmark', pg_temp.reply_from('sky'), '{}',
	'https://crm.example/hooks/postmark?token=in-7Hq2xV9pL');
-- The same token as basic auth (https://cadence:in-7Hq2xV9pL@crm.example/...).
SELECT * FROM pg_temp.hook('postmark', pg_temp.reply_from('sky'),
	jsonb_build_object('Authorization', 'Basic ' || encode(convert_to('cadence:in-7Hq2xV9pL', 'UTF8'), 'base64')));
SET cadence.tenant_id = 'hooks-mail';
SELECT replied_at IS NOT NULL AS replied FROM pg_temp.mail('sky');
