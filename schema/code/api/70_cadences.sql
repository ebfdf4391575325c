-- The cadence contract as SQL functions: JSON in, JSON out,
-- named arguments, so that PostgREST or Supabase RPC can expose them as
-- they are.  They run as the extension's owner (SECURITY DEFINER): each
-- reads and writes only the caller's tenant (cadence.require_tenant), and
-- every write checks cadence.can_write_cadence().
--
--   list_cadences()                          CadenceSummary[]
--   get_cadence(id)                          Cadence
--   upsert_cadence(body)                     Cadence, created or replaced
--   activate(id), deactivate(id)             {"success": true}
--   delete_cadence(id)                       {"success": true}, drafts only
--   duplicate_cadence(id, new_id, new_name)  Cadence, the clone
--
-- Reading a cadence that is missing, deleted or not the caller's tenant's
-- fails with P0002 (not found); a write naming one fails with 42501, as a
-- write the caller may not make does, so no one learns whether an id
-- exists where they cannot see.
--
-- The status of a cadence, written down once (cadence.next_status):
--
--   (new)                  --upsert, isActive false or absent--> draft
--   (new)                  --upsert, isActive true-->            active
--   draft|paused|archived  --activate, upsert isActive true-->   active
--   active                 --deactivate, upsert isActive false--> paused
--   draft                  --delete_cadence-->                   (deleted)
--
-- Anything else leaves the status as it is (deactivating a draft keeps it
-- a draft).  A cadence becomes active only with at least one action.
-- Deleting is soft: the row stays with deleted_at set, hidden from list and
-- get, and its id is never reused.
--
-- Versions: days and actions are stored per version.  An upsert that
-- changes them while any run references the current version writes them
-- as version + 1 and keeps the old rows for those runs; otherwise it
-- replaces the current version's rows.  An upsert that leaves days and
-- actions as they are keeps the version.

CREATE OR REPLACE FUNCTION cadence.list_cadences() RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
BEGIN
	RETURN (
		SELECT coalesce(jsonb_agg(
				cadence.cadence_head_json(to_jsonb(c))
				|| jsonb_build_object(
					'dayCount', (SELECT count(*) FROM cadence.cadence_days d
								  WHERE d.tenant_id = c.tenant_id AND d.cadence_id = c.id
									AND d.version = c.version),
					'actionCount', (SELECT count(*) FROM cadence.cadence_actions a
									 WHERE a.tenant_id = c.tenant_id AND a.cadence_id = c.id
									   AND a.version = c.version))
				ORDER BY c.updated_at DESC, c.id), '[]')
		  FROM cadence.cadences c
		 WHERE c.tenant_id = v_tenant AND c.deleted_at IS NULL);
END
$$;
COMMENT ON FUNCTION cadence.list_cadences() IS
	'The caller''s tenant''s cadences (not deleted) as CadenceSummary objects, most recently updated first';

CREATE OR REPLACE FUNCTION cadence.get_cadence(id text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id text := get_cadence.id;
	v_cadence jsonb := cadence.cadence_json(cadence.require_tenant(), v_id);
BEGIN
	IF v_cadence IS NULL THEN
		RAISE EXCEPTION 'cadence "%" not found', v_id USING ERRCODE = 'P0002';
	END IF;
	RETURN v_cadence;
END
$$;
COMMENT ON FUNCTION cadence.get_cadence(text) IS
	'One cadence of the caller''s tenant in the Cadence shape, with the days and actions of its current version; P0002 when there is none';

CREATE OR REPLACE FUNCTION cadence.upsert_cadence(body jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	-- Everything is validated before anything is written.
	v_new jsonb := cadence.validate_cadence_body(body);
	v_id text := coalesce(v_new ->> 'id', gen_random_uuid()::text);
	v_days jsonb := v_new -> 'days';
	v_action_count bigint := (SELECT count(*)
								FROM jsonb_array_elements(v_days) AS d,
									 jsonb_array_elements(d.value -> 'actions'));
	v_old cadence.cadences;
	v_status text;
	v_version integer := 1;
BEGIN
	SELECT * INTO v_old
	  FROM cadence.cadences c
	 WHERE c.tenant_id = v_tenant AND c.id = v_id;
	IF v_old.deleted_at IS NOT NULL THEN
		PERFORM cadence.raise_deleted_id(v_id);
	END IF;

	IF v_old.id IS NULL THEN
		-- Create.
		PERFORM cadence.check_can_create(v_tenant, v_id);
		v_status := cadence.next_status(NULL, (v_new -> 'isActive')::boolean);
		PERFORM cadence.check_activation(v_id, v_status, v_action_count);
		INSERT INTO cadence.cadences
			(tenant_id, id, name, description, status, timezone, trigger, settings,
			 exit_conditions, owner_id, version)
		VALUES (v_tenant, v_id, v_new ->> 'name', v_new ->> 'description', v_status,
				v_new ->> 'timezone', v_new -> 'trigger', v_new -> 'settings',
				v_new -> 'exitConditions', cadence.current_user_id(), v_version);
		PERFORM cadence.store_days(v_tenant, v_id, v_version, v_days);
		PERFORM cadence.log_cadence_event(v_tenant, v_id, 'cadence.created',
										  jsonb_build_object('version', v_version));
	ELSE
		-- Replace.
		v_old := cadence.lock_cadence_for_write(v_tenant, v_id);
		v_status := cadence.next_status(v_old.status, (v_new -> 'isActive')::boolean);
		PERFORM cadence.check_activation(v_id, v_status, v_action_count);
		v_version := v_old.version;
		IF cadence.days_json(v_tenant, v_id, v_old.version) IS DISTINCT FROM v_days THEN
			IF EXISTS (SELECT 1 FROM cadence.runs r
						WHERE r.tenant_id = v_tenant AND r.cadence_id = v_id
						  AND r.cadence_version = v_old.version) THEN
				-- Runs were planned from this version: keep it for them.
				v_version := v_old.version + 1;
			ELSE
				DELETE FROM cadence.cadence_days d
				 WHERE d.tenant_id = v_tenant AND d.cadence_id = v_id
				   AND d.version = v_old.version;
			END IF;
			PERFORM cadence.store_days(v_tenant, v_id, v_version, v_days);
		END IF;
		UPDATE cadence.cadences c
		   SET name = v_new ->> 'name',
			   description = v_new ->> 'description',
			   status = v_status,
			   timezone = v_new ->> 'timezone',
			   trigger = v_new -> 'trigger',
			   settings = v_new -> 'settings',
			   exit_conditions = v_new -> 'exitConditions',
			   version = v_version,
			   updated_at = now()
		 WHERE c.tenant_id = v_tenant AND c.id = v_id;
		IF v_version > v_old.version THEN
			PERFORM cadence.log_cadence_event(v_tenant, v_id, 'cadence.versioned',
				jsonb_build_object('fromVersion', v_old.version, 'toVersion', v_version));
		ELSE
			PERFORM cadence.log_cadence_event(v_tenant, v_id, 'cadence.updated',
											  jsonb_build_object('version', v_version));
		END IF;
	END IF;
	PERFORM cadence.log_status_change(v_tenant, v_id, v_old.status, v_status);

	RETURN cadence.cadence_json(v_tenant, v_id);
END
$$;
COMMENT ON FUNCTION cadence.upsert_cadence(jsonb) IS
	'Create or replace a cadence from an UpsertCadenceRequest (or a flat steps[] body): validates it all first, replaces days and actions wholesale (as a new version when runs use the current one), returns get_cadence';

CREATE OR REPLACE FUNCTION cadence.activate(id text) RETURNS jsonb
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT cadence.set_active(id, true)
$$;
COMMENT ON FUNCTION cadence.activate(text) IS
	'Make a cadence active so leads can be enrolled; it needs at least one action (55000 otherwise); returns {"success": true}';

CREATE OR REPLACE FUNCTION cadence.deactivate(id text) RETURNS jsonb
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT cadence.set_active(id, false)
$$;
COMMENT ON FUNCTION cadence.deactivate(text) IS
	'Pause an active cadence: no new enrollments; other statuses are left alone; returns {"success": true}';

CREATE OR REPLACE FUNCTION cadence.delete_cadence(id text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	c cadence.cadences := cadence.lock_cadence_for_write(v_tenant, delete_cadence.id);
BEGIN
	IF c.status <> 'draft' THEN
		RAISE EXCEPTION 'cadence "%" is %; only a draft can be deleted', c.id, c.status
			USING ERRCODE = '55000',
				  HINT = 'Deactivate the cadence instead: it takes no new enrollments and keeps its runs and history.';
	END IF;
	UPDATE cadence.cadences x
	   SET deleted_at = now(), updated_at = now()
	 WHERE x.tenant_id = c.tenant_id AND x.id = c.id;
	PERFORM cadence.log_cadence_event(c.tenant_id, c.id, 'cadence.deleted');
	RETURN '{"success": true}';
END
$$;
COMMENT ON FUNCTION cadence.delete_cadence(text) IS
	'Delete a draft cadence (soft: hidden from list and get, its id never reused); 55000 for any other status; returns {"success": true}';

CREATE OR REPLACE FUNCTION cadence.duplicate_cadence(id text, new_id text DEFAULT NULL,
										  new_name text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	v_source_id text := duplicate_cadence.id;
	v_id text := coalesce(new_id, gen_random_uuid()::text);
	v_name text;
	src cadence.cadences;
	v_taken_deleted_at timestamptz;
BEGIN
	SELECT * INTO src
	  FROM cadence.cadences c
	 WHERE c.tenant_id = v_tenant AND c.id = v_source_id AND c.deleted_at IS NULL;
	IF NOT FOUND THEN
		PERFORM cadence.raise_write_denied(v_source_id, 'duplicate',
			'Only cadences of your own tenant can be duplicated.');
	END IF;

	v_name := coalesce(new_name, src.name || ' (copy)');
	IF v_id = '' THEN
		RAISE EXCEPTION 'new_id must not be empty' USING ERRCODE = '23514',
			HINT = 'Leave new_id out to have one generated.';
	END IF;
	IF btrim(v_name) = '' THEN
		RAISE EXCEPTION 'new_name must not be empty' USING ERRCODE = '23514';
	END IF;

	SELECT c.deleted_at INTO v_taken_deleted_at
	  FROM cadence.cadences c
	 WHERE c.tenant_id = v_tenant AND c.id = v_id;
	IF FOUND THEN
		IF v_taken_deleted_at IS NOT NULL THEN
			PERFORM cadence.raise_deleted_id(v_id);
		END IF;
		RAISE EXCEPTION 'cadence "%" already exists', v_id
			USING ERRCODE = '23505',
				  HINT = 'Choose another new_id, or leave it out to have one generated.';
	END IF;

	PERFORM cadence.check_can_create(v_tenant, v_id);
	INSERT INTO cadence.cadences
		(tenant_id, id, name, description, status, timezone, trigger, settings,
		 exit_conditions, owner_id, version)
	VALUES (v_tenant, v_id, v_name, src.description, 'draft', src.timezone, src.trigger,
			src.settings, src.exit_conditions, cadence.current_user_id(), 1);
	PERFORM cadence.store_days(v_tenant, v_id, 1,
							   cadence.days_json(src.tenant_id, src.id, src.version));
	PERFORM cadence.log_cadence_event(v_tenant, v_id, 'cadence.duplicated',
		jsonb_build_object('sourceId', src.id, 'sourceVersion', src.version));

	RETURN cadence.cadence_json(v_tenant, v_id);
END
$$;
COMMENT ON FUNCTION cadence.duplicate_cadence(text, text, text) IS
	'Copy a cadence''s current version into a new draft (version 1, owned by the caller, named "<name> (copy)" unless new_name is given); returns the clone';
