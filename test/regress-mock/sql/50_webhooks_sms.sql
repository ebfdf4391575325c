-- What comes back over SMS and WhatsApp, through cadence.ingest_webhook():
-- Twilio status callbacks and incoming messages (replies, STOP, START,
-- HELP), WhatsApp Cloud API statuses and messages, each signed the way the
-- provider signs it.  Payloads are the providers' documented examples
-- (test/fixtures/webhooks/) with our message ids and numbers filled in.
SET timezone = 'UTC';
\set ECHO none
\i test/helpers/mock.sql
\i test/helpers/fixtures.sql
\i test/helpers/webhooks.sql
\set ECHO all
SELECT pg_temp.mock_post('/_mock/reset');

-- Twilio's own worked example of X-Twilio-Signature.
SELECT cadence.twilio_signature(v ->> 'authToken', v ->> 'url', v -> 'params') = v ->> 'signature'
	   AS documented_signature
  FROM pg_temp.fixture('twilio_signature_example') AS v;

SET cadence.tenant_id = 'hooks-sms';
-- The account the fixtures name (AccountSid, the From number), its auth
-- token signing the webhooks Twilio posts to webhookUrl; a WhatsApp Cloud
-- API number whose app secret signs Meta's webhooks.
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default) VALUES
	('hooks-sms', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
	 '{"accountSid": "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "authToken": "tw-secret"}',
	 '{"from": "+15017122661", "webhookUrl": "https://crm.example/hooks/twilio"}', true),
	('hooks-sms', 'whatsapp', 'whatsapp', 'whatsapp_cloud', 'http://127.0.0.1:18025',
	 '{"accessToken": "wa-token", "appSecret": "wa-app-secret"}',
	 '{"phoneNumberId": "106540352242922", "apiVersion": "v21.0"}', true);
INSERT INTO cadence.contacts (tenant_id, id, first_name, phone, whatsapp, company, timezone) VALUES
	('hooks-sms', 'ana', 'Ana', '+15558675310', NULL, 'Lima', 'UTC'),
	('hooks-sms', 'ben', 'Ben', '+15558675311', NULL, 'Bell', 'UTC'),
	('hooks-sms', 'cam', 'Cam', '+15558675312', NULL, 'Cole', 'UTC'),
	('hooks-sms', 'dee', 'Dee', '+15558675313', NULL, 'Dunn', 'UTC'),
	('hooks-sms', 'eli', 'Eli', '+15558675314', NULL, 'Eads', 'UTC'),
	('hooks-sms', 'sheena', 'Sheena', NULL, '+16505551234', 'Nelson', 'UTC');

-- Two SMS a day apart; a WhatsApp message for Sheena.
SELECT cadence.upsert_cadence('{"id": "texts", "name": "Texts", "timezone": "UTC", "isActive": true,
	"settings": {"quietHours": {"sms": null}},
	"days": [{"dayNumber": 1, "actions": [{"id": "hello", "type": "sms", "scheduleRule": {"kind": "immediately"},
											"config": {"sms": {"body": "Hi {{firstName}}"}}}]},
			 {"dayNumber": 2, "actions": [{"id": "again", "type": "sms", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "10:00"},
											"config": {"sms": {"body": "Still there, {{firstName}}?"}}}]}]}') ->> 'id';
SELECT cadence.upsert_cadence('{"id": "chats", "name": "Chats", "timezone": "UTC", "isActive": true,
	"days": [{"dayNumber": 1, "actions": [{"id": "hola", "type": "whatsapp", "scheduleRule": {"kind": "immediately"},
										   "config": {"whatsapp": {"body": "Hi {{firstName}}"}}},
										  {"id": "later", "type": "whatsapp", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 60},
										   "config": {"whatsapp": {"body": "Any questions?"}}}]}]}') ->> 'id';
SELECT outcome, count(*) FROM cadence.plan_runs('texts', ARRAY['ana', 'ben', 'cam', 'dee', 'eli'], '2026-04-06 09:00Z')
 GROUP BY 1;
SELECT cadence.plan_run_for_lead('chats', 'sheena', '2026-04-06 09:00Z') > 0 AS enrolled;
SELECT cadence.run_due_actions(50, '2026-04-06 09:00Z', 'hooks-sms') ->> 'sent' AS sent;

-- The headers Twilio sends with these form parameters.
CREATE FUNCTION pg_temp.twilio(params jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('X-Twilio-Signature',
		cadence.twilio_signature('tw-secret', 'https://crm.example/hooks/twilio', params))
$$;
-- The SMS a lead got at a step, and the runs of a cadence.
CREATE FUNCTION pg_temp.sms(lead text, step int DEFAULT 1) RETURNS cadence.scheduled_actions
LANGUAGE sql AS $$
	SELECT a.* FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
	 WHERE r.tenant_id = 'hooks-sms' AND r.lead_id = lead AND a.step_number = step
$$;
CREATE FUNCTION pg_temp.runs() RETURNS TABLE (lead text, cadence text, status text, exit_reason text)
LANGUAGE sql AS $$
	SELECT lead_id, cadence_id, status, exit_reason FROM cadence.runs
	 WHERE tenant_id = 'hooks-sms' ORDER BY lead_id, cadence_id
$$;
-- Twilio's documented delivered callback, for the SMS Ana got.
CREATE FUNCTION pg_temp.delivered(lead text, step int DEFAULT 1) RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.fixture('twilio_status_delivered') || jsonb_build_object(
		'MessageSid', (pg_temp.sms(lead, step)).provider_message_id,
		'SmsSid', (pg_temp.sms(lead, step)).provider_message_id)
$$;

--
-- A status callback: the SMS was delivered.
--
SELECT * FROM pg_temp.hook('twilio', pg_temp.delivered('ana'), pg_temp.twilio(pg_temp.delivered('ana')));
SELECT delivered_at IS NOT NULL AS delivered FROM pg_temp.sms('ana');
-- Twilio retries a callback it got no 2xx for: the redelivery is
-- recognised, and counted once.
SELECT * FROM pg_temp.hook('twilio', pg_temp.delivered('ana'), pg_temp.twilio(pg_temp.delivered('ana')));
SELECT step_number, variant, sent, delivered FROM cadence.step_stats
 WHERE tenant_id = 'hooks-sms' AND cadence_id = 'texts';

--
-- Signatures: missing, wrong, or not checkable refuse the whole delivery
-- (28000), and nothing is written.
--
SELECT count(*) AS applied_before FROM cadence.inbound_events WHERE tenant_id = 'hooks-sms';
SELECT pg_temp.try(format('SELECT cadence.ingest_webhook(%L, %L)', 'twilio',
	pg_temp.delivered('ana') || '{"MessageStatus": "read"}'));
SELECT pg_temp.try(format('SELECT cadence.ingest_webhook(%L, %L, %L)', 'twilio',
	pg_temp.delivered('ana') || '{"MessageStatus": "read"}', '{"X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}'));
-- Signed for another URL than the one Twilio was told to call.
SELECT pg_temp.try(format('SELECT cadence.ingest_webhook(%L, %L, %L, %L)', 'twilio',
	pg_temp.delivered('ana') || '{"MessageStatus": "read"}', pg_temp.twilio(pg_temp.delivered('ana') || '{"MessageStatus": "read"}'),
	'https://crm.example/hooks/other'));
SELECT count(*) AS applied_after, (SELECT opened_at IS NULL FROM pg_temp.sms('ana')) AS still_unread
  FROM cadence.inbound_events WHERE tenant_id = 'hooks-sms';

--
-- Undelivered: error 30003 (handset unreachable) is a failed delivery, not
-- the number's fault; 30005 (unknown number) is a bounce: the number goes
-- on the do-not-contact list and the run ends bounced.
--
CREATE FUNCTION pg_temp.undelivered(lead text, phone text, error text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.fixture('twilio_status_undelivered') || jsonb_build_object(
		'MessageSid', (pg_temp.sms(lead)).provider_message_id, 'To', phone, 'ErrorCode', error)
$$;
SELECT h.* FROM pg_temp.undelivered('ben', '+15558675311', '30003') AS p,
	   pg_temp.hook('twilio', p, pg_temp.twilio(p)) AS h;
SELECT h.* FROM pg_temp.undelivered('eli', '+15558675314', '30005') AS p,
	   pg_temp.hook('twilio', p, pg_temp.twilio(p)) AS h;
SELECT status, bounced_at IS NOT NULL AS bounced FROM pg_temp.sms('eli');
SELECT channel, address, reason FROM cadence.suppressions WHERE tenant_id = 'hooks-sms';
SELECT * FROM pg_temp.runs() WHERE lead IN ('ben', 'eli');

--
-- An incoming message from Cam (the documented inbound webhook, posted as
-- the raw form body Twilio sends): a reply.  The run ends replied, the SMS
-- counts as answered, and Cam's last activity is now.
--
SELECT h.*
  FROM (SELECT string_agg(key || '=' || replace(replace(value, '+', '%2B'), ' ', '+'), '&' ORDER BY key) AS body
		  FROM jsonb_each_text(pg_temp.fixture('twilio_inbound') || '{"From": "+15558675312"}')) x,
	   pg_temp.hook('twilio', to_jsonb(x.body), pg_temp.twilio(cadence.form_decode(x.body))) AS h;
SELECT replied_at IS NOT NULL AS replied, status FROM pg_temp.sms('cam');
SELECT status, skip_reason FROM pg_temp.sms('cam', 2);
SELECT last_activity_at IS NOT NULL AS active_lead FROM cadence.contacts WHERE tenant_id = 'hooks-sms' AND id = 'cam';
SELECT step_number, replied FROM cadence.step_stats WHERE tenant_id = 'hooks-sms' AND cadence_id = 'texts';

--
-- STOP, HELP, START and YES from Dee.  STOP (any case, alone) opts the
-- number out of SMS and ends the run unsubscribed; HELP is only recorded
-- (Twilio answers it); START opts back in; YES from a number that opted
-- out opts it in, and from any other number is a reply.
--
CREATE FUNCTION pg_temp.from_dee(body text, sid text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.fixture('twilio_inbound') || jsonb_build_object('From', '+15558675313', 'Body', body,
		'MessageSid', sid, 'SmsSid', sid, 'SmsMessageSid', sid)
$$;
SELECT * FROM pg_temp.hook('twilio', pg_temp.from_dee(' stop ', 'SM01'), pg_temp.twilio(pg_temp.from_dee(' stop ', 'SM01')));
SELECT channel, address, reason FROM cadence.suppressions WHERE tenant_id = 'hooks-sms' ORDER BY address;
SELECT * FROM pg_temp.runs() WHERE lead = 'dee';
SELECT * FROM pg_temp.hook('twilio', pg_temp.from_dee('HELP', 'SM02'), pg_temp.twilio(pg_temp.from_dee('HELP', 'SM02')));
SELECT * FROM pg_temp.hook('twilio', pg_temp.from_dee('Yes', 'SM03'), pg_temp.twilio(pg_temp.from_dee('Yes', 'SM03')));
SELECT count(*) AS dee_suppressed FROM cadence.suppressions WHERE tenant_id = 'hooks-sms' AND address = '+15558675313';
SELECT * FROM pg_temp.hook('twilio', pg_temp.from_dee('STOP', 'SM04'), pg_temp.twilio(pg_temp.from_dee('STOP', 'SM04')));
SELECT * FROM pg_temp.hook('twilio', pg_temp.from_dee('Start', 'SM05'), pg_temp.twilio(pg_temp.from_dee('Start', 'SM05')));
SELECT * FROM pg_temp.hook('twilio', pg_temp.from_dee('yes', 'SM06'), pg_temp.twilio(pg_temp.from_dee('yes', 'SM06')));
SELECT type, payload ->> 'kind' AS kind FROM cadence.events
 WHERE tenant_id = 'hooks-sms' AND lead_id = 'dee' AND type LIKE 'lead.%' ORDER BY id;

--
-- WhatsApp Cloud API: a read receipt (opened) and a text back (a reply),
-- each the raw body Meta posts, signed with the app secret.
--
CREATE FUNCTION pg_temp.meta(raw text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('X-Hub-Signature-256', 'sha256=' ||
		encode(cadence.hmac(convert_to(raw, 'UTF8'), 'wa-app-secret', 'sha256'), 'hex'))
$$;
SELECT h.*
  FROM (SELECT jsonb_set(pg_temp.fixture('whatsapp_status_read'), '{entry,0,changes,0,value,statuses,0,id}',
						 to_jsonb(a.provider_message_id))::text AS raw
		  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
		 WHERE r.tenant_id = 'hooks-sms' AND r.lead_id = 'sheena' AND a.step_number = 1) x,
	   pg_temp.hook('whatsapp', to_jsonb(x.raw), pg_temp.meta(x.raw)) AS h;
SELECT * FROM pg_temp.hook('whatsapp', to_jsonb(pg_temp.fixture_text('whatsapp_inbound_text')), pg_temp.meta(pg_temp.fixture_text('whatsapp_inbound_text')));
SELECT a.step_number, a.status, a.opened_at IS NOT NULL AS read, a.replied_at IS NOT NULL AS replied
  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
 WHERE r.tenant_id = 'hooks-sms' AND r.lead_id = 'sheena' ORDER BY 1;
-- A signed body must come as it was received: a parsed payload cannot be
-- checked, and a body changed in transit does not match.
SELECT pg_temp.try(format('SELECT cadence.ingest_webhook(%L, %L, %L)', 'whatsapp',
	pg_temp.fixture_text('whatsapp_inbound_text'), pg_temp.meta(pg_temp.fixture_text('whatsapp_inbound_text'))));
SELECT pg_temp.try(format('SELECT cadence.ingest_webhook(%L, %L, %L)', 'whatsapp',
	to_jsonb(replace(pg_temp.fixture_text('whatsapp_inbound_text'), 'another color', 'another colour')),
	pg_temp.meta(pg_temp.fixture_text('whatsapp_inbound_text'))));
-- The account's kind, whatsapp_cloud, names the provider too: the same
-- text delivered again under that name is recognised as a redelivery.
SELECT * FROM pg_temp.hook('whatsapp_cloud', to_jsonb(pg_temp.fixture_text('whatsapp_inbound_text')), pg_temp.meta(pg_temp.fixture_text('whatsapp_inbound_text')));

-- Day 2: the runs still under way get their second message; the others
-- get nothing.
SELECT cadence.run_due_actions(50, '2026-04-07 10:00Z', 'hooks-sms') - 'claimed' AS day_2;
SELECT * FROM pg_temp.runs();

--
-- A webhook from a service role with no tenant of its own: the tenant is
-- the one whose account (AccountSid) received it.
--
RESET cadence.tenant_id;
SELECT h.* FROM pg_temp.delivered('ana', 2) AS p, pg_temp.hook('twilio', p, pg_temp.twilio(p)) AS h;
SET cadence.tenant_id = 'hooks-sms';
SELECT delivered_at IS NOT NULL AS delivered FROM pg_temp.sms('ana', 2);

--
-- Malformed deliveries are refused with what is wrong, and change nothing.
--
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('twilio', '{"MessageStatus": "delivered"}')$$);
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('twilio', '{"MessageSid": "SM1", "AccountSid": "AC1"}')$$);
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('twilio', '"MessageSid=SM1&AccountSid"')$$);
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('whatsapp', '{"object": "page"}')$$);
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('whatsapp', '"{not json"')$$);
SELECT pg_temp.try($$SELECT cadence.ingest_webhook('mailchimp', '{}')$$);
SELECT count(*) AS events_recorded FROM cadence.inbound_events WHERE tenant_id = 'hooks-sms';
