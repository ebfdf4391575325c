-- What a DBA adds beside cadence, in each database the upgrade tests
-- compare: an application role given access with grant_access() (roles
-- belong to the cluster: made once), and a trigger on cadence's own
-- contacts table (test/upgrade/trigger.sql).
\set ON_ERROR_STOP 1
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'crm_app') THEN
		CREATE ROLE crm_app;
	END IF;
END
$$;
SELECT cadence.grant_access('crm_app');
\i test/upgrade/trigger.sql
