-- Dispatch: the runner any session (or pg_cron) can call, the background
-- worker's status, and a way to try a template.  The worker itself is C
-- (src/worker.c) and needs no SQL.

CREATE FUNCTION cadence.run_due_actions("limit" integer DEFAULT 50,
										as_of timestamptz DEFAULT now(),
										tenant_id text DEFAULT NULL)
RETURNS jsonb
LANGUAGE C VOLATILE
-- Its statements go from arrays of keys to rows by key: see the planning
-- note in src/dispatch_claim.c.
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_mergejoin = off
AS 'MODULE_PATHNAME', 'cadence_run_due_actions';
COMMENT ON FUNCTION cadence.run_due_actions(integer, timestamptz, text) IS
	'Send up to limit actions due at as_of (of one tenant, or of all) and record what happened: {"claimed", "sent", "skipped", "failed", "retried", "moved", "pendingManual"}; safe in several sessions and beside the background worker. For pg_cron: SELECT cadence.run_due_actions(500)';

CREATE FUNCTION cadence.worker_state(
	OUT running boolean, OUT preloaded boolean, OUT database text, OUT pids integer[],
	OUT started_at timestamptz, OUT last_claim_at timestamptz, OUT in_flight integer,
	OUT claimed bigint, OUT sent bigint, OUT failed bigint, OUT retried bigint,
	OUT skipped bigint, OUT moved bigint)
RETURNS record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'cadence_worker_status';
COMMENT ON FUNCTION cadence.worker_state() IS
	'The background dispatchers'' shared state and the counters of every runner since the server started';

CREATE FUNCTION cadence.worker_status() RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT to_jsonb(s) || jsonb_build_object('next_due_at',
		(SELECT min(a.due_at) FROM cadence.scheduled_actions a WHERE a.status = 'scheduled'))
	  FROM cadence.worker_state() AS s
$$;
COMMENT ON FUNCTION cadence.worker_status() IS
	'Whether the background dispatchers run (their pids), the last claim, requests in flight, sent/failed/retried/skipped/moved counters, and the next due time of scheduled work';

CREATE FUNCTION cadence.render_template(template text, vars jsonb DEFAULT '{}',
										html boolean DEFAULT false)
RETURNS text
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_render_template';
COMMENT ON FUNCTION cadence.render_template(text, jsonb, boolean) IS
	'A message template filled from vars the way the runner fills it: {{name}}, {{name|fallback}}, dotted paths, values HTML-escaped when html; 22023 naming a variable with no value and no fallback';
