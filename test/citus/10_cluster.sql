-- The cluster the other files run on: a coordinator and two workers, each
-- its own PostgreSQL with citus and cadence preloaded, and the cadence
-- extension, created on the coordinator, present on every node at the same
-- version (Citus creates it on the workers).
\set ON_ERROR_STOP 1
\set QUIET 1
SELECT plan(7);

SELECT matches(citus_version(), '^Citus 13\.2\.', 'the coordinator runs Citus 13.2');
SELECT is((SELECT count(*)::int FROM pg_dist_node
			WHERE groupid <> 0 AND noderole = 'primary' AND isactive),
		  2, 'two workers are active');
SELECT is((SELECT count(*)::int FROM pg_dist_node
			WHERE groupid <> 0 AND NOT (hasmetadata AND metadatasynced)),
		  0, 'every worker has the cluster''s metadata, in sync');
SELECT is((SELECT count(DISTINCT nodeid)::int FROM run_command_on_all_nodes('SELECT 1') WHERE success),
		  3, 'the coordinator reaches all three nodes');
SELECT is((SELECT array_agg(DISTINCT r.result)
			 FROM run_command_on_all_nodes(
					$$SELECT extversion FROM pg_extension WHERE extname = 'cadence'$$) r
			WHERE r.success),
		  ARRAY[(SELECT extversion FROM pg_extension WHERE extname = 'cadence')]::text[],
		  'every node has cadence at the coordinator''s version');
SELECT is((SELECT count(*)::int
			 FROM run_command_on_all_nodes('SHOW shared_preload_libraries') r
			WHERE r.success AND 'cadence' = ANY (string_to_array(replace(r.result, ' ', ''), ','))),
		  3, 'every node preloads cadence, for its background worker');
SELECT is((SELECT count(*)::int
			 FROM run_command_on_all_nodes(
					$$SELECT count(*) FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid
					   WHERE n.nspname = 'cadence' AND c.relkind = 'r'$$) r
			WHERE r.success
			  AND r.result::int = (SELECT count(*) FROM pg_class c
									WHERE c.relnamespace = 'cadence'::regnamespace AND c.relkind = 'r')),
		  3, 'every node has the extension''s tables, created by its own install script');

SELECT * FROM finish();
