-- Row-level security: a session sees only its tenant's rows, and only a
-- tenant's owners and admins, or the cadence's own owner, may change a
-- cadence.  Policies call the identity functions through a sub-select so
-- they are evaluated once per statement, not once per row.

CREATE FUNCTION cadence.can_write_cadence(p_tenant_id text, p_owner_id text)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT (SELECT rolsuper OR rolbypassrls FROM pg_catalog.pg_roles
			 WHERE rolname = current_user)
		OR (p_tenant_id = cadence.current_tenant()
			AND (cadence.current_member_role() IN ('owner', 'admin')
				 OR (cadence.current_member_role() IS NOT NULL
					 AND p_owner_id = cadence.current_user_id())))
$$;
COMMENT ON FUNCTION cadence.can_write_cadence(text, text) IS
	'True when the caller may change a cadence of this tenant owned by this user: tenant owner or admin, the cadence''s owner, or a role that bypasses row-level security (a DBA, Supabase''s service_role)';

ALTER TABLE cadence.members ENABLE ROW LEVEL SECURITY;
CREATE POLICY members_read ON cadence.members FOR SELECT
	USING (tenant_id = (SELECT cadence.current_tenant()));
CREATE POLICY members_admin ON cadence.members FOR ALL
	USING (tenant_id = (SELECT cadence.current_tenant())
		   AND (SELECT cadence.current_member_role()) IN ('owner', 'admin'))
	WITH CHECK (tenant_id = (SELECT cadence.current_tenant())
				AND (SELECT cadence.current_member_role()) IN ('owner', 'admin'));

ALTER TABLE cadence.cadences ENABLE ROW LEVEL SECURITY;
CREATE POLICY cadences_read ON cadence.cadences FOR SELECT
	USING (tenant_id = (SELECT cadence.current_tenant()));
CREATE POLICY cadences_create ON cadence.cadences FOR INSERT
	WITH CHECK (cadence.can_write_cadence(tenant_id, owner_id));
CREATE POLICY cadences_change ON cadence.cadences FOR UPDATE
	USING (cadence.can_write_cadence(tenant_id, owner_id))
	WITH CHECK (cadence.can_write_cadence(tenant_id, owner_id));
CREATE POLICY cadences_remove ON cadence.cadences FOR DELETE
	USING (cadence.can_write_cadence(tenant_id, owner_id));

-- Days, actions and declared A/B winners follow the write rights of their
-- cadence.
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['cadence_days', 'cadence_actions', 'variant_winners'] LOOP
		EXECUTE format('ALTER TABLE cadence.%I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format($p$
			CREATE POLICY %1$s_read ON cadence.%1$I FOR SELECT
				USING (tenant_id = (SELECT cadence.current_tenant()))$p$, t);
		EXECUTE format($p$
			CREATE POLICY %1$s_write ON cadence.%1$I FOR ALL
				USING (EXISTS (SELECT 1 FROM cadence.cadences c
							   WHERE c.tenant_id = %1$I.tenant_id
								 AND c.id = %1$I.cadence_id
								 AND cadence.can_write_cadence(c.tenant_id, c.owner_id)))
				WITH CHECK (EXISTS (SELECT 1 FROM cadence.cadences c
									WHERE c.tenant_id = %1$I.tenant_id
									  AND c.id = %1$I.cadence_id
									  AND cadence.can_write_cadence(c.tenant_id, c.owner_id)))$p$, t);
	END LOOP;
END
$$;

-- Leads, templates, runs and their history, what came back, and the
-- runners' shared counters: any member of the tenant.
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['contacts', 'suppressions', 'holidays', 'templates',
							 'runs', 'scheduled_actions', 'events', 'tasks',
							 'provider_slots', 'daily_sends', 'inbound_events',
							 'step_stats'] LOOP
		EXECUTE format('ALTER TABLE cadence.%I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format($p$
			CREATE POLICY %1$s_tenant ON cadence.%1$I FOR ALL
				USING (tenant_id = (SELECT cadence.current_tenant()))
				WITH CHECK (tenant_id = (SELECT cadence.current_tenant()))$p$, t);
	END LOOP;
END
$$;

-- Provider accounts: readable by the tenant, changed by owners and admins.
ALTER TABLE cadence.providers ENABLE ROW LEVEL SECURITY;
CREATE POLICY providers_read ON cadence.providers FOR SELECT
	USING (tenant_id = (SELECT cadence.current_tenant()));
CREATE POLICY providers_admin ON cadence.providers FOR ALL
	USING (tenant_id = (SELECT cadence.current_tenant())
		   AND (SELECT cadence.current_member_role()) IN ('owner', 'admin'))
	WITH CHECK (tenant_id = (SELECT cadence.current_tenant())
				AND (SELECT cadence.current_member_role()) IN ('owner', 'admin'));
