-- Row-level security and the rule for direct writes.
--
-- Application roles (cadence.grant_access) read every table through the
-- policies below: a session sees the rows of its tenant, and has a tenant
-- only as a member of it (cadence.current_tenant).  They write directly
-- only to cadence.contacts, whose constraints refuse what the runners could
-- not read; everything else they change through the API functions, which
-- validate, check the caller's role and write the audit log.  Those run as
-- the extension's owner (SECURITY DEFINER), so each names the caller's
-- tenant in every statement it runs.
--
-- Each policy is a comparison with a call of a STABLE function, no
-- sub-select: Citus accepts that on distributed tables, an index scan on
-- tenant_id evaluates it once, and a sequential scan pays some 50
-- nanoseconds a row (the membership is looked up once per snapshot, see
-- src/base/identity.c).
--
-- Every install and upgrade script makes the policies below afresh: first
-- it drops those an earlier version made on the extension's tables (a
-- fresh install has none).

DO $$
DECLARE
	p record;
BEGIN
	FOR p IN SELECT pol.polname, pol.polrelid::regclass AS rel FROM pg_catalog.pg_policy pol
			  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_class'::regclass
										 AND d.objid = pol.polrelid AND d.deptype = 'e'
			  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'cadence' LOOP
		EXECUTE format('DROP POLICY %I ON %s', p.polname, p.rel);
	END LOOP;
END
$$;

-- Who may change a cadence of a tenant owned by a user: the tenant's owners
-- and admins, the cadence's own owner, or the engine (a DBA, Supabase's
-- service_role, the runners).
CREATE OR REPLACE FUNCTION cadence.can_write_cadence(p_tenant_id text, p_owner_id text)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT p_tenant_id = cadence.current_tenant()
		AND (cadence.caller_is_engine()
			 OR cadence.current_member_role() IN ('owner', 'admin')
			 OR p_owner_id = cadence.current_user_id())
$$;
COMMENT ON FUNCTION cadence.can_write_cadence(text, text) IS
	'True when the caller may change a cadence of this tenant owned by this user: tenant owner or admin, the cadence''s owner, or a role that bypasses row-level security (a DBA, Supabase''s service_role)';

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['members', 'cadences', 'cadence_days', 'cadence_actions',
							 'variant_winners', 'suppressions', 'holidays',
							 'templates', 'providers', 'runs', 'scheduled_actions', 'events',
							 'tasks', 'provider_slots', 'daily_sends', 'inbound_events',
							 'step_stats'] LOOP
		EXECUTE format('ALTER TABLE cadence.%I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format($p$
			CREATE POLICY %1$s_read ON cadence.%1$I FOR SELECT
				USING (tenant_id = cadence.current_tenant())$p$, t);
	END LOOP;
END
$$;

-- Leads are the one table applications also write directly, within their
-- tenant.
ALTER TABLE cadence.contacts ENABLE ROW LEVEL SECURITY;

CREATE POLICY contacts_tenant ON cadence.contacts FOR ALL
	USING (tenant_id = cadence.current_tenant())
	WITH CHECK (tenant_id = cadence.current_tenant());
