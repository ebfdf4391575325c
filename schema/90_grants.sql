-- Privileges.  Nothing is granted to PUBLIC: a DBA names the roles that
-- may use cadence with grant_access() (for Supabase: 'authenticated').

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA cadence FROM PUBLIC;

CREATE FUNCTION cadence.grant_access(role regrole) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t text;
BEGIN
	EXECUTE format('GRANT USAGE ON SCHEMA cadence TO %s', role);
	EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA cadence TO %s', role);
	EXECUTE format('REVOKE EXECUTE ON FUNCTION cadence.grant_access(regrole) FROM %s', role);
	EXECUTE format('REVOKE EXECUTE ON FUNCTION cadence.grant_webhook(regrole) FROM %s', role);
	-- Sending reads provider credentials: it is for the worker, pg_cron and
	-- the database owner, not for application roles.
	EXECUTE format('REVOKE EXECUTE ON FUNCTION cadence.run_due_actions(integer, timestamptz, text) FROM %s', role);
	FOREACH t IN ARRAY ARRAY['members', 'cadences', 'cadence_days',
							 'cadence_actions', 'contacts', 'suppressions',
							 'holidays', 'templates', 'runs', 'scheduled_actions',
							 'tasks', 'variant_winners'] LOOP
		EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON cadence.%I TO %s', t, role);
	END LOOP;
	-- The runners' counters are theirs to change; ingest_webhook, which runs
	-- as its caller, adds engagement to the step counters.
	EXECUTE format('GRANT SELECT ON cadence.provider_slots, cadence.daily_sends TO %s', role);
	EXECUTE format('GRANT SELECT, INSERT, UPDATE ON cadence.step_stats TO %s', role);
	-- The audit log and the record of webhooks applied are append-only.
	EXECUTE format('GRANT SELECT, INSERT ON cadence.events, cadence.inbound_events TO %s', role);
	-- Every provider column but the credentials.
	EXECUTE format('GRANT SELECT (tenant_id, id, channel, kind, base_url, settings,
								  rate_per_second, max_concurrency, is_default,
								  created_at),
						  INSERT, UPDATE, DELETE ON cadence.providers TO %s', role);
END
$$;
COMMENT ON FUNCTION cadence.grant_access(regrole) IS
	'Let a role use cadence: schema, functions and tables, subject to row-level security; provider credentials stay hidden';
REVOKE ALL ON FUNCTION cadence.grant_access(regrole) FROM PUBLIC;

-- pg_dump keeps the user data held in extension tables (one call per
-- command: each call updates the pg_extension row).
DO $$
DECLARE
	rel text;
BEGIN
	FOREACH rel IN ARRAY ARRAY['members', 'cadences', 'cadence_days',
							   'cadence_actions', 'contacts', 'suppressions',
							   'holidays', 'templates', 'runs', 'scheduled_actions',
							   'events', 'tasks', 'providers', 'provider_slots',
							   'daily_sends', 'inbound_events', 'step_stats',
							   'variant_winners', 'runs_id_seq',
							   'scheduled_actions_id_seq', 'events_id_seq',
							   'tasks_id_seq'] LOOP
		PERFORM pg_catalog.pg_extension_config_dump('cadence.' || rel, '');
	END LOOP;
END
$$;
