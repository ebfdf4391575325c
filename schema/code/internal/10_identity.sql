-- Who is calling, as the API functions ask it (the functions any caller
-- may call are in api/10_identity.sql): the caller's tenant or an error,
-- whether it may act for a tenant named, whether the caller is the engine
-- or a DBA, and the role it acts as.

CREATE OR REPLACE FUNCTION cadence.require_tenant() RETURNS text
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'cadence_require_tenant';
COMMENT ON FUNCTION cadence.require_tenant() IS
	'The caller''s tenant, or error 42501 when the session names none or is not a member of the one it names';

CREATE OR REPLACE FUNCTION cadence.require_member_of(tenant_id text) RETURNS text
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'cadence_require_member_of';
COMMENT ON FUNCTION cadence.require_member_of(text) IS
	'tenant_id when the caller may act for it (a member, or a role that bypasses row-level security), else error 42501 as require_tenant() gives it';

CREATE OR REPLACE FUNCTION cadence.caller_is_engine() RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_caller_is_engine';
COMMENT ON FUNCTION cadence.caller_is_engine() IS
	'Whether the caller is the engine or a DBA (its role bypasses row-level security) rather than a user: it may do whatever a tenant owner may';

-- The role the caller acts as: the role taken with SET ROLE (PostgREST's
-- SET LOCAL ROLE authenticated), else the login role.  Unlike current_user
-- it stays the caller's inside a SECURITY DEFINER function, which is how
-- ingest_webhook tells who called it.
CREATE OR REPLACE FUNCTION cadence.calling_role() RETURNS name
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN current_setting('role') = 'none' THEN session_user
				ELSE current_setting('role') END::name
$$;
COMMENT ON FUNCTION cadence.calling_role() IS
	'The role the session acts as (SET ROLE, else the login role), also inside SECURITY DEFINER functions';
