-- The baseline: enrollment the way the engines cadence replaces do it, one
-- lead at a time in a PL/pgSQL loop (an enrollInCadence or
-- enroll_lead_in_sequence function), producing the same rows plan_runs does:
-- per lead, check the cadence is active and the lead belongs to the tenant
-- and may be contacted, look for a live run, insert the run and its
-- enrollment event, then per step compute the due time with AT TIME ZONE
-- arithmetic, walk forward an hour at a time until inside business hours,
-- and insert the scheduled action.
CREATE FUNCTION pg_temp.baseline_enroll_one(p_cadence text, p_lead text, p_trigger timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	c		record;
	l		record;
	a		record;
	v_run	bigint;
	tz		text;
	prev	timestamptz;
	due		timestamptz;
	day_date date;
	last_day integer := 1;
	win		jsonb;
	n		integer := 0;
BEGIN
	SELECT * INTO c FROM cadence.cadences
	 WHERE tenant_id = 'bench' AND id = p_cadence AND deleted_at IS NULL;
	IF NOT FOUND OR c.status <> 'active' THEN
		RAISE EXCEPTION 'cadence not found or inactive';
	END IF;
	SELECT * INTO l FROM cadence.contacts WHERE tenant_id = c.tenant_id AND id = p_lead;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'contact does not belong to cadence tenant';
	END IF;
	IF l.unsubscribed OR EXISTS (SELECT 1 FROM cadence.suppressions s
								  WHERE s.tenant_id = l.tenant_id AND s.channel = 'all'
									AND s.address IN (l.email, l.phone, l.whatsapp)) THEN
		RETURN 0;
	END IF;
	PERFORM 1 FROM cadence.runs
	 WHERE tenant_id = c.tenant_id AND cadence_id = p_cadence AND lead_id = l.id
	   AND status IN ('active', 'paused');
	IF FOUND THEN
		RETURN 0;
	END IF;
	tz := coalesce(l.timezone, c.timezone);
	INSERT INTO cadence.runs (tenant_id, cadence_id, cadence_version, lead_id, timezone, trigger_at)
	VALUES (c.tenant_id, p_cadence, c.version, l.id, tz, p_trigger)
	RETURNING id INTO v_run;
	INSERT INTO cadence.events (tenant_id, run_id, cadence_id, lead_id, type, payload)
	VALUES (c.tenant_id, v_run, p_cadence, l.id, 'run.enrolled',
			jsonb_build_object('cadenceVersion', c.version, 'triggerAt', p_trigger, 'timezone', tz));
	prev := p_trigger;
	FOR a IN SELECT * FROM cadence.cadence_actions
			  WHERE tenant_id = c.tenant_id AND cadence_id = p_cadence AND version = c.version
			  ORDER BY step_number LOOP
		IF a.day_number <> last_day THEN
			day_date := (p_trigger AT TIME ZONE tz)::date;
			FOR i IN 2 .. a.day_number LOOP
				day_date := day_date + 1;
				WHILE extract(isodow FROM day_date) > 5 LOOP
					day_date := day_date + 1;
				END LOOP;
			END LOOP;
			prev := greatest(prev, (day_date + time '09:00') AT TIME ZONE tz);
			last_day := a.day_number;
		END IF;
		CASE a.schedule_rule ->> 'kind'
		WHEN 'timeOfDay' THEN
			due := ((prev AT TIME ZONE tz)::date + (a.schedule_rule ->> 'timeOfDay')::time) AT TIME ZONE tz;
			IF due < prev THEN
				due := (((prev AT TIME ZONE tz)::date + 1) + (a.schedule_rule ->> 'timeOfDay')::time) AT TIME ZONE tz;
			END IF;
		WHEN 'afterPrevious' THEN
			due := prev + make_interval(mins => (a.schedule_rule ->> 'minutesAfterPrev')::int);
		ELSE
			due := prev;
		END CASE;
		LOOP
			win := c.settings -> 'businessHours' -> lower(trim(to_char(due AT TIME ZONE tz, 'Day')));
			EXIT WHEN win IS NOT NULL
				AND (due AT TIME ZONE tz)::time >= (win ->> 'start')::time
				AND (due AT TIME ZONE tz)::time < (win ->> 'end')::time;
			due := date_trunc('hour', due) + interval '1 hour';
		END LOOP;
		INSERT INTO cadence.scheduled_actions (tenant_id, run_id, cadence_id, cadence_version,
			action_id, step_number, day_number, type, due_at, planned_at, status)
		VALUES (c.tenant_id, v_run, p_cadence, c.version, a.action_id, a.step_number,
				a.day_number, a.type, due, due,
				CASE WHEN n = 0 THEN 'scheduled' ELSE 'planned' END);
		prev := due;
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;

CREATE FUNCTION pg_temp.baseline_enroll(p_cadence text, p_leads text[], p_trigger timestamptz)
RETURNS integer LANGUAGE sql AS $$
	SELECT sum(pg_temp.baseline_enroll_one(p_cadence, l, p_trigger))::integer
	  FROM unnest(p_leads) AS l
$$;
