-- The tenant boundary on the cluster, attacked the way PostgREST calls
-- cadence: the application role of 30_distribute.sql, taken with SET
-- LOCAL ROLE, the user's identity in request.jwt.claims, every query
-- planned by Citus and run on the workers.  The six tenants of
-- 30_distribute.sql, each with an owner (owner-of-<tenant>), three leads
-- and three runs.
\set ON_ERROR_STOP 1
\set QUIET 1
SELECT plan(12);

SELECT id AS other_run FROM cadence.runs WHERE tenant_id = 'tenant-2' ORDER BY id LIMIT 1 \gset

-- The rows of another tenant than me that the caller sees, table by table.
SET client_min_messages = error;
CREATE FUNCTION pg_temp.foreign_rows(me text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_rel text;
	v_n bigint;
	v_total bigint := 0;
BEGIN
	FOR v_rel IN
		SELECT c.relname FROM pg_depend d
		  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'cadence'
		  JOIN pg_class c ON c.oid = d.objid AND c.relkind = 'r'
		 WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
	LOOP
		EXECUTE format('SELECT count(*) FROM cadence.%I WHERE tenant_id IS DISTINCT FROM %L',
					   v_rel, me) INTO v_n;
		v_total := v_total + v_n;
	END LOOP;
	RETURN v_total;
END
$$;
-- pgTAP's bookkeeping and the helpers are this session's, on the
-- coordinator only.
SET citus.enable_ddl_propagation = off;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pg_temp TO citus_test_web;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA pg_temp TO citus_test_web;
\i test/helpers/request.sql
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pg_temp TO citus_test_web;
RESET citus.enable_ddl_propagation;
RESET client_min_messages;

BEGIN;
SET LOCAL ROLE citus_test_web;
SELECT pg_temp.request_as('tenant-1', 'owner-of-tenant-1');
SELECT is(pg_temp.foreign_rows('tenant-1'), 0::bigint,
		  'a member of tenant-1 sees no row of another tenant in any table');
-- The policies run on the workers, where the request's claims (set with
-- set_config, as PostgREST sets them) do not reach: a direct read of the
-- tables fails closed.  The API functions take the tenant on the
-- coordinator.
SELECT results_eq($$SELECT (SELECT count(*) FROM cadence.contacts)::int,
						   (SELECT count(*) FROM cadence.runs)::int$$,
				  'VALUES (0, 0)',
				  'a direct read of the tables shows nothing at all: the policies fail closed on the workers');
SELECT results_eq($$SELECT (cadence.list_enrollments('welcome') ->> 'total')::int,
						   jsonb_array_length(cadence.get_cadence('welcome') -> 'days')$$,
				  'VALUES (3, 1)',
				  'through the API it sees its own runs and cadence');
SELECT throws_ok($$SELECT credentials FROM cadence.providers$$, '42501', NULL,
				 'provider credentials are not readable');
SELECT throws_ok(format('SELECT cadence.pause_run(%s)', :other_run), '42501', NULL,
				 'another tenant''s run cannot be paused');
SELECT throws_ok(format('SELECT cadence.get_enrollment(%s)', :other_run), 'P0002', NULL,
				 'nor read');

-- Claiming a tenant one is not a member of.
SELECT pg_temp.request_as('tenant-2', 'owner-of-tenant-1');
SELECT is(cadence.current_tenant(), NULL, 'a user claiming a tenant it is no member of has none');
SELECT throws_ok('SELECT cadence.list_cadences()', '42501', NULL, 'and the API refuses it');

-- The other tenant's own member sees its own.
SELECT pg_temp.request_as('tenant-2', 'owner-of-tenant-2');
SELECT results_eq($$SELECT cadence.current_tenant(),
						   (cadence.list_enrollments('welcome') ->> 'total')::int$$,
				  $$VALUES ('tenant-2', 3)$$,
				  'tenant-2''s owner is its member, and sees its own three runs');
ROLLBACK;

-- Direct writes in a transaction of their own: Citus refuses a transaction
-- that reaches a placement as two roles (the application role's writes,
-- then an API function's, which runs as cadence's owner).
BEGIN;
SET LOCAL ROLE citus_test_web;
SELECT pg_temp.request_as('tenant-1', 'owner-of-tenant-1');
SELECT throws_ok($$INSERT INTO cadence.contacts (tenant_id, id, first_name, email)
				   VALUES ('tenant-2', 'planted', 'Eve', 'eve@example.com')$$, '42501', NULL,
				 'a lead cannot be written into another tenant');
SELECT throws_ok($$INSERT INTO cadence.events (tenant_id, type) VALUES ('tenant-1', 'run.enrolled')$$,
				 '42501', NULL, 'the audit log is written by the engine only');
UPDATE cadence.contacts SET first_name = 'Eve' WHERE tenant_id = 'tenant-2';
DELETE FROM cadence.contacts WHERE tenant_id = 'tenant-2';
COMMIT;
SELECT results_eq($$SELECT count(*)::int, count(*) FILTER (WHERE first_name = 'Eve')::int
					   FROM cadence.contacts WHERE tenant_id = 'tenant-2'$$,
				  'VALUES (3, 0)',
				  'tenant-1''s update and delete of tenant-2''s leads changed nothing');

SELECT * FROM finish();
