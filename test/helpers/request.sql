-- pg_temp.request_as(tenant, user): act as a PostgREST request by user,
-- whose JWT names tenant under app_metadata, for the rest of the
-- transaction (or until the next call).
CREATE FUNCTION pg_temp.request_as(tenant text, usr text) RETURNS void
LANGUAGE sql AS $$
	SELECT set_config('request.jwt.claims',
					  json_build_object('sub', usr, 'role', 'authenticated',
										'app_metadata', json_build_object('tenant_id', tenant))::text,
					  true)
$$;
