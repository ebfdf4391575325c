-- What a runner works out in the database for a step: the template
-- variables of a lead, the A/B variant a run gets, whether a condition
-- holds, and what a lead action does.  The runners call these from C
-- (src/dispatch/claim.c, src/dispatch/logic.c, src/runs/for_runners.c).

-- The template variables of a lead in a run: its attributes, then its own
-- fields under camelCase names ({{firstName}}, {{company}}, ...), the run's
-- assignee and metadata ({{run.source}}).  A plain SQL expression, STABLE
-- like the functions it calls, so that the runners' statements inline it;
-- so it has no SET search_path, and names every function and operator in
-- pg_catalog instead.
CREATE OR REPLACE FUNCTION cadence.template_vars(lead_id text, first_name text, last_name text,
									  email text, phone text, whatsapp text,
									  company text, timezone text, owner_id text,
									  status text, tags text[], attributes jsonb,
									  assigned_to text, run_metadata jsonb)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT attributes OPERATOR(pg_catalog.||) pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
		'leadId', lead_id, 'firstName', first_name, 'lastName', last_name,
		'fullName', CASE WHEN NOT pg_catalog.texteq(pg_catalog.concat_ws(' ', first_name, last_name), '')
						 THEN pg_catalog.concat_ws(' ', first_name, last_name) END,
		'email', email, 'phone', phone, 'whatsapp', whatsapp, 'company', company,
		'timezone', timezone, 'ownerId', owner_id, 'status', status,
		'tags', pg_catalog.to_jsonb(tags), 'attributes', attributes,
		'assignedTo', assigned_to, 'run', run_metadata))
$$;
COMMENT ON FUNCTION cadence.template_vars(text, text, text, text, text, text, text, text, text, text, text[], jsonb, text, jsonb) IS
	'The variables a message template of a run sees: the lead''s attributes and fields (firstName, company, ...), assignedTo, and the run''s metadata as run';

-- The variant of variants (an A/B test's array) a run gets: a point drawn
-- from a hash of the run and the action, never from a random number, falls
-- into one variant's share of the summed weights (1 each when not given).
-- The same run always gets the same variant; runs spread over the variants
-- in proportion to their weights.  All weights 0: the first variant.
CREATE OR REPLACE FUNCTION cadence.pick_variant(variants jsonb, run_id bigint, action_id text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH v AS (
		SELECT e, ord, coalesce((e ->> 'weight')::numeric, 1) AS weight
		  FROM jsonb_array_elements(variants) WITH ORDINALITY AS x(e, ord)),
	point AS (
		SELECT abs(hashtextextended(run_id::text || ':' || action_id, 0) % 1000000)::numeric
			   / 1000000 * (SELECT sum(weight) FROM v) AS at)
	SELECT coalesce(
		(SELECT c.e FROM (SELECT e, ord, sum(weight) OVER (ORDER BY ord) AS upto FROM v) c, point
		  WHERE c.upto > point.at ORDER BY c.ord LIMIT 1),
		variants -> 0)
$$;
COMMENT ON FUNCTION cadence.pick_variant(jsonb, bigint, text) IS
	'The A/B variant a run gets for a step: weighted, and always the same for the same run';

-- The variant a run gets for a step: the declared winner when the run was
-- enrolled after it was declared (and it is still one of the variants),
-- else pick_variant's.
CREATE OR REPLACE FUNCTION cadence.step_variant(tenant_id text, cadence_id text, action_id text,
									 variants jsonb, run_id bigint, enrolled_at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
	RETURN (SELECT coalesce(
			(SELECT e FROM cadence.variant_winners w, jsonb_array_elements(variants) AS e
			  WHERE w.tenant_id = step_variant.tenant_id AND w.cadence_id = step_variant.cadence_id
				AND w.action_id = step_variant.action_id AND w.declared_at <= enrolled_at
				AND e ->> 'id' = w.variant),
			cadence.pick_variant(variants, run_id, action_id)));
END
$$;

-- A step's config with a variant laid over it: the variant's members
-- other than id, weight and name replace the config's, and its channel
-- object (sms, email, whatsapp, webhook, task) is merged into the step's
-- one member by member, so a variant names only what it changes:
--   {"id": "B", "weight": 30, "email": {"subject": "Quick question"}}
CREATE OR REPLACE FUNCTION cadence.variant_config(config jsonb, action_type text, variant jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT config || (variant - 'id' - 'weight' - 'name')
		|| coalesce((SELECT jsonb_object_agg(k, (config -> k) || (variant -> k))
					   FROM jsonb_object_keys(variant) AS k
					  WHERE jsonb_typeof(config -> k) = 'object'
						AND jsonb_typeof(variant -> k) = 'object'), '{}')
$$;
COMMENT ON FUNCTION cadence.variant_config(jsonb, text, jsonb) IS
	'A step''s config as one A/B variant of it sends it: the variant''s members over the step''s, channel objects merged member by member';

-- Does a condition hold for a run at one of its steps?  condition.when:
--   always                          true
--   if_replied, if_not_replied      a message before this step got a reply
--   if_opened, if_not_opened        ... was opened (or clicked)
--   if_clicked                      ... had a link clicked
--   if_bounced                      ... bounced
--   if_unsubscribed                 the lead opted out: contacts.unsubscribed,
--                                   or an opt-out, STOP or spam report on the
--                                   do-not-contact list for its addresses
-- condition.step (an action id) looks at that step's message only.
CREATE OR REPLACE FUNCTION cadence.condition_holds(tenant_id text, run_id bigint, step_number integer,
										condition jsonb)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_when text := condition ->> 'when';
	v_step text := condition ->> 'step';
	e record;
BEGIN
	IF v_when = 'always' THEN
		RETURN true;
	ELSIF v_when = 'if_unsubscribed' THEN
		RETURN EXISTS (
			SELECT 1 FROM cadence.runs r
			  JOIN cadence.contacts c ON c.tenant_id = r.tenant_id AND c.id = r.lead_id
			 WHERE r.tenant_id = condition_holds.tenant_id AND r.id = condition_holds.run_id
			   AND (c.unsubscribed
					OR EXISTS (SELECT 1 FROM cadence.suppressions s
								WHERE s.tenant_id = c.tenant_id
								  AND s.reason IN ('unsubscribe', 'stop_keyword', 'spam_report')
								  AND s.address IN (lower(c.email), c.phone, c.whatsapp))));
	END IF;
	SELECT coalesce(bool_or(a.replied_at IS NOT NULL), false) AS replied,
		   coalesce(bool_or(a.opened_at IS NOT NULL OR a.clicked_at IS NOT NULL), false) AS opened,
		   coalesce(bool_or(a.clicked_at IS NOT NULL), false) AS clicked,
		   coalesce(bool_or(a.bounced_at IS NOT NULL), false) AS bounced
	  INTO e
	  FROM cadence.scheduled_actions a
	 WHERE a.tenant_id = condition_holds.tenant_id AND a.run_id = condition_holds.run_id
	   AND a.step_number < condition_holds.step_number
	   AND (v_step IS NULL OR a.action_id = v_step);
	CASE v_when
		WHEN 'if_replied' THEN RETURN e.replied;
		WHEN 'if_not_replied' THEN RETURN NOT e.replied;
		WHEN 'if_opened' THEN RETURN e.opened;
		WHEN 'if_not_opened' THEN RETURN NOT e.opened;
		WHEN 'if_clicked' THEN RETURN e.clicked;
		WHEN 'if_bounced' THEN RETURN e.bounced;
		ELSE
			RAISE EXCEPTION 'unknown condition "%"', v_when
				USING ERRCODE = '22023', HINT = cadence.condition_hint();
	END CASE;
END
$$;
COMMENT ON FUNCTION cadence.condition_holds(text, bigint, integer, jsonb) IS
	'Whether a step''s condition (if_replied, if_opened, if_clicked, if_bounced, if_unsubscribed, their negations, always) holds for a run';

-- The conditions there are, as error hints list them.
CREATE OR REPLACE FUNCTION cadence.condition_hint() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT 'Conditions: if_replied, if_not_replied, if_opened, if_not_opened, if_clicked, if_bounced, if_unsubscribed, always.'::text
$$;

-- A lead action step (config.leadAction) done for a run; returns what it
-- did.  leadAction.action:
--   update_status   {"status": "unresponsive"}: the lead's status
--   mark_qualified  the lead's status becomes qualified
--   tag_lead        {"tags": [...], "removeTags": [...]}
--   assign_to_user  {"userId": "..."}: the lead's owner, the run's assignee,
--                   and the run's open tasks
--   notify_user     {"userId"?, "message"?}: an event and a pg_notify on
--                   channel cadence.notify_user for the user (default the
--                   run's assignee, else the lead's owner); message is a
--                   template of the lead's variables
--   add_to_campaign {"cadenceId": "...", "startAtStep"?}: enrolls the lead in
--                   that (active) cadence with the same assignee, at `at`
CREATE OR REPLACE FUNCTION cadence.apply_lead_action(tenant_id text, run_id bigint, spec jsonb,
										  at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_action text := spec ->> 'action';
	r record;
	v_user text;
	v_message text;
	v_payload jsonb;
	v_run bigint;
BEGIN
	SELECT ru.lead_id, ru.cadence_id, ru.assigned_to, ru.metadata, ct.owner_id, ct.status,
		   cadence.template_vars(ct.id, ct.first_name, ct.last_name, ct.email, ct.phone,
			   ct.whatsapp, ct.company, ct.timezone, ct.owner_id, ct.status, ct.tags,
			   ct.attributes, ru.assigned_to, ru.metadata) AS vars
	  INTO r
	  FROM cadence.runs ru
	  JOIN cadence.contacts ct ON ct.tenant_id = ru.tenant_id AND ct.id = ru.lead_id
	 WHERE ru.tenant_id = apply_lead_action.tenant_id AND ru.id = apply_lead_action.run_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'the lead of run % does not exist', run_id USING ERRCODE = 'P0002';
	END IF;

	CASE v_action
	WHEN 'update_status', 'mark_qualified' THEN
		UPDATE cadence.contacts c
		   SET status = CASE v_action WHEN 'mark_qualified' THEN 'qualified' ELSE spec ->> 'status' END,
			   updated_at = now()
		 WHERE c.tenant_id = apply_lead_action.tenant_id AND c.id = r.lead_id;
		RETURN jsonb_build_object('status', CASE v_action WHEN 'mark_qualified' THEN 'qualified'
														  ELSE spec ->> 'status' END,
								  'previousStatus', r.status);
	WHEN 'tag_lead' THEN
		UPDATE cadence.contacts c
		   SET tags = ARRAY(SELECT DISTINCT t
							  FROM unnest(c.tags || ARRAY(SELECT jsonb_array_elements_text(
															 coalesce(spec -> 'tags', '[]')))) AS t
							 WHERE t <> ALL (ARRAY(SELECT jsonb_array_elements_text(
													   coalesce(spec -> 'removeTags', '[]'))))
							 ORDER BY t),
			   updated_at = now()
		 WHERE c.tenant_id = apply_lead_action.tenant_id AND c.id = r.lead_id
		RETURNING jsonb_build_object('tags', to_jsonb(c.tags)) INTO v_payload;
		RETURN v_payload;
	WHEN 'assign_to_user' THEN
		v_user := spec ->> 'userId';
		UPDATE cadence.contacts c SET owner_id = v_user, updated_at = now()
		 WHERE c.tenant_id = apply_lead_action.tenant_id AND c.id = r.lead_id;
		UPDATE cadence.runs ru SET assigned_to = v_user
		 WHERE ru.tenant_id = apply_lead_action.tenant_id AND ru.id = apply_lead_action.run_id;
		UPDATE cadence.tasks t SET assignee_id = v_user
		 WHERE t.tenant_id = apply_lead_action.tenant_id AND t.run_id = apply_lead_action.run_id
		   AND t.status = 'open';
		RETURN jsonb_build_object('userId', v_user, 'previousOwnerId', r.owner_id);
	WHEN 'notify_user' THEN
		v_user := coalesce(spec ->> 'userId', r.assigned_to, r.owner_id);
		v_message := cadence.render_template(
			coalesce(spec ->> 'message', '{{fullName|A lead}} reached a step of cadence ' || r.cadence_id),
			r.vars);
		v_payload := jsonb_strip_nulls(jsonb_build_object('tenantId', tenant_id, 'userId', v_user,
			'runId', run_id, 'leadId', r.lead_id, 'cadenceId', r.cadence_id, 'message', v_message));
		INSERT INTO cadence.events (tenant_id, run_id, cadence_id, lead_id, type, payload)
		VALUES (tenant_id, run_id, r.cadence_id, r.lead_id, 'user.notified', v_payload);
		PERFORM pg_notify('cadence.notify_user', v_payload::text);
		RETURN v_payload - 'tenantId';
	WHEN 'add_to_campaign' THEN
		v_run := cadence.plan_run_in(tenant_id, spec ->> 'cadenceId', r.lead_id, at,
			jsonb_strip_nulls(jsonb_build_object(
				'assignedTo', r.assigned_to, 'startAtStep', spec -> 'startAtStep',
				'metadata', jsonb_build_object('enrolledByRun', run_id))));
		RETURN jsonb_build_object('cadenceId', spec ->> 'cadenceId', 'runId', v_run);
	ELSE
		RAISE EXCEPTION 'unknown lead action "%"', v_action
			USING ERRCODE = '22023', HINT = cadence.lead_action_hint();
	END CASE;
END
$$;
COMMENT ON FUNCTION cadence.apply_lead_action(text, bigint, jsonb, timestamptz) IS
	'Do a lead action step for a run (update_status, mark_qualified, tag_lead, assign_to_user, notify_user, add_to_campaign) and say what it did';

-- The lead actions there are, as error hints list them.
CREATE OR REPLACE FUNCTION cadence.lead_action_hint() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT 'Lead actions: update_status, mark_qualified, tag_lead, assign_to_user, notify_user, add_to_campaign.'::text
$$;

-- A condition or lead action step of a run, carried out: returns the
-- outcome the step's action records, with the branch the run takes:
--   {"when": "if_replied", "met": true, "branch": {"action": "stop",
--    "status": "completed", "reason": "qualified"}}
--   {"leadAction": "tag_lead", "result": {...}, "branch": {"action": "continue"}}
-- A condition's then (when it holds) or else (when not) is the branch,
-- continue when absent; a jump's toStep (an action id or a step number) is
-- returned as the step number of the run's cadence version.  at is the
-- runner's clock.
CREATE OR REPLACE FUNCTION cadence.execute_logic_step(tenant_id text, run_id bigint, step_number integer,
										   step_type text, config jsonb, condition jsonb,
										   at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_met boolean;
	v_branch jsonb;
	v_to jsonb;
BEGIN
	IF step_type = 'lead_action' THEN
		RETURN jsonb_build_object('leadAction', config -> 'leadAction' ->> 'action',
			'result', cadence.apply_lead_action(tenant_id, run_id, config -> 'leadAction', at),
			'branch', jsonb_build_object('action', 'continue'));
	END IF;

	v_met := cadence.condition_holds(tenant_id, run_id, step_number, condition);
	v_branch := coalesce(CASE WHEN v_met THEN condition -> 'then' ELSE condition -> 'else' END,
						 '{"action": "continue"}');
	v_to := v_branch -> 'toStep';
	IF jsonb_typeof(v_to) = 'string' THEN
		SELECT to_jsonb(ca.step_number) INTO v_to
		  FROM cadence.runs r
		  JOIN cadence.cadence_actions ca ON ca.tenant_id = r.tenant_id
		   AND ca.cadence_id = r.cadence_id AND ca.version = r.cadence_version
		 WHERE r.tenant_id = execute_logic_step.tenant_id AND r.id = execute_logic_step.run_id
		   AND ca.action_id = v_branch ->> 'toStep';
		v_branch := v_branch || jsonb_build_object('toStep', v_to);
	END IF;
	RETURN jsonb_strip_nulls(jsonb_build_object('when', condition ->> 'when',
		'step', condition ->> 'step', 'met', v_met, 'branch', v_branch));
END
$$;
COMMENT ON FUNCTION cadence.execute_logic_step(text, bigint, integer, text, jsonb, jsonb, timestamptz) IS
	'Carry out a condition or lead action step of a run and name the branch it takes: continue, jump (toStep) or stop (status, reason)';
