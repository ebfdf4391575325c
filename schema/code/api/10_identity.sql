-- Who is calling (src/base/identity.c).  PostgREST puts the verified JWT in
-- request.jwt.claims; other applications SET cadence.tenant_id /
-- cadence.user_id.  The claimed tenant is the caller's only when the user
-- is a member of it (cadence.members), or when the session's role bypasses
-- row-level security (a DBA, Supabase's service_role, the runners).
-- Everything that decides visibility or write rights goes through these
-- functions; the policies call current_tenant() as a plain STABLE function
-- (no sub-select), which is what Citus accepts on distributed tables.

CREATE OR REPLACE FUNCTION cadence.current_tenant() RETURNS text
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_current_tenant';
COMMENT ON FUNCTION cadence.current_tenant() IS
	'Tenant of the caller: JWT claim tenant_id (top level or under app_metadata), else the setting cadence.tenant_id; NULL unless the caller is a member of it or its role bypasses row-level security';

CREATE OR REPLACE FUNCTION cadence.current_user_id() RETURNS text
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_current_user_id';
COMMENT ON FUNCTION cadence.current_user_id() IS
	'User of the caller: JWT claim sub, else the setting cadence.user_id';

CREATE OR REPLACE FUNCTION cadence.current_member_role() RETURNS text
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_current_member_role';
COMMENT ON FUNCTION cadence.current_member_role() IS
	'Role of the caller in its tenant (owner, admin, member), or NULL for a caller that is not a member';
