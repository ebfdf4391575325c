-- The planner and the run state machine for a tenant named in the first
-- argument rather than the caller's (src/runs/enroll_sql.c,
-- src/runs/sql.c): what the engine calls when it acts for the tenant of a
-- run or of a webhook's event.  The API's planner and run state functions
-- are in api/62_planner.sql.

-- For a run's add_to_campaign step (internal/82_steps.sql), which acts for
-- its own run's tenant.
CREATE OR REPLACE FUNCTION cadence.plan_run_in(tenant_id text, cadence_id text, lead_id text,
									trigger_at timestamptz, options jsonb)
RETURNS bigint
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_plan_run_in';
COMMENT ON FUNCTION cadence.plan_run_in(text, text, text, timestamptz, jsonb) IS
	'Internal: enroll one lead in an active cadence of the tenant named; returns the run id, the live run''s id when the lead is already enrolled';

-- For enrollment by what happens to a lead (enroll_on_trigger_in), which
-- acts for the lead's tenant.
CREATE OR REPLACE FUNCTION cadence.plan_runs_in(tenant_id text, cadence_id text, lead_ids text[],
									 trigger_at timestamptz, options jsonb)
RETURNS TABLE (lead_id text, outcome text, run_id bigint, reason text)
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS 'MODULE_PATHNAME', 'cadence_plan_runs_in';
COMMENT ON FUNCTION cadence.plan_runs_in(text, text, text[], timestamptz, jsonb) IS
	'Internal: enroll a list of leads in an active cadence of the tenant named; one row per lead, as plan_runs';

-- For what a webhook's event does to the runs of its tenant
-- (internal/87_ingest.sql).
CREATE OR REPLACE FUNCTION cadence.pause_run_in(tenant_id text, run_id bigint, resume_at timestamptz,
									 reason text, at timestamptz)
RETURNS jsonb
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_pause_run';
COMMENT ON FUNCTION cadence.pause_run_in(text, bigint, timestamptz, text, timestamptz) IS
	'Internal: pause an active run of the tenant named, as pause_run';

CREATE OR REPLACE FUNCTION cadence.exit_run_in(tenant_id text, run_id bigint, status text,
									reason text, at timestamptz)
RETURNS jsonb
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_exit_run';
COMMENT ON FUNCTION cadence.exit_run_in(text, bigint, text, text, timestamptz) IS
	'Internal: end an active or paused run of the tenant named, as exit_run';
