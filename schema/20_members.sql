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
