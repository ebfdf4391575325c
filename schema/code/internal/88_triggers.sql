-- The trigger an application attaches to its lead table to enroll a lead
-- when it gets an owner, and the events published with pg_notify; the
-- enrollment functions an application calls are in api/88_triggers.sql.

-- A row trigger for the application's lead table (or cadence.contacts):
-- when a lead gets an owner, on INSERT or when the owner changes, it is
-- enrolled in the cadences triggered by lead_assigned.  Arguments: the
-- lead id column (default id), the owner column (default owner_id), and
-- optionally the tenant column (else the session's tenant).  The lead must
-- be in cadence.contacts by then (mirror it first, or attach this to
-- cadence.contacts itself):
--   CREATE TRIGGER leads_assigned AFTER INSERT OR UPDATE OF owner_id
--     ON cadence.contacts FOR EACH ROW
--     EXECUTE FUNCTION cadence.lead_assigned_trigger('id', 'owner_id', 'tenant_id');
CREATE OR REPLACE FUNCTION cadence.lead_assigned_trigger() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_new jsonb := to_jsonb(NEW);
	v_owner_col text := coalesce(TG_ARGV[1], 'owner_id');
	v_owner text := v_new ->> v_owner_col;
	v_saved text := current_setting('cadence.tenant_id', true);
BEGIN
	IF v_owner IS NULL
	   OR (TG_OP = 'UPDATE' AND v_owner IS NOT DISTINCT FROM to_jsonb(OLD) ->> v_owner_col) THEN
		RETURN NULL;
	END IF;
	IF TG_NARGS > 2 AND cadence.current_tenant() IS DISTINCT FROM v_new ->> TG_ARGV[2] THEN
		PERFORM set_config('cadence.tenant_id', v_new ->> TG_ARGV[2], true);
	END IF;
	PERFORM cadence.enroll_on_trigger(v_new ->> coalesce(TG_ARGV[0], 'id'), 'lead_assigned', v_owner);
	PERFORM set_config('cadence.tenant_id', coalesce(v_saved, ''), true);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION cadence.lead_assigned_trigger() IS
	'Row trigger (AFTER INSERT OR UPDATE) enrolling a lead that gets an owner in the cadences triggered by lead_assigned; arguments: lead id column, owner column, tenant column';

-- Events published for listeners (by their published names), one pg_notify per
-- event, payload {"eventId", "type", "tenantId", "runId", "actionId",
-- "cadenceId", "leadId", "at", "data"} (data: the event's payload, left out
-- past 4,000 bytes; pg_notify takes 8,000):
--   sequence.enrollment.created    run.enrolled
--   sequence.enrollment.completed  run.completed
--   sequence.enrollment.replied    run.exited as replied
--   sequence.enrollment.exited     run.exited, run.cancelled
--   sequence.step.executed         action.sent, action.executed,
--                                  action.completed
--   sequence.step.pending_manual   action.pending_manual
-- SET cadence.notify = off turns them off (for a bulk load, say).
-- The engine publishes them as it writes them (src/base/publish.c).
CREATE OR REPLACE FUNCTION cadence.publish_event(type text, id bigint, tenant_id text,
												 run_id bigint, action_id bigint,
												 cadence_id text, lead_id text,
												 at timestamptz, payload jsonb)
RETURNS boolean
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'cadence_publish_event';
COMMENT ON FUNCTION cadence.publish_event(text, bigint, text, bigint, bigint, text, text, timestamptz, jsonb) IS
	'Publish one run or step event with pg_notify on the channels listeners subscribe to, unless cadence.notify is off; called by the engine''s statements that write events';
