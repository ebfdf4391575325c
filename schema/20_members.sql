-- Tenant membership.  A DBA or a service role inserts rows; the ids are
-- whatever the application uses (UUID strings in Supabase).

CREATE TABLE cadence.members (
	tenant_id	text COLLATE "C" NOT NULL,
	user_id		text COLLATE "C" NOT NULL,
	role		text NOT NULL DEFAULT 'member'
				CHECK (role IN ('owner', 'admin', 'member')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, user_id)
);
COMMENT ON TABLE cadence.members IS
	'Who belongs to a tenant and with which role: owner and admin may change any cadence, member only their own';

-- Whether the calling user (current_user_id) is listed in a tenant.  It
-- reads the table as its owner: the members policies themselves ask who
-- the caller is.
CREATE FUNCTION cadence.is_member(tenant_id text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM cadence.members m
					WHERE m.tenant_id = is_member.tenant_id
					  AND m.user_id = cadence.current_user_id())
$$;
COMMENT ON FUNCTION cadence.is_member(text) IS
	'Whether the calling user is a member of the tenant';

-- The tenant a role acting for the caller may use: the one the caller
-- claims, when the caller is a member of it or the role bypasses
-- row-level security (a superuser, Supabase's service_role, a runner); a
-- claim alone is nothing.
CREATE FUNCTION cadence.tenant_for(role name) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT t FROM cadence.claimed_tenant() AS t
	 WHERE (SELECT r.rolsuper OR r.rolbypassrls FROM pg_catalog.pg_roles r WHERE r.rolname = role)
		OR cadence.is_member(t)
$$;
COMMENT ON FUNCTION cadence.tenant_for(name) IS
	'The claimed tenant when the caller is a member of it or role bypasses row-level security, else NULL';

CREATE FUNCTION cadence.current_tenant() RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT cadence.tenant_for(current_user)
$$;
COMMENT ON FUNCTION cadence.current_tenant() IS
	'Tenant of the caller: the claimed one (JWT claim tenant_id, else the setting cadence.tenant_id) when the caller is a member of it or bypasses row-level security; NULL otherwise';

CREATE FUNCTION cadence.current_member_role() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT m.role FROM cadence.members m
	 WHERE m.tenant_id = cadence.current_tenant()
	   AND m.user_id = cadence.current_user_id()
$$;
COMMENT ON FUNCTION cadence.current_member_role() IS
	'Role of the caller in the caller''s tenant (owner, admin, member), or NULL for a non-member';
