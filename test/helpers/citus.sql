-- Where rows are on a Citus cluster, read from the shards themselves (run
-- on the coordinator; the functions call nothing on the shards but plain
-- SELECTs, so Citus never pushes them down).
--
-- pg_temp.misplaced_rows(rel): the tenants that have rows of the
-- distributed table rel in a shard other than the one their tenant_id
-- hashes to, with the shard they were found in.  Every placement is read;
-- a placement that cannot be read is an error, never an empty answer.

-- Functions and tables of pg_temp stay on the coordinator: Citus says so
-- in a warning for each, which is nothing to show.
SET client_min_messages = error;

CREATE TEMP TABLE placement_tenants (shardid bigint, success boolean, result text);

CREATE FUNCTION pg_temp.misplaced_rows(rel regclass)
RETURNS TABLE (shardid bigint, tenant_id text)
LANGUAGE plpgsql AS $$
DECLARE
	v_failed text;
BEGIN
	TRUNCATE placement_tenants;
	INSERT INTO placement_tenants
	SELECT p.shardid, p.success, p.result
	  FROM run_command_on_placements(rel,
			'SELECT coalesce(json_agg(DISTINCT tenant_id), ''[]'') FROM %s') AS p;
	SELECT string_agg(format('shard %s: %s', p.shardid, p.result), '; ') INTO v_failed
	  FROM placement_tenants p WHERE NOT p.success;
	IF v_failed IS NOT NULL OR NOT EXISTS (SELECT 1 FROM placement_tenants) THEN
		RAISE EXCEPTION 'could not read the placements of %: %', rel,
			coalesce(v_failed, 'it has none');
	END IF;
	RETURN QUERY
	SELECT p.shardid, t.tenant_id
	  FROM placement_tenants p
	 CROSS JOIN LATERAL json_array_elements_text(p.result::json) AS t(tenant_id)
	 WHERE get_shard_id_for_distribution_column(rel, t.tenant_id) <> p.shardid
	 ORDER BY 1, 2;
END
$$;

-- pg_temp.node_of(rel, tenant): the port of the node that holds the shard
-- of rel where tenant's rows belong.
CREATE FUNCTION pg_temp.node_of(rel regclass, tenant text) RETURNS integer
LANGUAGE sql AS $$
	SELECT n.nodeport
	  FROM pg_dist_placement p
	  JOIN pg_dist_node n ON n.groupid = p.groupid AND n.noderole = 'primary'
	 WHERE p.shardid = get_shard_id_for_distribution_column(rel, tenant)
$$;

RESET client_min_messages;
