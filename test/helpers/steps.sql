-- Helpers for tests that send one step at a time, for the session's tenant
-- (cadence.tenant_id), all at the runner's clock 2026-03-10 16:00Z:
--
--   pg_temp.one_step_body(id, step, settings)
--                                       the body of an active cadence of that
--                                       one step, due at once
--   pg_temp.one_step(id, step, leads)   that cadence saved, the leads enrolled
--   pg_temp.run()                       one runner pass for the tenant
--   pg_temp.outcomes(id)                "status/attempts: last_error" of each
--                                       action of the cadence, by lead

CREATE FUNCTION pg_temp.one_step_body(id text, step jsonb, settings jsonb DEFAULT '{}')
RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('id', id, 'name', id, 'timezone', 'UTC', 'isActive', true,
		'settings', settings, 'days', jsonb_build_array(jsonb_build_object('dayNumber', 1,
			'actions', jsonb_build_array(step || '{"scheduleRule": {"kind": "immediately"}}'))))
$$;

CREATE FUNCTION pg_temp.one_step(id text, step jsonb, leads text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM cadence.upsert_cadence(pg_temp.one_step_body(id, step));
	PERFORM cadence.plan_runs(id, leads, '2026-03-10 16:00Z');
END
$$;

CREATE FUNCTION pg_temp.run() RETURNS jsonb LANGUAGE sql AS $$
	SELECT cadence.run_due_actions(50, '2026-03-10 16:00Z', cadence.current_tenant())
$$;

CREATE FUNCTION pg_temp.outcomes(cid text) RETURNS text[] LANGUAGE sql AS $$
	SELECT array_agg(a.status || '/' || a.attempts || ': ' || coalesce(a.last_error, '-')
					 ORDER BY r.lead_id)
	  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
	 WHERE r.tenant_id = cadence.current_tenant() AND r.cadence_id = cid
$$;
