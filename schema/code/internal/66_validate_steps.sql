-- Validation of what steps may carry beyond a schedule and a message: A/B
-- variants, conditions and their branches, and lead actions.
-- Called by normalize_action and validate_cadence_body
-- (schema/code/internal/65_validate.sql), with the same kind of errors: the JSON path,
-- the bad value, a real SQLSTATE.

-- variants: A/B variants of a message step (sms, email, whatsapp), an array
-- of at least two objects, each with a unique string id (recorded on the
-- scheduled action that used it), an optional non-negative weight and name;
-- its other members are laid over the step's config (see variant_config),
-- and the config each variant sends must itself be valid.
CREATE OR REPLACE FUNCTION cadence.validate_variants(variants jsonb, action_type text, config jsonb,
										  path text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	i int;
	p text;
	repeat_id int := cadence.first_repeat(
		(SELECT jsonb_agg(CASE WHEN jsonb_typeof(v -> 'id') = 'string' THEN v -> 'id' END
						  ORDER BY o)
		   FROM jsonb_array_elements(variants) WITH ORDINALITY AS x(v, o)));
BEGIN
	IF action_type NOT IN ('sms', 'email', 'whatsapp') THEN
		RAISE EXCEPTION '% are for message steps, not %', path, action_type
			USING ERRCODE = '22023', HINT = 'A/B variants go on sms, email and whatsapp steps.';
	END IF;
	IF jsonb_array_length(variants) < 2 THEN
		RAISE EXCEPTION '% needs at least two variants, got %', path, jsonb_array_length(variants)
			USING ERRCODE = '23514';
	END IF;
	FOR i IN 0 .. jsonb_array_length(variants) - 1 LOOP
		p := format('%s[%s]', path, i);
		PERFORM cadence.expect_type(variants -> i, p, 'object');
		PERFORM cadence.json_field(variants -> i, 'id', p, 'string', required => true);
		IF i = repeat_id THEN
			PERFORM cadence.raise_duplicate(variants -> i -> 'id', 'variant id',
											cadence.json_path(p, 'id'));
		END IF;
		IF (cadence.json_field(variants -> i, 'weight', p, 'number'))::numeric < 0 THEN
			RAISE EXCEPTION '%.weight must not be negative, got %', p, variants -> i -> 'weight'
				USING ERRCODE = '23514';
		END IF;
		PERFORM cadence.json_field(variants -> i, 'name', p, 'string');
		IF variants -> i ? action_type THEN
			PERFORM cadence.json_field(variants -> i, action_type, p, 'object');
		END IF;
		PERFORM cadence.validate_action_config(action_type,
			cadence.variant_config(config, action_type, variants -> i), p);
	END LOOP;
END
$$;

-- A branch of a condition step (path is its path):
--   {"action": "continue"}                      the next step, as planned
--   {"action": "jump", "toStep": "a7" | 7}      forward to that step (an
--                                                action id or step number)
--   {"action": "stop", "status"?, "reason"?}    end the run: completed
--                                                (default), replied,
--                                                meeting_booked, bounced,
--                                                unsubscribed or cancelled
CREATE OR REPLACE FUNCTION cadence.validate_branch(branch jsonb, path text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_action text;
	v_to jsonb;
	v_status text;
BEGIN
	PERFORM cadence.expect_type(branch, path, 'object');
	PERFORM cadence.reject_unknown_keys(branch, ARRAY['action', 'toStep', 'status', 'reason'], path);
	v_action := cadence.json_field(branch, 'action', path, 'string', required => true) #>> '{}';
	IF v_action NOT IN ('continue', 'jump', 'stop') THEN
		RAISE EXCEPTION 'unknown branch action "%" at %.action', v_action, path
			USING ERRCODE = '22023', HINT = 'A branch continues, jumps (toStep) or stops (status).';
	END IF;
	IF v_action = 'jump' THEN
		v_to := branch -> 'toStep';
		IF v_to IS NULL OR jsonb_typeof(v_to) = 'null' THEN
			PERFORM cadence.raise_missing(cadence.json_path(path, 'toStep'),
				'A jump names the step it goes to, by action id or step number.');
		END IF;
		IF jsonb_typeof(v_to) = 'string' THEN
			RETURN;
		END IF;
		PERFORM cadence.expect_type(v_to, cadence.json_path(path, 'toStep'), 'integer');
	ELSIF branch ? 'toStep' THEN
		RAISE EXCEPTION '%.toStep is for a jump, not for %', path, v_action
			USING ERRCODE = '22023';
	END IF;
	v_status := cadence.json_field(branch, 'status', path, 'string') #>> '{}';
	IF v_status IS NOT NULL AND v_action <> 'stop' THEN
		RAISE EXCEPTION '%.status is for a stop, not for %', path, v_action
			USING ERRCODE = '22023';
	END IF;
	IF v_status NOT IN ('completed', 'replied', 'meeting_booked', 'bounced', 'unsubscribed',
						'cancelled') THEN
		RAISE EXCEPTION 'invalid %.status: "%"', path, v_status
			USING ERRCODE = '22023',
				  HINT = 'A run stops as completed, replied, meeting_booked, bounced, unsubscribed or cancelled.';
	END IF;
	PERFORM cadence.json_field(branch, 'reason', path, 'string');
END
$$;

-- A step's condition (path is its path): {"when", "step"?, "then"?,
-- "else"?}.  when is one of cadence.condition_hint()'s; step, an action id
-- whose message alone is looked at.  then and else (branches, default
-- continue) belong to condition steps; on any other step the condition
-- decides whether the step happens at all (else it is skipped).
CREATE OR REPLACE FUNCTION cadence.validate_condition(condition jsonb, branching boolean, path text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_when text;
BEGIN
	PERFORM cadence.reject_unknown_keys(condition,
		CASE WHEN branching THEN ARRAY['when', 'step', 'then', 'else']
			 ELSE ARRAY['when', 'step'] END, path);
	v_when := cadence.json_field(condition, 'when', path, 'string', required => true) #>> '{}';
	IF v_when NOT IN ('always', 'if_replied', 'if_not_replied', 'if_opened', 'if_not_opened',
					  'if_clicked', 'if_bounced', 'if_unsubscribed') THEN
		RAISE EXCEPTION 'unknown condition "%" at %.when', v_when, path
			USING ERRCODE = '22023', HINT = cadence.condition_hint();
	END IF;
	PERFORM cadence.json_field(condition, 'step', path, 'string');
	IF cadence.json_field(condition, 'then', path, 'object') IS NOT NULL THEN
		PERFORM cadence.validate_branch(condition -> 'then', cadence.json_path(path, 'then'));
	END IF;
	IF cadence.json_field(condition, 'else', path, 'object') IS NOT NULL THEN
		PERFORM cadence.validate_branch(condition -> 'else', cadence.json_path(path, 'else'));
	END IF;
END
$$;

-- config.leadAction of a lead_action step (path is its path); see
-- apply_lead_action for what each does.
CREATE OR REPLACE FUNCTION cadence.validate_lead_action(spec jsonb, path text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_action text := cadence.json_field(spec, 'action', path, 'string', required => true) #>> '{}';
	v_list text;
BEGIN
	CASE v_action
	WHEN 'update_status' THEN
		PERFORM cadence.reject_unknown_keys(spec, ARRAY['action', 'status'], path);
		IF btrim(cadence.json_field(spec, 'status', path, 'string', required => true) #>> '{}') = '' THEN
			RAISE EXCEPTION '%.status must not be empty', path USING ERRCODE = '23514';
		END IF;
	WHEN 'mark_qualified' THEN
		PERFORM cadence.reject_unknown_keys(spec, ARRAY['action'], path);
	WHEN 'tag_lead' THEN
		PERFORM cadence.reject_unknown_keys(spec, ARRAY['action', 'tags', 'removeTags'], path);
		FOREACH v_list IN ARRAY ARRAY['tags', 'removeTags'] LOOP
			PERFORM cadence.json_field(spec, v_list, path, 'array');
			IF EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(spec -> v_list, '[]')) AS t
						WHERE jsonb_typeof(t) <> 'string' OR t #>> '{}' = '') THEN
				RAISE EXCEPTION '%.% must hold non-empty strings, got %', path, v_list, spec -> v_list
					USING ERRCODE = '22023';
			END IF;
		END LOOP;
		IF jsonb_array_length(coalesce(spec -> 'tags', '[]'))
		   + jsonb_array_length(coalesce(spec -> 'removeTags', '[]')) = 0 THEN
			PERFORM cadence.raise_missing(cadence.json_path(path, 'tags'),
				'tag_lead adds tags, removes removeTags, or both.');
		END IF;
	WHEN 'assign_to_user' THEN
		PERFORM cadence.reject_unknown_keys(spec, ARRAY['action', 'userId'], path);
		PERFORM cadence.json_field(spec, 'userId', path, 'string', required => true);
	WHEN 'notify_user' THEN
		PERFORM cadence.reject_unknown_keys(spec, ARRAY['action', 'userId', 'message'], path);
		PERFORM cadence.json_field(spec, 'userId', path, 'string');
		PERFORM cadence.json_field(spec, 'message', path, 'string');
	WHEN 'add_to_campaign' THEN
		PERFORM cadence.reject_unknown_keys(spec, ARRAY['action', 'cadenceId', 'startAtStep'], path);
		PERFORM cadence.json_field(spec, 'cadenceId', path, 'string', required => true);
		IF (cadence.json_field(spec, 'startAtStep', path, 'integer'))::int < 1 THEN
			RAISE EXCEPTION '%.startAtStep must be at least 1, got %', path, spec -> 'startAtStep'
				USING ERRCODE = '23514';
		END IF;
	ELSE
		RAISE EXCEPTION 'unknown lead action "%" at %.action', v_action, path
			USING ERRCODE = '22023', HINT = cadence.lead_action_hint();
	END CASE;
END
$$;

-- What a cadence's steps say about other steps (its normalised days):
-- every jump goes forward to a step that exists, and a condition's "step"
-- names a step before it.  22023 naming the condition's action otherwise.
CREATE OR REPLACE FUNCTION cadence.validate_step_references(days jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_steps jsonb;
	j record;
	v_branch text;
	v_to jsonb;
	v_target int;
	v_count int;
BEGIN
	-- {action id: step number}, in the order the steps are numbered.
	SELECT coalesce(jsonb_object_agg(a ->> 'id', n), '{}') INTO v_steps
	  FROM (SELECT a, row_number() OVER (ORDER BY (d ->> 'dayNumber')::int, p) AS n
			  FROM jsonb_array_elements(days) AS d,
				   jsonb_array_elements(d -> 'actions') WITH ORDINALITY AS x(a, p)) s;
	v_count := (SELECT count(*) FROM jsonb_object_keys(v_steps));
	FOR j IN
		SELECT (v_steps ->> (a ->> 'id'))::int AS n, a ->> 'id' AS id, a -> 'condition' AS c
		  FROM jsonb_array_elements(days) AS d, jsonb_array_elements(d -> 'actions') AS a
		 WHERE a ? 'condition'
	LOOP
		IF j.c ->> 'step' IS NOT NULL AND coalesce((v_steps ->> (j.c ->> 'step'))::int >= j.n, true) THEN
			RAISE EXCEPTION 'the condition of "%" looks at step "%", which does not come before it',
				j.id, j.c ->> 'step'
				USING ERRCODE = '22023',
					  HINT = 'condition.step names the action id of an earlier step.';
		END IF;
		FOR v_branch, v_to, v_target IN
			SELECT b.key, b.value -> 'toStep',
				   CASE jsonb_typeof(b.value -> 'toStep')
					   WHEN 'string' THEN (v_steps ->> (b.value ->> 'toStep'))::int
					   ELSE (b.value ->> 'toStep')::int END
			  FROM jsonb_each(j.c) AS b
			 WHERE b.key IN ('then', 'else') AND b.value ->> 'action' = 'jump'
		LOOP
			IF v_target IS NULL OR v_target > v_count THEN
				RAISE EXCEPTION 'the % branch of condition "%" jumps to %, which is not a step of the cadence',
					v_branch, j.id, v_to
					USING ERRCODE = '22023';
			ELSIF v_target <= j.n THEN
				RAISE EXCEPTION 'the % branch of condition "%" (step %) jumps back to step %',
					v_branch, j.id, j.n, v_target
					USING ERRCODE = '22023',
						  HINT = 'A condition jumps forward; to repeat a touch, add it again later in the cadence.';
			END IF;
		END LOOP;
	END LOOP;
END
$$;
