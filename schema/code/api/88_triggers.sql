-- Enrollment by what happens to a lead (a cadence's trigger) and the
-- inactivity detector.

-- Enroll a lead of the caller's tenant in every active cadence whose
-- trigger is of trigger_type and matches value (enroll_on_trigger_in).
CREATE OR REPLACE FUNCTION cadence.enroll_on_trigger(lead_id text, trigger_type text, value text,
										  at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT cadence.enroll_on_trigger_in(cadence.require_tenant(), lead_id, trigger_type, value, at)
$$;
COMMENT ON FUNCTION cadence.enroll_on_trigger(text, text, text, timestamptz) IS
	'Enroll a lead in every active cadence whose trigger matches: lead_assigned (value: the new owner, matched against trigger.config.assignedTo) or stage_changed (value: the new stage, against trigger.config.stage)';

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
