-- Privileges.  Nothing is granted to PUBLIC: a DBA names the roles that
-- may use cadence with grant_access() (for Supabase: 'authenticated').
-- What such a role gets is listed here, once, and in the README's
-- "Security model" (test/pgtap/20_access_attacks.sql compares the two):
--   EXECUTE on the API functions below, on nothing else: every one is an
--     RPC endpoint for every user of the application;
--   SELECT on every table, through row-level security, but not on the
--     providers' credentials;
--   INSERT, UPDATE, DELETE on cadence.contacts (see schema/code/internal/30_security.sql).
-- The internals (validation, the runners' SQL, webhook parsing, plan_run_in)
-- stay the extension owner's; the API functions that need them run as
-- that owner (SECURITY DEFINER) and check their caller themselves.
-- PUBLIC may execute none of cadence's functions (schema/code/internal/95_extension.sql).

CREATE OR REPLACE FUNCTION cadence.grant_access(role regrole) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	f text;
BEGIN
	PERFORM cadence.grant_on_workers(format('SELECT cadence.grant_access(%L)', role));
	-- From nothing, so that running it again (after an upgrade, say) also
	-- takes away what is no longer granted.
	EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA cadence FROM %s', role);
	EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA cadence FROM %s', role);
	EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA cadence FROM %s', role);
	EXECUTE format('GRANT USAGE ON SCHEMA cadence TO %s', role);
	FOREACH f IN ARRAY ARRAY[
		-- who is calling
		'current_tenant', 'current_user_id', 'current_member_role',
		-- cadences
		'list_cadences', 'get_cadence', 'upsert_cadence', 'activate', 'deactivate',
		'delete_cadence', 'duplicate_cadence',
		-- time and templates (pure functions)
		'calculate_next_step_due', 'is_valid_timezone', 'render_template',
		-- runs
		'plan_runs', 'plan_run_for_lead', 'preview_schedule', 'advance_to_next_step',
		'complete_manual_step', 'pause_run', 'resume_run', 'cancel_run', 'exit_run',
		'skip_to_step', 'enroll_on_trigger', 'enroll_inactive',
		-- what comes back
		'ingest_webhook',
		-- reports
		'sequence_stats', 'list_enrollments', 'get_enrollment', 'list_tasks',
		'recount_stats', 'declare_winner',
		-- the tenant's members, accounts, do-not-contact list, calendars, templates
		'set_member', 'remove_member', 'upsert_provider', 'delete_provider',
		'add_suppression', 'remove_suppression', 'set_holiday', 'remove_holiday',
		'upsert_template', 'delete_template']
	LOOP
		EXECUTE format('GRANT EXECUTE ON FUNCTION cadence.%I TO %s', f, role);
	END LOOP;
	EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA cadence TO %s', role);
	EXECUTE format('REVOKE SELECT ON cadence.providers FROM %s', role);
	EXECUTE format('GRANT SELECT (tenant_id, id, channel, kind, base_url, settings,
								  rate_per_second, max_concurrency, is_default,
								  created_at) ON cadence.providers TO %s', role);
	EXECUTE format('GRANT INSERT, UPDATE, DELETE ON cadence.contacts TO %s', role);
END
$$;
COMMENT ON FUNCTION cadence.grant_access(regrole) IS
	'Let a role use cadence: the API functions, every table through row-level security (provider credentials hidden), and writes to contacts; takes away anything else it was granted on cadence''s objects';
