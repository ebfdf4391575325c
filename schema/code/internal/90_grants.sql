-- Running a grant on every worker of a Citus cluster, for grant_access
-- and grant_webhook (admin/).

-- On the coordinator of a Citus cluster, run a grant on every worker too:
-- queries reach the workers as the role that runs them, and a worker
-- checks its own privileges on cadence's schema and functions (Citus
-- carries grants on tables to their shards itself).  On a worker the
-- grant is that node's alone; without Citus it does nothing.
CREATE OR REPLACE FUNCTION cadence.grant_on_workers(command text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_group integer;
	v_failed text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
		RETURN;
	END IF;
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO v_group;
	IF v_group <> 0 THEN
		PERFORM set_config('citus.enable_ddl_propagation', 'off', true);
		RETURN;
	END IF;
	EXECUTE 'SELECT string_agg(format(''%s:%s: %s'', nodename, nodeport, result), ''; '')
			   FROM run_command_on_workers($1) WHERE NOT success'
		INTO v_failed USING command;
	IF v_failed IS NOT NULL THEN
		RAISE EXCEPTION 'could not grant on every worker: %', v_failed
			USING ERRCODE = '55000',
				  HINT = 'Every worker needs the cadence extension and the role.';
	END IF;
END
$$;
