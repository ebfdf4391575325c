-- What every install and upgrade script ends with.

-- A new function may be executed by PUBLIC until that is revoked: revoke
-- it from the extension's functions this script has just made, whose
-- privileges are still the default (NULL).  Those an earlier version made
-- keep theirs: a GRANT or REVOKE on them here would also record what
-- grant_access() gave as the extension's initial privileges, which pg_dump
-- leaves out.
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
			  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_proc'::regclass
										 AND d.objid = p.oid AND d.deptype = 'e'
			  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'cadence'
			 WHERE p.proacl IS NULL LOOP
		EXECUTE format('REVOKE ALL ON ROUTINE %s FROM PUBLIC', f);
	END LOOP;
END
$$;

-- pg_dump keeps the user data held in extension tables, and where the
-- sequences stand (one call per command: each call updates the
-- pg_extension row; a call for a relation already listed changes nothing).
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
							   'tasks_id_seq', 'runner_seq'] LOOP
		PERFORM pg_catalog.pg_extension_config_dump('cadence.' || rel, '');
	END LOOP;
END
$$;
