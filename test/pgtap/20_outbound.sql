-- Where provider requests may go, and what is kept of their answers.
--
-- Out of the box (the setting's boot value) nothing is sent to loopback,
-- private, link-local, CGNAT or other non-public addresses: the address
-- libcurl resolved is checked as the socket is opened, so every spelling of
-- an internal host is refused alike, before any connection, with one
-- reason whatever listens there.  This cluster has
-- cadence.allow_private_networks on (the mock provider is on 127.0.0.1);
-- the runner's session turns it off where the default is under test.
-- test/plain/10_private_networks.sh shows the same with a raw listener on a
-- cluster left at its defaults.
\set ON_ERROR_STOP 1
\set QUIET 1
\i test/helpers/mock.sql
\i test/helpers/steps.sql
SELECT pg_temp.mock_post('/_mock/reset');
SELECT plan(77);

--
-- The ranges, as cadence.address_scope() tells them.
--
SELECT is(cadence.address_scope(a::inet), s, format('%s is %s', a, s))
  FROM (VALUES
	('127.0.0.1', 'loopback'), ('127.255.255.254', 'loopback'),
	('10.1.2.3', 'private'), ('172.16.0.1', 'private'), ('172.31.255.255', 'private'),
	('172.32.0.1', 'public'), ('192.168.1.1', 'private'),
	('169.254.169.254', 'link_local'), ('100.64.0.1', 'cgnat'),
	('100.100.100.200', 'cgnat'), ('100.128.0.1', 'public'),
	('0.0.0.0', 'unspecified'), ('255.255.255.255', 'broadcast'),
	('224.0.0.251', 'multicast'), ('240.0.0.1', 'reserved'),
	('192.0.0.192', 'reserved'), ('192.0.2.10', 'documentation'),
	('198.18.0.1', 'benchmarking'), ('8.8.8.8', 'public'), ('1.1.1.1', 'public'),
	('::1', 'loopback'), ('::', 'unspecified'),
	('fc00::1', 'private'), ('fd00:ec2::254', 'private'), ('fe80::1', 'link_local'),
	('fec0::1', 'private'), ('ff02::1', 'multicast'),
	('::ffff:127.0.0.1', 'loopback'), ('::ffff:169.254.169.254', 'link_local'),
	('::ffff:10.0.0.1', 'private'), ('::ffff:8.8.8.8', 'public'),
	('::ffff:0:10.0.0.1', 'private'), ('::127.0.0.1', 'reserved'),
	('64:ff9b::10.0.0.1', 'private'), ('64:ff9b::169.254.169.254', 'link_local'),
	('64:ff9b::8.8.8.8', 'public'), ('64:ff9b:1::1', 'private'),
	('2002:7f00:1::1', 'loopback'), ('2002:808:808::1', 'public'),
	('2001:db8::1', 'documentation'), ('2001::1', 'reserved'), ('100::1', 'reserved'),
	('2606:4700:4700::1111', 'public'), ('2a00:1450:4001:81c::200e', 'public')
  ) AS t(a, s);

--
-- The setting: off out of the box, and only a superuser (or a role the
-- DBA granted SET on it) changes it.
--
SELECT is((SELECT boot_val FROM pg_settings WHERE name = 'cadence.allow_private_networks'),
		  'off', 'out of the box, requests to private networks are off');
SELECT is((SELECT context FROM pg_settings WHERE name = 'cadence.allow_private_networks'),
		  'superuser', 'the setting is for superusers');
CREATE ROLE cadence_test_outbound NOLOGIN;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pg_temp TO cadence_test_outbound;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA pg_temp TO cadence_test_outbound;
SET ROLE cadence_test_outbound;
SELECT throws_ok($$SET cadence.allow_private_networks = on$$, '42501', NULL,
				 'an application role cannot turn it on');
RESET ROLE;
DROP OWNED BY cadence_test_outbound;
DROP ROLE cadence_test_outbound;

INSERT INTO cadence.members (tenant_id, user_id, role) VALUES ('outbound', 'olga', 'owner');
SET cadence.tenant_id = 'outbound';
SET cadence.user_id = 'olga';
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, timezone)
VALUES ('outbound', 'lea', 'Lea', 'lea@x.test', '+14155550123', 'UTC');
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default) VALUES
	('outbound', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
	 '{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "tw-secret"}',
	 '{"from": "+15005550006"}', true),
	('outbound', 'smtp', 'email', 'smtp', 'smtp://127.0.0.1:18026', '{}',
	 '{"from": "sales@acme.test"}', true),
	('outbound', 'hooks', 'webhook', 'webhook', 'http://unused.invalid',
	 '{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}', '{}', true),
	('outbound', 'claude', 'ai', 'anthropic', 'http://127.0.0.1:18025',
	 '{"apiKey": "sk-ant-secret"}', '{}', true);

CREATE FUNCTION pg_temp.hook(id text, url text) RETURNS void LANGUAGE sql AS $$
	SELECT pg_temp.one_step(id, jsonb_build_object('type', 'webhook',
		'config', jsonb_build_object('webhook', jsonb_build_object('url', url))), ARRAY['lea'])
$$;
-- The outcome of a cadence's one action.
CREATE FUNCTION pg_temp.outcome(cid text) RETURNS text LANGUAGE sql AS $$
	SELECT (pg_temp.outcomes(cid))[1]
$$;

--
-- With the setting off: an internal "metadata" URL in every spelling, the
-- mock's open port and a closed one alike, and the provider accounts that
-- point at loopback.
--
SELECT pg_temp.hook('open-port', 'http://127.0.0.1:18025/hooks/latest/meta-data/');
SELECT pg_temp.hook('closed-port', 'http://127.0.0.1:1/latest/meta-data/');
SELECT pg_temp.hook('localhost', 'http://localhost:18025/hooks/latest/meta-data/');
SELECT pg_temp.hook('decimal', 'http://2130706433:18025/hooks/latest/meta-data/');
SELECT pg_temp.hook('zeros', 'http://0.0.0.0:18025/hooks/latest/meta-data/');
SELECT pg_temp.hook('ipv6', 'http://[::1]:18025/hooks/latest/meta-data/');
SELECT pg_temp.hook('mapped', 'http://[::ffff:127.0.0.1]:18025/hooks/latest/meta-data/');
SELECT pg_temp.hook('metadata', 'http://169.254.169.254/latest/meta-data/');
SELECT pg_temp.hook('rfc1918', 'http://10.255.255.1/latest/meta-data/');
SELECT pg_temp.one_step('sms', '{"type": "sms", "config": {"sms": {"body": "Hi {{firstName}}"}}}', ARRAY['lea']);
SELECT pg_temp.one_step('smtp', '{"type": "email", "config": {"email": {"subject": "Hi", "bodyText": "Hi {{firstName}}"}}}', ARRAY['lea']);
SELECT pg_temp.one_step('ai', '{"type": "sms", "config": {"aiPersonalization": true, "sms": {"body": "Hi {{firstName}}"}}}', ARRAY['lea']);

SET cadence.allow_private_networks = off;
SELECT is(pg_temp.run() ->> 'failed', '12', 'with the setting off, every request to loopback or private fails');
RESET cadence.allow_private_networks;

SELECT is(pg_temp.outcome(c),
		  'failed/1: the request was not sent: its host resolves to a non-public address (loopback) and cadence.allow_private_networks is off',
		  c || ': refused for good, at the first attempt, with the same reason')
  FROM unnest(ARRAY['open-port', 'closed-port', 'localhost', 'decimal', 'ipv6', 'mapped',
					'sms', 'smtp', 'ai']) AS c;
SELECT is(pg_temp.outcome('zeros'),
		  'failed/1: the request was not sent: its host resolves to a non-public address (unspecified) and cadence.allow_private_networks is off',
		  '0.0.0.0 (which Linux connects to this machine) is refused');
SELECT is(pg_temp.outcome('metadata'),
		  'failed/1: the request was not sent: its host resolves to a non-public address (link_local) and cadence.allow_private_networks is off',
		  'the cloud metadata address is refused at once, not after a connect timeout');
SELECT is(pg_temp.outcome('rfc1918'),
		  'failed/1: the request was not sent: its host resolves to a non-public address (private) and cadence.allow_private_networks is off',
		  'an RFC 1918 address is refused');
SELECT is((SELECT rendered ->> 'aiError' FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
			WHERE r.tenant_id = 'outbound' AND r.cadence_id = 'ai'),
		  'no answer: the request was not sent: its host resolves to a non-public address (loopback) and cadence.allow_private_networks is off',
		  'the AI account on loopback is refused too');
SELECT is((SELECT count(*) FROM pg_temp.mock_requests()), 0::bigint,
		  'the mock provider on loopback received no request at all');
SELECT is((SELECT count(*) FROM cadence.events e JOIN cadence.runs r ON r.id = e.run_id
			WHERE r.tenant_id = 'outbound' AND e.type = 'action.failed'
			  AND e.payload ->> 'error' LIKE 'the request was not sent: %'), 12::bigint,
		  'each refusal is in the audit log with its reason');

--
-- A connection kept open while private networks were allowed is not used
-- once they are not.
--
SELECT pg_temp.one_step('allowed', '{"type": "sms", "config": {"sms": {"body": "Hi {{firstName}}"}}}', ARRAY['lea']);
SELECT is(pg_temp.run() ->> 'sent', '1', 'allowed: the SMS goes to the mock');
SELECT pg_temp.one_step('kept-alive', '{"type": "sms", "config": {"sms": {"body": "Hi again"}}}', ARRAY['lea']);
SET cadence.allow_private_networks = off;
SELECT is(pg_temp.run() ->> 'failed', '1', 'turned off: the next one to the same provider is refused');
RESET cadence.allow_private_networks;
SELECT is((SELECT count(*) FROM pg_temp.mock_requests('twilio')), 1::bigint,
		  'the kept-alive connection was not reused');

--
-- With the setting on, what is kept of an answer: the status, and the
-- provider's documented error code and message, cleaned and short; never
-- the rest of the body, whatever it says.
--
SELECT pg_temp.mock_post('/_mock/reset');
SELECT pg_temp.mock_post('/_mock/fail', jsonb_build_object('kind', 'twilio', 'mode', '400',
	'body', jsonb_build_object('code', 21211,
		'message', E'The ''To'' number\r\nX-Injected: yes ' || repeat('x', 5000),
		'more_info', 'METADATA-SECRET-1')));
SELECT pg_temp.one_step('long-error', '{"type": "sms", "config": {"sms": {"body": "Hi"}}}', ARRAY['lea']);
SELECT FROM pg_temp.run();
SELECT matches(pg_temp.outcome('long-error'),
			   '^failed/1: HTTP 400: Twilio error 21211: The ''To'' number  X-Injected: yes x+\.\.\.$',
			   'the provider''s code and message, control characters made spaces');
SELECT cmp_ok(char_length(pg_temp.outcome('long-error')), '<', 300,
			  'a 5,000-character message is cut short');

SELECT pg_temp.mock_post('/_mock/fail', jsonb_build_object('kind', 'twilio', 'mode', '502',
	'body', '<html><body>upstream 10.0.3.7:8080 METADATA-SECRET-2</body></html>'));
SELECT pg_temp.one_step('html-error', '{"type": "sms", "config": {"sms": {"body": "Hi"}}}', ARRAY['lea']);
SELECT FROM pg_temp.run();
SELECT is(pg_temp.outcome('html-error'), 'scheduled/1: HTTP 502: temporary failure',
		  'an error page that is not the provider''s JSON is told by its status alone');

SELECT pg_temp.mock_post('/_mock/fail', jsonb_build_object('path', '/hooks/crm', 'mode', '403',
	'body', jsonb_build_object('message', 'AccessKeyId=AKIA METADATA-SECRET-3',
							   'error', jsonb_build_object('message', 'METADATA-SECRET-4'))));
SELECT pg_temp.hook('hook-error', 'http://127.0.0.1:18025/hooks/crm');
SELECT FROM pg_temp.run();
SELECT is(pg_temp.outcome('hook-error'), 'failed/1: HTTP 403: refused',
		  'a webhook receiver''s answer is never read, whatever its shape');

SELECT pg_temp.mock_post('/_mock/smtp-fail', '{"code": 550, "message": "5.7.1 relay via mx.internal METADATA-SECRET-5"}');
SELECT pg_temp.one_step('smtp-error', '{"type": "email", "config": {"email": {"subject": "Hi", "bodyText": "Hi"}}}', ARRAY['lea']);
SELECT FROM pg_temp.run();
SELECT is(pg_temp.outcome('smtp-error'), 'failed/1: SMTP 550: refused',
		  'an SMTP refusal is told by its reply code');

SELECT pg_temp.mock_post('/_mock/fail', jsonb_build_object('kind', 'anthropic', 'mode', '400',
	'body', jsonb_build_object('type', 'error', 'request_id', 'METADATA-SECRET-6',
		'error', jsonb_build_object('type', 'invalid_request_error', 'message', E'bad\nprompt'))));
SELECT pg_temp.one_step('ai-error', '{"type": "sms", "config": {"aiPersonalization": true, "sms": {"body": "Hi"}}}', ARRAY['lea']);
SELECT FROM pg_temp.run();
SELECT is((SELECT rendered ->> 'aiError' FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
			WHERE r.tenant_id = 'outbound' AND r.cadence_id = 'ai-error'),
		  'HTTP 400: Anthropic error invalid_request_error: bad prompt',
		  'an AI error keeps its type and message');

SELECT is((SELECT count(*)
			 FROM (SELECT last_error AS t FROM cadence.scheduled_actions WHERE tenant_id = 'outbound'
				   UNION ALL SELECT rendered::text FROM cadence.scheduled_actions WHERE tenant_id = 'outbound'
				   UNION ALL SELECT payload::text FROM cadence.events WHERE tenant_id = 'outbound') x
			WHERE t ~ '(METADATA-SECRET|AKIA|10\.0\.3\.7|mx\.internal)'), 0::bigint,
		  'nothing else of any answer reached an action or an event');
SELECT is((SELECT count(*) FROM cadence.scheduled_actions
			WHERE tenant_id = 'outbound' AND last_error ~ '[\x01-\x1f\x7f]'), 0::bigint,
		  'no error text holds a control character');

SELECT pg_temp.mock_post('/_mock/fail', '{"kind": "twilio", "mode": "429", "retryAfter": 999999999999}');
SELECT pg_temp.one_step('far-retry', '{"type": "sms", "config": {"sms": {"body": "Hi"}}}', ARRAY['lea']);
SELECT FROM pg_temp.run();
SELECT is((SELECT a.due_at FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
			WHERE r.tenant_id = 'outbound' AND r.cadence_id = 'far-retry'),
		  '2026-03-11 16:00Z'::timestamptz, 'a Retry-After of 30,000 years waits a day');

--
-- A port that is closed and one that answers something else than the
-- protocol (the connection cut) read the same.
--
-- (libcurl sends again once on a fresh connection when a kept-alive one
-- is cut before any answer, so the rule holds for every request.)
SELECT pg_temp.mock_post('/_mock/fail', '{"path": "/hooks/cut", "mode": "close", "times": -1}');
SELECT pg_temp.hook('cut', 'http://127.0.0.1:18025/hooks/cut');
SELECT pg_temp.hook('closed', 'http://127.0.0.1:1/hooks');
SELECT FROM pg_temp.run();
SELECT is(pg_temp.outcome('cut'), 'scheduled/1: no valid answer: the connection failed or was cut',
		  'an open port that cuts the connection');
SELECT is(pg_temp.outcome('closed'), pg_temp.outcome('cut'),
		  'reads the same as a closed port');

SELECT pg_temp.mock_post('/_mock/reset');
SELECT * FROM finish();
