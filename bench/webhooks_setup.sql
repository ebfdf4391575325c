-- The webhook benchmark's fixture: tenant "hooks" with a SendGrid account
-- (each round gives it a key pair to verify signatures with), 20,000 leads
-- in a two-email cadence, and the first e-mail of each sent, with the
-- X-Message-Id SendGrid would have answered.
SET client_min_messages = warning;
SET cadence.notify = off;
SET cadence.tenant_id = 'hooks';
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default)
VALUES ('hooks', 'sendgrid', 'email', 'sendgrid', 'https://api.sendgrid.com', '{"apiKey": "SG.bench"}',
		'{"from": "sales@hooks.test"}', true);
SELECT cadence.upsert_cadence($$
{"id": "mail-2", "name": "Two e-mails", "timezone": "UTC", "isActive": true,
 "days": [
  {"dayNumber": 1, "actions": [{"id": "first", "type": "email", "scheduleRule": {"kind": "immediately"},
     "config": {"email": {"subject": "Hello {{firstName}}", "bodyText": "Hi"}}}]},
  {"dayNumber": 3, "actions": [{"id": "second", "type": "email", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "10:00"},
     "config": {"email": {"subject": "Following up", "bodyText": "Again"}}}]}]}
$$) ->> 'id';
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, timezone)
SELECT 'hooks', 'lead-' || g, 'Lead' || g, 'lead' || g || '@example.com', 'UTC'
  FROM generate_series(1, 20000) g;
SELECT count(*) FROM cadence.plan_runs('mail-2',
	ARRAY(SELECT id FROM cadence.contacts WHERE tenant_id = 'hooks' ORDER BY id), now() - interval '1 hour');
UPDATE cadence.scheduled_actions
   SET status = 'sent', sent_at = due_at, provider_id = 'sendgrid',
	   provider_message_id = 'sg' || lpad(id::text, 20, '0')
 WHERE tenant_id = 'hooks' AND step_number = 1;
VACUUM ANALYZE cadence.scheduled_actions;
VACUUM ANALYZE cadence.runs;
VACUUM ANALYZE cadence.contacts;

-- The events SendGrid would post about the first n e-mails, one each, in
-- the shape of its documented examples: mostly delivered and opens, one
-- in twenty a bounce, one in twenty a spam report (both end the run).
CREATE FUNCTION bench_batch(n int) RETURNS text LANGUAGE sql AS $$
	SELECT jsonb_agg(jsonb_build_object(
		'email', c.email, 'timestamp', 1513299569, 'smtp-id', '<' || a.provider_message_id || '@ismtpd-555>',
		'event', CASE k WHEN 0 THEN 'bounce' WHEN 1 THEN 'spamreport' WHEN 2 THEN 'click'
						ELSE CASE WHEN k < 8 THEN 'open' ELSE 'delivered' END END,
		'category', 'cat facts', 'sg_event_id', md5('event' || a.id),
		'sg_message_id', a.provider_message_id || '.filter0001.16648.5515E0B88.0',
		'useragent', 'Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)',
		'ip', '255.255.255.255')
		|| CASE k WHEN 0 THEN '{"reason": "500 unknown recipient", "status": "5.0.0", "type": "bounce"}'::jsonb
				  ELSE '{}' END
		ORDER BY a.id)::text
	  FROM (SELECT a.*, (a.id % 20)::int AS k FROM cadence.scheduled_actions a
			 WHERE a.tenant_id = 'hooks' AND a.step_number = 1 ORDER BY a.id LIMIT n) a
	  JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
	  JOIN cadence.contacts c ON c.tenant_id = r.tenant_id AND c.id = r.lead_id
$$;
-- A Twilio incoming message whose Body is about mb megabytes of
-- URL-encoded text (a mix of words, '+' for spaces and %XX escapes), as
-- the raw form body.
CREATE FUNCTION bench_twilio_form(mb int) RETURNS text LANGUAGE sql AS $$
	SELECT 'ToCountry=US&SmsMessageSid=SM0000000000000000000000000000bench&NumMedia=0'
		|| '&SmsSid=SM0000000000000000000000000000bench&SmsStatus=received'
		|| '&To=%2B15550000000&MessageSid=SM0000000000000000000000000000bench'
		|| '&AccountSid=AC00000000000000000000000000000001&From=%2B15550000001&ApiVersion=2010-04-01'
		|| '&Body=' || repeat('Hello+there%2C+caf%C3%A9+%26+more%21+', mb * 1024 * 1024 / 36)
$$;
