-- cadence.distribute() on the coordinator: every table of the extension
-- becomes a Citus table (members and providers reference tables, the rest
-- distributed by tenant_id in one colocation group), each node numbers ids
-- in a range of its own, and what tenants then do through the API lands in
-- the shard group of their tenant, on one node, with nothing of one tenant
-- beside another's.  A member calling the way PostgREST does is still its
-- tenant's member, and sees only its tenant.
\set ON_ERROR_STOP 1
\set QUIET 1
\i test/helpers/citus.sql
SELECT plan(17);

-- A tenant with a member, three leads and an active cadence of two steps,
-- enrolling its leads: everything through the API, as its application
-- would.
SET client_min_messages = error;
CREATE FUNCTION pg_temp.onboard(t text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_leads text[];
BEGIN
	PERFORM set_config('cadence.tenant_id', t, true);
	PERFORM set_config('cadence.user_id', 'owner-of-' || t, true);
	INSERT INTO cadence.members (tenant_id, user_id, role) VALUES (t, 'owner-of-' || t, 'owner');
	INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, timezone)
	SELECT t, 'lead-' || i, 'Lead ' || i, 'lead' || i || '@' || t || '.test',
		   '+1212555010' || i, 'America/New_York'
	  FROM generate_series(1, 3) i;
	PERFORM cadence.upsert_cadence(jsonb_build_object(
		'id', 'welcome', 'name', 'Welcome', 'timezone', 'America/New_York',
		'days', jsonb_build_array(jsonb_build_object('dayNumber', 1, 'actions', jsonb_build_array(
			jsonb_build_object('id', 'text', 'type', 'sms',
							   'scheduleRule', jsonb_build_object('kind', 'timeOfDay', 'timeOfDay', '09:00'),
							   'config', jsonb_build_object('sms', jsonb_build_object('body', 'Hi {{firstName}}'))),
			jsonb_build_object('id', 'mail', 'type', 'email',
							   'scheduleRule', jsonb_build_object('kind', 'afterPrevious', 'minutesAfterPrev', 30),
							   'config', jsonb_build_object('email', jsonb_build_object(
								   'subject', 'Hello', 'bodyHtml', '<p>Hello</p>'))))))));
	PERFORM cadence.activate('welcome');
	SELECT array_agg(c.id ORDER BY c.id) INTO v_leads FROM cadence.contacts c WHERE c.tenant_id = t;
	PERFORM cadence.plan_runs('welcome', v_leads, '2026-05-11 07:30Z');
END
$$;
RESET client_min_messages;

-- Three tenants use cadence before it is distributed, as on a single
-- server; three more once it is.
DO $$ BEGIN PERFORM pg_temp.onboard('tenant-' || t) FROM generate_series(1, 3) t; END $$;

SELECT lives_ok('SELECT cadence.distribute()', 'cadence.distribute() goes through');

SET client_min_messages = error;
CREATE TEMP VIEW own_tables AS
SELECT c.oid::regclass AS rel, c.relname
  FROM pg_depend d
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'cadence'
  JOIN pg_class c ON c.oid = d.objid AND c.relkind = 'r'
 WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e';
RESET client_min_messages;

SELECT is_empty($$SELECT relname FROM own_tables
				   WHERE rel NOT IN (SELECT logicalrelid FROM pg_dist_partition)$$,
				'every table of the extension is a Citus table');
SELECT set_eq($$SELECT o.relname::text FROM own_tables o
				  JOIN pg_dist_partition p ON p.logicalrelid = o.rel WHERE p.partmethod = 'n'$$,
			  ARRAY['members', 'providers'],
			  'members and providers are reference tables');
SELECT is((SELECT count(DISTINCT p.colocationid)::int FROM own_tables o
			 JOIN pg_dist_partition p ON p.logicalrelid = o.rel WHERE p.partmethod = 'h'),
		  1, 'the distributed tables form one colocation group');
SELECT is((SELECT array_agg(o.relname::text ORDER BY o.relname) FROM own_tables o
			 JOIN pg_dist_partition p ON p.logicalrelid = o.rel
			WHERE p.partmethod = 'h'
			  AND column_to_column_name(p.logicalrelid, p.partkey) = 'tenant_id'),
		  (SELECT array_agg(relname::text ORDER BY relname) FROM own_tables
			WHERE relname NOT IN ('members', 'providers')),
		  'every other table is distributed by tenant_id');
SELECT is((SELECT count(*)::int FROM run_command_on_all_nodes($$
			SELECT bool_and(s.seqmin = l.groupid * 2::numeric ^ 48 + 1
							AND s.seqmax = (l.groupid + 1) * 2::numeric ^ 48 - 1)
			  FROM pg_sequence s, pg_dist_local_group l
			 WHERE s.seqrelid::regclass::text LIKE 'cadence.%' AND s.seqtypid = 'int8'::regtype$$) r
			WHERE r.success AND r.result = 't'),
		  3, 'on every node, the sequences number in a range of that node''s own');
SELECT results_eq('SELECT relation::text, placement, colocation_id FROM cadence.distribute()',
				  $$SELECT p.logicalrelid::regclass::text,
						   CASE p.partmethod WHEN 'n' THEN 'reference' ELSE 'distributed' END,
						   p.colocationid
					  FROM own_tables o JOIN pg_dist_partition p ON p.logicalrelid = o.rel
					 ORDER BY 1$$,
				  'calling it again changes nothing and lists every table');

CREATE TEMP TABLE tenants AS SELECT 'tenant-' || t AS tenant FROM generate_series(1, 6) t;
SELECT is((SELECT count(DISTINCT pg_temp.node_of('cadence.runs', tenant))::int FROM tenants),
		  2, 'the six tenants live on both workers');
DO $$ BEGIN PERFORM pg_temp.onboard('tenant-' || t) FROM generate_series(4, 6) t; END $$;

SELECT is((SELECT count(*)::int FROM cadence.runs), 18, 'each tenant enrolled its three leads');
SELECT is((SELECT sum(pg_relation_size(rel))::int FROM own_tables), 0,
		  'the coordinator''s own tables keep no rows: those of before were moved into the shards');
SELECT is((SELECT array_agg(o.relname::text ORDER BY o.relname) FROM own_tables o
			 JOIN pg_dist_partition p ON p.logicalrelid = o.rel AND p.partmethod = 'h'
			WHERE NOT EXISTS (SELECT 1 FROM pg_temp.misplaced_rows(o.rel))),
		  (SELECT array_agg(relname::text ORDER BY relname) FROM own_tables
			WHERE relname NOT IN ('members', 'providers')),
		  'every row of every distributed table is in the shard of its tenant');
SELECT results_eq($$SELECT count(*)::int, count(r.id)::int FROM cadence.scheduled_actions a
					 LEFT JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id$$,
				  'VALUES (36, 36)',
				  'every scheduled action belongs to a run of its own tenant');
SELECT results_eq($$SELECT count(*)::int, count(c.id)::int, count(d.id)::int FROM cadence.runs r
					 LEFT JOIN cadence.contacts c ON c.tenant_id = r.tenant_id AND c.id = r.lead_id
					 LEFT JOIN cadence.cadences d ON d.tenant_id = r.tenant_id AND d.id = r.cadence_id$$,
				  'VALUES (18, 18, 18)',
				  'every run enrolls a lead in a cadence of its own tenant');

-- The coordinator holds no shard: its runner has nothing to send from,
-- and says where to call it.  (The runners of the workers are off while
-- these files run: test/citus/run.  test/citus/50_dispatch sends.)
SELECT throws_like($$SELECT cadence.run_due_actions(50, '2026-05-12', 'tenant-1')$$,
				   '%sends from the shards of the node it runs on, and this node holds none',
				   'a runner on the coordinator refuses, and says why');
SELECT results_eq($$SELECT count(*)::int, count(*) FILTER (WHERE status = 'scheduled')::int
					   FROM cadence.scheduled_actions
					  WHERE tenant_id IN ('tenant-4', 'tenant-5', 'tenant-6') AND step_number = 1$$,
				  'VALUES (9, 9)',
				  'the steps due since the tenants enrolled after distribution are all still scheduled');

-- A member of tenant-1 calling the way PostgREST does: the application
-- role, the identity in request.jwt.claims, the API run on the
-- coordinator.  Citus reaches the workers as the role that runs a query,
-- so on a cluster the application role may log in (to the workers; the
-- cluster here trusts every local connection).
CREATE ROLE citus_test_web LOGIN;
SELECT cadence.grant_access('citus_test_web');
-- pgTAP's bookkeeping and the request helper are this session's, on the
-- coordinator only: Citus must not send their grants to the workers.
SET citus.enable_ddl_propagation = off;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pg_temp TO citus_test_web;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA pg_temp TO citus_test_web;
\i test/helpers/request.sql
GRANT EXECUTE ON FUNCTION pg_temp.request_as(text, text) TO citus_test_web;
RESET citus.enable_ddl_propagation;
BEGIN;
SET LOCAL ROLE citus_test_web;
SELECT pg_temp.request_as('tenant-1', 'owner-of-tenant-1');
SELECT is(cadence.current_tenant(), 'tenant-1',
		  'a member calling through PostgREST is its tenant''s member on the cluster');
SELECT is((SELECT jsonb_agg(c ->> 'id') FROM jsonb_array_elements(cadence.list_cadences()) c),
		  '["welcome"]'::jsonb,
		  'and lists its own tenant''s cadence, and no other tenant''s');
COMMIT;

SELECT * FROM finish();
