-- Webhooks authorise by secret, never by a public id.  Every attack runs
-- as the role that would really call: an application role of another
-- tenant (PostgREST: a role taken with SET ROLE, the caller in
-- request.jwt.claims), an application role with no tenant, and the
-- webhook endpoint's role (cadence_webhook, no tenant).  Globex is the
-- victim; acme's admin is the attacker, who also registers provider
-- accounts with globex's public ids (its Twilio AccountSid, its WhatsApp
-- number, its sender address) under acme's own secrets.  Each refused
-- delivery is checked to have changed nothing of globex's; each correctly
-- signed one to apply.  Payloads are the providers' documented examples
-- (test/fixtures/webhooks/).
\set QUIET 1
\set ECHO none
\i test/helpers/fixtures.sql
\i test/helpers/sendgrid_keys.sql
BEGIN;
SELECT plan(60);
SET LOCAL timezone = 'UTC';
SET LOCAL cadence.notify = off;

-- The roles: an application role (as grant_access sets it up), the
-- webhook endpoint's role, and a role given nothing.
CREATE ROLE cadence_test_app NOLOGIN;
CREATE ROLE cadence_test_hook NOLOGIN;
CREATE ROLE cadence_test_nobody NOLOGIN;
SELECT cadence.grant_access('cadence_test_app');
SELECT cadence.grant_webhook('cadence_test_hook');
GRANT USAGE ON SCHEMA cadence TO cadence_test_nobody;

-- act_as(role, claims): the rest of the transaction runs as role, with
-- PostgREST's claims (NULL: as the superuser running the test).
CREATE FUNCTION pg_temp.act_as(role text, claims jsonb DEFAULT '{}') RETURNS void
LANGUAGE sql AS $$
	SELECT set_config('request.jwt.claims', coalesce(claims::text, ''), true),
		   set_config('cadence.tenant_id', '', true),
		   set_config('role', coalesce(role, 'none'), true)
$$;

-- Two tenants.  Globex sends texts through Twilio, e-mail through SendGrid
-- and Resend, WhatsApp through the Cloud API, and books meetings through
-- Calendly; each account has its secret.  Acme has accounts of every kind
-- too, some carrying globex's public ids.
SELECT pg_temp.act_as(NULL);
INSERT INTO cadence.members (tenant_id, user_id, role) VALUES
	('globex', 'gus', 'owner'), ('acme', 'mallory', 'admin');
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default)
VALUES
	('globex', 'twilio', 'sms', 'twilio', 'https://api.twilio.com',
	 '{"accountSid": "ACglobex0000000000000000000000001", "authToken": "globex-twilio-token"}',
	 '{"from": "+15550100001", "webhookUrl": "https://hooks.globex.test/twilio"}', true),
	('globex', 'sendgrid', 'email', 'sendgrid', 'https://api.sendgrid.com',
	 jsonb_build_object('apiKey', 'SG.globex', 'webhookVerificationKey', pg_temp.sendgrid_key('globex'),
						'inboundToken', 'globex-inbound-token'),
	 '{"from": "sales@globex.test"}', true),
	('globex', 'resend', 'email', 'resend', 'https://api.resend.com',
	 '{"apiKey": "re_globex", "webhookSecret": "whsec_Z2xvYmV4LXJlc2VuZC1zZWNyZXQ="}',
	 '{"from": "hello@globex.test"}', false),
	('globex', 'whatsapp', 'whatsapp', 'whatsapp_cloud', 'https://graph.facebook.com',
	 '{"accessToken": "wa-globex", "appSecret": "globex-app-secret"}',
	 '{"phoneNumberId": "106540352242922"}', true),
	('globex', 'calendly', 'calendar', 'calendly', 'https://api.calendly.com',
	 '{"signingKey": "globex-calendly-key"}', '{}', true),
	('acme', 'twilio', 'sms', 'twilio', 'https://api.twilio.com',
	 '{"accountSid": "ACglobex0000000000000000000000001", "authToken": "acme-twilio-token"}',
	 '{"from": "+15550200001", "webhookUrl": "https://hooks.globex.test/twilio"}', true),
	('acme', 'sendgrid', 'email', 'sendgrid', 'https://api.sendgrid.com',
	 jsonb_build_object('apiKey', 'SG.acme', 'webhookVerificationKey', pg_temp.sendgrid_key('acme'),
						'inboundToken', 'acme-inbound-token'),
	 '{"from": "sales@globex.test"}', true),
	('acme', 'resend', 'email', 'resend', 'https://api.resend.com',
	 '{"apiKey": "re_acme", "webhookSecret": "whsec_YWNtZS1yZXNlbmQtc2VjcmV0"}',
	 '{"from": "hello@acme.test"}', false),
	('acme', 'smtp', 'email', 'smtp', 'smtp://mail.acme.test', '{"username": "u", "password": "p"}',
	 '{"from": "desk@acme.test"}', false),
	('acme', 'whatsapp', 'whatsapp', 'whatsapp_cloud', 'https://graph.facebook.com',
	 '{"accessToken": "wa-acme", "appSecret": "acme-app-secret"}',
	 '{"phoneNumberId": "106540352242922"}', true),
	('acme', 'calendly', 'calendar', 'calendly', 'https://api.calendly.com',
	 '{"signingKey": "acme-calendly-key"}', '{}', true);

-- Globex's leads, each in a run whose first message went out (through the
-- account named) and whose second is still to come.
SELECT set_config('cadence.tenant_id', 'globex', true);
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, whatsapp, timezone) VALUES
	('globex', 'sam', 'Sam', 'sam@lead.test', '+15558675310', NULL, 'UTC'),
	('globex', 'tia', 'Tia', 'tia@lead.test', '+15558675311', NULL, 'UTC'),
	('globex', 'eve', 'Eve', 'eve@lead.test', NULL, NULL, 'UTC'),
	('globex', 'rob', 'Rob', 'rob@lead.test', NULL, NULL, 'UTC'),
	('globex', 'pia', 'Pia', 'pia@lead.test', NULL, NULL, 'UTC'),
	('globex', 'ian', 'Ian', 'ian@lead.test', NULL, NULL, 'UTC'),
	('globex', 'cal', 'Cal', 'test@example.com', NULL, NULL, 'UTC'),
	('globex', 'wes', 'Wes', NULL, NULL, '+16505551234', 'UTC');
CREATE FUNCTION pg_temp.two_steps(id text, type text) RETURNS text LANGUAGE sql AS $$
	SELECT cadence.upsert_cadence(jsonb_build_object('id', id, 'name', id, 'timezone', 'UTC',
		'isActive', true, 'settings', '{"quietHours": null}'::jsonb,
		'days', jsonb_build_array(
			jsonb_build_object('dayNumber', 1, 'actions', jsonb_build_array(jsonb_build_object(
				'id', 'first', 'type', type, 'scheduleRule', '{"kind": "immediately"}'::jsonb,
				'config', jsonb_build_object(type, CASE type WHEN 'email' THEN '{"subject": "Hi", "bodyText": "Hi"}'
															  ELSE '{"body": "Hi"}' END::jsonb)))),
			jsonb_build_object('dayNumber', 2, 'actions', jsonb_build_array(jsonb_build_object(
				'id', 'second', 'type', type, 'scheduleRule', '{"kind": "immediately"}'::jsonb,
				'config', jsonb_build_object(type, CASE type WHEN 'email' THEN '{"subject": "Again", "bodyText": "Again"}'
															  ELSE '{"body": "Again"}' END::jsonb)))))))
		->> 'id'
$$;
SELECT pg_temp.two_steps('texts', 'sms'), pg_temp.two_steps('mails', 'email'),
	   pg_temp.two_steps('chats', 'whatsapp');
SELECT count(*) FROM cadence.plan_runs('texts', ARRAY['sam', 'tia'], now() - interval '1 hour');
SELECT count(*) FROM cadence.plan_runs('mails', ARRAY['eve', 'rob', 'pia', 'ian', 'cal'], now() - interval '1 hour');
SELECT count(*) FROM cadence.plan_runs('chats', ARRAY['wes'], now() - interval '1 hour');
CREATE FUNCTION pg_temp.mark_sent(tenant text, lead text, account text, message_id text)
RETURNS bigint LANGUAGE sql AS $$
	UPDATE cadence.scheduled_actions a
	   SET status = 'sent', sent_at = now() - interval '30 minutes', provider_id = account,
		   provider_message_id = message_id
	  FROM cadence.runs r
	 WHERE r.tenant_id = tenant AND r.lead_id = lead AND a.tenant_id = r.tenant_id
	   AND a.run_id = r.id AND a.step_number = 1
	RETURNING a.id
$$;
SELECT pg_temp.mark_sent('globex', 'sam', 'twilio', 'SMglobex00000000000000000000000001') AS sam_sms \gset
SELECT pg_temp.mark_sent('globex', 'tia', 'twilio', 'SMglobex00000000000000000000000002') AS tia_sms \gset
SELECT pg_temp.mark_sent('globex', 'eve', 'sendgrid', 'sg-globex-eve') AS eve_mail \gset
SELECT pg_temp.mark_sent('globex', 'rob', 'resend', 'resend-globex-rob') AS rob_mail \gset
SELECT pg_temp.mark_sent('globex', 'pia', 'sendgrid', 'sg-globex-pia') AS pia_mail \gset
SELECT pg_temp.mark_sent('globex', 'ian', 'sendgrid', 'sg-globex-ian') AS ian_mail \gset
SELECT pg_temp.mark_sent('globex', 'wes', 'whatsapp', 'wamid.globex-wes') AS wes_chat \gset

-- Acme's own lead and messages: one through its SendGrid account (which
-- has a verification key), one through its SMTP account (no secret).
SELECT set_config('cadence.tenant_id', 'acme', true);
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, timezone) VALUES
	('acme', 'amy', 'Amy', 'amy@lead.test', 'UTC'), ('acme', 'abe', 'Abe', 'abe@lead.test', 'UTC');
SELECT pg_temp.two_steps('acme-mails', 'email');
SELECT count(*) FROM cadence.plan_runs('acme-mails', ARRAY['amy', 'abe'], now() - interval '1 hour');
SELECT pg_temp.mark_sent('acme', 'amy', 'sendgrid', 'sg-acme-amy') AS amy_mail \gset
SELECT pg_temp.mark_sent('acme', 'abe', 'smtp', '<smtp-acme-abe@acme.test>') AS abe_mail \gset
SELECT set_config('cadence.tenant_id', '', true);

-- Everything of globex's a webhook could change, in one line; readable by
-- every role of the test.
CREATE FUNCTION pg_temp.globex() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$
	SELECT concat_ws(' | ',
		(SELECT string_agg(lead_id || ' ' || status, ', ' ORDER BY lead_id) FROM cadence.runs
		  WHERE tenant_id = 'globex'),
		(SELECT 'suppressed ' || count(*) FROM cadence.suppressions WHERE tenant_id = 'globex'),
		(SELECT 'inbound ' || count(*) FROM cadence.inbound_events WHERE tenant_id = 'globex'),
		(SELECT 'engaged ' || count(*) FROM cadence.scheduled_actions WHERE tenant_id = 'globex'
		   AND num_nonnulls(delivered_at, opened_at, clicked_at, replied_at, bounced_at) > 0),
		(SELECT 'events ' || count(*) FROM cadence.events WHERE tenant_id = 'globex'))
$$;
CREATE FUNCTION pg_temp.run_of(lead text) RETURNS text LANGUAGE sql SECURITY DEFINER AS $$
	SELECT status FROM cadence.runs WHERE lead_id = lead
$$;
-- The reason an address is on acme's do-not-contact list.
CREATE FUNCTION pg_temp.acme_suppressed(address text) RETURNS text LANGUAGE sql SECURITY DEFINER AS $$
	SELECT reason FROM cadence.suppressions WHERE tenant_id = 'acme' AND suppressions.address = acme_suppressed.address
$$;

-- The deliveries, as each provider (or an attacker) would post them:
-- name -> provider, body, headers, URL.
CREATE TEMP TABLE deliveries (name text PRIMARY KEY, provider text, payload jsonb,
							  headers jsonb DEFAULT '{}', url text);
CREATE FUNCTION pg_temp.twilio_signed(token text, params jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('X-Twilio-Signature',
		cadence.twilio_signature(token, 'https://hooks.globex.test/twilio', params))
$$;
CREATE FUNCTION pg_temp.resend_signed(secret text, id text, raw text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('svix-id', id, 'svix-timestamp', ts,
		'svix-signature', cadence.standard_webhook_signature(secret, id, ts, raw))
	  FROM (SELECT extract(epoch FROM now())::bigint::text AS ts) x
$$;
CREATE FUNCTION pg_temp.meta_signed(secret text, raw text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('X-Hub-Signature-256',
		'sha256=' || encode(cadence.hmac(convert_to(raw, 'UTF8'), convert_to(secret, 'UTF8'), 'sha256'), 'hex'))
$$;
CREATE FUNCTION pg_temp.calendly_signed(key text, raw text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('Calendly-Webhook-Signature', 't=' || ts || ',v1=' ||
		encode(cadence.hmac(convert_to(ts || '.' || raw, 'UTF8'), convert_to(key, 'UTF8'), 'sha256'), 'hex'))
	  FROM (SELECT extract(epoch FROM now())::bigint::text AS ts) x
$$;

-- Twilio: Sam's text bounced (error 30005, unknown number), and Tia texts
-- STOP.  The status names globex's message; the STOP names only globex's
-- AccountSid, which acme's account carries too.
INSERT INTO deliveries (name, provider, payload)
SELECT 'twilio bounce', 'twilio', pg_temp.fixture('twilio_status_undelivered') || jsonb_build_object(
	'MessageSid', 'SMglobex00000000000000000000000001', 'SmsSid', 'SMglobex00000000000000000000000001',
	'AccountSid', 'ACglobex0000000000000000000000001', 'To', '+15558675310', 'ErrorCode', '30005');
INSERT INTO deliveries (name, provider, payload, headers)
SELECT 'twilio bounce, unsigned', provider, payload, '{}' FROM deliveries WHERE name = 'twilio bounce'
UNION ALL
SELECT 'twilio bounce, made-up AccountSid signed by acme', provider,
	   payload || '{"AccountSid": "ACacme00000000000000000000000009"}',
	   pg_temp.twilio_signed('acme-twilio-token', payload || '{"AccountSid": "ACacme00000000000000000000000009"}')
  FROM deliveries WHERE name = 'twilio bounce'
UNION ALL
SELECT 'twilio bounce, signed by globex', provider, payload,
	   pg_temp.twilio_signed('globex-twilio-token', payload)
  FROM deliveries WHERE name = 'twilio bounce';
INSERT INTO deliveries (name, provider, payload)
SELECT 'twilio stop', 'twilio', pg_temp.fixture('twilio_inbound') || jsonb_build_object(
	'AccountSid', 'ACglobex0000000000000000000000001', 'From', '+15558675311', 'Body', 'STOP',
	'To', '+15550100001');
INSERT INTO deliveries (name, provider, payload, headers)
SELECT 'twilio stop, unsigned', provider, payload, '{}' FROM deliveries WHERE name = 'twilio stop'
UNION ALL
SELECT 'twilio stop, signed by acme', provider, payload, pg_temp.twilio_signed('acme-twilio-token', payload)
  FROM deliveries WHERE name = 'twilio stop'
UNION ALL
SELECT 'twilio stop, signed by globex', provider, payload,
	   pg_temp.twilio_signed('globex-twilio-token', payload)
  FROM deliveries WHERE name = 'twilio stop';

-- SendGrid: a spam report about Eve's e-mail, naming it by our
-- idempotency key (public: it is in the e-mail's Message-ID); the same
-- about Rob's, which went out through Resend; a bounce of Amy's (acme's
-- own).
CREATE FUNCTION pg_temp.sendgrid_event(kind text, action_id bigint, email text) RETURNS text
LANGUAGE sql AS $$
	SELECT jsonb_build_array(e || jsonb_build_object('email', email, 'timestamp', extract(epoch FROM now())::bigint,
		'sg_event_id', kind || '-' || action_id, 'cadence_idempotency_key', cadence.idempotency_key(action_id),
		'sg_message_id', 'unknown.filter0001'))::text
	  FROM jsonb_array_elements(pg_temp.fixture('sendgrid_events')) AS e
	 WHERE e ->> 'event' = kind AND coalesce(e ->> 'type', 'bounce') = 'bounce'
$$;
INSERT INTO deliveries (name, provider, payload, headers)
SELECT 'sendgrid spam report, unsigned', 'sendgrid', to_jsonb(b), '{}'
  FROM pg_temp.sendgrid_event('spamreport', :eve_mail, 'eve@lead.test') b
UNION ALL
SELECT 'sendgrid spam report, signed by acme', 'sendgrid', to_jsonb(b), pg_temp.sendgrid_signed('acme', b)
  FROM pg_temp.sendgrid_event('spamreport', :eve_mail, 'eve@lead.test') b
UNION ALL
SELECT 'sendgrid spam report, signed by globex', 'sendgrid', to_jsonb(b), pg_temp.sendgrid_signed('globex', b)
  FROM pg_temp.sendgrid_event('spamreport', :eve_mail, 'eve@lead.test') b
UNION ALL
SELECT 'sendgrid spam report about a resend message, signed by globex''s sendgrid key', 'sendgrid',
	   to_jsonb(b), pg_temp.sendgrid_signed('globex', b)
  FROM pg_temp.sendgrid_event('spamreport', :rob_mail, 'rob@lead.test') b
UNION ALL
SELECT 'sendgrid bounce of acme''s own, unsigned', 'sendgrid', to_jsonb(b), '{}'
  FROM pg_temp.sendgrid_event('bounce', :amy_mail, 'amy@lead.test') b
UNION ALL
SELECT 'sendgrid bounce of acme''s smtp message, unsigned', 'sendgrid', to_jsonb(b), '{}'
  FROM pg_temp.sendgrid_event('bounce', :abe_mail, 'abe@lead.test') b;

-- Resend: Rob's e-mail marked as spam.
CREATE FUNCTION pg_temp.resend_complaint() RETURNS text LANGUAGE sql AS $$
	SELECT jsonb_set(jsonb_set(pg_temp.fixture('resend_email_complained'), '{data,email_id}',
						 '"resend-globex-rob"'), '{data,to}', '["rob@lead.test"]')::text
$$;
INSERT INTO deliveries (name, provider, payload, headers)
SELECT 'resend complaint, unsigned', 'resend', to_jsonb(pg_temp.resend_complaint()), '{"svix-id": "msg_1"}'
UNION ALL
SELECT 'resend complaint, signed by acme', 'resend', to_jsonb(pg_temp.resend_complaint()),
	   pg_temp.resend_signed('whsec_YWNtZS1yZXNlbmQtc2VjcmV0', 'msg_1', pg_temp.resend_complaint())
UNION ALL
SELECT 'resend complaint, signed by globex', 'resend', to_jsonb(pg_temp.resend_complaint()),
	   pg_temp.resend_signed('whsec_Z2xvYmV4LXJlc2VuZC1zZWNyZXQ=', 'msg_1', pg_temp.resend_complaint());

-- Postmark and SendGrid's Inbound Parse: replies from Pia and Ian naming
-- globex's e-mails in In-Reply-To; and one answering Rob's, which went out
-- through a Resend account that keeps no inbound token.
CREATE FUNCTION pg_temp.postmark_reply(action_id bigint, sender text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT f || jsonb_build_object('From', sender, 'FromFull', jsonb_build_object('Email', sender),
		'MessageID', 'pm-' || action_id,
		'Headers', (SELECT jsonb_agg(CASE WHEN h ->> 'Name' IN ('In-Reply-To', 'References')
										  THEN jsonb_build_object('Name', h ->> 'Name', 'Value',
											   '<' || cadence.idempotency_key(action_id) || '@globex.test>')
										  ELSE h END)
					  FROM jsonb_array_elements(f -> 'Headers') AS h))
	  FROM pg_temp.fixture('postmark_inbound') AS f
$$;
CREATE FUNCTION pg_temp.parse_reply(action_id bigint, sender text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT f || jsonb_build_object('from', sender,
		'headers', replace(f ->> 'headers', '<14c5d75ce93.dfd.64b469@ismtpd-555>',
						   '<' || cadence.idempotency_key(action_id) || '@globex.test>'))
	  FROM pg_temp.fixture('sendgrid_inbound_parse') AS f
$$;
INSERT INTO deliveries (name, provider, payload, headers, url) VALUES
	('postmark reply, no token', 'postmark', pg_temp.postmark_reply(:pia_mail, 'pia@lead.test'), '{}',
	 'https://hooks.globex.test/postmark'),
	('postmark reply, acme''s token', 'postmark', pg_temp.postmark_reply(:pia_mail, 'pia@lead.test'), '{}',
	 'https://hooks.globex.test/postmark?token=acme-inbound-token'),
	('postmark reply, globex''s token', 'postmark', pg_temp.postmark_reply(:pia_mail, 'pia@lead.test'), '{}',
	 'https://hooks.globex.test/postmark?token=globex-inbound-token'),
	('postmark reply to a resend message, no token kept', 'postmark',
	 pg_temp.postmark_reply(:rob_mail, 'rob@lead.test'), '{}',
	 'https://hooks.globex.test/postmark?token=globex-inbound-token'),
	('inbound parse reply, no token', 'sendgrid_inbound', pg_temp.parse_reply(:ian_mail, 'ian@lead.test'), '{}',
	 'https://hooks.globex.test/parse'),
	('inbound parse reply, wrong basic auth', 'sendgrid_inbound', pg_temp.parse_reply(:ian_mail, 'ian@lead.test'),
	 jsonb_build_object('Authorization', 'Basic ' || encode(convert_to('cadence:acme-inbound-token', 'UTF8'), 'base64')),
	 'https://hooks.globex.test/parse'),
	('inbound parse reply, globex''s basic auth', 'sendgrid_inbound', pg_temp.parse_reply(:ian_mail, 'ian@lead.test'),
	 jsonb_build_object('Authorization', 'Basic ' || encode(convert_to('cadence:globex-inbound-token', 'UTF8'), 'base64')),
	 'https://hooks.globex.test/parse');

-- Calendly: Cal (test@example.com, the documented invitee) books a meeting.
INSERT INTO deliveries (name, provider, payload, headers) VALUES
	('calendly booking, unsigned', 'calendly', to_jsonb(pg_temp.fixture_text('calendly_invitee_created')), '{}'),
	('calendly booking, signed by acme', 'calendly', to_jsonb(pg_temp.fixture_text('calendly_invitee_created')),
	 pg_temp.calendly_signed('acme-calendly-key', pg_temp.fixture_text('calendly_invitee_created'))),
	('calendly booking, signed by globex', 'calendly', to_jsonb(pg_temp.fixture_text('calendly_invitee_created')),
	 pg_temp.calendly_signed('globex-calendly-key', pg_temp.fixture_text('calendly_invitee_created')));

-- WhatsApp: Wes read globex's message (the number id both tenants list).
CREATE FUNCTION pg_temp.wes_read() RETURNS text LANGUAGE sql AS $$
	SELECT jsonb_set(pg_temp.fixture('whatsapp_status_read'), '{entry,0,changes,0,value,statuses,0,id}',
					 '"wamid.globex-wes"')::text
$$;
INSERT INTO deliveries (name, provider, payload, headers) VALUES
	('whatsapp read, unsigned', 'whatsapp', to_jsonb(pg_temp.wes_read()), '{}'),
	('whatsapp read, signed by acme', 'whatsapp', to_jsonb(pg_temp.wes_read()),
	 pg_temp.meta_signed('acme-app-secret', pg_temp.wes_read())),
	('whatsapp read, signed by globex', 'whatsapp', to_jsonb(pg_temp.wes_read()),
	 pg_temp.meta_signed('globex-app-secret', pg_temp.wes_read()));

-- An app event of acme's.
INSERT INTO deliveries (name, provider, payload) VALUES
	('acme app reply', 'app', '{"type": "reply", "leadId": "amy", "eventId": "app-1", "text": "Call me"}');

-- post(name): the delivery, as the current role posts it.
CREATE FUNCTION pg_temp.post(name text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT cadence.ingest_webhook(d.provider, d.payload, d.headers, d.url)
	  FROM deliveries d WHERE d.name = post.name
$$;
SELECT pg_temp.globex() AS start \gset

-- pgTAP's bookkeeping and the deliveries, usable by every role.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pg_temp
	TO cadence_test_app, cadence_test_hook, cadence_test_nobody;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA pg_temp
	TO cadence_test_app, cadence_test_hook, cadence_test_nobody;

--
-- Who may call it at all.
--
SELECT pg_temp.act_as('cadence_test_app', '{"sub": "nobody", "role": "authenticated"}');
SELECT throws_ok($$SELECT pg_temp.post('twilio bounce, signed by globex')$$, '42501', NULL,
				 'an application role with no tenant cannot ingest, even a correctly signed delivery');
SELECT pg_temp.act_as('cadence_test_app', '{"sub": "mallory", "app_metadata": {"tenant_id": "globex"}}');
SELECT throws_ok($$SELECT pg_temp.post('sendgrid spam report, unsigned')$$, '42501', NULL,
				 'claiming another tenant without being its member gives no tenant: refused');
SELECT pg_temp.act_as('cadence_test_nobody');
SELECT throws_ok($$SELECT pg_temp.post('twilio bounce, signed by globex')$$, '42501', NULL,
				 'a role never given cadence cannot call ingest_webhook');
SELECT pg_temp.act_as('cadence_test_hook');
SELECT throws_ok($$SELECT pg_temp.post('acme app reply')$$, '42501', NULL,
				 'the webhook role cannot post app events: they need a tenant');
SELECT is(pg_temp.globex(), :'start', 'none of that changed anything of globex''s');

--
-- Twilio, from the webhook role.
--
SELECT throws_ok($$SELECT pg_temp.post('twilio bounce, unsigned')$$, '28000', NULL,
				 'twilio: an unsigned status naming globex''s message is refused');
SELECT throws_ok($$SELECT pg_temp.post('twilio bounce, made-up AccountSid signed by acme')$$, '28000', NULL,
				 'twilio: a made-up AccountSid signed with acme''s token is refused (the sender''s token decides)');
SELECT is(pg_temp.globex(), :'start', 'twilio: the refused statuses changed nothing');
SELECT is(pg_temp.post('twilio bounce, signed by globex') ->> 'applied', '1',
		  'twilio: the status signed with globex''s token applies');
SELECT is(pg_temp.run_of('sam'), 'bounced', 'twilio: and ends Sam''s run as bounced');
SELECT pg_temp.globex() AS g \gset
SELECT throws_ok($$SELECT pg_temp.post('twilio stop, unsigned')$$, '28000', NULL,
				 'twilio: an unsigned STOP naming globex''s AccountSid is refused');
SELECT is(pg_temp.post('twilio stop, signed by acme') ->> 'applied', '1',
		  'twilio: a STOP signed by acme''s account carrying globex''s AccountSid is taken...');
SELECT is(pg_temp.acme_suppressed('+15558675311'), 'stop_keyword', '... for acme: the number goes on acme''s list');
SELECT is(pg_temp.globex(), :'g', 'twilio: globex''s lead is still in her run and not suppressed');
SELECT is(pg_temp.post('twilio stop, signed by globex') -> 'results' -> 0 ->> 'outcome', 'applied',
		  'twilio: globex''s own STOP still applies beside acme''s account claiming the same AccountSid');
SELECT is(pg_temp.run_of('tia'), 'unsubscribed', 'twilio: and ends Tia''s run');

--
-- SendGrid.
--
SELECT pg_temp.globex() AS g \gset
SELECT throws_ok($$SELECT pg_temp.post('sendgrid spam report, unsigned')$$, '28000', NULL,
				 'sendgrid: an unsigned spam report naming globex''s message by its public key is refused');
SELECT throws_ok($$SELECT pg_temp.post('sendgrid spam report, signed by acme')$$, '28000', NULL,
				 'sendgrid: signed with acme''s key, refused');
SELECT throws_ok($$SELECT pg_temp.post('sendgrid spam report about a resend message, signed by globex''s sendgrid key')$$,
				 '28000', NULL,
				 'sendgrid: provider => sendgrid for a message globex sent through Resend is refused: Resend''s secret decides');
SELECT is(pg_temp.globex(), :'g', 'sendgrid: the refused reports changed nothing');
SELECT is(pg_temp.post('sendgrid spam report, signed by globex') ->> 'signature', 'verified',
		  'sendgrid: the report signed with globex''s key is verified');
SELECT is(pg_temp.run_of('eve'), 'unsubscribed', 'sendgrid: and ends Eve''s run');

--
-- Resend.
--
SELECT pg_temp.globex() AS g \gset
SELECT throws_ok($$SELECT pg_temp.post('resend complaint, unsigned')$$, '28000', NULL,
				 'resend: an unsigned complaint is refused');
SELECT throws_ok($$SELECT pg_temp.post('resend complaint, signed by acme')$$, '28000', NULL,
				 'resend: signed with acme''s secret, refused');
SELECT is(pg_temp.globex(), :'g', 'resend: the refused complaints changed nothing');
SELECT is(pg_temp.post('resend complaint, signed by globex') ->> 'applied', '1',
		  'resend: the complaint signed with globex''s secret applies');
SELECT is(pg_temp.run_of('rob'), 'unsubscribed', 'resend: and ends Rob''s run');
SELECT pg_temp.globex() AS g \gset

--
-- Postmark and SendGrid's Inbound Parse: a shared token.
--
SELECT throws_ok($$SELECT pg_temp.post('postmark reply, no token')$$, '28000', NULL,
				 'postmark: a reply without the token is refused');
SELECT throws_ok($$SELECT pg_temp.post('postmark reply, acme''s token')$$, '28000', NULL,
				 'postmark: a reply with acme''s token is refused');
SELECT throws_ok($$SELECT pg_temp.post('inbound parse reply, no token')$$, '28000', NULL,
				 'sendgrid_inbound: a reply without the token is refused');
SELECT throws_ok($$SELECT pg_temp.post('inbound parse reply, wrong basic auth')$$, '28000', NULL,
				 'sendgrid_inbound: basic auth with acme''s token is refused');
SELECT throws_ok($$SELECT pg_temp.post('postmark reply to a resend message, no token kept')$$, '28000',
				 'the postmark webhook is refused: the account it concerns has no webhook secret, and a caller without a tenant is taken only when a secret checks it',
				 'postmark: a reply to a message whose account keeps no inbound token is refused, saying why');
SELECT is(pg_temp.globex(), :'g', 'postmark, sendgrid_inbound: the refused replies changed nothing');
SELECT is(pg_temp.post('postmark reply, globex''s token') ->> 'applied', '1',
		  'postmark: the token in the URL lets the reply in');
SELECT is(pg_temp.run_of('pia'), 'replied', 'postmark: Pia''s run ends replied');
SELECT is(pg_temp.post('inbound parse reply, globex''s basic auth') ->> 'applied', '1',
		  'sendgrid_inbound: the token as basic auth lets the reply in');
SELECT is(pg_temp.run_of('ian'), 'replied', 'sendgrid_inbound: Ian''s run ends replied');

--
-- Calendly and WhatsApp.
--
SELECT pg_temp.globex() AS g \gset
SELECT throws_ok($$SELECT pg_temp.post('calendly booking, unsigned')$$, '28000', NULL,
				 'calendly: an unsigned booking is refused');
SELECT is(pg_temp.post('calendly booking, signed by acme') -> 'results' -> 0 ->> 'outcome', 'applied',
		  'calendly: a booking signed with acme''s key is taken for acme, where no lead has that address');
SELECT throws_ok($$SELECT pg_temp.post('whatsapp read, unsigned')$$, '28000', NULL,
				 'whatsapp: an unsigned status naming globex''s message is refused');
SELECT throws_ok($$SELECT pg_temp.post('whatsapp read, signed by acme')$$, '28000', NULL,
				 'whatsapp: signed with acme''s app secret (same number id), refused');
SELECT is(pg_temp.globex(), :'g', 'calendly, whatsapp: nothing of globex''s changed');
SELECT is(pg_temp.post('calendly booking, signed by globex') -> 'results' -> 0 -> 'runs' -> 0 ->> 'status',
		  'meeting_booked', 'calendly: signed with globex''s key, Cal''s run ends meeting_booked');
SELECT is(pg_temp.post('whatsapp read, signed by globex') ->> 'signature', 'verified',
		  'whatsapp: signed with globex''s app secret, applied');

--
-- Acme's admin, with acme's tenant: what concerns acme alone.
--
SELECT pg_temp.act_as('cadence_test_app', '{"sub": "mallory", "tenant_id": "acme"}');
SELECT pg_temp.globex() AS g \gset
SELECT is(pg_temp.post('resend complaint, signed by acme') ->> 'applied', '1',
		  'a tenant''s caller posting about globex''s message stays in its own tenant...');
SELECT is(pg_temp.acme_suppressed('rob@lead.test'), 'spam_report', '... where the address goes on its list');
SELECT throws_ok($$SELECT pg_temp.post('sendgrid spam report, unsigned')$$, '28000', NULL,
				 'an unsigned report naming globex''s message is checked against acme''s own SendGrid key: refused');
SELECT is(pg_temp.globex(), :'g', 'and globex is untouched');
SELECT throws_ok($$SELECT pg_temp.post('sendgrid bounce of acme''s own, unsigned')$$, '28000', NULL,
				 'its own message, sent by an account with a secret: unsigned is refused');
SELECT is(pg_temp.post('sendgrid bounce of acme''s smtp message, unsigned') ->> 'signature', 'unsigned',
		  'its own message, sent by an account without a secret: taken unsigned');
SELECT is(pg_temp.post('acme app reply') ->> 'applied', '1', 'it posts its own app events');
SELECT pg_temp.act_as('cadence_test_hook');
SELECT throws_ok($$SELECT pg_temp.post('sendgrid bounce of acme''s smtp message, unsigned')$$, '28000', NULL,
				 'the webhook role, without a tenant, takes nothing unsigned');

--
-- Caps: bytes and events per delivery, refused before anything is read
-- (54000), nothing written; only a superuser sets them.
--
SELECT pg_temp.act_as(NULL);
SET LOCAL cadence.webhook_max_bytes = '2kB';
SELECT pg_temp.act_as('cadence_test_hook');
SELECT pg_temp.globex() AS g \gset
SELECT throws_ok($$SELECT cadence.ingest_webhook('sendgrid', to_jsonb(repeat('x', 3000)))$$, '54000', NULL,
				 'a delivery over cadence.webhook_max_bytes is refused with 54000');
SELECT pg_temp.act_as(NULL);
RESET cadence.webhook_max_bytes;
SET LOCAL cadence.webhook_max_events = 2;
INSERT INTO deliveries (name, provider, payload, headers)
SELECT 'sendgrid batch of three', 'sendgrid', to_jsonb(b), pg_temp.sendgrid_signed('globex', b)
  FROM (SELECT jsonb_agg(e || jsonb_build_object('sg_event_id', 'cap-' || n,
							 'cadence_idempotency_key', cadence.idempotency_key(:rob_mail)))::text AS b
		  FROM jsonb_array_elements(pg_temp.fixture('sendgrid_events')) WITH ORDINALITY AS x(e, n)
		 WHERE e ->> 'event' IN ('delivered', 'open', 'click')) y;
SELECT pg_temp.act_as('cadence_test_hook');
SELECT throws_ok($$SELECT pg_temp.post('sendgrid batch of three')$$, '54000',
				 'this sendgrid webhook has 3 events, more than cadence.webhook_max_events (2)',
				 'a delivery of more events than cadence.webhook_max_events is refused with 54000');
SELECT is(pg_temp.globex(), :'g', 'the deliveries over the caps wrote nothing');
SELECT pg_temp.act_as('cadence_test_app', '{"sub": "mallory", "tenant_id": "acme"}');
SELECT throws_ok($$SET cadence.webhook_max_events = 100000$$, '42501', NULL,
				 'an application role cannot raise the caps');

--
-- The comparison every check ends in.
--
SELECT pg_temp.act_as(NULL);
SELECT ok(cadence.secure_equal('sha256=abc123', 'sha256=abc123'), 'secure_equal: the same string is equal');
SELECT ok(NOT cadence.secure_equal('sha256=abc124', 'sha256=abc123'), 'secure_equal: one character differs');
SELECT ok(NOT cadence.secure_equal('sha256=abc', 'sha256=abc123'), 'secure_equal: a prefix is not equal');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
				   WHERE p.pronamespace = 'cadence'::regnamespace
					 AND p.proname IN ('verify_webhook', 'presented_token')
					 AND p.prosrc ~ '\m(v_sig|v_secret|v_expected)\s*(=|<>)|(<>|[^<>!:]=)\s*(v_sig|v_secret|v_expected)\M'$$,
				'no secret, MAC or token is compared with = or <> in SQL');

SELECT * FROM finish();
ROLLBACK;
