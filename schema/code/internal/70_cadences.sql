-- What the cadence API (api/70_cadences.sql) is built of: the cadence's
-- JSON shapes, storing its days, the audit log of its changes, its status
-- rule (cadence.next_status), and the checks a write passes.

-- The status after a request: is_active true activates, false deactivates,
-- NULL leaves the status alone; status NULL is a cadence being created.
CREATE OR REPLACE FUNCTION cadence.next_status(status text, is_active boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN is_active THEN 'active'
		WHEN status IS NULL THEN 'draft'
		WHEN NOT is_active AND status = 'active' THEN 'paused'
		ELSE status
	END
$$;

-- The days and actions of one version of a cadence, in get_cadence's
-- shape: days by dayNumber, actions by position, optional members omitted.
CREATE OR REPLACE FUNCTION cadence.days_json(p_tenant_id text, p_cadence_id text, p_version integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT coalesce(jsonb_agg(
				jsonb_build_object('dayNumber', d.day_number, 'actions', (
					SELECT coalesce(jsonb_agg(
							jsonb_build_object('id', a.action_id, 'type', a.type,
											   'scheduleRule', a.schedule_rule,
											   'config', a.config)
							|| cadence.json_opt('name', to_jsonb(a.name))
							|| cadence.json_opt('variants', a.variants)
							|| cadence.json_opt('condition', a.condition)
							ORDER BY a.position), '[]')
					  FROM cadence.cadence_actions a
					 WHERE a.tenant_id = d.tenant_id
					   AND a.cadence_id = d.cadence_id
					   AND a.version = d.version
					   AND a.day_number = d.day_number))
				ORDER BY d.day_number), '[]')
		  FROM cadence.cadence_days d
		 WHERE d.tenant_id = p_tenant_id
		   AND d.cadence_id = p_cadence_id
		   AND d.version = p_version);
END
$$;

-- The members a cadence summary and a full cadence share, from the
-- cadence's row as jsonb (to_jsonb(c): the shard of a Citus cluster has a
-- row type of its own, and a function taking cadence.cadences could not
-- be called on it).  Every member is there, null when empty: a client
-- reads description: null, never a missing key.
CREATE OR REPLACE FUNCTION cadence.cadence_head_json(c jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT jsonb_build_object(
			'id', c -> 'id',
			'name', c -> 'name',
			'status', c -> 'status',
			'isActive', c ->> 'status' = 'active',
			'timezone', c -> 'timezone',
			'version', c -> 'version',
			'ownerId', c -> 'owner_id',
			'createdAt', c -> 'created_at',
			'updatedAt', c -> 'updated_at',
			'description', to_jsonb(nullif(c ->> 'description', '')))
$$;

-- A cadence of a tenant as get_cadence returns it (the current version's
-- days and actions), or NULL when there is none or it was deleted.  The
-- one builder behind get_cadence, upsert_cadence and duplicate_cadence.
CREATE OR REPLACE FUNCTION cadence.cadence_json(p_tenant_id text, p_cadence_id text) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cadence cadence.cadences;
BEGIN
	SELECT * INTO v_cadence FROM cadence.cadences c
	 WHERE c.tenant_id = p_tenant_id AND c.id = p_cadence_id AND c.deleted_at IS NULL;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	RETURN cadence.cadence_head_json(to_jsonb(v_cadence))
		|| jsonb_build_object(
			'trigger', v_cadence.trigger,
			'settings', v_cadence.settings,
			'exitConditions', v_cadence.exit_conditions,
			'days', cadence.days_json(p_tenant_id, p_cadence_id, v_cadence.version));
END
$$;

-- Write normalised days (validate_cadence_body's output, or days_json's)
-- as the rows of one version.  Actions are numbered 1.. across the whole
-- version in day and position order (step_number).
CREATE OR REPLACE FUNCTION cadence.store_days(p_tenant_id text, p_cadence_id text, p_version integer,
								   p_days jsonb) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO cadence.cadence_days (tenant_id, cadence_id, version, day_number)
	SELECT p_tenant_id, p_cadence_id, p_version, (d.value ->> 'dayNumber')::int
	  FROM jsonb_array_elements(p_days) AS d;

	INSERT INTO cadence.cadence_actions
		(tenant_id, cadence_id, version, day_number, position, step_number,
		 action_id, name, type, schedule_rule, config, variants, condition)
	SELECT p_tenant_id, p_cadence_id, p_version, (d.value ->> 'dayNumber')::int,
		   a.position,
		   row_number() OVER (ORDER BY (d.value ->> 'dayNumber')::int, a.position),
		   a.value ->> 'id', a.value ->> 'name', a.value ->> 'type',
		   a.value -> 'scheduleRule', a.value -> 'config',
		   a.value -> 'variants', a.value -> 'condition'
	  FROM jsonb_array_elements(p_days) AS d,
		   jsonb_array_elements(d.value -> 'actions') WITH ORDINALITY AS a (value, position);
END
$$;

-- Append a cadence.* event to the audit log, with the acting user.
CREATE OR REPLACE FUNCTION cadence.log_cadence_event(p_tenant_id text, p_cadence_id text, p_type text,
										  p_payload jsonb DEFAULT '{}') RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO cadence.events (tenant_id, cadence_id, type, payload)
	VALUES (p_tenant_id, p_cadence_id, p_type,
			p_payload || cadence.json_opt('userId', to_jsonb(cadence.current_user_id())));
END
$$;

-- Log cadence.activated or cadence.deactivated when a status change is one.
CREATE OR REPLACE FUNCTION cadence.log_status_change(p_tenant_id text, p_cadence_id text,
										  p_from text, p_to text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_to = 'active' AND p_from IS DISTINCT FROM 'active' THEN
		PERFORM cadence.log_cadence_event(p_tenant_id, p_cadence_id, 'cadence.activated',
										  cadence.json_opt('from', to_jsonb(p_from)));
	ELSIF p_from = 'active' AND p_to <> 'active' THEN
		PERFORM cadence.log_cadence_event(p_tenant_id, p_cadence_id, 'cadence.deactivated',
										  jsonb_build_object('to', p_to));
	END IF;
END
$$;

-- Raise 55000 when a cadence would be active without any action.
CREATE OR REPLACE FUNCTION cadence.check_activation(p_cadence_id text, p_status text,
										 p_action_count bigint) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_status = 'active' AND p_action_count = 0 THEN
		RAISE EXCEPTION 'cadence "%" has no actions and cannot be active', p_cadence_id
			USING ERRCODE = '55000',
				  HINT = 'Add at least one action with upsert_cadence, then activate it.';
	END IF;
END
$$;

-- Raise 42501: the caller may not do verb to the cadence, or cannot see it.
CREATE OR REPLACE FUNCTION cadence.raise_write_denied(p_cadence_id text, p_verb text DEFAULT 'change',
										   p_hint text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who text := cadence.current_user_id();
BEGIN
	RAISE EXCEPTION '% may not % cadence "%"',
		CASE WHEN who IS NULL THEN 'a session without a user id'
			 ELSE format('user "%s"', who) END,
		p_verb, p_cadence_id
		USING ERRCODE = '42501',
			  HINT = coalesce(p_hint,
				'Only the cadence''s owner or an owner or admin of the tenant may change it.');
END
$$;

-- Raise 23505 for the id of a deleted cadence, which is never reused.
CREATE OR REPLACE FUNCTION cadence.raise_deleted_id(p_cadence_id text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION 'cadence id "%" belonged to a deleted cadence', p_cadence_id
		USING ERRCODE = '23505',
			  HINT = 'The ids of deleted cadences are not reused; choose another id.';
END
$$;

-- Raise 42501 unless the caller may create a cadence in the tenant: a
-- member of it, or a role that bypasses row-level security.
CREATE OR REPLACE FUNCTION cadence.check_can_create(p_tenant_id text, p_cadence_id text) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT coalesce(cadence.can_write_cadence(p_tenant_id, cadence.current_user_id()), false) THEN
		PERFORM cadence.raise_write_denied(p_cadence_id, 'create',
			format('Only members of tenant "%s" may create cadences in it.', p_tenant_id));
	END IF;
END
$$;

-- The live cadence of the tenant, locked for a change the caller may make;
-- 42501 when it is missing, deleted or the caller may not change it.
CREATE OR REPLACE FUNCTION cadence.lock_cadence_for_write(p_tenant_id text, p_cadence_id text)
RETURNS cadence.cadences
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c cadence.cadences;
BEGIN
	SELECT * INTO c
	  FROM cadence.cadences x
	 WHERE x.tenant_id = p_tenant_id AND x.id = p_cadence_id AND x.deleted_at IS NULL;
	IF NOT FOUND OR NOT coalesce(cadence.can_write_cadence(c.tenant_id, c.owner_id), false) THEN
		PERFORM cadence.raise_write_denied(p_cadence_id);
	END IF;
	-- Lock it; it may have been deleted while we waited.
	SELECT * INTO c
	  FROM cadence.cadences x
	 WHERE x.tenant_id = p_tenant_id AND x.id = p_cadence_id AND x.deleted_at IS NULL
	   FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM cadence.raise_write_denied(p_cadence_id);
	END IF;
	RETURN c;
END
$$;

-- Activate or deactivate a cadence (activate and deactivate).
CREATE OR REPLACE FUNCTION cadence.set_active(p_cadence_id text, p_is_active boolean) RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	c cadence.cadences := cadence.lock_cadence_for_write(v_tenant, p_cadence_id);
	v_status text := cadence.next_status(c.status, p_is_active);
BEGIN
	IF v_status <> c.status THEN
		PERFORM cadence.check_activation(p_cadence_id, v_status,
			(SELECT count(*) FROM cadence.cadence_actions a
			  WHERE a.tenant_id = c.tenant_id AND a.cadence_id = c.id
				AND a.version = c.version));
		UPDATE cadence.cadences x
		   SET status = v_status, updated_at = now()
		 WHERE x.tenant_id = c.tenant_id AND x.id = c.id;
		PERFORM cadence.log_status_change(c.tenant_id, c.id, c.status, v_status);
	END IF;
	RETURN '{"success": true}';
END
$$;

-- The API.
