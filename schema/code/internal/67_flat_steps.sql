-- The flat Create Sequence body: its steps[] turned into the days[] of a
-- cadence, which validate_cadence_body (65_validate.sql) then validates as
-- any other, with the same kind of errors.

-- A flat steps[] (a linear sequence) as a Cadence's days[]:
--
--   steps[] sorted by stepNumber    the actions of day 1, in that order
--     (integer >= 1, unique)        (no steps: no days)
--   id                              action id, default 'step-<stepNumber>'
--   type auto_email                 email
--        manual_email               manual_email
--        call                       call_task
--        linkedin                   linkedin_task
--        task                       manual_task
--   name                            name
--   delayDays, delayHours, sendAt   scheduleRule {"kind": "delay",
--                                     "days": delayDays (default 0),
--                                     "hours": delayHours (default 0),
--                                     "businessDays": settings.excludeWeekends
--                                                     (default false, read
--                                                     by the C parser),
--                                     "sendAt": sendAt (only when given)}
--                                   the delay counts from the previous step
--   templateId, subject, body       email steps: config.email.templateId,
--                                     .subject, .bodyHtml
--                                   other steps: config.task.templateId,
--                                     .subject, .body
--   taskDescription                 config.task.description
--   variants                        variants
--
-- An auto_email step needs templateId, or subject and body.  The body's
-- other fields (settings, exitConditions, channel, ...) are read by
-- validate_cadence_body as for days[].  Errors name the step's own fields
-- (steps[2].delayDays, steps[2].sendAt).
CREATE OR REPLACE FUNCTION cadence.steps_to_days(steps jsonb, settings jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	i int;
	step jsonb;
	p text;
	step_number int;
	step_type text;
	action_type text;
	delay_days int;
	delay_hours int;
	send_at jsonb;
	rule jsonb;
	content jsonb;
	task jsonb;
	is_email boolean;
	action jsonb;
	numbered jsonb[] := '{}';
	repeat_step int;
	repeat_id int;
BEGIN
	PERFORM cadence.check_cadence_size(jsonb_array_length(steps), 'steps');
	-- Where the first repeated stepNumber and id are (a step without an id
	-- gets step-<stepNumber>).
	repeat_step := cadence.first_repeat(
		(SELECT jsonb_agg(x.s -> 'stepNumber' ORDER BY o)
		   FROM jsonb_array_elements(steps) WITH ORDINALITY AS x(s, o)));
	repeat_id := cadence.first_repeat(
		(SELECT jsonb_agg(CASE
				WHEN jsonb_typeof(x.s -> 'id') = 'string' THEN x.s -> 'id'
				WHEN coalesce(jsonb_typeof(x.s -> 'id'), 'null') = 'null'
					 AND jsonb_typeof(x.s -> 'stepNumber') = 'number'
				THEN to_jsonb('step-' || trunc((x.s ->> 'stepNumber')::numeric)) END
				ORDER BY o)
		   FROM jsonb_array_elements(steps) WITH ORDINALITY AS x(s, o)));

	FOR i IN 0 .. jsonb_array_length(steps) - 1 LOOP
		step := steps -> i;
		p := format('steps[%s]', i);
		PERFORM cadence.expect_type(step, p, 'object');
		PERFORM cadence.reject_unknown_keys(step,
			ARRAY['id', 'stepNumber', 'type', 'name', 'templateId', 'subject', 'body',
				  'delayDays', 'delayHours', 'sendAt', 'taskDescription', 'variants'], p);

		step_number := (cadence.json_field(step, 'stepNumber', p, 'integer', required => true))::int;
		IF step_number < 1 THEN
			RAISE EXCEPTION '%.stepNumber must be at least 1, got %', p, step_number
				USING ERRCODE = '23514';
		END IF;
		IF i = repeat_step THEN
			PERFORM cadence.raise_duplicate(to_jsonb(step_number), 'stepNumber', p || '.stepNumber');
		END IF;

		step_type := cadence.json_field(step, 'type', p, 'string', required => true) #>> '{}';
		action_type := CASE step_type
			WHEN 'auto_email' THEN 'email'
			WHEN 'manual_email' THEN 'manual_email'
			WHEN 'call' THEN 'call_task'
			WHEN 'linkedin' THEN 'linkedin_task'
			WHEN 'task' THEN 'manual_task'
		END;
		IF action_type IS NULL THEN
			RAISE EXCEPTION 'unknown step type "%" at %.type', step_type, p
				USING ERRCODE = '22023',
					  HINT = 'Valid step types: auto_email, manual_email, call, linkedin, task.';
		END IF;
		is_email := step_type IN ('auto_email', 'manual_email');

		-- The delay, checked here so that errors name delayDays/delayHours.
		delay_days := coalesce(cadence.json_field(step, 'delayDays', p, 'integer'), '0')::int;
		delay_hours := coalesce(cadence.json_field(step, 'delayHours', p, 'integer'), '0')::int;
		IF delay_days < 0 OR delay_hours < 0 THEN
			RAISE EXCEPTION 'invalid %.%: %', p,
				CASE WHEN delay_days < 0 THEN 'delayDays' ELSE 'delayHours' END,
				least(delay_days, delay_hours)
				USING ERRCODE = '22023', DETAIL = 'A delay is a whole number, 0 or more.';
		END IF;
		send_at := cadence.json_field(step, 'sendAt', p, 'string');
		rule := jsonb_build_object('kind', 'delay', 'days', delay_days, 'hours', delay_hours,
								   'businessDays', cadence.settings_business_days(settings))
			|| cadence.json_opt('sendAt', send_at);
		-- Validated under the step's path: errors read steps[i].sendAt.
		PERFORM cadence.validate_schedule_rule(rule, p);

		IF step_type = 'auto_email'
		   AND cadence.json_field(step, 'templateId', p, 'string') IS NULL THEN
			IF cadence.json_field(step, 'subject', p, 'string') IS NULL THEN
				PERFORM cadence.raise_missing(p || '.templateId',
					'An auto_email step needs templateId, or subject and body.');
			END IF;
			IF cadence.json_field(step, 'body', p, 'string') IS NULL THEN
				PERFORM cadence.raise_missing(p || '.body',
					'An auto_email step needs templateId, or subject and body.');
			END IF;
		END IF;

		content := cadence.json_opt('templateId', cadence.json_field(step, 'templateId', p, 'string'))
			|| cadence.json_opt('subject', cadence.json_field(step, 'subject', p, 'string'))
			|| cadence.json_opt(CASE WHEN is_email THEN 'bodyHtml' ELSE 'body' END,
								cadence.json_field(step, 'body', p, 'string'));
		task := cadence.json_opt('description',
								 cadence.json_field(step, 'taskDescription', p, 'string'));
		IF NOT is_email THEN
			task := content || task;
			content := '{}';
		END IF;

		action := cadence.normalize_action(
			jsonb_build_object('type', action_type, 'scheduleRule', rule,
							   'config', cadence.json_opt('email', nullif(content, '{}'))
										 || cadence.json_opt('task', nullif(task, '{}')))
				|| cadence.json_opt('id', step -> 'id')
				|| cadence.json_opt('name', step -> 'name')
				|| cadence.json_opt('variants', step -> 'variants'),
			p, 'step-' || step_number);
		IF i = repeat_id THEN
			PERFORM cadence.raise_duplicate(action -> 'id', 'action id', p || '.id');
		END IF;
		numbered[i + 1] := jsonb_build_object('stepNumber', step_number, 'action', action);
	END LOOP;

	IF cardinality(numbered) = 0 THEN
		RETURN '[]';
	END IF;
	RETURN jsonb_build_array(jsonb_build_object('dayNumber', 1, 'actions',
		(SELECT jsonb_agg(n -> 'action' ORDER BY (n ->> 'stepNumber')::int)
		   FROM unnest(numbered) AS n)));
END
$$;
