-- Installing and removing the extension: what CREATE EXTENSION builds and
-- that DROP EXTENSION takes all of it away again.  Runs on a database
-- without cadence, in a cluster with and in one without the library
-- preloaded.
BEGIN;
SELECT plan(17);

-- What the catalog holds before cadence arrives.
SELECT (SELECT count(*) FROM pg_class) AS classes,
	   (SELECT count(*) FROM pg_proc) AS procs,
	   (SELECT count(*) FROM pg_type) AS types,
	   (SELECT count(*) FROM pg_namespace) AS schemas,
	   (SELECT count(*) FROM pg_policy) AS policies,
	   (SELECT count(*) FROM pg_authid) AS roles,
	   (SELECT count(*) FROM pg_depend) AS depends \gset before_

CREATE EXTENSION cadence;

SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'cadence'),
		  (SELECT default_version FROM pg_available_extensions WHERE name = 'cadence'),
		  'CREATE EXTENSION installs the default version of cadence.control');
SELECT is((SELECT count(*)::int FROM pg_depend d
			WHERE d.classid = 'pg_namespace'::regclass
			  AND d.objid = 'cadence'::regnamespace
			  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'cadence')
			  AND d.deptype = 'e'),
		  1, 'its objects live in the schema cadence, which belongs to the extension');
SELECT is_empty($$SELECT pg_describe_object(d.classid, d.objid, 0) FROM pg_depend d
				   WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'cadence')
					 AND d.deptype = 'e'
					 AND coalesce((SELECT pronamespace FROM pg_proc WHERE oid = d.objid AND d.classid = 'pg_proc'::regclass),
								  (SELECT relnamespace FROM pg_class WHERE oid = d.objid AND d.classid = 'pg_class'::regclass),
								  (SELECT typnamespace FROM pg_type WHERE oid = d.objid AND d.classid = 'pg_type'::regclass),
								  'cadence'::regnamespace) <> 'cadence'::regnamespace$$,
				'no function, relation or type of cadence lands outside its schema');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'cadence'),
		  false, 'it cannot be moved to another schema');
SELECT set_eq($$SELECT relname::text FROM pg_class
				 WHERE relnamespace = 'cadence'::regnamespace AND relkind = 'r'$$,
			  ARRAY['members', 'cadences', 'cadence_days', 'cadence_actions',
					'contacts', 'suppressions', 'holidays', 'templates', 'runs',
					'scheduled_actions', 'events', 'tasks', 'providers',
					'provider_slots', 'daily_sends', 'inbound_events', 'step_stats',
					'variant_winners'],
			  'the data model has its eighteen tables');
SELECT is_empty($$SELECT relname FROM pg_class
				   WHERE relnamespace = 'cadence'::regnamespace AND relkind = 'r'
					 AND NOT relrowsecurity$$,
				'every table has row-level security enabled');
SELECT is_empty($$SELECT relname FROM pg_class
				   WHERE relnamespace = 'cadence'::regnamespace AND relkind = 'r'
					 AND obj_description(oid, 'pg_class') IS NULL$$,
				'every table has a comment');
SELECT is_empty($$SELECT conrelid::regclass FROM pg_constraint c
				   WHERE connamespace = 'cadence'::regnamespace AND contype IN ('p', 'f')
					 AND NOT EXISTS (SELECT 1 FROM pg_attribute a
									 WHERE a.attrelid = c.conrelid AND a.attname = 'tenant_id'
									   AND a.attnum = ANY (c.conkey))$$,
				'every primary and foreign key includes tenant_id');
SELECT is((SELECT pg_get_expr(indpred, indrelid) FROM pg_index
			WHERE indexrelid = 'cadence.scheduled_actions_due_idx'::regclass),
		  '(status = ''scheduled''::text)',
		  'due scheduled actions have a partial index');
SELECT is((SELECT count(*)::int FROM pg_extension e, unnest(e.extconfig) c
			WHERE extname = 'cadence'),
		  23, 'pg_dump keeps the eighteen tables, four identity sequences and the runner tokens');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
				   WHERE pronamespace = 'cadence'::regnamespace
					 AND has_function_privilege('public', p.oid, 'EXECUTE')$$,
				'no function is executable by PUBLIC');
SELECT is((SELECT count(*)::int FROM pg_roles WHERE rolname LIKE 'cadence%'),
		  0, 'installing creates no role');

-- The identity functions work whether or not the library was preloaded.
SELECT set_config('cadence.tenant_id', 'acme', true);
SELECT is(cadence.current_tenant(), 'acme',
		  'the tenant comes from cadence.tenant_id outside PostgREST');
SELECT set_config('request.jwt.claims',
				  '{"sub": "u-9", "app_metadata": {"tenant_id": "globex"}}', true);
SELECT is(cadence.current_tenant() || '/' || cadence.current_user_id(), 'globex/u-9',
		  'a PostgREST JWT claim wins over the setting');

DROP EXTENSION cadence;

SELECT is((SELECT count(*) FROM pg_namespace WHERE nspname = 'cadence'), 0::bigint,
		  'DROP EXTENSION removes the schema');
SELECT is(ARRAY[(SELECT count(*) FROM pg_class), (SELECT count(*) FROM pg_proc),
				(SELECT count(*) FROM pg_type), (SELECT count(*) FROM pg_namespace),
				(SELECT count(*) FROM pg_policy), (SELECT count(*) FROM pg_authid)],
		  ARRAY[:before_classes, :before_procs, :before_types, :before_schemas,
				:before_policies, :before_roles]::bigint[],
		  'DROP EXTENSION leaves no relation, function, type, schema, policy or role behind');
SELECT is((SELECT count(*) FROM pg_depend), :before_depends::bigint,
		  'and no dependency entry');

SELECT * FROM finish();
ROLLBACK;
