-- The range of node ids a Citus node takes for its sequences, which
-- cadence.distribute() (admin/94_distribute.sql) reserves.

-- Give the sequences of the extension on this node a range of their own:
-- each node numbers the rows it inserts itself (a runner on a worker, say),
-- and ids must never meet across nodes: an action's id is its idempotency
-- key.  Citus gives the sequences of the tables it creates such a range
-- (group id << 48 for bigint); it leaves those of an extension's tables
-- alone.  A sequence of N bits gets 2^(N-16) values per node group, from
-- group * 2^(N-16) + 1; one already inside its range keeps its position.
-- Returns how many sequences it changed.
CREATE OR REPLACE FUNCTION cadence.reserve_node_id_range() RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group bigint;
	v_seq record;
	v_span numeric;
	v_low bigint;
	v_high bigint;
	v_changed integer := 0;
BEGIN
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	-- The change is this node's own: Citus must not send it to the others.
	PERFORM set_config('citus.enable_ddl_propagation', 'off', true);
	FOR v_seq IN
		SELECT c.oid::regclass AS seq, s.seqtypid, s.seqmin, s.seqmax,
			   pg_sequence_last_value(c.oid) AS last
		  FROM pg_depend d
		  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'cadence'
		  JOIN pg_class c ON c.oid = d.objid AND c.relkind = 'S'
		  JOIN pg_sequence s ON s.seqrelid = c.oid
		 WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
		 ORDER BY c.oid
	LOOP
		v_span := 2::numeric ^ (CASE v_seq.seqtypid WHEN 'int8'::regtype THEN 64
												   WHEN 'int4'::regtype THEN 32
												   ELSE 16 END - 16);
		IF v_group >= 32768 OR v_span < 2 THEN
			RAISE EXCEPTION 'sequence % cannot have a range of its own on node group %',
				v_seq.seq, v_group
				USING ERRCODE = '22003',
					  HINT = 'Ranges hold 32,768 node groups, of at least two values each.';
		END IF;
		v_low := v_group * v_span + 1;
		v_high := (v_group + 1) * v_span - 1;
		CONTINUE WHEN v_seq.seqmin = v_low AND v_seq.seqmax = v_high;
		IF v_seq.last IS NOT NULL AND v_seq.last BETWEEN v_low AND v_high THEN
			EXECUTE format('ALTER SEQUENCE %s MINVALUE %s MAXVALUE %s START WITH %s',
						   v_seq.seq, v_low, v_high, v_low);
		ELSE
			EXECUTE format('ALTER SEQUENCE %s MINVALUE %s MAXVALUE %s START WITH %s RESTART',
						   v_seq.seq, v_low, v_high, v_low);
		END IF;
		v_changed := v_changed + 1;
	END LOOP;
	RETURN v_changed;
END
$$;
COMMENT ON FUNCTION cadence.reserve_node_id_range() IS
	'Give this Citus node''s cadence sequences their own range (group id times 2^48 for bigint), so that ids numbered on different nodes never meet; called on every node by cadence.distribute()';
