-- The days of a run, as a sales team expects them: the clamp of a time
-- into business hours (rule 1), day 1 from the enrollment (rule 2), later
-- days on their own open dates (rule 3).  preview_schedule shows what
-- plan_runs writes; the local times below are in the run's zone.
SET timezone = 'UTC';
SET cadence.tenant_id = 'days';
SET cadence.user_id = 'dana';

-- days(id, zone, settings, days): an active cadence whose days each hold
-- one email with the rule given (day number => rule).
CREATE FUNCTION pg_temp.days(id text, zone text, settings jsonb, days jsonb) RETURNS void
LANGUAGE sql AS $$
	SELECT cadence.upsert_cadence(jsonb_build_object('id', id, 'name', id, 'timezone', zone,
		'isActive', true, 'settings', settings,
		'days', (SELECT jsonb_agg(jsonb_build_object('dayNumber', d.key::int, 'actions',
					jsonb_build_array(jsonb_build_object('id', 'd' || d.key, 'type', 'email',
						'scheduleRule', d.value,
						'config', '{"email": {"subject": "Hi", "bodyHtml": "<p>Hi</p>"}}'::jsonb))))
				   FROM jsonb_each(days) d)))
$$;
-- timeline(cadence, as_of): the preview in the cadence's zone.
CREATE FUNCTION pg_temp.timeline(cid text, as_of timestamptz)
RETURNS TABLE (day int, local text, reason text) LANGUAGE sql AS $$
	SELECT p.day_number, to_char(p.local_time, 'Dy YYYY-MM-DD HH24:MI'), p.reason
	  FROM cadence.preview_schedule(cid, NULL, as_of) p ORDER BY p.step_number
$$;
\set nine '{"kind": "timeOfDay", "timeOfDay": "09:00"}'
\set weekdays '{"monday": {"start": "09:00", "end": "17:00"}, "tuesday": {"start": "09:00", "end": "17:00"}, "wednesday": {"start": "09:00", "end": "17:00"}, "thursday": {"start": "09:00", "end": "17:00"}, "friday": {"start": "09:00", "end": "17:00"}}'

--
-- Rule 1, the clamp, in London (Monday 2027-05-03): an instant inside a
-- window stays; from a closed day the next open day at the same wall time
-- when its window holds it, else its start.
--
SELECT to_char(v.at AT TIME ZONE 'Europe/London', 'Dy HH24:MI') AS at, to_char(cadence.calculate_next_step_due(v.at, '{"kind": "immediately"}',
			'Europe/London', jsonb_build_object('businessHours', :'weekdays'::jsonb))
		AT TIME ZONE 'Europe/London', 'Dy YYYY-MM-DD HH24:MI') AS due
  FROM (VALUES ('2027-05-08 14:30 Europe/London'::timestamptz),
			   ('2027-05-08 18:30 Europe/London'), ('2027-05-09 07:00 Europe/London'),
			   ('2027-05-10 08:00 Europe/London'), ('2027-05-10 16:59 Europe/London'),
			   ('2027-05-10 17:00 Europe/London')) v(at);

--
-- Rules 2 and 3 in London: days 1/2/3 at 09:00, enrolled Monday 11:00
-- (past day 1's time): day 1 on Tuesday, then one date each.
--
SELECT pg_temp.days('ldn-123', 'Europe/London', '{}', jsonb_build_object('1', :'nine'::jsonb, '2', :'nine'::jsonb, '3', :'nine'::jsonb));
SELECT * FROM pg_temp.timeline('ldn-123', '2027-05-03 11:00 Europe/London');
-- Weekends excluded, no business hours, days 1/2 at 09:00, enrolled
-- Friday 20:00: Monday and Tuesday at 09:00.
SELECT pg_temp.days('ldn-wk', 'Europe/London', '{"excludeWeekends": true}', jsonb_build_object('1', :'nine'::jsonb, '2', :'nine'::jsonb));
SELECT * FROM pg_temp.timeline('ldn-wk', '2027-05-07 20:00 Europe/London');

--
-- New York: days 1/2/4/8 at 09:00 enrolled Monday 2026-01-12 10:00.
-- Day N falls N - M open days after day M's last action: Tue, Wed, Fri,
-- Tue (every day is open here).
--
SELECT pg_temp.days('ny-1248', 'America/New_York', '{}', jsonb_build_object('1', :'nine'::jsonb, '2', :'nine'::jsonb, '4', :'nine'::jsonb, '8', :'nine'::jsonb));
SELECT * FROM pg_temp.timeline('ny-1248', '2026-01-12 10:00 America/New_York');
-- With business hours on weekdays (and weekends off), enrolled Friday
-- evening or Saturday: day 1 Monday 09:00, day 2 Tuesday, day 4 Thursday,
-- day 8 the Wednesday after (open days only).
SELECT pg_temp.days('ny-office', 'America/New_York', jsonb_build_object('excludeWeekends', true, 'businessHours', :'weekdays'::jsonb), jsonb_build_object('1', :'nine'::jsonb, '2', :'nine'::jsonb, '4', :'nine'::jsonb, '8', :'nine'::jsonb));
SELECT * FROM pg_temp.timeline('ny-office', '2026-01-16 19:00 America/New_York');
SELECT * FROM pg_temp.timeline('ny-office', '2026-01-17 11:00 America/New_York');
-- Weekends excluded and no business hours: a later day that starts
-- "immediately" or "afterPrevious" starts at day 1's wall time (10:15),
-- never at midnight.
SELECT pg_temp.days('ny-wall', 'America/New_York', '{"excludeWeekends": true}', '{"1": {"kind": "immediately"}, "2": {"kind": "immediately"}, "3": {"kind": "afterPrevious", "minutesAfterPrev": 30}}');
SELECT * FROM pg_temp.timeline('ny-wall', '2026-01-15 10:15 America/New_York');
-- A time before the window opens is clamped on its own day: timeOfDay
-- 08:00 with business hours from 09:00 gives day 2 on Tuesday 09:00.
SELECT pg_temp.days('ny-early', 'America/New_York', jsonb_build_object('businessHours', :'weekdays'::jsonb), '{"1": {"kind": "timeOfDay", "timeOfDay": "08:00"}, "2": {"kind": "timeOfDay", "timeOfDay": "08:00"}}');
SELECT * FROM pg_temp.timeline('ny-early', '2026-01-12 07:00 America/New_York');
-- Under business hours a later day without a time of its own starts at
-- the window's start: "delay 2 hours" on day 3 is 11:00.
SELECT pg_temp.days('ny-start', 'America/New_York', jsonb_build_object('businessHours', :'weekdays'::jsonb), '{"1": {"kind": "timeOfDay", "timeOfDay": "15:00"}, "3": {"kind": "delay", "hours": 2}}');
SELECT * FROM pg_temp.timeline('ny-start', '2026-01-12 07:00 America/New_York');

--
-- Sydney across its autumn DST change (Sunday 2026-04-05 03:00 -> 02:00):
-- days 1/2/3 at 09:00 keep 09:00 local; the UTC hour moves.
--
SELECT pg_temp.days('syd', 'Australia/Sydney', '{}', jsonb_build_object('1', :'nine'::jsonb, '2', :'nine'::jsonb, '3', :'nine'::jsonb));
SELECT p.day_number, p.local_time, p.due_at FROM cadence.preview_schedule('syd', NULL, '2026-04-03 12:00 Australia/Sydney') p;

--
-- Kolkata, business hours 10:00-18:00 on weekdays, Republic Day
-- (Monday 2026-01-26) a holiday: days 1/2/5 from Friday 2026-01-23 17:30.
-- Day 1 at 17:30 (inside), day 2 skips the weekend and the holiday to
-- Tuesday 10:00 (window start), day 5 three open days later, Friday.
--
SELECT pg_temp.days('blr', 'Asia/Kolkata', jsonb_build_object('excludeWeekends', true, 'holidays', jsonb_build_array('2026-01-26'), 'businessHours', '{"monday": {"start": "10:00", "end": "18:00"}, "tuesday": {"start": "10:00", "end": "18:00"}, "wednesday": {"start": "10:00", "end": "18:00"}, "thursday": {"start": "10:00", "end": "18:00"}, "friday": {"start": "10:00", "end": "18:00"}}'::jsonb), '{"1": {"kind": "immediately"}, "2": {"kind": "immediately"}, "5": {"kind": "immediately"}}');
SELECT * FROM pg_temp.timeline('blr', '2026-01-23 17:30 Asia/Kolkata');

--
-- The preview is what plan_runs writes: enroll a lead in each cadence
-- above at the same instants and compare.
--
INSERT INTO cadence.contacts (tenant_id, id, email) SELECT 'days', 'day-lead-' || g, 'l' || g || '@example.com' FROM generate_series(1, 8) g;
CREATE TEMP TABLE cases (n int, cid text, at timestamptz);
INSERT INTO cases VALUES (1, 'ldn-123', '2027-05-03 11:00 Europe/London'), (2, 'ldn-wk', '2027-05-07 20:00 Europe/London'),
	(3, 'ny-1248', '2026-01-12 10:00 America/New_York'), (4, 'ny-office', '2026-01-16 19:00 America/New_York'),
	(5, 'ny-wall', '2026-01-15 10:15 America/New_York'), (6, 'ny-early', '2026-01-12 07:00 America/New_York'),
	(7, 'syd', '2026-04-03 12:00 Australia/Sydney'), (8, 'blr', '2026-01-23 17:30 Asia/Kolkata');
SELECT count(*) FILTER (WHERE o.outcome = 'enrolled') AS enrolled
  FROM cases c, LATERAL cadence.plan_runs(c.cid, ARRAY['day-lead-' || c.n], c.at) o;
SELECT count(*) AS differing_steps FROM (
	(SELECT c.cid, p.step_number, p.due_at, p.reason FROM cases c, LATERAL cadence.preview_schedule(c.cid, 'day-lead-' || c.n, c.at) p
	 EXCEPT
	 SELECT r.cadence_id, a.step_number, a.due_at, a.moved_reason FROM cadence.runs r JOIN cadence.scheduled_actions a ON a.run_id = r.id WHERE r.tenant_id = 'days')
	UNION ALL
	(SELECT r.cadence_id, a.step_number, a.due_at, a.moved_reason FROM cadence.runs r JOIN cadence.scheduled_actions a ON a.run_id = r.id WHERE r.tenant_id = 'days'
	 EXCEPT
	 SELECT c.cid, p.step_number, p.due_at, p.reason FROM cases c, LATERAL cadence.preview_schedule(c.cid, 'day-lead-' || c.n, c.at) p)) d;
