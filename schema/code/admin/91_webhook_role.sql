-- The webhook endpoint's role.  A provider's webhook comes from no user:
-- the endpoint that takes it (a Supabase edge function, an API route, a
-- small server) calls ingest_webhook without a tenant, and ingest_webhook
-- then routes each event by what it names and takes it only when the
-- secret of the account concerned checks it.  Such calls are taken only
-- from roles holding cadence_webhook, which a DBA gives to the endpoint's
-- role and to no application role.  Installing creates no role: the first
-- grant_webhook() creates it (NOLOGIN, cluster-wide like every role).

CREATE OR REPLACE FUNCTION cadence.grant_webhook(role regrole) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'cadence_webhook') THEN
		CREATE ROLE cadence_webhook NOLOGIN;
	END IF;
	GRANT USAGE ON SCHEMA cadence TO cadence_webhook;
	GRANT EXECUTE ON FUNCTION cadence.ingest_webhook(text, jsonb, jsonb, text, timestamptz) TO cadence_webhook;
	IF role::text <> 'cadence_webhook' THEN
		EXECUTE format('GRANT cadence_webhook TO %s', role);
	END IF;
END
$$;
COMMENT ON FUNCTION cadence.grant_webhook(regrole) IS
	'Let a role call ingest_webhook without a tenant (the webhook endpoint''s role): creates the role cadence_webhook when missing, gives it ingest_webhook, and grants it to role';
