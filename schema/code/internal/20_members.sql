-- What a member's role lets it do (the table is schema/tables/20_members.sql).

-- Raise 42501 unless the caller may act with role p_min in its tenant
-- (member < admin < owner): a member with that role or a higher one, or
-- the engine or a DBA (caller_is_engine).  p_what names the act for the
-- message ('remove suppressions').  Returns the caller's tenant.
CREATE OR REPLACE FUNCTION cadence.require_role(p_min text, p_what text) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	v_ranks text[] := ARRAY['member', 'admin', 'owner'];
BEGIN
	IF NOT cadence.caller_is_engine()
	   AND coalesce(array_position(v_ranks, cadence.current_member_role()), 0)
		   < array_position(v_ranks, p_min) THEN
		RAISE EXCEPTION 'user "%" may not % in tenant "%"', cadence.current_user_id(), p_what,
			v_tenant
			USING ERRCODE = '42501',
				  HINT = format('This needs the %s role%s.', p_min,
								CASE WHEN p_min = 'owner' THEN '' ELSE ' or a higher one' END);
	END IF;
	RETURN v_tenant;
END
$$;
