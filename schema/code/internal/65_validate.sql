-- Validation of the cadence contract: the UpsertCadenceRequest and the
-- flat Create Sequence body.  upsert_cadence() passes every body
-- through validate_cadence_body() before it writes anything, so a bad body
-- writes nothing.  Each error names the JSON path of the offending field and
-- its value, under a SQLSTATE a client can act on:
--
--   22023 invalid_parameter_value   wrong JSON type, unknown field, unknown
--                                   action/step/trigger type, unknown time
--                                   zone, bad schedule rule, settings or URL
--   23502 not_null_violation        a required field is missing (or null)
--   23505 unique_violation          duplicate dayNumber, stepNumber, action
--                                   id or variant id
--   23514 check_violation           a value outside its range (dayNumber or
--                                   stepNumber below 1, empty name or id)
--   22003 numeric_value_out_of_range  an integer beyond 2147483647
--
-- Schedule rules and scheduling settings are checked by the C validators
-- of schema/code/internal/60_schedule.sql, the same code that computes due
-- times, so what is accepted here is exactly what the planner can plan.
--
-- A JSON null is treated as an absent field everywhere: it satisfies no
-- required field and leaves an optional one at its default.  The shape
-- checks these functions share are in 64_json_shapes.sql.

-- The caps on the size of a cadence, checked before anything else is, so
-- that refusing a body over them costs little: at most 10,000 actions in
-- all, on days numbered at most 3,660 (ten years).  54000 otherwise.
CREATE OR REPLACE FUNCTION cadence.check_cadence_size(action_count bigint, path text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF action_count > 10000 THEN
		RAISE EXCEPTION '% holds % actions; a cadence has at most 10000', path, action_count
			USING ERRCODE = '54000',
				  HINT = 'Split the outreach into several cadences.';
	END IF;
END
$$;

-- The action types cadence can run, in the order error hints list them
-- (src/runs/step_types.c).  cadence.cadence_actions checks its rows by
-- them.
CREATE OR REPLACE FUNCTION cadence.action_types() RETURNS text[]
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_action_types';
COMMENT ON FUNCTION cadence.action_types() IS
	'Every type of step a cadence may hold: sent, done by a person, or carried out by the runner';
SELECT cadence.add_check('cadence.cadence_actions', 'cadence_actions_type_known',
						 'type = ANY (cadence.action_types())');

-- The trigger {type, config}: type one of manual, lead_assigned,
-- inactivity, stage_changed, event; config an object.  For inactivity,
-- config.inactiveDays (when given) is a whole number of days, at least 1;
-- for lead_assigned, config.assignedTo (when given) is a user id string.
-- No trigger means manual enrollment only.  Returns the trigger as given.
CREATE OR REPLACE FUNCTION cadence.validate_trigger(trigger jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	kind text;
	config jsonb;
	config_path text := cadence.json_path(path, 'config');
BEGIN
	IF trigger IS NULL THEN
		RETURN '{"type": "manual", "config": {}}';
	END IF;
	PERFORM cadence.reject_unknown_keys(trigger, ARRAY['type', 'config'], path);
	kind := cadence.json_field(trigger, 'type', path, 'string', required => true) #>> '{}';
	IF kind NOT IN ('manual', 'lead_assigned', 'inactivity', 'stage_changed', 'event') THEN
		RAISE EXCEPTION 'unknown trigger type "%" at %', kind, cadence.json_path(path, 'type')
			USING ERRCODE = '22023',
				  HINT = 'Valid trigger types: manual, lead_assigned, inactivity, stage_changed, event.';
	END IF;
	config := coalesce(cadence.json_field(trigger, 'config', path, 'object'), '{}');
	IF kind = 'inactivity'
	   AND (cadence.json_field(config, 'inactiveDays', config_path, 'integer'))::int < 1 THEN
		RAISE EXCEPTION '%.inactiveDays must be at least 1, got %', config_path,
			config -> 'inactiveDays'
			USING ERRCODE = '23514';
	ELSIF kind = 'lead_assigned' THEN
		PERFORM cadence.json_field(config, 'assignedTo', config_path, 'string');
	END IF;
	RETURN trigger;
END
$$;

-- exitConditions: which outcomes end a run, each a boolean.  Returns them
-- as given ({} when absent: the runner's defaults apply).
CREATE OR REPLACE FUNCTION cadence.validate_exit_conditions(conditions jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k text;
BEGIN
	IF conditions IS NULL THEN
		RETURN '{}';
	END IF;
	PERFORM cadence.reject_unknown_keys(conditions,
		ARRAY['onReply', 'onMeetingBooked', 'onBounce', 'onUnsubscribe', 'onAutoReply'],
		path);
	FOR k IN SELECT jsonb_object_keys(conditions) ORDER BY 1 LOOP
		PERFORM cadence.json_field(conditions, k, path, 'boolean');
	END LOOP;
	RETURN conditions;
END
$$;

-- The settings planning does not read (path is the settings' path): the
-- sender a runner puts on e-mail, fromEmail and fromName, strings fit for
-- a mail header; and those read when something comes back:
-- pauseCompanyOnReply, a boolean, and autoReplyPauseDays, 1 to 366.  What
-- planning reads (the windows, quietHours, maxContactsPerDay,
-- timezoneMode, holidayCalendar) is checked by validate_settings (C), with
-- the parser planning uses.
CREATE OR REPLACE FUNCTION cadence.validate_send_settings(settings jsonb, path text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM cadence.json_header_field(settings, 'fromEmail', path);
	PERFORM cadence.json_header_field(settings, 'fromName', path);
	PERFORM cadence.json_field(settings, 'pauseCompanyOnReply', path, 'boolean');
	IF (cadence.json_field(settings, 'autoReplyPauseDays', path, 'integer'))::int
	   NOT BETWEEN 1 AND 366 THEN
		RAISE EXCEPTION '%.autoReplyPauseDays must be between 1 and 366, got %', path,
			settings -> 'autoReplyPauseDays'
			USING ERRCODE = '23514';
	END IF;
END
$$;

-- What each action type needs in its config (path is the config's path):
--   sms          sms.body, or sms.templateId (a cadence.templates row)
--   email        email.subject and email.bodyHtml or email.bodyText,
--                or email.templateId; subject, from, fromName and replyTo
--                without line breaks (json_header_field)
--   whatsapp     whatsapp.body, or whatsapp.template.name
--   webhook      webhook.url, an http or https URL
--   lead_action  leadAction, see validate_lead_action
-- Other types need nothing; their config is free-form.
CREATE OR REPLACE FUNCTION cadence.validate_action_config(action_type text, config jsonb, path text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	channel jsonb;
	channel_path text := cadence.json_path(path, action_type);
	url text;
BEGIN
	-- Any step may name its provider account; message steps may ask for an
	-- AI rewrite (true, or {"prompt", "providerId"}).
	PERFORM cadence.json_field(config, 'providerId', path, 'string');
	IF jsonb_typeof(config -> 'aiPersonalization') = 'object' THEN
		PERFORM cadence.reject_unknown_keys(config -> 'aiPersonalization',
			ARRAY['prompt', 'providerId'], cadence.json_path(path, 'aiPersonalization'));
		PERFORM cadence.json_field(config -> 'aiPersonalization', 'prompt',
								   cadence.json_path(path, 'aiPersonalization'), 'string');
		PERFORM cadence.json_field(config -> 'aiPersonalization', 'providerId',
								   cadence.json_path(path, 'aiPersonalization'), 'string');
	ELSIF config ? 'aiPersonalization' THEN
		PERFORM cadence.json_field(config, 'aiPersonalization', path, 'boolean');
	END IF;
	IF action_type = 'lead_action' THEN
		PERFORM cadence.validate_lead_action(
			cadence.json_field(config, 'leadAction', path, 'object', required => true),
			cadence.json_path(path, 'leadAction'));
	END IF;
	IF action_type NOT IN ('sms', 'email', 'whatsapp', 'webhook') THEN
		RETURN;
	END IF;
	channel := cadence.json_field(config, action_type, path, 'object', required => true);

	IF action_type = 'sms' THEN
		IF cadence.json_field(channel, 'templateId', channel_path, 'string') IS NULL THEN
			PERFORM cadence.json_field(channel, 'body', channel_path, 'string', required => true);
		END IF;

	ELSIF action_type = 'email' THEN
		PERFORM cadence.json_header_field(channel, k, channel_path)
		   FROM unnest(ARRAY['subject', 'from', 'fromName', 'replyTo']) AS k;
		IF cadence.json_field(channel, 'templateId', channel_path, 'string') IS NULL THEN
			IF cadence.json_field(channel, 'subject', channel_path, 'string') IS NULL THEN
				PERFORM cadence.raise_missing(cadence.json_path(channel_path, 'subject'),
					'An email action needs subject and bodyHtml or bodyText, or a templateId.');
			END IF;
			IF cadence.json_field(channel, 'bodyHtml', channel_path, 'string') IS NULL
			   AND cadence.json_field(channel, 'bodyText', channel_path, 'string') IS NULL THEN
				PERFORM cadence.raise_missing(cadence.json_path(channel_path, 'bodyHtml'),
					'An email action needs subject and bodyHtml or bodyText, or a templateId.');
			END IF;
		END IF;

	ELSIF action_type = 'whatsapp' THEN
		IF cadence.json_field(channel, 'body', channel_path, 'string') IS NULL THEN
			IF cadence.json_field(channel, 'template', channel_path, 'object') IS NULL THEN
				PERFORM cadence.raise_missing(cadence.json_path(channel_path, 'body'),
					'A WhatsApp action needs body, or template.name for an approved template.');
			END IF;
			PERFORM cadence.json_field(channel -> 'template', 'name',
				cadence.json_path(channel_path, 'template'), 'string', required => true);
		END IF;

	ELSE	-- webhook
		url := cadence.json_field(channel, 'url', channel_path, 'string', required => true) #>> '{}';
		IF url !~* '^https?://[^/?#[:space:]]+' THEN
			RAISE EXCEPTION '%.url must be an http or https URL, got "%"', channel_path, url
				USING ERRCODE = '22023';
		END IF;
	END IF;
END
$$;

-- One action of the Cadence shape, validated and normalised: id (default_id
-- when absent), type, name, scheduleRule, config ({} when absent),
-- variants, condition; optional members omitted when null, so the result
-- has exactly the shape get_cadence returns.  scheduleRule and config are
-- kept as given.
CREATE OR REPLACE FUNCTION cadence.normalize_action(action jsonb, path text, default_id text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	action_id text;
	action_type text;
	action_name jsonb;
	rule jsonb;
	config jsonb;
	variants jsonb;
	condition jsonb;
BEGIN
	PERFORM cadence.expect_type(action, path, 'object');
	PERFORM cadence.reject_unknown_keys(action,
		ARRAY['id', 'type', 'name', 'scheduleRule', 'config', 'variants', 'condition'], path);

	action_id := coalesce(cadence.json_field(action, 'id', path, 'string') #>> '{}', default_id);
	IF action_id = '' THEN
		RAISE EXCEPTION '%.id must not be empty', path USING ERRCODE = '23514';
	END IF;

	action_type := cadence.json_field(action, 'type', path, 'string', required => true) #>> '{}';
	IF action_type <> ALL (cadence.action_types()) THEN
		RAISE EXCEPTION 'unknown action type "%" at %.type', action_type, path
			USING ERRCODE = '22023',
				  HINT = 'Valid types: ' || array_to_string(cadence.action_types(), ', ') || '.';
	END IF;

	action_name := cadence.json_field(action, 'name', path, 'string');

	rule := cadence.json_field(action, 'scheduleRule', path, 'object', required => true);
	PERFORM cadence.validate_schedule_rule(rule, cadence.json_path(path, 'scheduleRule'));

	-- With variants, what is sent is each variant laid over the config: the
	-- config itself may leave to them what they all set.
	config := coalesce(cadence.json_field(action, 'config', path, 'object'), '{}');
	variants := cadence.json_field(action, 'variants', path, 'array');
	IF variants IS NULL THEN
		PERFORM cadence.validate_action_config(action_type, config, cadence.json_path(path, 'config'));
	ELSE
		PERFORM cadence.validate_variants(variants, action_type, config,
										  cadence.json_path(path, 'variants'));
	END IF;

	condition := cadence.json_field(action, 'condition', path, 'object',
									required => action_type = 'condition');
	IF condition IS NOT NULL THEN
		PERFORM cadence.validate_condition(condition, action_type = 'condition',
										   cadence.json_path(path, 'condition'));
	END IF;

	RETURN jsonb_build_object('id', action_id, 'type', action_type,
							  'scheduleRule', rule, 'config', config)
		|| cadence.json_opt('name', action_name)
		|| cadence.json_opt('variants', variants)
		|| cadence.json_opt('condition', condition);
END
$$;

-- days[] of a Cadence, validated and normalised: each day {dayNumber,
-- actions}; dayNumber a unique integer of at least 1; actions in the
-- order given, an action without an id getting 'd<day>-a<position>'; action
-- ids unique across the cadence.  Returns the days sorted by dayNumber.
-- A day may have no actions, and days may be empty (a draft).
CREATE OR REPLACE FUNCTION cadence.normalize_days(days jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	i int;
	j int;
	k int := 0;
	day jsonb;
	day_path text;
	day_number int;
	actions jsonb;
	action jsonb;
	out_actions jsonb[];
	out_days jsonb[] := '{}';
	repeat_day int;
	repeat_id int;
BEGIN
	PERFORM cadence.check_cadence_size(
		(SELECT sum(jsonb_array_length(d -> 'actions')) FROM jsonb_array_elements(days) AS d
		  WHERE jsonb_typeof(d -> 'actions') = 'array'), path);
	-- Where the first repeated dayNumber and action id are (an action
	-- without an id gets d<dayNumber>-a<position>), counting the actions of
	-- all days in order.
	repeat_day := cadence.first_repeat(
		(SELECT jsonb_agg(d -> 'dayNumber' ORDER BY o)
		   FROM jsonb_array_elements(days) WITH ORDINALITY AS x(d, o)));
	repeat_id := cadence.first_repeat(
		(SELECT jsonb_agg(CASE
				WHEN jsonb_typeof(a -> 'id') = 'string' THEN a -> 'id'
				WHEN coalesce(jsonb_typeof(a -> 'id'), 'null') = 'null'
					 AND jsonb_typeof(d -> 'dayNumber') = 'number'
				THEN to_jsonb(format('d%s-a%s', trunc((d ->> 'dayNumber')::numeric), p)) END
				ORDER BY o, p)
		   FROM jsonb_array_elements(days) WITH ORDINALITY AS x(d, o),
				jsonb_array_elements(CASE WHEN jsonb_typeof(d -> 'actions') = 'array'
										  THEN d -> 'actions' ELSE '[]' END)
					WITH ORDINALITY AS y(a, p)));

	FOR i IN 0 .. jsonb_array_length(days) - 1 LOOP
		day := days -> i;
		day_path := format('%s[%s]', path, i);
		PERFORM cadence.expect_type(day, day_path, 'object');
		PERFORM cadence.reject_unknown_keys(day, ARRAY['dayNumber', 'actions'], day_path);

		day_number := (cadence.json_field(day, 'dayNumber', day_path, 'integer', required => true))::int;
		IF day_number < 1 THEN
			RAISE EXCEPTION '%.dayNumber must be at least 1, got %', day_path, day_number
				USING ERRCODE = '23514', HINT = 'Day 1 is the day a lead is enrolled.';
		ELSIF day_number > 3660 THEN
			RAISE EXCEPTION '%.dayNumber must be at most 3660, got %', day_path, day_number
				USING ERRCODE = '54000', HINT = 'A cadence spans at most ten years of days.';
		END IF;
		IF i = repeat_day THEN
			PERFORM cadence.raise_duplicate(to_jsonb(day_number), 'dayNumber',
											day_path || '.dayNumber');
		END IF;

		actions := coalesce(cadence.json_field(day, 'actions', day_path, 'array'), '[]');
		out_actions := '{}';
		FOR j IN 0 .. jsonb_array_length(actions) - 1 LOOP
			action := cadence.normalize_action(actions -> j,
				format('%s.actions[%s]', day_path, j), format('d%s-a%s', day_number, j + 1));
			IF k = repeat_id THEN
				PERFORM cadence.raise_duplicate(action -> 'id', 'action id',
					format('%s.actions[%s].id', day_path, j),
					'Action ids are unique within a cadence; an action without one gets d<dayNumber>-a<position>.');
			END IF;
			k := k + 1;
			out_actions[j + 1] := action;
		END LOOP;
		out_days[i + 1] := jsonb_build_object('dayNumber', day_number,
											  'actions', to_jsonb(out_actions));
	END LOOP;

	RETURN (SELECT coalesce(jsonb_agg(d ORDER BY (d ->> 'dayNumber')::int), '[]')
			  FROM unnest(out_days) AS d);
END
$$;

-- A cadence body (an UpsertCadenceRequest, or a flat Create
-- Sequence body with steps[] instead of days[]), validated through and
-- through and normalised to:
--   {id?, name, description?, isActive?, timezone, trigger, settings,
--    exitConditions, days}
-- with days in get_cadence's shape.  Nothing is looked up but time zones,
-- so the result depends on the body alone.
--
--   id              optional non-empty string (absent: upsert generates one)
--   name            required non-empty string
--   description     optional string
--   isActive        optional boolean (absent: status unchanged)
--   timezone        optional IANA zone; else settings.timezone; else UTC
--                   (both given: they must agree)
--   trigger         optional {type, config}, see validate_trigger
--   settings        optional object, checked by validate_settings (C)
--   channel         optional email, linkedin or multi, kept as
--                   settings.channel
--   exitConditions  optional object of booleans
--   days | steps    exactly one of them (days may be empty)
--   status, version, ownerId, createdAt, updatedAt
--                   read-only: accepted so that get_cadence's output can be
--                   sent back, and ignored
CREATE OR REPLACE FUNCTION cadence.validate_cadence_body(body jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id jsonb;
	v_name jsonb;
	v_description jsonb;
	v_is_active jsonb;
	v_settings jsonb;
	v_channel text;
	v_zone jsonb;
	v_settings_zone jsonb;
	v_zone_path text;
	v_trigger jsonb;
	v_exit jsonb;
	v_days jsonb;
BEGIN
	PERFORM cadence.check_body(body, 'a cadence',
		ARRAY['id', 'name', 'description', 'isActive', 'timezone', 'trigger', 'settings',
			  'channel', 'exitConditions', 'days', 'steps'],
		ARRAY['status', 'version', 'ownerId', 'createdAt', 'updatedAt']);
	v_id := to_jsonb(cadence.body_id(body));

	v_name := cadence.json_field(body, 'name', '', 'string', required => true);
	IF btrim(v_name #>> '{}') = '' THEN
		RAISE EXCEPTION 'name must not be empty' USING ERRCODE = '23514';
	END IF;

	v_description := cadence.json_field(body, 'description', '', 'string');
	v_is_active := cadence.json_field(body, 'isActive', '', 'boolean');

	v_settings := coalesce(cadence.json_field(body, 'settings', '', 'object'), '{}');
	PERFORM cadence.validate_settings(v_settings, 'settings');
	PERFORM cadence.validate_send_settings(v_settings, 'settings');
	v_channel := cadence.json_field(body, 'channel', '', 'string') #>> '{}';
	IF v_channel NOT IN ('email', 'linkedin', 'multi') THEN
		RAISE EXCEPTION 'unknown channel "%" at channel', v_channel
			USING ERRCODE = '22023', HINT = 'Valid channels: email, linkedin, multi.';
	END IF;
	v_settings := v_settings || cadence.json_opt('channel', to_jsonb(v_channel));

	v_zone := cadence.json_field(body, 'timezone', '', 'string');
	v_settings_zone := cadence.json_field(v_settings, 'timezone', 'settings', 'string');
	IF v_zone <> v_settings_zone THEN
		RAISE EXCEPTION 'timezone % disagrees with settings.timezone %', v_zone, v_settings_zone
			USING ERRCODE = '22023',
				  HINT = 'Give the time zone once, or the same in both places.';
	END IF;
	v_zone_path := CASE WHEN v_zone IS NULL AND v_settings_zone IS NOT NULL
						THEN 'settings.timezone' ELSE 'timezone' END;
	v_zone := coalesce(v_zone, v_settings_zone, '"UTC"');
	IF NOT cadence.is_valid_timezone(v_zone #>> '{}') THEN
		RAISE EXCEPTION 'unknown time zone % at %', v_zone, v_zone_path
			USING ERRCODE = '22023',
				  HINT = 'Use an IANA time zone name such as America/New_York or UTC.';
	END IF;

	v_trigger := cadence.validate_trigger(
		cadence.json_field(body, 'trigger', '', 'object'), 'trigger');
	v_exit := cadence.validate_exit_conditions(
		cadence.json_field(body, 'exitConditions', '', 'object'), 'exitConditions');

	IF cadence.json_field(body, 'steps', '', 'array') IS NOT NULL THEN
		IF cadence.json_field(body, 'days', '', 'array') IS NOT NULL THEN
			RAISE EXCEPTION 'a cadence has days or steps, not both'
				USING ERRCODE = '22023',
					  HINT = 'steps become the actions of day 1.';
		END IF;
		v_days := cadence.steps_to_days(body -> 'steps', v_settings);
	ELSE
		v_days := cadence.normalize_days(
			cadence.json_field(body, 'days', '', 'array', required => true), 'days');
	END IF;
	PERFORM cadence.validate_step_references(v_days);

	RETURN jsonb_build_object('name', v_name, 'timezone', v_zone, 'trigger', v_trigger,
							  'settings', v_settings, 'exitConditions', v_exit,
							  'days', v_days)
		|| cadence.json_opt('id', v_id)
		|| cadence.json_opt('description', v_description)
		|| cadence.json_opt('isActive', v_is_active);
END
$$;
COMMENT ON FUNCTION cadence.validate_cadence_body(jsonb) IS
	'Validate a cadence body (days[] or a flat steps[]) and return it normalised; every error names the JSON path and value under a real SQLSTATE';
