-- Rows a runner cannot read, of several tenants, due in one batch with
-- good ones: a run whose time zone is bogus, a cadence whose settings
-- cannot be parsed, a step whose A/B variants break the claim's read of
-- it, a paused run that cannot be resumed.  Each fails its own action (or
-- run) with the error as the reason; the batch, the other tenants and the
-- dispatcher go on.  (The bad rows are written past validation, as a
-- superuser can.)
\set ON_ERROR_STOP 1
\set QUIET 1
\i test/helpers/mock.sql
\i test/helpers/wait.sql
SELECT pg_temp.mock_post('/_mock/reset');
SELECT plan(10);

-- Five tenants, each with a Twilio account and three leads.
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default)
SELECT t, 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
	   '{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "tw-secret"}',
	   '{"from": "+15005550006"}', true
  FROM unnest(ARRAY['bad-zone', 'bad-settings', 'bad-variant', 'bad-pause', 'good']) t;
INSERT INTO cadence.contacts (tenant_id, id, first_name, phone, timezone)
SELECT t, 'lead-' || g, 'Lead' || g, '+1415666' || lpad(g::text, 4, '0'), 'UTC'
  FROM unnest(ARRAY['bad-zone', 'bad-settings', 'bad-variant', 'bad-pause', 'good']) t,
	   generate_series(1, 3) g;
-- enroll(tenant): a two-step cadence, every lead enrolled ten minutes ago
-- (so the first step goes out late, and the second is planned again).
CREATE FUNCTION pg_temp.enroll(tenant text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('cadence.tenant_id', tenant, true);
	PERFORM cadence.upsert_cadence('{"id": "c", "name": "c", "timezone": "UTC", "isActive": true,
		"settings": {"quietHours": {"sms": null}},
		"days": [{"dayNumber": 1, "actions": [
			{"type": "sms", "scheduleRule": {"kind": "immediately"}, "config": {"sms": {"body": "Hi {{firstName}}"}}},
			{"type": "sms", "scheduleRule": {"kind": "immediately"}, "config": {"sms": {"body": "Again {{firstName}}"}}}]}]}');
	PERFORM cadence.plan_runs('c', ARRAY['lead-1', 'lead-2', 'lead-3'], now() - interval '10 minutes');
END
$$;
CREATE FUNCTION pg_temp.actions(tenant text) RETURNS TABLE (lead text, step int, status text, error text)
LANGUAGE sql AS $$
	SELECT r.lead_id, a.step_number, a.status, a.last_error
	  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
	 WHERE a.tenant_id = tenant ORDER BY r.lead_id, a.step_number
$$;
SELECT pid AS dispatcher FROM pg_stat_activity WHERE backend_type = 'cadence dispatcher' \gset

-- Everything due, with its bad rows, in one commit.
BEGIN;
SELECT pg_temp.enroll(t)
  FROM unnest(ARRAY['bad-zone', 'bad-settings', 'bad-variant', 'bad-pause', 'good']) t;
UPDATE cadence.runs SET timezone = 'Bogus/Zone' WHERE tenant_id = 'bad-zone' AND lead_id = 'lead-1';
UPDATE cadence.cadences SET settings = '{"businessHours": "nine to five"}' WHERE tenant_id = 'bad-settings';
UPDATE cadence.cadence_actions SET variants = '["B"]' WHERE tenant_id = 'bad-variant' AND step_number = 1;
SET LOCAL cadence.tenant_id = 'bad-pause';
SELECT cadence.pause_run(id, now() - interval '1 minute', 'out of office') IS NOT NULL
  FROM cadence.runs WHERE tenant_id = 'bad-pause' AND lead_id = 'lead-3';
SET LOCAL cadence.tenant_id = 'good';
SELECT cadence.pause_run(id, now() - interval '1 minute', 'out of office') IS NOT NULL
  FROM cadence.runs WHERE tenant_id = 'good' AND lead_id = 'lead-3';
UPDATE cadence.runs SET timezone = 'Nowhere/Land' WHERE tenant_id = 'bad-pause' AND lead_id = 'lead-3';
COMMIT;

SELECT ok(pg_temp.wait_for($$SELECT count(*) = 0 FROM cadence.scheduled_actions
							  WHERE tenant_id IN ('bad-zone', 'bad-settings', 'bad-variant', 'bad-pause', 'good')
								AND status IN ('scheduled', 'sending')$$, '60 s'),
		  'every due action of the five tenants is settled');
SELECT is((SELECT array_agg(status ORDER BY lead, step) FROM pg_temp.actions('good')),
		  ARRAY['sent', 'sent', 'sent', 'sent', 'sent', 'sent'],
		  'the good tenant''s messages are all sent, its paused run resumed on time');
SELECT is((SELECT array_agg(lead || ':' || status ORDER BY lead, step) FROM pg_temp.actions('bad-zone')),
		  ARRAY['lead-1:failed', 'lead-1:cancelled', 'lead-2:sent', 'lead-2:sent', 'lead-3:sent', 'lead-3:sent'],
		  'a run whose zone is bogus fails, its tenant''s other runs are sent');
SELECT is((SELECT error FROM pg_temp.actions('bad-zone') WHERE lead = 'lead-1' AND step = 1),
		  'unknown time zone "Bogus/Zone"', 'with the error as the reason');
SELECT is((SELECT status FROM cadence.runs WHERE tenant_id = 'bad-zone' AND lead_id = 'lead-1'),
		  'failed', 'and its run, which cannot be planned on, fails with it');
SELECT is((SELECT array_agg(DISTINCT status || ': ' || error) FROM pg_temp.actions('bad-settings') WHERE step = 1),
		  ARRAY['failed: invalid settings.businessHours: "nine to five"'],
		  'a cadence whose settings cannot be read fails its actions, saying why');
SELECT is((SELECT array_agg(DISTINCT status || ': ' || error) FROM pg_temp.actions('bad-variant') WHERE step = 1),
		  ARRAY['failed: cannot delete from scalar'],
		  'a step whose variants break the claim''s read fails alone, with the error');
SELECT is((SELECT status || ': ' || exit_reason FROM cadence.runs WHERE tenant_id = 'bad-pause' AND lead_id = 'lead-3'),
		  'failed: unknown time zone "Nowhere/Land"',
		  'a paused run that cannot be resumed fails, and the others resume');
SELECT is((SELECT array_agg(status ORDER BY lead, step) FROM pg_temp.actions('bad-pause') WHERE lead <> 'lead-3'),
		  ARRAY['sent', 'sent', 'sent', 'sent'], 'its tenant''s other runs are sent');
SELECT is((SELECT pid FROM pg_stat_activity WHERE backend_type = 'cadence dispatcher'), :dispatcher,
		  'the same dispatcher did it all: it never failed a round and restarted');

SELECT * FROM finish();
