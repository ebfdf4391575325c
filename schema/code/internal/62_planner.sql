-- The enrollment a run's add_to_campaign step makes for its own run's
-- tenant (src/runs/enroll_sql.c); the API's planner and run state
-- functions are in api/62_planner.sql.

-- Internal: the same for the tenant named, for a run's add_to_campaign
-- step (internal/82_steps.sql), which acts for its own run's tenant.
CREATE OR REPLACE FUNCTION cadence.plan_run_in(tenant_id text, cadence_id text, lead_id text,
									trigger_at timestamptz, options jsonb)
RETURNS bigint
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_plan_run_in';
COMMENT ON FUNCTION cadence.plan_run_in(text, text, text, timestamptz, jsonb) IS
	'Internal: enroll one lead in an active cadence of the tenant named; returns the run id, the live run''s id when the lead is already enrolled';
