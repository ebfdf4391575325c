-- Sending through each provider's real wire format.  A step is planned,
-- cadence.run_due_actions() sends what is due (the pg_cron path; the
-- background worker runs the same code), and the mock provider shows the
-- request it received.  Provider message ids are random, so they are shown
-- as "the id the provider answered with was kept".
SET timezone = 'UTC';
-- (Each pass of the runner is limited to this file's tenant, its third
-- argument, so that other test files' runs are left alone.)
\set ECHO none
\i test/helpers/mock.sql
\set ECHO all
SELECT pg_temp.mock_post('/_mock/reset');
SELECT pg_temp.mock_post('/_mock/webhook-secret',
	'{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "toleranceSeconds": 0}');

INSERT INTO cadence.members (tenant_id, user_id, role) VALUES ('wire', 'wes', 'owner');
SET cadence.tenant_id = 'wire';
SET cadence.user_id = 'wes';

-- One account per provider, all pointed at the mock.  The first of each
-- channel is the default; a step names another with config.providerId.
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default) VALUES
	('wire', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
	 '{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "tw-secret"}',
	 '{"from": "+15005550006"}', true),
	('wire', 'resend', 'email', 'resend', 'http://127.0.0.1:18025',
	 '{"apiKey": "re_secret"}', '{"from": "sales@acme.test", "fromName": "Acme Sales"}', true),
	('wire', 'sendgrid', 'email', 'sendgrid', 'http://127.0.0.1:18025',
	 '{"apiKey": "SG.secret"}', '{"from": "sales@acme.test", "fromName": "Acme Sales"}', false),
	('wire', 'postmark', 'email', 'postmark', 'http://127.0.0.1:18025',
	 '{"serverToken": "pm-secret"}', '{"from": "sales@acme.test", "messageStream": "outreach"}', false),
	('wire', 'smtp', 'email', 'smtp', 'smtp://127.0.0.1:18026',
	 '{"username": "mailer", "password": "smtp-secret"}', '{"from": "sales@acme.test", "fromName": "Acme Sales"}', false),
	('wire', 'whatsapp', 'whatsapp', 'whatsapp_cloud', 'http://127.0.0.1:18025',
	 '{"accessToken": "wa-secret"}', '{"phoneNumberId": "1055512345", "apiVersion": "v21.0"}', true),
	('wire', 'hooks', 'webhook', 'webhook', 'http://127.0.0.1:18025',
	 '{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}', '{}', true),
	('wire', 'claude', 'ai', 'anthropic', 'http://127.0.0.1:18025',
	 '{"apiKey": "sk-ant-secret"}', '{"model": "claude-sonnet-4-5", "maxTokens": 300}', true);

INSERT INTO cadence.contacts (tenant_id, id, first_name, last_name, email, phone, whatsapp, company, timezone) VALUES
	('wire', 'ana', 'Ana', 'Lima', 'ana@lima.test', '+14155550101', '+5511987650101', 'Lima & Co', 'America/New_York');

-- send(cadence, step): a one-step cadence, Ana enrolled at noon New York
-- time and committed (the runner works in transactions of its own), then
-- one runner pass; shows what the runner reports.
CREATE PROCEDURE pg_temp.send(id text, step jsonb, INOUT send jsonb DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM cadence.upsert_cadence(jsonb_build_object('id', id, 'name', id,
		'timezone', 'America/New_York', 'isActive', true,
		'days', jsonb_build_array(jsonb_build_object('dayNumber', 1,
			'actions', jsonb_build_array(step || '{"scheduleRule": {"kind": "immediately"}}')))));
	PERFORM cadence.plan_run_for_lead(id, 'ana', '2026-03-10 16:00Z');
	COMMIT;
	send := cadence.run_due_actions(10, '2026-03-10 16:00Z', 'wire');
END
$$;
-- The scheduled action of a cadence's run, with its idempotency key.
CREATE FUNCTION pg_temp.action_of(cid text) RETURNS cadence.scheduled_actions LANGUAGE sql AS $$
	SELECT a.* FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
	 WHERE r.tenant_id = 'wire' AND r.cadence_id = cid ORDER BY a.id DESC LIMIT 1
$$;
-- Does the mock's record carry this action's idempotency key and did its
-- answer's id become the action's provider_message_id?
-- The Message-ID every e-mail carries, which replies name: <key@sender's host>.
CREATE FUNCTION pg_temp.message_id_ok(id text, r jsonb) RETURNS boolean LANGUAGE sql AS $$
	SELECT id = '<' || (r ->> 'idempotencyKey') || '@acme.test>'
$$;
CREATE FUNCTION pg_temp.matches(r jsonb, a cadence.scheduled_actions) RETURNS text LANGUAGE sql AS $$
	SELECT format('key %s, id %s',
		CASE WHEN r ->> 'idempotencyKey' ~ ('^cadence-[0-9a-f]{16}-' || a.id || '$') THEN 'cadence-<installation>-' || 'id' ELSE 'WRONG ' || (r ->> 'idempotencyKey') END,
		CASE WHEN a.provider_message_id = r ->> 'providerId' THEN 'kept' ELSE 'WRONG' END)
$$;

--
-- SMS: Twilio Messages API, form-encoded, HTTP Basic auth with the account
-- SID and auth token; the answer's "sid" is the message id.
--
CALL pg_temp.send('sms', '{"type": "sms", "config": {"sms": {"body": "Hi {{firstName}}, quick question about {{company}}?"}}}');
SELECT r ->> 'method' AS method, r ->> 'path' AS path, r ->> 'status' AS status,
	   r -> 'headers' ->> 'authorization' = 'Basic ' || encode('AC0123456789abcdef0123456789abcdef:tw-secret', 'base64') AS basic_auth,
	   r -> 'headers' ->> 'content-type' AS content_type, r -> 'form' AS form,
	   pg_temp.matches(r, pg_temp.action_of('sms')) AS action
  FROM pg_temp.mock_requests('twilio') AS r;

--
-- Email: Resend (JSON, bearer token, Idempotency-Key header).  Values are
-- HTML-escaped in the HTML body, not in the subject.  Every e-mail names
-- its Message-ID.
--
CALL pg_temp.send('email-resend', '{"type": "email", "config": {"email": {"subject": "{{company}} + Acme", "bodyHtml": "<p>Hi {{firstName}}, about {{company}}</p>", "bodyText": "Hi {{firstName}}"}}}');
SELECT r ->> 'path' AS path, r ->> 'status' AS status,
	   r -> 'headers' ->> 'authorization' AS authorization,
	   r -> 'headers' ->> 'idempotency-key' = r ->> 'idempotencyKey' AS idempotency_header,
	   jsonb_pretty((r -> 'json') - 'headers') AS body,
	   pg_temp.message_id_ok(r -> 'json' -> 'headers' ->> 'Message-ID', r) AS message_id,
	   pg_temp.matches(r, pg_temp.action_of('email-resend')) AS action
  FROM pg_temp.mock_requests('resend') AS r;

-- SendGrid v3 mail/send: 202 with no body; the id comes from X-Message-Id.
CALL pg_temp.send('email-sendgrid', '{"type": "email", "config": {"providerId": "sendgrid", "email": {"subject": "Hello {{firstName}}", "bodyHtml": "<p>Hi</p>", "bodyText": "Hi"}}}');
SELECT r ->> 'path' AS path, r ->> 'status' AS status,
	   r -> 'headers' ->> 'authorization' AS authorization,
	   jsonb_pretty((r -> 'json') - 'custom_args' - 'headers') AS body,
	   r -> 'json' -> 'custom_args' ->> 'cadence_idempotency_key' = r ->> 'idempotencyKey' AS key_in_custom_args,
	   pg_temp.message_id_ok(r -> 'json' -> 'headers' ->> 'Message-ID', r) AS message_id,
	   pg_temp.matches(r, pg_temp.action_of('email-sendgrid')) AS action
  FROM pg_temp.mock_requests('sendgrid') AS r;

-- Postmark: X-Postmark-Server-Token, the account's message stream.
CALL pg_temp.send('email-postmark', '{"type": "email", "config": {"providerId": "postmark", "email": {"subject": "Hello {{firstName}}", "bodyText": "Hi {{firstName}}"}}}');
SELECT r ->> 'path' AS path, r ->> 'status' AS status,
	   r -> 'headers' ->> 'x-postmark-server-token' AS token_header,
	   jsonb_pretty((r -> 'json') - 'Headers') AS body,
	   r -> 'json' -> 'Headers' -> 0 ->> 'Value' ~ '^cadence-' AS key_header,
	   pg_temp.message_id_ok(r -> 'json' -> 'Headers' -> 1 ->> 'Value', r) AS message_id,
	   CASE WHEN (pg_temp.action_of('email-postmark')).provider_message_id = r ->> 'providerId' THEN 'kept' END AS id
  FROM pg_temp.mock_requests('postmark') AS r;

-- SMTP for self-hosted mail: a MIME message with text and HTML parts, the
-- idempotency key in its Message-ID, which becomes the message id.
CALL pg_temp.send('email-smtp', '{"type": "email", "config": {"providerId": "smtp", "email": {"subject": "Olá {{firstName}}", "bodyHtml": "<p>Hi {{firstName}}</p>", "bodyText": "Hi {{firstName}}"}}}');
SELECT r ->> 'mailFrom' AS mail_from, r -> 'rcptTo' AS rcpt_to, r ->> 'auth' AS auth_user,
	   r -> 'headers' ->> 'from' AS "from", r -> 'headers' ->> 'to' AS "to",
	   r -> 'headers' ->> 'subject' AS subject,
	   r -> 'headers' ->> 'content-type' ~ '^multipart/alternative' AS multipart,
	   r -> 'headers' ->> 'message-id' = '<' || (pg_temp.action_of('email-smtp')).provider_message_id || '>' AS message_id_kept,
	   (pg_temp.action_of('email-smtp')).provider_message_id ~ '^cadence-[0-9a-f]{16}-[0-9]+@acme.test$' AS message_id_is_key
  FROM pg_temp.mock_requests('smtp') AS r;

--
-- WhatsApp Cloud API: a text message, then an approved template with a
-- rendered parameter.  The answer's messages[0].id (wamid.) is the id.
--
CALL pg_temp.send('wa-text', '{"type": "whatsapp", "config": {"whatsapp": {"body": "Olá {{firstName}}!"}}}');
CALL pg_temp.send('wa-template', '{"type": "whatsapp", "config": {"whatsapp": {"template": {"name": "intro_v2", "language": {"code": "pt_BR"}, "components": [{"type": "body", "parameters": [{"type": "text", "text": "{{firstName}}"}]}]}}}}');
SELECT r ->> 'path' AS path, r ->> 'status' AS status,
	   r -> 'headers' ->> 'authorization' AS authorization, r -> 'json' AS body,
	   r ->> 'providerId' ~ '^wamid\.' AS wamid
  FROM pg_temp.mock_requests('whatsapp') AS r ORDER BY (r ->> 'seq')::int;
SELECT a.step_number, a.provider_message_id ~ '^wamid\.' AS kept_wamid
  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
 WHERE r.tenant_id = 'wire' AND r.cadence_id IN ('wa-text', 'wa-template') ORDER BY a.id;

--
-- Webhook: Standard Webhooks headers; the mock checks the signature with
-- the shared secret.  The body wraps the step's rendered payload.
--
CALL pg_temp.send('hook', '{"type": "webhook", "config": {"webhook": {"url": "http://127.0.0.1:18025/hooks/crm", "payload": {"event": "sequence.step", "greeting": "Hi {{firstName}}"}}}}');
SELECT r ->> 'path' AS path, r ->> 'status' AS status, r ->> 'signatureValid' AS signature_valid,
	   r -> 'headers' ->> 'webhook-id' = r ->> 'idempotencyKey' AS id_is_key,
	   r -> 'headers' ->> 'webhook-signature' ~ '^v1,[A-Za-z0-9+/]{43}=$' AS signature_format,
	   r -> 'json' ->> 'type' AS type, r -> 'json' -> 'data' -> 'payload' AS payload,
	   r -> 'json' -> 'data' ->> 'leadId' AS lead
  FROM pg_temp.mock_requests('webhook') AS r;

--
-- AI personalization: the rendered draft goes to the Anthropic Messages
-- API and its answer is what the lead receives.  The mock answers
-- "[personalized] " followed by the draft.
--
CALL pg_temp.send('ai', '{"type": "sms", "config": {"aiPersonalization": {"prompt": "Mention their company."}, "sms": {"body": "Hi {{firstName}}, got a minute?"}}}');
SELECT r ->> 'path' AS path, r -> 'headers' ->> 'x-api-key' AS api_key,
	   r -> 'headers' ->> 'anthropic-version' AS version, r -> 'json' ->> 'model' AS model,
	   r -> 'json' -> 'max_tokens' AS max_tokens, r -> 'json' -> 'messages' AS messages,
	   r -> 'json' ->> 'system' LIKE 'Mention their company.%"company": "Lima & Co"%' AS system_has_lead
  FROM pg_temp.mock_requests('anthropic') AS r;
SELECT r -> 'form' ->> 'Body' AS sms_sent FROM pg_temp.mock_requests('twilio') AS r ORDER BY (r ->> 'seq')::int DESC LIMIT 1;
-- When the AI fails, the plain template goes out and the action says why.
SELECT pg_temp.mock_post('/_mock/fail', '{"kind": "anthropic", "mode": "529", "times": 1}');
CALL pg_temp.send('ai-down', '{"type": "sms", "config": {"aiPersonalization": true, "sms": {"body": "Hi {{firstName}}, got a minute?"}}}');
SELECT status, rendered ->> 'text' AS text_sent, rendered ->> 'aiError' AS ai_error
  FROM pg_temp.action_of('ai-down');

--
-- What the runs and the audit log say, and what they never say.
--
SELECT r.cadence_id, a.status, a.attempts, r.status AS run_status
  FROM cadence.runs r JOIN cadence.scheduled_actions a ON a.run_id = r.id
 WHERE r.tenant_id = 'wire' ORDER BY a.id;
SELECT type, count(*) FROM cadence.events WHERE tenant_id = 'wire' GROUP BY type ORDER BY type;
-- No secret of any account appears in an action, an event or a task.
SELECT count(*) AS rows_with_secrets
  FROM (SELECT rendered::text AS t FROM cadence.scheduled_actions
		UNION ALL SELECT payload::text FROM cadence.events
		UNION ALL SELECT last_error FROM cadence.scheduled_actions) x
 WHERE t ~ '(tw-secret|re_secret|SG\.secret|pm-secret|smtp-secret|wa-secret|sk-ant-secret|MfKQ9r8GKYqr)';
