-- The planner and the run state machine (src/runs/enroll_sql.c,
-- src/runs/sql.c).
-- API functions: they run as the extension's owner and name the caller's
-- tenant (cadence.require_tenant) in every statement; any member of the
-- tenant may enroll leads and move their runs.  Their search_path is
-- pinned: the statements they run resolve names in pg_catalog (and
-- cadence, which they name), never in a schema of the caller's path that
-- another role may write.

CREATE OR REPLACE FUNCTION cadence.plan_runs(cadence_id text, lead_ids text[],
								  trigger_at timestamptz DEFAULT now(),
								  options jsonb DEFAULT '{}')
RETURNS TABLE (lead_id text, outcome text, run_id bigint, reason text)
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- A whole list is costed high enough to be compiled, which costs more than
-- it saves in statements that run once per call.
SET jit = off
AS 'MODULE_PATHNAME', 'cadence_plan_runs';
COMMENT ON FUNCTION cadence.plan_runs(text, text[], timestamptz, jsonb) IS
	'Enroll a list of leads (an array, or ARRAY(SELECT ...)) in an active cadence in one call: one row per lead, enrolled, already_enrolled (with the live run) or refused (with why). options: assignedTo, metadata, startAtStep';

CREATE OR REPLACE FUNCTION cadence.plan_run_for_lead(cadence_id text, lead_id text,
										  trigger_at timestamptz DEFAULT now(),
										  options jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_plan_run_for_lead';
COMMENT ON FUNCTION cadence.plan_run_for_lead(text, text, timestamptz, jsonb) IS
	'Enroll one lead in an active cadence and plan all its actions; returns the run id, the live run''s id when the lead is already enrolled';

CREATE OR REPLACE FUNCTION cadence.preview_schedule(cadence_id text, lead_id text DEFAULT NULL,
										 as_of timestamptz DEFAULT now())
RETURNS TABLE (step_number integer, day_number integer, action_id text,
			   type text, due_at timestamptz, local_time timestamp,
			   timezone text, reason text)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_preview_schedule';
COMMENT ON FUNCTION cadence.preview_schedule(text, text, timestamptz) IS
	'The timeline a run of the cadence started at as_of would get (in the lead''s zone in recipient time, its quiet hours in the lead''s zone), with the reason where a time moved (weekend, holiday, outside_business_hours, dst_gap, quiet_hours, daily_cap, no_send_window); writes nothing';

CREATE OR REPLACE FUNCTION cadence.advance_to_next_step(run_id bigint,
											 happened_at timestamptz DEFAULT now(),
											 outcome text DEFAULT NULL)
RETURNS jsonb
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_advance_to_next_step';
COMMENT ON FUNCTION cadence.advance_to_next_step(bigint, timestamptz, text) IS
	'The run''s current step is done (at happened_at): re-plan what follows from then, or complete the run after its last step';

CREATE OR REPLACE FUNCTION cadence.complete_manual_step(run_id bigint, step_number integer,
											 notes text DEFAULT NULL,
											 outcome text DEFAULT NULL,
											 completed_at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_complete_manual_step';
COMMENT ON FUNCTION cadence.complete_manual_step(bigint, integer, text, text, timestamptz) IS
	'A person did the run''s current manual step (call, manual email, task): record notes and outcome and go on';

CREATE OR REPLACE FUNCTION cadence.pause_run(run_id bigint, resume_at timestamptz DEFAULT NULL,
								  reason text DEFAULT NULL, at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_pause_run';
COMMENT ON FUNCTION cadence.pause_run(bigint, timestamptz, text, timestamptz) IS
	'Pause an active run at the instant at: nothing of it is dispatched until it resumes, by resume_run or, when resume_at is given, by a runner at that time';

CREATE OR REPLACE FUNCTION cadence.resume_run(run_id bigint, resume_at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_resume_run';
COMMENT ON FUNCTION cadence.resume_run(bigint, timestamptz) IS
	'Resume a paused run: the step it waits on keeps the open days and the wall time it still had to wait when it paused, and what follows is planned from it';

CREATE OR REPLACE FUNCTION cadence.cancel_run(run_id bigint, reason text DEFAULT NULL,
								   at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_cancel_run';
COMMENT ON FUNCTION cadence.cancel_run(bigint, text, timestamptz) IS
	'End a run at the instant at; its open actions and tasks are cancelled';

CREATE OR REPLACE FUNCTION cadence.exit_run(run_id bigint, status text, reason text DEFAULT NULL,
								 at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_exit_run';
COMMENT ON FUNCTION cadence.exit_run(bigint, text, text, timestamptz) IS
	'End an active or paused run at the instant at with an outcome (replied, meeting_booked, bounced, unsubscribed, completed, failed, cancelled) and a reason; its open actions and tasks are cancelled';

CREATE OR REPLACE FUNCTION cadence.skip_to_step(run_id bigint, step_number integer,
									 at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_skip_to_step';
COMMENT ON FUNCTION cadence.skip_to_step(bigint, integer, timestamptz) IS
	'Skip a run forward: open steps before step_number are skipped, that step is due at at in its send window, the rest follow by their rules from it';
