-- What a message may hold.  A line break in an e-mail's addresses, names
-- or subject would end an SMTP command or a mail header and start one of
-- someone else's choosing: refused when the cadence is saved if it is
-- written there, refused before any connection when it comes from a lead
-- or a template.  A header value of any request (a credential pasted with
-- its newline) likewise.  And rendered text has a cap, enforced while
-- rendering: a template that repeats a large attribute fails its action at
-- once instead of taking the runner's memory.
\set ON_ERROR_STOP 1
\set QUIET 1
\i test/helpers/mock.sql
\i test/helpers/steps.sql
SELECT pg_temp.mock_post('/_mock/reset');
SELECT plan(25);

INSERT INTO cadence.members (tenant_id, user_id, role) VALUES ('limits', 'lin', 'owner');
SET cadence.tenant_id = 'limits';
SET cadence.user_id = 'lin';
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default) VALUES
	('limits', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
	 '{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "tw-secret"}',
	 '{"from": "+15005550006"}', true),
	('limits', 'smtp', 'email', 'smtp', 'smtp://127.0.0.1:18026', '{}',
	 '{"from": "sales@acme.test", "fromName": "Acme"}', true),
	('limits', 'resend', 'email', 'resend', 'http://127.0.0.1:18025',
	 '{"apiKey": "re_secret"}', '{"from": "sales@acme.test"}', false),
	('limits', 'pasted', 'email', 'resend', 'http://127.0.0.1:18025',
	 E'{"apiKey": "re_secret\\r\\nX-Injected: yes"}', '{"from": "sales@acme.test"}', false),
	('limits', 'hooks', 'webhook', 'webhook', 'http://unused.invalid',
	 '{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}', '{}', true),
	('limits', 'claude', 'ai', 'anthropic', 'http://127.0.0.1:18025',
	 '{"apiKey": "sk-ant-secret"}', '{}', true);
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, timezone, attributes) VALUES
	('limits', 'ana', 'Ana', 'ana@x.test', '+14155550401', 'UTC',
	 E'{"topic": "Q3\\r\\nBcc: eve@x.test"}'),
	('limits', 'ben', 'Ben', E'ben@x.test>\r\nRCPT TO:<eve@x.test', '+14155550402', 'UTC', '{}'),
	('limits', 'cy', 'Cy', 'cy@x.test', '+14155550403', 'UTC', '{}'),
	('limits', 'dee', E'Dee\nReply-To: eve@x.test', 'dee@x.test', '+14155550404', 'UTC', '{}');
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, timezone, attributes)
SELECT 'limits', 'big-' || g, 'Big', 'big' || g || '@x.test', '+1415555050' || g, 'UTC',
	   jsonb_build_object('big', repeat('x', 1024 * 1024))
  FROM generate_series(1, 6) g;

--
-- Written into the cadence or the account: refused when saved.
--
SELECT throws_ok(format('SELECT cadence.upsert_cadence(%L)', pg_temp.one_step_body('crlf-subject',
		jsonb_build_object('type', 'email', 'config', jsonb_build_object('email',
			jsonb_build_object('subject', E'Hi\r\nBcc: eve@x.test', 'bodyText', 'Hi'))))),
		'22023', 'invalid days[0].actions[0].config.email.subject: "Hi\r\nBcc: eve@x.test"',
		'a subject with a line break is refused when the cadence is saved');
SELECT throws_ok(format('SELECT cadence.upsert_cadence(%L)', pg_temp.one_step_body('crlf-from',
		jsonb_build_object('type', 'email', 'config', jsonb_build_object('email',
			jsonb_build_object('subject', 'Hi', 'bodyText', 'Hi', 'from', E'a@x.test\nRCPT TO:<eve@x.test>'))))),
		'22023', NULL, 'so is a sender address');
SELECT throws_ok(format('SELECT cadence.upsert_cadence(%L)', pg_temp.one_step_body('crlf-name',
		'{"type": "sms", "config": {"sms": {"body": "Hi"}}}', jsonb_build_object('fromName', E'Acme\r\nX: y'))),
		'22023', NULL, 'and the cadence''s sender name');
SELECT throws_ok(format('SELECT cadence.upsert_cadence(%L)', pg_temp.one_step_body('crlf-variant',
		jsonb_build_object('type', 'email', 'config', '{"email": {"subject": "Hi", "bodyText": "Hi"}}'::jsonb,
			'variants', jsonb_build_array(jsonb_build_object('id', 'A'),
				jsonb_build_object('id', 'B', 'email', jsonb_build_object('subject', E'B\r\nBcc: eve@x.test')))))),
		'22023', NULL, 'and an A/B variant''s subject');
SELECT throws_ok($$INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, settings)
				   VALUES ('limits', 'bad', 'email', 'smtp', 'smtp://mail.x.test', E'{"from": "a@x.test\\r\\nX: y"}')$$,
				 '23514', NULL, 'and an account''s sender');

--
-- From a lead, a template or a credential: the action fails before any
-- connection.
--
SELECT pg_temp.one_step('crlf-lead', '{"type": "email", "config": {"email": {"subject": "About {{attributes.topic|us}}", "bodyText": "Hi"}}}',
					ARRAY['ana', 'ben', 'dee']);
SELECT pg_temp.one_step('crlf-http', '{"type": "email", "config": {"providerId": "resend", "email": {"subject": "About {{attributes.topic|us}}", "bodyText": "Hi"}}}',
					ARRAY['ana']);
SELECT pg_temp.one_step('crlf-key', '{"type": "email", "config": {"providerId": "pasted", "email": {"subject": "Hello", "bodyText": "Hi"}}}',
					ARRAY['cy']);
SELECT is(pg_temp.run() ->> 'failed', '5', 'five e-mails fail');
SELECT is(pg_temp.outcomes('crlf-lead'), ARRAY[
	'failed/1: the e-mail''s subject "About Q3  Bcc: eve@x.test" holds a line break or another control character',
	'failed/1: the e-mail''s recipient address "ben@x.test>  RCPT TO:<eve@x.test" holds a line break or another control character',
	'failed/1: the e-mail''s recipient name "Dee Reply-To: eve@x.test" holds a line break or another control character'],
	'a lead''s attribute in the subject, a lead''s address, a lead''s name: refused for SMTP');
SELECT is(pg_temp.outcomes('crlf-http'), ARRAY[
	'failed/1: the e-mail''s subject "About Q3  Bcc: eve@x.test" holds a line break or another control character'],
	'and for an HTTP provider alike');
SELECT is(pg_temp.outcomes('crlf-key'), ARRAY[
	'failed/1: the Authorization header of a request to 127.0.0.1 would carry a control character'],
	'a credential with a line break fails its action, naming the header, never the value');
SELECT is((SELECT count(*) FROM pg_temp.mock_requests('smtp,resend')), 0::bigint,
		  'nothing reached the SMTP server or the provider');

--
-- Caps on rendered text.
--
SELECT is(char_length(cadence.render_template(repeat('x', 262144))), 262144,
		  'render_template renders up to 262,144 characters');
SELECT throws_ok($$SELECT cadence.render_template(repeat('x', 262145))$$, '54000',
				 'the template renders to more than 262144 characters', 'and no more');
SELECT throws_ok($$SELECT cadence.render_template(repeat('{{big}} ', 300),
												  jsonb_build_object('big', repeat('x', 1024 * 1024)))$$,
				 '54000', NULL, 'a 1 MB variable 300 times is refused (54000), not rendered');

SELECT pg_temp.one_step('sms-1600', jsonb_build_object('type', 'sms', 'config',
		jsonb_build_object('sms', jsonb_build_object('body', repeat('é', 1600)))), ARRAY['cy']);
SELECT pg_temp.one_step('sms-1601', jsonb_build_object('type', 'sms', 'config',
		jsonb_build_object('sms', jsonb_build_object('body', repeat('x', 1599) || '{{firstName}}'))), ARRAY['cy']);
SELECT pg_temp.one_step('big-sms', jsonb_build_object('type', 'sms', 'config',
		jsonb_build_object('sms', jsonb_build_object('body', repeat('{{attributes.big}}', 300)))),
		ARRAY['big-1', 'big-2', 'big-3', 'big-4', 'big-5', 'big-6']);
SELECT pg_temp.one_step('long-subject', jsonb_build_object('type', 'email', 'config',
		jsonb_build_object('email', jsonb_build_object('subject', repeat('s', 997) || '{{firstName}}',
													   'bodyText', 'Hi'))), ARRAY['cy']);
SELECT pg_temp.one_step('big-hook', jsonb_build_object('type', 'webhook', 'config',
		jsonb_build_object('webhook', jsonb_build_object('url', 'http://127.0.0.1:18025/hooks/big',
			'payload', jsonb_build_object('note', repeat('{{attributes.big}}', 300))))), ARRAY['big-1']);
SELECT pg_temp.one_step('big-task', jsonb_build_object('type', 'manual_task', 'config',
		jsonb_build_object('task', jsonb_build_object('title', 'Research {{firstName}}',
			'description', repeat('{{attributes.big}}', 300)))), ARRAY['big-2']);
SELECT pg_temp.one_step('ai-long', jsonb_build_object('type', 'sms', 'config',
		jsonb_build_object('aiPersonalization', true,
			'sms', jsonb_build_object('body', repeat('y', 1590)))), ARRAY['cy']);
SELECT is(pg_temp.run() - 'claimed' - 'resumed' - 'retried' - 'moved' - 'executed' - 'skipped',
		  '{"sent": 2, "failed": 9, "pendingManual": 1}',
		  'two SMS sent, nine messages over their caps failed, one task');

SELECT is(pg_temp.outcomes('sms-1600'), ARRAY['sent/1: -'], 'an SMS of 1,600 characters (3,200 bytes) is sent');
SELECT is(pg_temp.outcomes('sms-1601'),
		  ARRAY['failed/1: the rendered sms body would be longer than 1600 characters'],
		  'one of 1,601 is not');
SELECT is(pg_temp.outcomes('big-sms'), array_fill(
		  'failed/1: the rendered sms body would be longer than 1600 characters'::text, ARRAY[6]),
		  'six leads with a 1 MB attribute repeated 300 times: each fails at once');
SELECT is(pg_temp.outcomes('long-subject'),
		  ARRAY['failed/1: the rendered email subject would be longer than 998 characters'],
		  'an e-mail subject longer than a header line fails');
SELECT is(pg_temp.outcomes('big-hook'),
		  ARRAY['failed/1: the rendered webhook payload would be longer than 262144 characters'],
		  'a webhook payload past the general cap fails');
SELECT is((SELECT count(*) FROM pg_temp.mock_requests('twilio,webhook')), 2::bigint,
		  'only the two SMS within their caps reached the provider');
SELECT is((SELECT description FROM cadence.tasks t JOIN cadence.runs r ON r.id = t.run_id
			WHERE r.tenant_id = 'limits' AND r.cadence_id = 'big-task'),
		  repeat('{{attributes.big}}', 300),
		  'a task text past the cap is kept as written');
SELECT is((SELECT title FROM cadence.tasks t JOIN cadence.runs r ON r.id = t.run_id
			WHERE r.tenant_id = 'limits' AND r.cadence_id = 'big-task'),
		  'Research Big', 'its title is filled in as usual');
SELECT is((SELECT a.status || ': ' || (a.rendered ->> 'aiError') || ', ' || char_length(a.rendered ->> 'text')
			 FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
			WHERE r.tenant_id = 'limits' AND r.cadence_id = 'ai-long'),
		  'sent: the answer is longer than 1600 characters, 1590',
		  'an AI answer past the SMS cap is not used: the plain text goes out');
SELECT cmp_ok((SELECT max(octet_length(last_error)) FROM cadence.scheduled_actions WHERE tenant_id = 'limits'),
			  '<', 1000, 'no error text is long');
SELECT is((SELECT count(*) FROM cadence.events e WHERE e.tenant_id = 'limits' AND e.type = 'action.failed'),
		  14::bigint, 'every failure is in the audit log');

SELECT pg_temp.mock_post('/_mock/reset');
SELECT * FROM finish();
