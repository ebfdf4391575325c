-- The trigger an application attaches to its lead table to enroll a lead
-- when it gets an owner, and the events published with pg_notify; the
-- enrollment functions an application calls are in api/88_triggers.sql.

-- Enroll a lead of tenant_id in every active cadence whose trigger is of
-- trigger_type and matches value: lead_assigned with
-- config.assignedTo equal to value (the new owner) or absent; stage_changed
-- with config.stage equal to value (the new stage) or absent.  The run's
-- assignee is the new owner for lead_assigned.  Returns one
-- {cadenceId, runId, outcome, reason?} per cadence.
CREATE OR REPLACE FUNCTION cadence.enroll_on_trigger_in(tenant_id text, lead_id text,
											 trigger_type text, value text, at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_key text := CASE trigger_type WHEN 'lead_assigned' THEN 'assignedTo'
									WHEN 'stage_changed' THEN 'stage' END;
	v_cadence text;
	v_result jsonb := '[]';
BEGIN
	IF v_key IS NULL THEN
		RAISE EXCEPTION 'unknown enrollment trigger "%"', trigger_type
			USING ERRCODE = '22023', HINT = 'Triggers that enroll on an event: lead_assigned, stage_changed.';
	END IF;
	FOR v_cadence IN
		SELECT c.id FROM cadence.cadences c
		 WHERE c.tenant_id = enroll_on_trigger_in.tenant_id AND c.status = 'active' AND c.deleted_at IS NULL
		   AND c.trigger ->> 'type' = trigger_type
		   AND (c.trigger -> 'config' ->> v_key IS NULL OR c.trigger -> 'config' ->> v_key = value)
		 ORDER BY c.id
	LOOP
		SELECT v_result || jsonb_agg(jsonb_strip_nulls(jsonb_build_object('cadenceId', v_cadence,
				   'runId', p.run_id, 'outcome', p.outcome, 'reason', p.reason)))
		  INTO v_result
		  FROM cadence.plan_runs_in(enroll_on_trigger_in.tenant_id, v_cadence, ARRAY[lead_id], at,
				 CASE WHEN trigger_type = 'lead_assigned'
					  THEN jsonb_build_object('assignedTo', value,
											  'metadata', jsonb_build_object('trigger', trigger_type))
					  ELSE jsonb_build_object('metadata', jsonb_build_object('trigger', trigger_type))
				 END) AS p;
	END LOOP;
	RETURN v_result;
END
$$;
COMMENT ON FUNCTION cadence.enroll_on_trigger_in(text, text, text, text, timestamptz) IS
	'Internal: enroll_on_trigger for a lead of the tenant named';

-- A row trigger for the application's lead table (or cadence.contacts):
-- when a lead gets an owner, on INSERT or when the owner changes, it is
-- enrolled in the cadences triggered by lead_assigned.  Arguments: the
-- lead id column (default id), the owner column (default owner_id), and
-- optionally the tenant column (else the session's tenant; a tenant the
-- session's user is a member of, unless its role bypasses row-level
-- security).  It runs as the extension's owner.  The lead must
-- be in cadence.contacts by then (mirror it first, or attach this to
-- cadence.contacts itself):
--   CREATE TRIGGER leads_assigned AFTER INSERT OR UPDATE OF owner_id
--     ON cadence.contacts FOR EACH ROW
--     EXECUTE FUNCTION cadence.lead_assigned_trigger('id', 'owner_id', 'tenant_id');
CREATE OR REPLACE FUNCTION cadence.lead_assigned_trigger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_new jsonb := to_jsonb(NEW);
	v_owner_col text := coalesce(TG_ARGV[1], 'owner_id');
	v_owner text := v_new ->> v_owner_col;
BEGIN
	IF v_owner IS NULL
	   OR (TG_OP = 'UPDATE' AND v_owner IS NOT DISTINCT FROM to_jsonb(OLD) ->> v_owner_col) THEN
		RETURN NULL;
	END IF;
	PERFORM cadence.enroll_on_trigger_in(
		CASE WHEN TG_NARGS > 2 THEN cadence.require_member_of(v_new ->> TG_ARGV[2])
			 ELSE cadence.require_tenant() END,
		v_new ->> coalesce(TG_ARGV[0], 'id'), 'lead_assigned', v_owner, now());
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
-- SET cadence.notify = off turns them off (for a bulk load, say).  With
-- cadence preloaded, nothing is published on a channel no session listens
-- on (src/base/listeners.c).
-- The engine publishes them as it writes them (src/base/publish.c).
CREATE OR REPLACE FUNCTION cadence.publish_event(type text, id bigint, tenant_id text,
												 run_id bigint, action_id bigint,
												 cadence_id text, lead_id text,
												 at timestamptz, payload jsonb)
RETURNS boolean
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'cadence_publish_event';
COMMENT ON FUNCTION cadence.publish_event(text, bigint, text, bigint, bigint, text, text, timestamptz, jsonb) IS
	'Publish one run or step event with pg_notify on the channels listeners subscribe to, unless cadence.notify is off or (cadence preloaded) nobody listens on them; returns whether it did; called by the engine''s statements that write events';
