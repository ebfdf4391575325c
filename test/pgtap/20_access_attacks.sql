-- The access boundary, attacked the way PostgREST calls cadence: an
-- application role set up by grant_access, taken with SET LOCAL ROLE, the
-- user's identity in request.jwt.claims.  Each attack asserts the SQLSTATE
-- it is refused with, or that nothing changed.  Two tenants: acme (ann
-- owner, adam admin, mia member) and globex (gus owner), each with a lead,
-- a provider account with credentials, a do-not-contact entry and a run.
BEGIN;
SELECT plan(80);

CREATE ROLE cadence_test_app NOLOGIN;
SELECT cadence.grant_access('cadence_test_app');

INSERT INTO cadence.members (tenant_id, user_id, role) VALUES
	('acme', 'ann', 'owner'), ('acme', 'adam', 'admin'), ('acme', 'mia', 'member'),
	('globex', 'gus', 'owner');
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, timezone) VALUES
	('acme', 'lead-a', 'Ada', 'ada@acme.test', '+15550001', 'America/New_York'),
	('globex', 'lead-g', 'Gil', 'gil@globex.test', '+15550009', 'Europe/Berlin');
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, is_default) VALUES
	('acme', 'acme-sms', 'sms', 'twilio', 'https://api.twilio.com',
	 '{"accountSid": "ACa", "authToken": "acme-secret"}', true),
	('globex', 'globex-sms', 'sms', 'twilio', 'https://api.twilio.com',
	 '{"accountSid": "ACg", "authToken": "globex-secret"}', true);
INSERT INTO cadence.suppressions (tenant_id, channel, address, reason) VALUES
	('acme', 'sms', '+15550002', 'stop_keyword'), ('globex', 'sms', '+15550003', 'stop_keyword');
INSERT INTO cadence.templates (tenant_id, id, name, body_text) VALUES
	('globex', 'g-tpl', 'Globex hello', 'Hi');
INSERT INTO cadence.holidays (tenant_id, calendar, day) VALUES ('globex', 'default', '2026-12-25');

-- The same cadence in each tenant, with a live run (a manual step first).
\set body '{"id": "seq", "name": "Seq", "isActive": true, "days": [{"dayNumber": 1, "actions": [{"id": "call", "type": "call_task", "scheduleRule": {"kind": "immediately"}}, {"id": "text", "type": "sms", "scheduleRule": {"kind": "delay", "days": 2}, "config": {"sms": {"body": "Hi"}}}]}]}'
SET LOCAL cadence.tenant_id = 'acme';
SET LOCAL cadence.user_id = 'ann';
SELECT cadence.upsert_cadence(:'body') IS NOT NULL AS made;
SELECT cadence.plan_run_for_lead('seq', 'lead-a', '2026-03-02 14:00Z') AS acme_run \gset
SET LOCAL cadence.tenant_id = 'globex';
SET LOCAL cadence.user_id = 'gus';
SELECT cadence.upsert_cadence(:'body') IS NOT NULL AS made;
SELECT cadence.plan_run_for_lead('seq', 'lead-g', '2026-03-02 14:00Z') AS globex_run \gset
SET LOCAL cadence.tenant_id = '';
SET LOCAL cadence.user_id = '';

\i test/helpers/request.sql
-- What a caller sees of both tenants, table by table.
CREATE FUNCTION pg_temp.visible() RETURNS bigint[]
LANGUAGE sql AS $$
	SELECT ARRAY[(SELECT count(*) FROM cadence.contacts), (SELECT count(*) FROM cadence.runs),
				 (SELECT count(*) FROM cadence.scheduled_actions),
				 (SELECT count(*) FROM cadence.suppressions),
				 (SELECT count(*) FROM cadence.providers), (SELECT count(*) FROM cadence.events),
				 (SELECT count(*) FROM cadence.members), (SELECT count(*) FROM cadence.cadences)]
$$;

--
-- 1. Every granted function is an RPC endpoint: the list is explicit.
--
\set readme `cat README.md`
CREATE TEMP TABLE readme_api AS
SELECT m[1] AS name
  FROM regexp_matches(split_part(split_part(:'readme', E'\n### Functions application roles may call', 2),
								 E'\n### ', 1),
					  '\n\| `cadence\.([a-z_0-9]+)\(', 'g') AS m;
SELECT cmp_ok((SELECT count(*) FROM readme_api), '>=', 40::bigint,
			  'the README lists the API functions in its security model');
SELECT set_eq($$SELECT DISTINCT p.proname::text FROM pg_proc p
				 WHERE p.pronamespace = 'cadence'::regnamespace
				   AND has_function_privilege('cadence_test_app', p.oid, 'EXECUTE')$$,
			  $$SELECT name FROM readme_api$$,
			  'an application role can execute exactly the functions the README lists');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
				   WHERE p.pronamespace = 'cadence'::regnamespace
					 AND has_function_privilege('cadence_test_app', p.oid, 'EXECUTE')
					 AND p.proargnames && ARRAY['tenant_id', 'tenant', 'p_tenant_id', 'statement']$$,
				'no function an application role can execute takes a tenant or a statement');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
				   WHERE p.pronamespace = 'cadence'::regnamespace AND p.prosecdef
					 AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)$$,
				'every SECURITY DEFINER function pins its search_path');
SELECT is_empty($$SELECT p.proname FROM pg_proc p
				   WHERE p.pronamespace = 'cadence'::regnamespace
					 AND has_function_privilege('cadence_test_app', p.oid, 'EXECUTE')
					 AND p.provolatile = 'v' AND NOT p.prosecdef$$,
				'every API function that writes runs as the extension''s owner, not as its caller');
GRANT EXECUTE ON FUNCTION cadence.plan_run_in(text, text, text, timestamptz, jsonb) TO cadence_test_app;
GRANT INSERT ON cadence.events TO cadence_test_app;
SELECT cadence.grant_access('cadence_test_app');
SELECT ok(NOT has_function_privilege('cadence_test_app', 'cadence.plan_run_in(text, text, text, timestamptz, jsonb)', 'EXECUTE')
		  AND NOT has_table_privilege('cadence_test_app', 'cadence.events', 'INSERT'),
		  'grant_access run again takes away what was granted beyond the list');
SELECT is_empty($$SELECT tablename || '.' || policyname FROM pg_policies
				   WHERE schemaname = 'cadence'
					 AND concat(qual, ' ', with_check) ~* '\mselect\M'$$,
				'no policy has a sub-select (Citus refuses them on distributed tables)');
SELECT is_empty($$SELECT tablename || '.' || policyname FROM pg_policies
				   WHERE schemaname = 'cadence'
					 AND concat(qual, ' ', with_check) !~ 'tenant_id = cadence\.current_tenant\(\)'$$,
				'every policy is the comparison of tenant_id with cadence.current_tenant()');
SELECT is((SELECT provolatile::text FROM pg_proc WHERE oid = 'cadence.current_tenant()'::regprocedure),
		  's', 'cadence.current_tenant() is STABLE');

-- pgTAP's own bookkeeping, usable by the application role.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pg_temp TO cadence_test_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA pg_temp TO cadence_test_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pg_temp TO cadence_test_app;
SET LOCAL ROLE cadence_test_app;

-- Internal helpers are not endpoints, even for a member.
SELECT pg_temp.request_as('acme', 'ann');
SELECT throws_ok($$SELECT cadence.plan_run_in('globex', 'seq', 'lead-g', now(), NULL)$$,
				 '42501', NULL, 'plan_run_in (a tenant argument) is not callable');
SELECT throws_ok($$SELECT cadence.run_due_actions(10, now(), 'globex')$$, '42501', NULL,
				 'run_due_actions (sends for any tenant) is not callable');
SELECT throws_ok($$SELECT cadence.apply_lead_action('globex', 1, '{"action": "mark_qualified"}')$$,
				 '42501', NULL, 'apply_lead_action (a tenant argument) is not callable');
SELECT throws_ok($$SELECT cadence.lock_cadence_for_write('globex', 'seq')$$, '42501', NULL,
				 'lock_cadence_for_write is not callable');
SELECT throws_ok($$SELECT cadence.worker_status()$$, '42501', NULL,
				 'worker_status (every tenant''s counters) is not callable');

--
-- 3 and 4. A claim is not membership.
--
SELECT pg_temp.request_as('acme', 'eve');
SELECT is(cadence.current_tenant(), NULL, 'a token naming acme from a non-member gives no tenant');
SELECT is(pg_temp.visible(), ARRAY[0, 0, 0, 0, 0, 0, 0, 0]::bigint[],
		  'a non-member claiming acme reads no row of any table');
SELECT throws_ok($$SELECT cadence.list_cadences()$$, '42501', 'user "eve" is not a member of tenant "acme"',
				 'a non-member cannot list acme''s cadences');
SELECT throws_ok($$SELECT cadence.get_cadence('seq')$$, '42501', NULL,
				 'a SECURITY DEFINER function still judges the caller: no cadence for a non-member');
SELECT throws_ok(format('SELECT cadence.pause_run(%s)', :acme_run), '42501', NULL,
				 'a non-member cannot pause acme''s run');
SELECT throws_ok($$SELECT cadence.remove_suppression('sms', '+15550002')$$, '42501', NULL,
				 'a non-member cannot delete acme''s suppressions');
SELECT throws_ok($$SELECT cadence.upsert_cadence('{"name": "Mine", "days": []}')$$, '42501', NULL,
				 'a non-member cannot create a cadence in acme');
SELECT throws_ok($$SELECT cadence.ingest_webhook('app', '{"type": "reply", "leadId": "lead-a"}')$$,
				 '42501', NULL, 'a non-member cannot send acme an app event');
SELECT throws_ok($$SELECT cadence.set_member('eve', 'owner')$$, '42501', NULL,
				 'a non-member cannot make itself a member');

SELECT throws_ok($$SELECT set_config('cadence.acting_tenant', 'acme', true)$$, '42602', NULL,
				 'nor is there a setting that names a tenant for the engine to act for');

-- A member of one tenant forging a claim for another.
SELECT set_config('request.jwt.claims', '{"sub": "gus", "tenant_id": "acme"}', true);
SELECT is(pg_temp.visible(), ARRAY[0, 0, 0, 0, 0, 0, 0, 0]::bigint[],
		  'globex''s owner claiming acme at the top level reads nothing of it');
SELECT set_config('request.jwt.claims', '', true);
SELECT set_config('cadence.tenant_id', 'acme', true);
SELECT set_config('cadence.user_id', 'gus', true);
SELECT is(cadence.current_tenant(), NULL, 'nor does setting cadence.tenant_id to acme');
SELECT set_config('cadence.tenant_id', '', true);
SELECT set_config('cadence.user_id', '', true);

-- A member sees its own tenant, and nothing of another's by id.
SELECT pg_temp.request_as('acme', 'mia');
SELECT is(cadence.current_tenant() || '/' || cadence.current_member_role(), 'acme/member',
		  'a member gets its tenant and role');
SELECT is((SELECT array_agg(DISTINCT tenant_id) FROM cadence.contacts), ARRAY['acme']::text[],
		  'a member reads its own tenant''s rows only');
SELECT throws_ok(format('SELECT cadence.pause_run(%s)', :globex_run), '42501', NULL,
				 'pausing another tenant''s run by id is refused');
SELECT throws_ok(format('SELECT cadence.cancel_run(%s)', :globex_run), '42501', NULL,
				 'cancelling another tenant''s run by id is refused');
SELECT throws_ok(format('SELECT cadence.complete_manual_step(%s, 1)', :globex_run), '42501', NULL,
				 'completing another tenant''s manual step is refused');
SELECT throws_ok(format('SELECT cadence.skip_to_step(%s, 2)', :globex_run), '42501', NULL,
				 'skipping another tenant''s run is refused');
SELECT throws_ok(format('SELECT cadence.get_enrollment(%s)', :globex_run), 'P0002', NULL,
				 'another tenant''s run is not found');
SELECT is((SELECT outcome || ':' || reason FROM cadence.plan_runs('seq', ARRAY['lead-g'])),
		  'refused:lead_not_found', 'another tenant''s lead cannot be enrolled');
SELECT is(cadence.delete_template('g-tpl'), '{"removed": false}'::jsonb,
		  'deleting another tenant''s template by id removes nothing');
SELECT is(cadence.ingest_webhook('app', '{"type": "stage_changed", "leadId": "lead-a", "stage": "demo"}')
			  ->> 'applied', '1', 'a member sends its tenant an app event');
SELECT is(cadence.current_tenant() || '/' || cadence.current_member_role(), 'acme/member',
		  'which leaves the caller as it was');

--
-- 3. Direct writes go around no validator.
--
SELECT throws_ok($$UPDATE cadence.runs SET timezone = 'Bogus/Zone'$$, '42501', NULL,
				 'a member cannot write a run''s time zone');
SELECT throws_ok($$UPDATE cadence.cadences SET settings = '{"businessHours": 1}'$$, '42501', NULL,
				 'a member cannot write a cadence''s settings around the validator');
SELECT throws_ok($$UPDATE cadence.cadence_actions SET condition = '{"when": "sometimes"}'$$, '42501', NULL,
				 'a member cannot write a step''s condition around the validator');
SELECT throws_ok($$DELETE FROM cadence.suppressions$$, '42501', NULL,
				 'a member cannot delete suppressions directly');
SELECT throws_ok(format($$INSERT INTO cadence.events (tenant_id, run_id, type, payload)
						  VALUES ('acme', %s, 'run.exited', '{"status": "replied"}')$$, :acme_run),
				 '42501', NULL, 'a member cannot insert events');
SELECT throws_ok($$INSERT INTO cadence.members VALUES ('acme', 'mia2', 'owner')$$, '42501', NULL,
				 'a member cannot insert members');
SELECT throws_ok($$UPDATE cadence.providers SET base_url = 'https://collector.test'$$, '42501', NULL,
				 'a member cannot repoint a provider account');
SELECT throws_ok($$SELECT credentials FROM cadence.providers$$, '42501', NULL,
				 'credentials are not readable');
SELECT throws_ok($$INSERT INTO cadence.contacts (tenant_id, id, timezone) VALUES ('acme', 'l2', 'Bogus/Zone')$$,
				 '23514', NULL, 'a contact with an unknown time zone is refused');
SELECT throws_ok($$INSERT INTO cadence.contacts (tenant_id, id, attributes) VALUES ('acme', 'l2', '[1, 2]')$$,
				 '23514', NULL, 'a contact whose attributes are not an object is refused');
SELECT throws_ok($$INSERT INTO cadence.contacts (tenant_id, id) VALUES ('globex', 'l2')$$, '42501', NULL,
				 'a contact cannot be written into another tenant');
INSERT INTO cadence.contacts (tenant_id, id, first_name, timezone) VALUES ('acme', 'l3', 'Lou', 'Europe/Paris');
SELECT is((SELECT count(*) FROM cadence.contacts WHERE id = 'l3'), 1::bigint,
		  'contacts stay directly writable within the tenant');
SELECT throws_ok($$SELECT cadence.remove_suppression('sms', '+15550002')$$, '42501', NULL,
				 'a plain member cannot take an address off the do-not-contact list');
SELECT is((SELECT count(*) FROM cadence.suppressions WHERE address = '+15550002'), 1::bigint,
		  'the address is still on the list');
SELECT is(cadence.add_suppression('email', ' Lou@Acme.test ') ->> 'address', 'lou@acme.test',
		  'a member adds an address to the list, kept in lower case');
SELECT throws_ok($$SELECT cadence.add_suppression('sms', E'+1555\n0004')$$, '22023', NULL,
				 'an address with a line break is refused');
SELECT throws_ok($$SELECT cadence.upsert_provider('{"id": "acme-sms", "baseUrl": "https://collector.test"}')$$,
				 '42501', NULL, 'a plain member cannot change provider accounts');
SELECT throws_ok($$SELECT cadence.set_member('mia', 'owner')$$, '42501', NULL,
				 'a member cannot promote itself');
SELECT throws_ok($$SELECT cadence.upsert_cadence('[]')$$, '22023', NULL,
				 'a body that is not an object is refused');

-- Owners and admins, through the API.
SELECT pg_temp.request_as('acme', 'adam');
SELECT is(cadence.remove_suppression('sms', '+15550002') ->> 'removed', 'true',
		  'an admin takes an address off the list');
SELECT is((SELECT payload ->> 'address' FROM cadence.events WHERE type = 'suppression.removed'),
		  '+15550002', 'and the removal is in the audit log');
SELECT throws_ok($$SELECT cadence.set_member('eve', 'owner')$$, '42501', NULL,
				 'an admin cannot make owners');
SELECT is(cadence.set_member('eve') ->> 'role', 'member', 'an admin adds a member');
SELECT is(cadence.upsert_provider('{"id": "acme-sms", "baseUrl": "https://collector.test"}') -> 'credentialKeys',
		  '[]'::jsonb, 'repointing an account without new credentials clears them');
SELECT is(cadence.upsert_provider('{"id": "acme-sms", "baseUrl": "https://api.twilio.com",
								   "credentials": {"accountSid": "ACa", "authToken": "acme-new"}}')
			  -> 'credentialKeys',
		  '["accountSid", "authToken"]'::jsonb, 'new credentials come in with the new address');
SELECT ok(position('acme-new' IN cadence.upsert_provider('{"id": "acme-sms", "isDefault": true}')::text) = 0,
		  'the account comes back without its credentials');
SELECT throws_ok($$SELECT cadence.upsert_provider('{"id": "acme-mail", "kind": "resend", "channel": "sms",
													 "baseUrl": "https://api.resend.com"}')$$,
				 '22023', NULL, 'an account on a channel its kind does not send on is refused');
SELECT throws_ok($$SELECT cadence.upsert_provider('{"kind": "resend", "baseUrl": "https://api.resend.com",
													 "credentials": {"apiKey": 42}}')$$,
				 '22023', NULL, 'credentials that are not strings are refused');

-- Removing the membership row removes access at once.
SELECT pg_temp.request_as('acme', 'ann');
SELECT is(cadence.remove_member('mia') ->> 'removed', 'true', 'an owner removes a member');
SELECT throws_ok($$SELECT cadence.remove_member('ann')$$, '55000', NULL,
				 'the last owner cannot be removed');
SELECT pg_temp.request_as('acme', 'mia');
SELECT is(pg_temp.visible(), ARRAY[0, 0, 0, 0, 0, 0, 0, 0]::bigint[],
		  'the removed member reads nothing from its next statement on');
SELECT throws_ok(format('SELECT cadence.pause_run(%s)', :acme_run), '42501', NULL,
				 'and changes nothing');

-- The same when another session removes the row: the member's next
-- statement, in the same transaction, reads nothing.  (The other session
-- is a DBA's, through dblink, with committed rows of a third tenant.)
RESET ROLE;
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('dba', format('dbname=%s port=%s host=%s', current_database(),
	current_setting('port'), split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT dblink_exec('dba', $$INSERT INTO cadence.members VALUES ('umbrella', 'ursula', 'member');
							 INSERT INTO cadence.contacts (tenant_id, id) VALUES ('umbrella', 'u-1')$$);
SET LOCAL ROLE cadence_test_app;
SELECT pg_temp.request_as('umbrella', 'ursula');
SELECT is((SELECT count(*) FROM cadence.contacts), 1::bigint, 'a member of umbrella reads its lead');
SELECT dblink_exec('dba', $$DELETE FROM cadence.members WHERE tenant_id = 'umbrella'$$);
SELECT is((SELECT count(*) FROM cadence.contacts), 0::bigint,
		  'once another session removes the membership, the next statement reads nothing');
SELECT dblink_exec('dba', $$DELETE FROM cadence.contacts WHERE tenant_id = 'umbrella'$$);
SELECT dblink_disconnect('dba');

--
-- 4 (class 6 caps).  A cadence's size is capped.
--
SELECT pg_temp.request_as('acme', 'ann');
SELECT jsonb_build_object('name', 'Huge', 'days', jsonb_build_array(jsonb_build_object(
		   'dayNumber', 1, 'actions',
		   (SELECT jsonb_agg('{"type": "manual_task", "scheduleRule": {"kind": "immediately"}}'::jsonb)
			  FROM generate_series(1, 10001))))) AS huge \gset
SELECT throws_ok(format('SELECT cadence.upsert_cadence(%L)', :'huge'),
				 '54000', 'days holds 10001 actions; a cadence has at most 10000',
				 'a cadence of 10,001 actions is refused');
SELECT throws_ok(format('SELECT cadence.upsert_cadence(%L)',
						jsonb_build_object('name', 'Huge', 'steps', (SELECT jsonb_agg(jsonb_build_object(
							'stepNumber', g, 'type', 'task')) FROM generate_series(1, 10001) g))),
				 '54000', NULL, 'a sequence of 10,001 steps is refused');
SELECT throws_ok($$SELECT cadence.upsert_cadence('{"name": "Far", "days": [{"dayNumber": 3661, "actions": []}]}')$$,
				 '54000', NULL, 'a day past the ten-year cap is refused');

--
-- A role that bypasses row-level security (Supabase's service_role) may
-- name any tenant, and sets up its first owner.
--
RESET ROLE;
CREATE ROLE cadence_test_svc NOLOGIN BYPASSRLS;
SELECT cadence.grant_access('cadence_test_svc');
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pg_temp TO cadence_test_svc;
SET LOCAL ROLE cadence_test_svc;
SELECT pg_temp.request_as('initech', 'service');
SELECT is(cadence.set_member('ilene', 'owner') ->> 'role', 'owner',
		  'a service role names a new tenant and adds its first owner');
SELECT pg_temp.request_as('acme', 'service');
SELECT throws_ok(format('SELECT cadence.pause_run(%s)', :globex_run), '42501', NULL,
				 'even it reaches another tenant''s run only by naming that tenant');

RESET ROLE;

-- Nothing of globex changed.
SELECT is((SELECT status FROM cadence.runs WHERE tenant_id = 'globex'), 'active',
		  'globex''s run is still active');
SELECT is(ARRAY[(SELECT count(*) FROM cadence.suppressions WHERE tenant_id = 'globex'),
				(SELECT count(*) FROM cadence.templates WHERE tenant_id = 'globex'),
				(SELECT count(*) FROM cadence.holidays WHERE tenant_id = 'globex'),
				(SELECT count(*) FROM cadence.members WHERE tenant_id = 'globex'),
				(SELECT count(*) FROM cadence.contacts WHERE tenant_id = 'globex')],
		  ARRAY[1, 1, 1, 1, 1]::bigint[],
		  'globex''s suppression, template, holiday, member and lead are all still there');
SELECT is((SELECT credentials ->> 'authToken' FROM cadence.providers WHERE tenant_id = 'globex'),
		  'globex-secret', 'globex''s credentials are untouched');
SELECT is((SELECT count(*) FROM cadence.members WHERE tenant_id = 'acme' AND role = 'owner'), 1::bigint,
		  'acme still has exactly its one owner');

SELECT * FROM finish();
ROLLBACK;
