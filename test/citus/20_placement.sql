-- The check that every row sits in the shard of its tenant
-- (test/helpers/citus.sql), tried on tables of this test: it finds nothing
-- when Citus placed the rows, and exactly the row put by hand into another
-- tenant's shard.
\set ON_ERROR_STOP 1
\set QUIET 1
\i test/helpers/citus.sql
SELECT plan(5);

CREATE TABLE public.placement_leads (tenant_id text COLLATE "C" NOT NULL, id int NOT NULL,
									 PRIMARY KEY (tenant_id, id));
CREATE TABLE public.placement_notes (tenant_id text COLLATE "C" NOT NULL, lead_id int NOT NULL,
									 note text,
									 FOREIGN KEY (tenant_id, lead_id)
										 REFERENCES public.placement_leads (tenant_id, id));
SELECT create_distributed_table('public.placement_leads', 'tenant_id', shard_count => 4);
SELECT create_distributed_table('public.placement_notes', 'tenant_id',
								colocate_with => 'public.placement_leads');
INSERT INTO public.placement_leads
SELECT 'tenant-' || t, i FROM generate_series(1, 12) t, generate_series(1, 5) i;
INSERT INTO public.placement_notes SELECT tenant_id, id, 'hello' FROM public.placement_leads;

SELECT is((SELECT count(DISTINCT pg_temp.node_of('public.placement_leads', 'tenant-' || t))::int
			 FROM generate_series(1, 12) t),
		  2, 'the twelve tenants are spread over both workers');
SELECT is_empty('SELECT * FROM pg_temp.misplaced_rows(''public.placement_leads'')',
				'every lead is in the shard of its tenant');
SELECT is_empty('SELECT * FROM pg_temp.misplaced_rows(''public.placement_notes'')',
				'every note is in the shard of its tenant');

-- A row of tenant-1 written straight into a shard that is not tenant-1's,
-- on the worker that holds it.
SELECT s.shardid AS foreign_shard
  FROM pg_dist_shard s
 WHERE s.logicalrelid = 'public.placement_leads'::regclass
   AND s.shardid <> get_shard_id_for_distribution_column('public.placement_leads', 'tenant-1')
 ORDER BY s.shardid LIMIT 1 \gset
SELECT is((SELECT count(*)::int FROM run_command_on_workers(format(
			$cmd$DO $do$ BEGIN
				IF to_regclass('public.placement_leads_%s') IS NOT NULL THEN
					INSERT INTO public.placement_leads_%s VALUES ('tenant-1', 99);
				END IF;
			END $do$$cmd$, :foreign_shard, :foreign_shard)) WHERE success),
		  2, 'a row of tenant-1 is put into another shard by hand');
SELECT results_eq('SELECT shardid, tenant_id FROM pg_temp.misplaced_rows(''public.placement_leads'')',
				  format('VALUES (%s::bigint, ''tenant-1''::text)', :foreign_shard),
				  'the check finds that row, and only it');

SELECT * FROM finish();
DROP TABLE public.placement_notes, public.placement_leads;
