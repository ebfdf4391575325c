-- Scaling out on Citus.  cadence.distribute(), run once on the coordinator
-- of a Citus cluster (and again after every ALTER EXTENSION cadence UPDATE
-- and every node added), makes cadence's tables Citus tables: the small
-- ones that every node reads as reference tables, all the others
-- distributed by tenant_id in one colocation group, so that everything of
-- a tenant lives in one shard group on one node.  The extension itself is
-- created on every node by Citus; the tables each node has are the
-- extension's own, Citus only adds the shards.  See the README, "Scaling
-- out".

-- The tables, in the order Citus needs them: reference tables first, then
-- each distributed table after every table it references.  A table already
-- distributed is left as it is, so that calling it again distributes only
-- what an update added.  Rows the tables held before (a single server's
-- data, restored into the coordinator) are copied into the shards and then
-- removed from the coordinator's own tables.
CREATE OR REPLACE FUNCTION cadence.distribute()
RETURNS TABLE (relation regclass, placement text, colocation_id integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- Citus's notices on copying rows and truncating ask for what this does.
SET client_min_messages = warning
AS $$
DECLARE
	-- Read by every node and changed rarely: membership (who is calling),
	-- provider accounts (sending, and which tenant a webhook is for).
	v_reference constant text[] := ARRAY['members', 'providers'];
	-- The tables of the extension.
	v_own oid[];
	v_rel regclass;
	v_anchor regclass;
	-- The tables that held rows before they were distributed.
	v_moved regclass[] := '{}';
	v_failed text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
		RAISE EXCEPTION 'citus is not installed in database %', current_database()
			USING ERRCODE = '55000',
				  HINT = 'Create the citus extension on the coordinator and every worker, add the workers with citus_add_node, then call cadence.distribute() on the coordinator.';
	END IF;
	IF (SELECT groupid FROM pg_dist_local_group) <> 0 THEN
		RAISE EXCEPTION 'cadence.distribute() runs on the coordinator, not on a worker'
			USING ERRCODE = '55000';
	END IF;
	-- Tables referencing reference tables are created in the same
	-- transaction: Citus then needs one connection per node.
	PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
	-- A table that references a reference table is still local for a
	-- moment (provider_slots, until its turn).  Citus would make it a
	-- table of its own metadata and create it on the workers, where the
	-- extension created it already.
	PERFORM set_config('citus.enable_local_reference_table_foreign_keys', 'off', true);

	-- Through connections of their own: a range taken stays taken even if
	-- what follows fails, which is harmless (it is the same range again).
	SELECT string_agg(format('node %s: %s', r.nodeid, r.result), '; ') INTO v_failed
	  FROM run_command_on_all_nodes('SELECT cadence.reserve_node_id_range()') AS r
	 WHERE NOT r.success;
	IF v_failed IS NOT NULL THEN
		RAISE EXCEPTION 'could not give every node its range of ids: %', v_failed
			USING ERRCODE = '55000',
				  HINT = 'Every node needs the cadence extension at the coordinator''s version.';
	END IF;

	SELECT array_agg(c.oid) INTO v_own
	  FROM pg_depend d
	  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'cadence'
	  JOIN pg_class c ON c.oid = d.objid AND c.relkind IN ('r', 'p')
	 WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e';
	SELECT p.logicalrelid INTO v_anchor
	  FROM pg_dist_partition p
	 WHERE p.logicalrelid = ANY (v_own) AND p.partmethod = 'h'
	 ORDER BY p.logicalrelid
	 LIMIT 1;

	FOR v_rel IN
		WITH RECURSIVE own AS (
			SELECT c.oid, c.relname FROM pg_class c WHERE c.oid = ANY (v_own)
		), refs AS (
			SELECT k.conrelid AS referencing, k.confrelid AS referenced
			  FROM pg_constraint k
			 WHERE k.contype = 'f' AND k.conrelid <> k.confrelid
			   AND k.conrelid IN (SELECT oid FROM own) AND k.confrelid IN (SELECT oid FROM own)
		), depth (oid, n) AS (
			SELECT oid, 0 FROM own
			UNION ALL
			SELECT refs.referencing, depth.n + 1 FROM depth JOIN refs ON refs.referenced = depth.oid
		)
		SELECT own.oid::regclass
		  FROM own JOIN depth USING (oid)
		 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = own.oid)
		 GROUP BY own.oid, own.relname
		 ORDER BY own.relname <> ALL (v_reference), max(depth.n), own.relname
	LOOP
		IF pg_relation_size(v_rel) > 0 THEN
			v_moved := v_moved || v_rel;
		END IF;
		IF (SELECT c.relname FROM pg_class c WHERE c.oid = v_rel) = ANY (v_reference) THEN
			PERFORM create_reference_table(v_rel);
		ELSE
			PERFORM create_distributed_table(v_rel, 'tenant_id',
											 colocate_with => coalesce(v_anchor::text, 'default'));
			v_anchor := coalesce(v_anchor, v_rel);
		END IF;
	END LOOP;

	-- Rows the coordinator's own tables held were copied into the shards;
	-- they keep nothing.
	FOREACH v_rel IN ARRAY v_moved LOOP
		PERFORM truncate_local_data_after_distributing_table(v_rel);
	END LOOP;

	RETURN QUERY
	SELECT p.logicalrelid::regclass,
		   CASE p.partmethod WHEN 'n' THEN 'reference' ELSE 'distributed' END,
		   p.colocationid
	  FROM pg_dist_partition p
	 WHERE p.logicalrelid = ANY (v_own)
	 ORDER BY p.logicalrelid::regclass::text;
END
$$;
COMMENT ON FUNCTION cadence.distribute() IS
	'On the coordinator of a Citus cluster: make cadence''s tables Citus tables (members and providers as reference tables, the others distributed by tenant_id and colocated), give every node its own range of ids, move existing rows into the shards; safe to call again after an update or a new node';
