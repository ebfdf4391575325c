-- Who is calling.  PostgREST puts the verified JWT in request.jwt.claims;
-- other applications SET cadence.tenant_id / cadence.user_id.  Everything
-- that decides visibility or write rights goes through these functions.

CREATE FUNCTION cadence.jwt_claims() RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN coalesce(current_setting('request.jwt.claims', true), '') = '' THEN '{}'::jsonb
		ELSE current_setting('request.jwt.claims', true)::jsonb
	END
$$;
COMMENT ON FUNCTION cadence.jwt_claims() IS
	'The PostgREST JWT claims of the current request, or {} outside PostgREST';

CREATE FUNCTION cadence.claimed_tenant() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(
		nullif(c ->> 'tenant_id', ''),
		nullif(c -> 'app_metadata' ->> 'tenant_id', ''),
		nullif(current_setting('cadence.tenant_id', true), ''))
	FROM cadence.jwt_claims() AS c
$$;
COMMENT ON FUNCTION cadence.claimed_tenant() IS
	'The tenant the caller names: JWT claim tenant_id (top level or under app_metadata), else the setting cadence.tenant_id; a claim, not yet membership (see current_tenant)';

CREATE FUNCTION cadence.current_user_id() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(
		nullif(c ->> 'sub', ''),
		nullif(current_setting('cadence.user_id', true), ''))
	FROM cadence.jwt_claims() AS c
$$;
COMMENT ON FUNCTION cadence.current_user_id() IS
	'User of the caller: JWT claim sub, else the setting cadence.user_id';

-- The role the caller acts as: the role taken with SET ROLE (PostgREST's
-- SET LOCAL ROLE authenticated), else the login role.  Unlike current_user
-- it stays the caller's inside a SECURITY DEFINER function, which is how
-- ingest_webhook tells who called it.
CREATE FUNCTION cadence.calling_role() RETURNS name
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN current_setting('role') = 'none' THEN session_user
				ELSE current_setting('role') END::name
$$;
COMMENT ON FUNCTION cadence.calling_role() IS
	'The role the session acts as (SET ROLE, else the login role), also inside SECURITY DEFINER functions';

CREATE FUNCTION cadence.require_tenant() RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t text := cadence.current_tenant();
BEGIN
	IF t IS NULL THEN
		RAISE EXCEPTION 'no tenant is set for this session'
			USING ERRCODE = '42501',
				  HINT = 'Send a JWT with a tenant_id claim, or SET cadence.tenant_id, naming a tenant cadence.members lists you in.';
	END IF;
	RETURN t;
END
$$;
COMMENT ON FUNCTION cadence.require_tenant() IS
	'The caller''s tenant, or error 42501 when the session names none it is a member of';
