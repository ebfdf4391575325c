-- Enrollment by what happens to a lead (a cadence's trigger), the
-- inactivity detector, and the events published with pg_notify.

-- Enroll a lead of the caller's tenant in every active cadence whose
-- trigger is of trigger_type and matches value: lead_assigned with
-- config.assignedTo equal to value (the new owner) or absent; stage_changed
-- with config.stage equal to value (the new stage) or absent.  The run's
-- assignee is the new owner for lead_assigned.  Returns one
-- {cadenceId, runId, outcome, reason?} per cadence.
CREATE OR REPLACE FUNCTION cadence.enroll_on_trigger(lead_id text, trigger_type text, value text,
										  at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
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
		 WHERE c.tenant_id = v_tenant AND c.status = 'active' AND c.deleted_at IS NULL
		   AND c.trigger ->> 'type' = trigger_type
		   AND (c.trigger -> 'config' ->> v_key IS NULL OR c.trigger -> 'config' ->> v_key = value)
		 ORDER BY c.id
	LOOP
		SELECT v_result || jsonb_agg(jsonb_strip_nulls(jsonb_build_object('cadenceId', v_cadence,
				   'runId', p.run_id, 'outcome', p.outcome, 'reason', p.reason)))
		  INTO v_result
		  FROM cadence.plan_runs(v_cadence, ARRAY[lead_id], at,
				 CASE WHEN trigger_type = 'lead_assigned'
					  THEN jsonb_build_object('assignedTo', value,
											  'metadata', jsonb_build_object('trigger', trigger_type))
					  ELSE jsonb_build_object('metadata', jsonb_build_object('trigger', trigger_type))
				 END) AS p;
	END LOOP;
	RETURN v_result;
END
$$;
COMMENT ON FUNCTION cadence.enroll_on_trigger(text, text, text, timestamptz) IS
	'Enroll a lead in every active cadence whose trigger matches: lead_assigned (value: the new owner, matched against trigger.config.assignedTo) or stage_changed (value: the new stage, against trigger.config.stage)';

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

-- The inactivity detector: enroll up to limit leads of the
-- caller's tenant with no activity (contacts.last_activity_at, else when
-- they were created) for inactive_days (default: the cadence's
-- trigger.config.inactiveDays), oldest first, that are not in a live run of
-- the cadence and have not been enrolled in it since their last activity,
-- and are not opted out.  As a daily pg_cron job:
--   SELECT cron.schedule('reactivation', '0 9 * * *',
--     $$SET cadence.tenant_id = 'acme'; SELECT cadence.enroll_inactive('reactivation')$$);
CREATE OR REPLACE FUNCTION cadence.enroll_inactive(cadence_id text, inactive_days integer DEFAULT NULL,
										"limit" integer DEFAULT 100, as_of timestamptz DEFAULT now())
RETURNS TABLE (lead_id text, outcome text, run_id bigint, reason text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	v_days int := inactive_days;
BEGIN
	IF v_days IS NULL THEN
		SELECT (c.trigger -> 'config' ->> 'inactiveDays')::int INTO v_days
		  FROM cadence.cadences c WHERE c.tenant_id = v_tenant AND c.id = enroll_inactive.cadence_id;
	END IF;
	IF v_days IS NULL OR v_days < 1 THEN
		RAISE EXCEPTION 'inactive_days must be at least 1, got %', coalesce(v_days::text, 'nothing')
			USING ERRCODE = '22023',
				  HINT = 'Pass inactive_days, or give the cadence a trigger {"type": "inactivity", "config": {"inactiveDays": N}}.';
	END IF;
	IF "limit" < 1 THEN
		RAISE EXCEPTION 'limit must be at least 1, got %', "limit" USING ERRCODE = '22023';
	END IF;
	RETURN QUERY
	SELECT p.lead_id, p.outcome, p.run_id, p.reason
	  FROM cadence.plan_runs(enroll_inactive.cadence_id, ARRAY(
			SELECT c.id FROM cadence.contacts c
			 WHERE c.tenant_id = v_tenant AND NOT c.unsubscribed
			   AND coalesce(c.last_activity_at, c.created_at) < as_of - make_interval(days => v_days)
			   AND NOT EXISTS (SELECT 1 FROM cadence.runs r
								WHERE r.tenant_id = c.tenant_id AND r.lead_id = c.id
								  AND r.cadence_id = enroll_inactive.cadence_id
								  AND (r.status IN ('active', 'paused')
									   OR r.trigger_at >= coalesce(c.last_activity_at, c.created_at)))
			   AND NOT EXISTS (SELECT 1 FROM cadence.suppressions s
								WHERE s.tenant_id = c.tenant_id AND s.channel = 'all'
								  AND s.address IN (lower(c.email), c.phone, c.whatsapp))
			 ORDER BY coalesce(c.last_activity_at, c.created_at), c.id
			 LIMIT "limit"), as_of,
			jsonb_build_object('metadata', jsonb_build_object('trigger', 'inactivity',
														 'inactiveDays', v_days))) AS p;
END
$$;
COMMENT ON FUNCTION cadence.enroll_inactive(text, integer, integer, timestamptz) IS
	'Enroll up to limit leads idle for inactive_days (default the trigger''s inactiveDays) and not enrolled in the cadence since their last activity; for a daily pg_cron job';

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
