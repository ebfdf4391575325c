-- Properties of the scheduling contract over 1,000 random cadences (days,
-- actions, rules; business hours, weekends, holidays, quiet hours, time
-- zones) and enrollment instants, drawn from a fixed seed.  For each case:
-- no two days of a run share a local date; due times never decrease in
-- step order; every due instant is inside its allowed window (checked
-- here in SQL, apart from the C that planned it); preview_schedule equals
-- what plan_runs wrote.  A failure names the seed and the case, with the
-- cadence and the instant, so it can be replayed.
BEGIN;
SELECT plan(5);
\set seed 0.2027
SELECT setseed(:seed);
SET LOCAL cadence_test.seed = :seed;
SET LOCAL timezone = 'UTC';
INSERT INTO cadence.members (tenant_id, user_id, role) VALUES ('prop', 'pat', 'owner');
SET LOCAL cadence.tenant_id = 'prop';
SET LOCAL cadence.user_id = 'pat';
SET LOCAL cadence.notify = off;

CREATE FUNCTION pg_temp.pick(n int) RETURNS int LANGUAGE sql AS $$ SELECT floor(random() * n)::int $$;
CREATE FUNCTION pg_temp.hhmm(m int) RETURNS text LANGUAGE sql AS $$
	SELECT lpad((m / 60)::text, 2, '0') || ':' || lpad((m % 60)::text, 2, '0') $$;
CREATE FUNCTION pg_temp.zone() RETURNS text LANGUAGE sql AS $$
	SELECT (ARRAY['America/New_York', 'Europe/London', 'Australia/Sydney', 'Asia/Kolkata',
				  'America/Los_Angeles', 'Australia/Lord_Howe'])[1 + pg_temp.pick(6)] $$;

-- A random rule.
CREATE FUNCTION pg_temp.rule() RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	CASE pg_temp.pick(4)
	WHEN 0 THEN RETURN '{"kind": "immediately"}';
	WHEN 1 THEN RETURN jsonb_build_object('kind', 'timeOfDay', 'timeOfDay', pg_temp.hhmm(pg_temp.pick(96) * 15));
	WHEN 2 THEN RETURN jsonb_build_object('kind', 'afterPrevious', 'minutesAfterPrev', pg_temp.pick(600));
	ELSE RETURN jsonb_strip_nulls(jsonb_build_object('kind', 'delay', 'days', pg_temp.pick(3),
		'hours', pg_temp.pick(6), 'businessDays', random() < 0.5,
		'sendAt', CASE WHEN random() < 0.5 THEN pg_temp.hhmm(pg_temp.pick(96) * 15) END));
	END CASE;
END
$$;

-- Random settings: business hours on some weekdays, weekends, holidays
-- in the coming weeks, quiet hours default, off or other, a zone mode.
CREATE FUNCTION pg_temp.settings(at timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	s jsonb := jsonb_build_object('excludeWeekends', random() < 0.5,
		'timezoneMode', CASE WHEN random() < 0.5 THEN 'recipient' ELSE 'cadence' END);
	bh jsonb := '{}';
	d text;
	st int;
BEGIN
	IF random() < 0.6 THEN
		FOREACH d IN ARRAY ARRAY['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] LOOP
			CONTINUE WHEN random() < 0.3;
			st := pg_temp.pick(48) * 15 + 300;
			bh := bh || jsonb_build_object(d, jsonb_build_object('start', pg_temp.hhmm(st),
				'end', pg_temp.hhmm(least(st + 60 + pg_temp.pick(40) * 15, 1439))));
		END LOOP;
		IF bh = '{}' OR NOT (bh ?| ARRAY['monday', 'tuesday', 'wednesday', 'thursday', 'friday']) THEN
			bh := bh || '{"wednesday": {"start": "09:00", "end": "17:00"}}';
		END IF;
		s := s || jsonb_build_object('businessHours', bh);
	END IF;
	IF random() < 0.4 THEN
		s := s || jsonb_build_object('holidays', (SELECT jsonb_agg(to_char(at::date + pg_temp.pick(40), 'YYYY-MM-DD'))
												   FROM generate_series(1, 1 + pg_temp.pick(4))));
	END IF;
	CASE pg_temp.pick(3)
	WHEN 0 THEN NULL;
	WHEN 1 THEN s := s || '{"quietHours": null}';
	ELSE s := s || jsonb_build_object('quietHours', jsonb_build_object('sms',
			jsonb_build_object('start', pg_temp.hhmm(1080 + pg_temp.pick(20) * 15), 'end', pg_temp.hhmm(360 + pg_temp.pick(16) * 15))));
	END CASE;
	RETURN s;
END
$$;

-- Random days (numbers may skip), one to three actions each.
CREATE FUNCTION pg_temp.days() RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	out jsonb := '[]';
	day int := 0;
	n int := 0;
BEGIN
	FOR i IN 1 .. 1 + pg_temp.pick(4) LOOP
		day := day + 1 + pg_temp.pick(3);
		out := out || jsonb_build_array(jsonb_build_object('dayNumber', day, 'actions',
			(SELECT jsonb_agg(jsonb_build_object('id', 'a' || (n + j), 'type',
						(ARRAY['email', 'sms', 'whatsapp', 'call_task'])[1 + pg_temp.pick(4)],
						'scheduleRule', pg_temp.rule(),
						'config', '{"email": {"subject": "s", "bodyHtml": "b"}, "sms": {"body": "b"}, "whatsapp": {"body": "b"}}'::jsonb))
			   FROM generate_series(1, 1 + pg_temp.pick(3)) j)));
		n := n + 3;
	END LOOP;
	RETURN out;
END
$$;

-- Is `at` allowed for a step of this type: an open day in the run's zone,
-- inside its window, and for SMS and WhatsApp outside the quiet hours in
-- the lead's zone (21:00-08:00 unless the settings say otherwise)?
CREATE FUNCTION pg_temp.allowed(at timestamptz, type text, tz text, lead_tz text, s jsonb)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	loc timestamp := at AT TIME ZONE tz;
	day text := trim(to_char(loc, 'day'));
	win jsonb := s -> 'businessHours' -> day;
	q jsonb;
	qs time;
	qe time;
	lt time;
BEGIN
	IF s ? 'holidays' AND s -> 'holidays' ? to_char(loc, 'YYYY-MM-DD') THEN
		RETURN false;
	END IF;
	IF coalesce((s ->> 'excludeWeekends')::boolean, false) AND extract(isodow FROM loc) > 5 THEN
		RETURN false;
	END IF;
	IF s ? 'businessHours' AND (win IS NULL OR loc::time < (win ->> 'start')::time
								OR loc::time >= (win ->> 'end')::time) THEN
		RETURN false;
	END IF;
	IF type NOT IN ('sms', 'whatsapp') OR (s ? 'quietHours' AND s -> 'quietHours' = 'null') THEN
		RETURN true;
	END IF;
	q := coalesce(s -> 'quietHours' -> type, '{"start": "21:00", "end": "08:00"}');
	IF type = 'whatsapp' THEN
		q := '{"start": "21:00", "end": "08:00"}';
	END IF;
	qs := (q ->> 'start')::time;
	qe := (q ->> 'end')::time;
	lt := (at AT TIME ZONE coalesce(lead_tz, tz))::time;
	RETURN NOT (CASE WHEN qs < qe THEN lt >= qs AND lt < qe ELSE lt >= qs OR lt < qe END);
END
$$;

CREATE TEMP TABLE cases (n int, cadence_id text, lead_id text, at timestamptz, body jsonb, lead_tz text);
CREATE TEMP TABLE failures (n int, what text);

-- verdict(property): no case in failures, else the first three cases that
-- broke it, with the seed to replay them; failures is emptied.
CREATE FUNCTION pg_temp.verdict(property text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	RETURN NEXT is((SELECT count(DISTINCT n) FROM failures), 0::bigint, property);
	RETURN QUERY SELECT diag(format('seed %s case %s: %s; cadence %s, enrolled %s, lead zone %s',
									current_setting('cadence_test.seed'), f.n, f.what, c.body,
									c.at, c.lead_tz))
				   FROM (SELECT DISTINCT ON (n) * FROM failures ORDER BY n LIMIT 3) f
				   JOIN cases c USING (n);
	TRUNCATE failures;
END
$$;

-- The cases: a cadence, a lead in some zone, an instant in 2026-2027.
-- Each body is what upsert_cadence takes (a failing case replays with
-- it); they are written to the tables in three statements, which is
-- quicker than a thousand calls.
DO $$
DECLARE
	at timestamptz;
BEGIN
	FOR i IN 1 .. 1000 LOOP
		at := '2026-01-01 00:00Z'::timestamptz + random() * interval '700 days';
		INSERT INTO cases VALUES (i, 'c' || i, 'l' || i, at,
			jsonb_build_object('id', 'c' || i, 'name', 'c' || i, 'timezone', pg_temp.zone(),
							   'isActive', true, 'settings', pg_temp.settings(at),
							   'days', pg_temp.days()),
			pg_temp.zone());
	END LOOP;
END
$$;
INSERT INTO cadence.contacts (tenant_id, id, email, phone, whatsapp, timezone)
SELECT 'prop', lead_id, lead_id || '@example.com', '+1555' || lpad(n::text, 7, '0'),
	   '+1555' || lpad(n::text, 7, '0'), lead_tz FROM cases;
INSERT INTO cadence.cadences (tenant_id, id, name, status, timezone, settings)
SELECT 'prop', cadence_id, cadence_id, 'active', body ->> 'timezone', body -> 'settings' FROM cases;
INSERT INTO cadence.cadence_days (tenant_id, cadence_id, version, day_number)
SELECT 'prop', cadence_id, 1, (d ->> 'dayNumber')::int FROM cases, jsonb_array_elements(body -> 'days') d;
INSERT INTO cadence.cadence_actions (tenant_id, cadence_id, version, day_number, position,
									 step_number, action_id, type, schedule_rule, config)
SELECT 'prop', cadence_id, 1, (d ->> 'dayNumber')::int, a.pos,
	   row_number() OVER (PARTITION BY cadence_id ORDER BY (d ->> 'dayNumber')::int, a.pos),
	   a.x ->> 'id', a.x ->> 'type', a.x -> 'scheduleRule', a.x -> 'config'
  FROM cases, jsonb_array_elements(body -> 'days') d,
	   jsonb_array_elements(d -> 'actions') WITH ORDINALITY a(x, pos);
SELECT count(*) FILTER (WHERE o.outcome = 'enrolled') AS enrolled
  FROM cases c, LATERAL cadence.plan_runs(c.cadence_id, ARRAY[c.lead_id], c.at) o \gset
SELECT is(:enrolled::bigint, 1000::bigint, '1,000 random cadences each enrolled a lead');

CREATE TEMP TABLE planned AS
SELECT c.n, r.timezone AS tz, a.step_number, a.day_number, a.type, a.due_at, a.moved_reason,
	   (a.due_at AT TIME ZONE r.timezone)::date AS local_date
  FROM cases c JOIN cadence.runs r ON r.tenant_id = 'prop' AND r.lead_id = c.lead_id
  JOIN cadence.scheduled_actions a ON a.tenant_id = r.tenant_id AND a.run_id = r.id;

-- No two days of a run share a local date: every date of a day comes
-- before every date of the next.
INSERT INTO failures
SELECT p.n, format('day %s ends on %s, day %s starts on %s', p.day_number, max(p.local_date),
				   q.day_number, min(q.local_date))
  FROM planned p JOIN planned q ON q.n = p.n AND q.day_number > p.day_number
 GROUP BY p.n, p.day_number, q.day_number HAVING max(p.local_date) >= min(q.local_date);
SELECT * FROM pg_temp.verdict('no two days of a run share a local date');

-- Due times never decrease in step order.
INSERT INTO failures
SELECT n, format('step %s due %s after step %s due %s', step_number, due_at, prev_step, prev_due)
  FROM (SELECT p.*, lag(due_at) OVER w AS prev_due, lag(step_number) OVER w AS prev_step
		  FROM planned p WINDOW w AS (PARTITION BY n ORDER BY step_number)) x
 WHERE due_at < prev_due;
SELECT * FROM pg_temp.verdict('due times never decrease in step order');

-- Every due instant is inside its allowed window (a step with none within
-- 14 days says so: no_send_window).
INSERT INTO failures
SELECT p.n, format('step %s (%s) due %s (%s local) is outside its window', p.step_number, p.type,
				   p.due_at, p.due_at AT TIME ZONE p.tz)
  FROM planned p JOIN cases c USING (n)
 WHERE p.moved_reason IS DISTINCT FROM 'no_send_window'
   AND NOT pg_temp.allowed(p.due_at, p.type, p.tz, c.lead_tz, c.body -> 'settings');
SELECT * FROM pg_temp.verdict('every due instant is inside its allowed window');

-- preview_schedule equals what plan_runs wrote.
INSERT INTO failures
SELECT coalesce(p.n, v.n), format('step %s: plan_runs %s (%s), preview %s (%s)',
	   coalesce(p.step_number, v.step_number), p.due_at, p.moved_reason, v.due_at, v.reason)
  FROM planned p
  FULL JOIN (SELECT c.n, x.step_number, x.due_at, x.reason
			   FROM cases c, LATERAL cadence.preview_schedule(c.cadence_id, c.lead_id, c.at) x) v
	ON v.n = p.n AND v.step_number = p.step_number
 WHERE p.due_at IS DISTINCT FROM v.due_at OR p.moved_reason IS DISTINCT FROM v.reason;
SELECT * FROM pg_temp.verdict('preview_schedule equals what plan_runs wrote');

SELECT * FROM finish();
ROLLBACK;
