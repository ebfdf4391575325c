-- Tenant security, exercised the way PostgREST calls cadence: a
-- non-superuser role taken with SET LOCAL ROLE, the caller's identity in
-- request.jwt.claims set with set_config(..., true).
BEGIN;
SELECT plan(29);

-- The application role, as a DBA would set it up, and pgTAP's own
-- bookkeeping made usable by it.
CREATE ROLE cadence_test_web NOLOGIN;
SELECT cadence.grant_access('cadence_test_web');
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pg_temp TO cadence_test_web;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA pg_temp TO cadence_test_web;

-- Two tenants.  acme has an owner, an admin and two plain members;
-- globex has one owner.
INSERT INTO cadence.members (tenant_id, user_id, role) VALUES
	('acme', 'ann', 'owner'), ('acme', 'adam', 'admin'),
	('acme', 'mia', 'member'), ('acme', 'max', 'member'),
	('globex', 'gus', 'owner');
INSERT INTO cadence.contacts (tenant_id, id, first_name, email) VALUES
	('acme', 'lead-1', 'Lena', 'lena@example.com'),
	('globex', 'lead-9', 'Gil', 'gil@example.com');
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials) VALUES
	('acme', 'twilio-main', 'sms', 'twilio', 'https://api.twilio.com',
	 '{"accountSid": "AC123", "authToken": "secret-token"}');

\i test/helpers/request.sql
GRANT EXECUTE ON FUNCTION pg_temp.request_as(text, text) TO cadence_test_web;

SET LOCAL ROLE cadence_test_web;

-- A plain member creates a cadence and owns it.
SELECT pg_temp.request_as('acme', 'mia');
SELECT is(cadence.upsert_cadence('{"id": "welcome", "name": "Welcome", "timezone": "Europe/London",
	"days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "sms",
		"scheduleRule": {"kind": "immediately"},
		"config": {"sms": {"body": "Hi {{firstName}}"}}}]}]}') ->> 'ownerId',
		  'mia', 'a member creates a cadence and becomes its owner');
SELECT is(jsonb_array_length(cadence.list_cadences()), 1,
		  'the member lists the tenant''s one cadence');

-- Another tenant sees nothing of it.
SELECT pg_temp.request_as('globex', 'gus');
SELECT is(cadence.list_cadences(), '[]'::jsonb,
		  'another tenant lists no cadence');
SELECT is((SELECT count(*) FROM cadence.cadences), 0::bigint,
		  'another tenant reads no cadence row');
SELECT is((SELECT count(*) FROM cadence.cadence_actions), 0::bigint,
		  'another tenant reads no action row');
SELECT is((SELECT count(*) FROM cadence.contacts), 1::bigint,
		  'another tenant reads only its own contact');
SELECT throws_ok($$SELECT cadence.get_cadence('welcome')$$, 'P0002', NULL,
				 'reading another tenant''s cadence by id finds nothing');
SELECT throws_ok($$SELECT cadence.activate('welcome')$$, '42501', NULL,
				 'activating another tenant''s cadence is refused with 42501');
SELECT throws_ok($$SELECT cadence.deactivate('welcome')$$, '42501', NULL,
				 'deactivating another tenant''s cadence is refused with 42501');
SELECT throws_ok($$SELECT cadence.delete_cadence('welcome')$$, '42501', NULL,
				 'deleting another tenant''s cadence is refused with 42501');
SELECT throws_ok($$INSERT INTO cadence.cadences (tenant_id, id, name) VALUES ('acme', 'sneaky', 'x')$$,
				 '42501', NULL,
				 'inserting a cadence into another tenant is refused with 42501');
SELECT throws_ok($$INSERT INTO cadence.contacts (tenant_id, id) VALUES ('acme', 'lead-x')$$,
				 '42501', NULL,
				 'inserting a contact into another tenant is refused with 42501');
SELECT results_eq($$WITH u AS (UPDATE cadence.contacts SET first_name = 'pwned' WHERE id = 'lead-1'
								 RETURNING 1)
					 SELECT count(*) FROM u$$, ARRAY[0::bigint],
				  'an UPDATE from another tenant touches no row');
SELECT throws_ok($$INSERT INTO cadence.runs (tenant_id, cadence_id, cadence_version, lead_id, timezone, trigger_at)
				   VALUES ('globex', 'welcome', 1, 'lead-9', 'UTC', now())$$,
				 '42501', NULL,
				 'a run cannot be written directly, let alone point at another tenant''s cadence');

-- Inside the tenant, only the owner of a cadence or an admin changes it.
SELECT pg_temp.request_as('acme', 'max');
SELECT is(cadence.get_cadence('welcome') ->> 'name', 'Welcome',
		  'another member of the tenant reads the cadence');
SELECT throws_ok($$SELECT cadence.activate('welcome')$$, '42501', NULL,
				 'a member who does not own the cadence cannot activate it');
SELECT throws_ok($$SELECT cadence.upsert_cadence('{"id": "welcome", "name": "Renamed", "days": []}')$$,
				 '42501', NULL,
				 'a member who does not own the cadence cannot edit it');
SELECT pg_temp.request_as('acme', 'adam');
SELECT is(cadence.activate('welcome'), '{"success": true}'::jsonb,
		  'an admin activates it');
SELECT pg_temp.request_as('acme', 'ann');
SELECT is(cadence.deactivate('welcome'), '{"success": true}'::jsonb,
		  'the tenant owner deactivates it');
SELECT is((SELECT name FROM cadence.cadences WHERE id = 'welcome'), 'Welcome',
		  'nothing another caller tried changed the cadence');

-- Someone who is not a member of the tenant cannot create cadences in it.
SELECT pg_temp.request_as('acme', 'stranger');
SELECT throws_ok($$SELECT cadence.upsert_cadence('{"name": "Mine", "days": []}')$$,
				 '42501', NULL,
				 'a non-member cannot create a cadence');

-- Membership is managed by owners and admins only.
SELECT pg_temp.request_as('acme', 'mia');
SELECT throws_ok($$INSERT INTO cadence.members VALUES ('acme', 'eve', 'owner')$$,
				 '42501', NULL, 'a member cannot make anyone an owner');

-- Credentials stay hidden from application roles.
SELECT is((SELECT kind FROM cadence.providers WHERE id = 'twilio-main'), 'twilio',
		  'the tenant sees its provider account');
SELECT throws_ok($$SELECT credentials FROM cadence.providers$$, '42501', NULL,
				 'but cannot read its credentials');

-- Sending is for the worker and pg_cron, not for application roles.
SELECT throws_ok($$SELECT cadence.run_due_actions()$$, '42501', NULL,
				 'an application role cannot run the dispatcher');

-- The audit log is append-only.
SELECT throws_ok($$DELETE FROM cadence.events$$, '42501', NULL,
				 'events cannot be deleted by the application');

-- The tenant claim may also be top-level, and apps without PostgREST use
-- settings instead of claims.
SELECT set_config('request.jwt.claims', '{"sub": "gus", "tenant_id": "globex"}', true);
SELECT is(cadence.current_tenant(), 'globex', 'a top-level tenant_id claim is honoured');
SELECT set_config('request.jwt.claims', '', true);
SELECT set_config('cadence.tenant_id', 'acme', true);
SELECT set_config('cadence.user_id', 'mia', true);
SELECT is(cadence.get_cadence('welcome') ->> 'ownerId', 'mia',
		  'SET cadence.tenant_id and cadence.user_id identify a caller without PostgREST');

-- Without any tenant nothing is visible and nothing can be created.
SELECT set_config('cadence.tenant_id', '', true);
SELECT throws_ok($$SELECT cadence.upsert_cadence('{"name": "Orphan", "days": []}')$$,
				 '42501', NULL, 'a session with no tenant cannot create a cadence');

SELECT * FROM finish();
ROLLBACK;
