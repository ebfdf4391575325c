-- Dispatch for a DBA: the runner any session with the right (or pg_cron)
-- can call, and the background worker's status.  The worker itself is C
-- (src/worker/bgworker.c) and needs no SQL.

CREATE OR REPLACE FUNCTION cadence.run_due_actions("limit" integer DEFAULT 50,
										as_of timestamptz DEFAULT now(),
										tenant_id text DEFAULT NULL)
RETURNS jsonb
LANGUAGE C VOLATILE
-- Its statements go from arrays of keys to rows by key: see the planning
-- note in src/dispatch/claim.c.
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_mergejoin = off
-- Names in its statements resolve in pg_catalog, never in a schema of the
-- caller's path (pg_cron's superuser) that another role may write.
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_run_due_actions';
COMMENT ON FUNCTION cadence.run_due_actions(integer, timestamptz, text) IS
	'Resume the paused runs whose time has come, send up to limit actions due at as_of (of one tenant, or of all) and record what happened: {"claimed", "sent", "skipped", "failed", "retried", "moved", "pendingManual", "executed", "resumed"}; safe in several sessions and beside the background worker. For pg_cron: SELECT cadence.run_due_actions(500)';

CREATE OR REPLACE FUNCTION cadence.worker_status() RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT to_jsonb(s) || jsonb_build_object('next_due_at',
		(SELECT min(a.due_at) FROM cadence.scheduled_actions a WHERE a.status = 'scheduled'))
		|| jsonb_build_object('next_resume_at',
		(SELECT min(r.resume_at) FROM cadence.runs r
		  WHERE r.status = 'paused' AND r.resume_at IS NOT NULL))
	  FROM cadence.worker_state() AS s
$$;
COMMENT ON FUNCTION cadence.worker_status() IS
	'Whether the background dispatchers run (their pids), the last claim, requests in flight, sent/failed/retried/skipped/moved/executed counters, and the next due time of scheduled work or of a paused run that resumes';
