-- cadence.calculate_next_step_due(prev, rule, tz, settings): when a cadence
-- step is due after a step at prev.  Every result below was worked out by
-- hand first; the columns show it as local wall time in tz (with the zone
-- abbreviation), in UTC, how many hours after prev it is, and the first
-- reason it was moved from the rule's own instant (explain_next_step_due).
--
-- Calendar used throughout: Wed 2026-01-14, Fri 2026-01-16, Mon 2026-01-19.
-- DST in 2026: New York springs forward Sun 03-08 02:00 -> 03:00 and falls
-- back Sun 11-01 02:00 -> 01:00; London 03-29 01:00 -> 02:00 and 10-25
-- 02:00 -> 01:00; Sydney falls back 04-05 03:00 -> 02:00 and springs
-- forward 10-04 02:00 -> 03:00; Lord Howe springs forward half an hour on
-- 10-04 02:00 -> 02:30; Kolkata stays at +05:30.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- due(): the result as local time, UTC, hours after prev and move reason.
-- It also checks that explain_next_step_due agrees with the main function.
CREATE FUNCTION pg_temp.due(prev timestamptz, rule jsonb, tz text,
							settings jsonb DEFAULT '{}',
							OUT local text, OUT utc text,
							OUT hours_later numeric, OUT moved text)
LANGUAGE plpgsql SET timezone = 'UTC'
AS $$
DECLARE
	d timestamptz := cadence.calculate_next_step_due(prev, rule, tz, settings);
	e record := cadence.explain_next_step_due(prev, rule, tz, settings);
BEGIN
	IF e.due_at IS DISTINCT FROM d THEN
		RAISE EXCEPTION 'explain_next_step_due says %, calculate_next_step_due %', e.due_at, d;
	END IF;
	utc := to_char(d, 'YYYY-MM-DD HH24:MI:SS');
	hours_later := round(extract(epoch FROM d - prev) / 3600, 2);
	moved := e.moved_reason;
	PERFORM set_config('timezone', tz, true);
	local := to_char(d, 'Dy YYYY-MM-DD HH24:MI:SS TZ');
END
$$;

-- err(): the SQLSTATE and message of a failing statement, and its detail or hint.
CREATE FUNCTION pg_temp.err(sql text, OUT error text, OUT help text)
LANGUAGE plpgsql
AS $$
DECLARE
	d text;
	h text;
BEGIN
	EXECUTE sql;
	error := 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
	error := SQLSTATE || ': ' || SQLERRM;
	help := concat_ws(' ', 'DETAIL: ' || nullif(d, ''), 'HINT: ' || nullif(h, ''));
END
$$;

-- New York business hours, Monday to Friday 09:00-17:00, no weekends.
\set ny_week '{"businessHours": {"monday": {"start": "09:00", "end": "17:00"}, "tuesday": {"start": "09:00", "end": "17:00"}, "wednesday": {"start": "09:00", "end": "17:00"}, "thursday": {"start": "09:00", "end": "17:00"}, "friday": {"start": "09:00", "end": "17:00"}}, "excludeWeekends": true}'
-- The same with Martin Luther King Day (Mon 2026-01-19) as a holiday.
\set ny_week_mlk '{"businessHours": {"monday": {"start": "09:00", "end": "17:00"}, "tuesday": {"start": "09:00", "end": "17:00"}, "wednesday": {"start": "09:00", "end": "17:00"}, "thursday": {"start": "09:00", "end": "17:00"}, "friday": {"start": "09:00", "end": "17:00"}}, "excludeWeekends": true, "holidays": ["2026-01-19"]}'

--
-- immediately: prev itself, to the second.
--
SELECT * FROM pg_temp.due('2026-01-15 10:17:23 UTC', '{"kind": "immediately"}', 'America/New_York');

--
-- afterPrevious: elapsed minutes.  Across a DST change the wall clock moves
-- by more (spring) or less (autumn) than the minutes added.
--
-- 30 minutes after 09:00 is 09:30.
SELECT * FROM pg_temp.due('2026-01-15 09:00 America/New_York', '{"kind": "afterPrevious", "minutesAfterPrev": 30}', 'America/New_York');
-- 60 minutes after 01:30 EST on the spring-forward night is 03:30 EDT.
SELECT * FROM pg_temp.due('2026-03-08 01:30 America/New_York', '{"kind": "afterPrevious", "minutesAfterPrev": 60}', 'America/New_York');
-- 120 minutes after 00:30 EDT on the fall-back night is 01:30 EST.
SELECT * FROM pg_temp.due('2026-11-01 00:30 America/New_York', '{"kind": "afterPrevious", "minutesAfterPrev": 120}', 'America/New_York');
-- 0 minutes is prev; 30.0 is a whole number too.
SELECT * FROM pg_temp.due('2026-01-15 09:00 America/New_York', '{"kind": "afterPrevious", "minutesAfterPrev": 0}', 'America/New_York');
SELECT * FROM pg_temp.due('2026-01-15 09:00 America/New_York', '{"kind": "afterPrevious", "minutesAfterPrev": 30.0}', 'America/New_York');

--
-- timeOfDay: the wall time on prev's local date (plus dayOffset days); with
-- dayOffset 0, a time already past means the same time the next day.
--
-- 07:00 -> 09:00 the same day.
SELECT * FROM pg_temp.due('2026-01-15 07:00 America/New_York', '{"kind": "timeOfDay", "timeOfDay": "09:00"}', 'America/New_York');
-- 10:00 -> 09:00 has passed, so 09:00 tomorrow, 23 hours later.
SELECT * FROM pg_temp.due('2026-01-15 10:00 America/New_York', '{"kind": "timeOfDay", "timeOfDay": "09:00"}', 'America/New_York');
-- Exactly 09:00 is not "past": prev itself.
SELECT * FROM pg_temp.due('2026-01-15 09:00 America/New_York', '{"kind": "timeOfDay", "timeOfDay": "09:00"}', 'America/New_York');
-- dayOffset 2 from Thursday: Saturday 09:00 (no settings, so weekends are open).
SELECT * FROM pg_temp.due('2026-01-15 10:00 America/New_York', '{"kind": "timeOfDay", "timeOfDay": "09:00", "dayOffset": 2}', 'America/New_York');
-- The local date counts, not the UTC date: 03:00 UTC on the 16th is 22:00
-- on the 15th in New York, so 23:00 means the 15th at 23:00.
SELECT * FROM pg_temp.due('2026-01-16 03:00 UTC', '{"kind": "timeOfDay", "timeOfDay": "23:00"}', 'America/New_York');
-- Kolkata is UTC+05:30: 00:00 UTC is 05:30 there, so 09:00 IST is 03:30 UTC.
SELECT * FROM pg_temp.due('2026-01-15 00:00 UTC', '{"kind": "timeOfDay", "timeOfDay": "09:00"}', 'Asia/Kolkata');

--
-- DST gaps: a wall time that does not exist moves later by the length of
-- the gap (one hour in New York, London and Sydney, half an hour on Lord
-- Howe), and the move is reported as dst_gap.
--
-- New York: 02:30 on 2026-03-08 does not exist -> 03:30 EDT = 07:30 UTC.
SELECT * FROM pg_temp.due('2026-03-08 00:00 America/New_York', '{"kind": "timeOfDay", "timeOfDay": "02:30"}', 'America/New_York');
-- The same from the day before with dayOffset 1.
SELECT * FROM pg_temp.due('2026-03-07 12:00 America/New_York', '{"kind": "timeOfDay", "timeOfDay": "02:30", "dayOffset": 1}', 'America/New_York');
-- London: 01:30 on 2026-03-29 does not exist -> 02:30 BST = 01:30 UTC.
SELECT * FROM pg_temp.due('2026-03-29 00:00 Europe/London', '{"kind": "timeOfDay", "timeOfDay": "01:30"}', 'Europe/London');
-- Sydney (southern spring): 02:30 on 2026-10-04 -> 03:30 AEDT = 16:30 UTC the day before.
SELECT * FROM pg_temp.due('2026-10-04 00:00 Australia/Sydney', '{"kind": "timeOfDay", "timeOfDay": "02:30"}', 'Australia/Sydney');
-- Lord Howe: 02:15 on 2026-10-04 falls in a 30-minute gap -> 02:45 (+11).
SELECT * FROM pg_temp.due('2026-10-04 00:00 Australia/Lord_Howe', '{"kind": "timeOfDay", "timeOfDay": "02:15"}', 'Australia/Lord_Howe');

--
-- DST overlaps: a wall time that happens twice means its first occurrence.
--
-- New York: 01:30 on 2026-11-01 -> 01:30 EDT = 05:30 UTC, not 01:30 EST = 06:30 UTC.
SELECT * FROM pg_temp.due('2026-11-01 00:00 America/New_York', '{"kind": "timeOfDay", "timeOfDay": "01:30"}', 'America/New_York');
-- PostgreSQL's own AT TIME ZONE picks the second occurrence instead.
SELECT '2026-11-01 01:30'::timestamp AT TIME ZONE 'America/New_York' AS at_time_zone_says;
-- London: 01:30 on 2026-10-25 -> 01:30 BST = 00:30 UTC.
SELECT * FROM pg_temp.due('2026-10-25 00:00 Europe/London', '{"kind": "timeOfDay", "timeOfDay": "01:30"}', 'Europe/London');
-- Sydney (southern autumn): 02:30 on 2026-04-05 -> 02:30 AEDT = 15:30 UTC the day before.
SELECT * FROM pg_temp.due('2026-04-05 00:00 Australia/Sydney', '{"kind": "timeOfDay", "timeOfDay": "02:30"}', 'Australia/Sydney');
-- From 01:15 EST, inside the repeated hour: 01:30 means its first
-- occurrence (01:30 EDT), which is already past, so 01:30 the next day.
SELECT * FROM pg_temp.due('2026-11-01 01:15-05', '{"kind": "timeOfDay", "timeOfDay": "01:30"}', 'America/New_York');
-- An empty delay from the same instant is prev itself, never the earlier 01:15 EDT.
SELECT * FROM pg_temp.due('2026-11-01 01:15-05', '{"kind": "delay"}', 'America/New_York');
-- Sydney: 180 minutes after 01:00 AEDT on the fall-back night is 03:00 AEST.
SELECT * FROM pg_temp.due('2026-04-05 01:00 Australia/Sydney', '{"kind": "afterPrevious", "minutesAfterPrev": 180}', 'Australia/Sydney');

--
-- delay: days keep the local wall time (so a day can be 23 or 25 hours);
-- hours and minutes are elapsed time, added last.
--
-- 1 day from Sat 10:00 EST is Sun 10:00 EDT: 23 hours.
SELECT * FROM pg_temp.due('2026-03-07 10:00 America/New_York', '{"kind": "delay", "days": 1}', 'America/New_York');
-- 24 hours from the same instant is 11:00 EDT.
SELECT * FROM pg_temp.due('2026-03-07 10:00 America/New_York', '{"kind": "delay", "hours": 24}', 'America/New_York');
-- 1 day and 2 hours: Sun 10:00 EDT + 2 h = 12:00 EDT, 25 hours later.
SELECT * FROM pg_temp.due('2026-03-07 10:00 America/New_York', '{"kind": "delay", "days": 1, "hours": 2}', 'America/New_York');
-- 1 day across the fall-back: Sat 10:00 EDT -> Sun 10:00 EST, 25 hours.
SELECT * FROM pg_temp.due('2026-10-31 10:00 America/New_York', '{"kind": "delay", "days": 1}', 'America/New_York');
-- London, 1 day across its spring-forward: 23 hours.
SELECT * FROM pg_temp.due('2026-03-28 09:00 Europe/London', '{"kind": "delay", "days": 1}', 'Europe/London');
-- Kolkata has no DST: 1 day is always 24 hours.
SELECT * FROM pg_temp.due('2026-03-08 10:00 Asia/Kolkata', '{"kind": "delay", "days": 1}', 'Asia/Kolkata');
-- Seconds of prev's wall time are kept.
SELECT * FROM pg_temp.due('2026-01-14 15:45:07 America/New_York', '{"kind": "delay", "days": 2}', 'America/New_York');
-- 2 hours 30 minutes.
SELECT * FROM pg_temp.due('2026-01-14 15:45 America/New_York', '{"kind": "delay", "hours": 2, "minutes": 30}', 'America/New_York');
-- 3 days at sendAt 10:00: Mon 15:45 -> Thu 10:00.
SELECT * FROM pg_temp.due('2026-01-12 15:45 America/New_York', '{"kind": "delay", "days": 3, "sendAt": "10:00"}', 'America/New_York');
-- days 0 with sendAt: today when still ahead, else tomorrow.
SELECT * FROM pg_temp.due('2026-01-14 08:00 America/New_York', '{"kind": "delay", "sendAt": "09:00"}', 'America/New_York');
SELECT * FROM pg_temp.due('2026-01-14 10:00 America/New_York', '{"kind": "delay", "sendAt": "09:00"}', 'America/New_York');
-- Calendar days from Friday land on Saturday ...
SELECT * FROM pg_temp.due('2026-01-16 10:00 America/New_York', '{"kind": "delay", "days": 1}', 'America/New_York');
-- ... business days skip the weekend: Monday.
SELECT * FROM pg_temp.due('2026-01-16 10:00 America/New_York', '{"kind": "delay", "days": 1, "businessDays": true}', 'America/New_York');
-- 2 business days from Friday with Monday a holiday: Tue is 1, Wed is 2.
SELECT * FROM pg_temp.due('2026-01-16 16:00 America/New_York', '{"kind": "delay", "days": 2, "businessDays": true, "sendAt": "09:00"}', 'America/New_York', '{"holidays": ["2026-01-19"]}');

--
-- Business hours (New York, Monday-Friday 09:00-17:00, excludeWeekends):
-- an instant inside an open day's window stays; before it, the window's
-- start; at or after its end, the next open day's start; on a closed day,
-- the next open day at the same wall time when its window holds it, else
-- that window's start.
--
-- Wednesday 07:00 -> opens at 09:00.
SELECT * FROM pg_temp.due('2026-01-14 07:00 America/New_York', '{"kind": "immediately"}', 'America/New_York', :'ny_week');
-- Wednesday 10:00 is open: unchanged.
SELECT * FROM pg_temp.due('2026-01-14 10:00 America/New_York', '{"kind": "immediately"}', 'America/New_York', :'ny_week');
-- Exactly 17:00 is closed (windows are [start, end)): Thursday 09:00.
SELECT * FROM pg_temp.due('2026-01-14 17:00 America/New_York', '{"kind": "immediately"}', 'America/New_York', :'ny_week');
-- Wednesday 18:00 -> Thursday 09:00.
SELECT * FROM pg_temp.due('2026-01-14 18:00 America/New_York', '{"kind": "immediately"}', 'America/New_York', :'ny_week');
-- Friday 17:30 -> Monday 09:00 (first reason: after hours on Friday).
SELECT * FROM pg_temp.due('2026-01-16 17:30 America/New_York', '{"kind": "immediately"}', 'America/New_York', :'ny_week');
-- Saturday 11:00 -> Monday 11:00 (weekend): the time of day is kept.
SELECT * FROM pg_temp.due('2026-01-17 11:00 America/New_York', '{"kind": "immediately"}', 'America/New_York', :'ny_week');
-- With Monday a holiday: Friday 17:30 -> Tuesday 09:00 ...
SELECT * FROM pg_temp.due('2026-01-16 17:30 America/New_York', '{"kind": "immediately"}', 'America/New_York', :'ny_week_mlk');
-- ... and Monday 10:00 -> Tuesday 10:00 (holiday).
SELECT * FROM pg_temp.due('2026-01-19 10:00 America/New_York', '{"kind": "immediately"}', 'America/New_York', :'ny_week_mlk');
-- A rule's time is moved too: timeOfDay 08:00 -> 09:00.
SELECT * FROM pg_temp.due('2026-01-14 06:00 America/New_York', '{"kind": "timeOfDay", "timeOfDay": "08:00"}', 'America/New_York', :'ny_week');
-- afterPrevious 30 from Friday 16:45 is 17:15, closed -> Monday 09:00.
SELECT * FROM pg_temp.due('2026-01-16 16:45 America/New_York', '{"kind": "afterPrevious", "minutesAfterPrev": 30}', 'America/New_York', :'ny_week');
-- businessDays with a holiday, then business hours: Fri 16:00 + 1 business
-- day skips Sat, Sun and Mon (holiday) -> Tue 16:00, which is open.
SELECT * FROM pg_temp.due('2026-01-16 16:00 America/New_York', '{"kind": "delay", "days": 1, "businessDays": true}', 'America/New_York', :'ny_week_mlk');
-- A weekday missing from businessHours is closed (outside_business_hours);
-- a missing Saturday or Sunday counts as weekend.  Friday 10:00 and
-- Saturday 10:00 both go to Monday 10:00.
SELECT * FROM pg_temp.due('2026-01-16 10:00 America/New_York', '{"kind": "immediately"}', 'America/New_York', '{"businessHours": {"monday": {"start": "09:00", "end": "17:00"}}}');
SELECT * FROM pg_temp.due('2026-01-17 10:00 America/New_York', '{"kind": "immediately"}', 'America/New_York', '{"businessHours": {"monday": {"start": "09:00", "end": "17:00"}}}');
-- excludeWeekends alone: every weekday is open all day, so Saturday 15:00
-- moves to Monday 15:00, never to midnight.
SELECT * FROM pg_temp.due('2026-01-17 15:00 America/New_York', '{"kind": "immediately"}', 'America/New_York', '{"excludeWeekends": true}');
-- holidays alone: Christmas Day 10:00 moves to the 26th at 10:00.
SELECT * FROM pg_temp.due('2026-12-25 10:00 America/New_York', '{"kind": "immediately"}', 'America/New_York', '{"holidays": ["2026-12-25"]}');
-- Business hours are local to tz: Kolkata 10:00-18:00, Wed 18:30 IST -> Thu 10:00 IST.
SELECT * FROM pg_temp.due('2026-01-14 13:00 UTC', '{"kind": "immediately"}', 'Asia/Kolkata', '{"businessHours": {"wednesday": {"start": "10:00", "end": "18:00"}, "thursday": {"start": "10:00", "end": "18:00"}}}');
-- A window starting inside a DST gap opens one gap-length later: Sunday
-- 02:30-12:00 on the spring-forward day opens at 03:30 EDT.
SELECT * FROM pg_temp.due('2026-03-08 01:00 America/New_York', '{"kind": "immediately"}', 'America/New_York', '{"businessHours": {"sunday": {"start": "02:30", "end": "12:00"}}}');
-- A window starting inside a DST overlap opens at its first occurrence:
-- Sunday 01:30-12:00 on the fall-back day opens at 01:30 EDT.
SELECT * FROM pg_temp.due('2026-11-01 00:00 America/New_York', '{"kind": "immediately"}', 'America/New_York', '{"businessHours": {"sunday": {"start": "01:30", "end": "12:00"}}}');
-- Two reasons: 02:30 is in the gap (-> 03:30) and before the 04:00
-- opening (-> 04:00); the first reason is reported.
SELECT * FROM pg_temp.due('2026-03-08 00:00 America/New_York', '{"kind": "timeOfDay", "timeOfDay": "02:30"}', 'America/New_York', '{"businessHours": {"sunday": {"start": "04:00", "end": "12:00"}}}');
-- Unknown settings keys (the cadence's other settings) are ignored.
SELECT * FROM pg_temp.due('2026-01-14 07:00 America/New_York', '{"kind": "immediately"}', 'America/New_York', '{"timezone": "Europe/Paris", "maxContactsPerDay": 100, "fromEmail": "sales@example.com", "excludeHolidays": true}');

--
-- One call site, many arguments: rule, zone and settings change from row
-- to row and each row gets its own answer.
--
SELECT v.n, r.local, r.utc, r.moved
  FROM (VALUES
		(1, '2026-01-14 07:00 UTC'::timestamptz, '{"kind": "timeOfDay", "timeOfDay": "09:00"}'::jsonb, 'America/New_York', '{}'::jsonb),
		(2, '2026-01-14 07:00 UTC', '{"kind": "timeOfDay", "timeOfDay": "09:00"}', 'Asia/Kolkata', '{}'),
		(3, '2026-01-14 07:00 UTC', '{"kind": "afterPrevious", "minutesAfterPrev": 15}', 'Asia/Kolkata', '{}'),
		(4, '2026-01-17 07:00 UTC', '{"kind": "afterPrevious", "minutesAfterPrev": 15}', 'Asia/Kolkata', '{"excludeWeekends": true}'),
		(5, '2026-01-17 07:00 UTC', '{"kind": "timeOfDay", "timeOfDay": "09:00"}', 'America/New_York', '{}'),
		(6, '2026-01-17 07:00 UTC', '{"kind": "timeOfDay", "timeOfDay": "09:00"}', 'America/New_York', '{"excludeWeekends": true}')
	   ) v(n, prev, rule, tz, settings),
	   LATERAL pg_temp.due(v.prev, v.rule, v.tz, v.settings) r
 ORDER BY v.n;

--
-- NULL in, NULL out (STRICT); infinite prev stays infinite.
--
SELECT cadence.calculate_next_step_due(NULL, '{"kind": "immediately"}', 'UTC') IS NULL AS null_prev,
	   cadence.calculate_next_step_due(now(), '{"kind": "immediately"}', 'UTC', NULL) IS NULL AS null_settings,
	   cadence.calculate_next_step_due('infinity', '{"kind": "delay", "days": 1}', 'UTC') AS infinite_prev;

--
-- Errors: SQLSTATE 22023 with the offending value, never a guess.
--
-- Malformed times, HH:mm exactly, 00:00 to 23:59.
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "timeOfDay", "timeOfDay": "25:00"}', 'UTC')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "timeOfDay", "timeOfDay": "9:00"}', 'UTC')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "timeOfDay", "timeOfDay": "12:60"}', 'UTC')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "timeOfDay", "timeOfDay": 900}', 'UTC')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "timeOfDay"}', 'UTC')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "delay", "sendAt": "10am"}', 'UTC')$$);
-- Unknown, missing or misspelt kind; a rule that is not an object.
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "weekly"}', 'UTC')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{}', 'UTC')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '[1, 2]', 'UTC')$$);
-- Negative, fractional or non-numeric counts.
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "afterPrevious", "minutesAfterPrev": -5}', 'UTC')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "afterPrevious", "minutesAfterPrev": 2.5}', 'UTC')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "afterPrevious", "minutesAfterPrev": "30"}', 'UTC')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "afterPrevious"}', 'UTC')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "delay", "days": -1}', 'UTC')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "delay", "hours": -2}', 'UTC')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "timeOfDay", "timeOfDay": "09:00", "dayOffset": -1}', 'UTC')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "delay", "businessDays": "yes"}', 'UTC')$$);
-- A key no rule knows is refused (a misspelt "days" would mean 0 days).
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "delay", "dayz": 3}', 'UTC')$$);
-- Unknown zones, and POSIX specs whose sign runs backwards.
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "immediately"}', 'Mars/Olympus')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "immediately"}', '+05:30')$$);
-- Malformed settings, named by their path.
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "immediately"}', 'UTC', '{"businessHours": {"monday": {"start": "9:00", "end": "17:00"}}}')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "immediately"}', 'UTC', '{"businessHours": {"monday": {"start": "17:00", "end": "09:00"}}}')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "immediately"}', 'UTC', '{"businessHours": {"monday": {"start": "09:00"}}}')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "immediately"}', 'UTC', '{"businessHours": {"mon": {"start": "09:00", "end": "17:00"}}}')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "immediately"}', 'UTC', '{"businessHours": "9-5"}')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "immediately"}', 'UTC', '{"excludeWeekends": "yes"}')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "immediately"}', 'UTC', '{"holidays": ["2026-01-01", "2026-02-30"]}')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "immediately"}', 'UTC', '{"holidays": "2026-12-25"}')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due(now(), '{"kind": "immediately"}', 'UTC', '[]')$$);
-- No open window within 366 days: no open day at all, or only a Saturday
-- while weekends are excluded.
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due('2026-01-14 10:00 UTC', '{"kind": "immediately"}', 'UTC', '{"businessHours": {}}')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due('2026-01-14 10:00 UTC', '{"kind": "immediately"}', 'UTC', '{"businessHours": {"saturday": {"start": "09:00", "end": "12:00"}}, "excludeWeekends": true}')$$);
-- Beyond the end of timestamptz: 22008.
SELECT * FROM pg_temp.err($$SELECT cadence.calculate_next_step_due('294276-12-30 00:00 UTC', '{"kind": "delay", "days": 5}', 'UTC')$$);

--
-- The validators other code calls: the same errors, named by the caller's path.
--
SELECT * FROM pg_temp.err($$SELECT cadence.validate_schedule_rule('{"kind": "timeOfDay", "timeOfDay": "25:00"}', 'days[0].actions[1].scheduleRule')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.validate_schedule_rule('{"kind": "weekly"}', 'days[2].actions[0].scheduleRule')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.validate_schedule_rule(NULL, 'days[0].actions[0].scheduleRule')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.validate_schedule_rule('{"kind": "delay", "days": 3, "businessDays": true, "sendAt": "10:00"}', 'days[0].actions[0].scheduleRule')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.validate_settings('{"businessHours": {"friday": {"start": "09:00", "end": "7:00"}}}', 'cadence.settings')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.validate_settings('{"businessHours": {"saturday": {"start": "09:00", "end": "12:00"}}, "excludeWeekends": true}', 'cadence.settings')$$);
SELECT * FROM pg_temp.err($$SELECT cadence.validate_settings('{"businessHours": {"monday": {"start": "09:00", "end": "17:00"}}, "fromEmail": "a@example.com"}', 'cadence.settings')$$);

-- Zone names cadence accepts: IANA names (any case), not POSIX specs.
SELECT tz, cadence.is_valid_timezone(tz)
  FROM unnest(ARRAY['America/New_York', 'america/new_york', 'Asia/Kolkata', 'UTC',
					'Etc/GMT+5', 'EST5EDT', 'Mars/Olympus', '+05:30', 'XYZ3', '']) AS tz;
