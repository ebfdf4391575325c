-- cadence.dispatch_answered: a runner's rounds with each request answered
-- at once, as the benchmark's database bound runs them.  What it writes is
-- what a runner writes for that answer: a 201 sends, with the provider's
-- message id and the audit event; a 503 retries; what needs no request is
-- decided in the claim as ever.  It commits as a runner does, so CALL
-- outside a transaction block only, and no application role may run it.
\set ON_ERROR_STOP 1
\set QUIET 1
\i test/helpers/steps.sql
SELECT plan(9);

SET cadence.tenant_id = 'answered';
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default)
VALUES ('answered', 'tw', 'sms', 'twilio', 'http://127.0.0.1:9',
		'{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "t"}',
		'{"from": "+15005550006"}', true);
INSERT INTO cadence.contacts (tenant_id, id, first_name, phone, timezone, unsubscribed) VALUES
	('answered', 'ana', 'Ana', '+14155550601', 'UTC', false),
	('answered', 'ben', 'Ben', '+14155550602', 'UTC', false),
	('answered', 'cy', 'Cy', NULL, 'UTC', false);
SELECT cadence.upsert_cadence(pg_temp.one_step_body('hi',
	'{"type": "sms", "config": {"sms": {"body": "Hi {{firstName}}"}}}', '{"quietHours": {"sms": null}}'))
	IS NOT NULL AS saved \gset
SELECT count(*) AS enrolled FROM cadence.plan_runs('hi', ARRAY['ana', 'ben', 'cy'], now()) \gset

CALL cadence.dispatch_answered(2, 201, '{"sid": "SM00000000000000000000000000000001"}', 'answered');
SELECT is(array_agg(c.id || ': ' || a.status || coalesce(' ' || a.provider_message_id, '')
					|| coalesce(' ' || a.skip_reason, '') ORDER BY c.id),
		  ARRAY['ana: sent SM00000000000000000000000000000001',
				'ben: sent SM00000000000000000000000000000001', 'cy: skipped no_address'],
		  'answered 201, the actions are sent with the provider''s message id, in rounds of two')
  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
  JOIN cadence.contacts c ON c.tenant_id = r.tenant_id AND c.id = r.lead_id
 WHERE a.tenant_id = 'answered';
SELECT is((SELECT array_agg(payload ->> 'outcome' || ' ' || (payload ->> 'httpStatus') ORDER BY id)
			 FROM cadence.events WHERE tenant_id = 'answered' AND type = 'action.sent'),
		  ARRAY['accepted 201', 'accepted 201'], 'each request is in the audit log as accepted');
SELECT is((SELECT array_agg(status ORDER BY lead_id) FROM cadence.runs WHERE tenant_id = 'answered'),
		  ARRAY['completed', 'completed', 'completed'], 'and the runs move on');
SELECT is((SELECT count(*) FROM cadence.scheduled_actions WHERE tenant_id = 'answered' AND status = 'sending'),
		  0::bigint,
		  'nothing is left claimed');

--
-- A 503: a retry later, as a runner decides it.
--
INSERT INTO cadence.contacts (tenant_id, id, first_name, phone, timezone)
VALUES ('answered', 'dee', 'Dee', '+14155550604', 'UTC');
SELECT count(*) AS enrolled FROM cadence.plan_runs('hi', ARRAY['dee'], now()) \gset
CALL cadence.dispatch_answered(10, 503, '{"message": "busy"}', 'answered');
SELECT is((SELECT a.status || ' ' || a.moved_reason || ' ' || a.attempts || ': ' || a.last_error
			 FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
			WHERE a.tenant_id = 'answered' AND r.lead_id = 'dee'),
		  'scheduled retry 1: HTTP 503: Twilio error: busy', 'answered 503, the action is to be tried again');
SELECT ok((SELECT due_at > now() FROM cadence.scheduled_actions a JOIN cadence.runs r
			 ON r.tenant_id = a.tenant_id AND r.id = a.run_id
			WHERE a.tenant_id = 'answered' AND r.lead_id = 'dee'),
		  'later');

SELECT throws_ok($$DO 'BEGIN CALL cadence.dispatch_answered(10, 201, ''{}''); END'$$, '2D000',
				 'cadence.dispatch_answered() must be called by CALL outside a transaction block',
				 'it refuses to run where it could not commit');
SELECT throws_ok($$CALL cadence.dispatch_answered(0, 201, '{}')$$, '2D000', NULL,
				 'nor inside a transaction');
CREATE ROLE cadence_test_answered NOLOGIN;
SELECT cadence.grant_access('cadence_test_answered');
SELECT ok(NOT has_function_privilege('cadence_test_answered',
		  'cadence.dispatch_answered(integer, integer, text, text)', 'EXECUTE'),
		  'an application role may not run it');
DROP OWNED BY cadence_test_answered;
DROP ROLE cadence_test_answered;

SELECT * FROM finish();
