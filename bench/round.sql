-- One round of the planning benchmark; prints "metric value" lines.
\set QUIET 1
\pset tuples_only on
\pset format unaligned
SET client_min_messages = warning;
SET cadence.tenant_id = 'bench';
\i bench/baseline.sql

CREATE FUNCTION pg_temp.seconds(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
BEGIN
	EXECUTE q;
	RETURN extract(epoch FROM clock_timestamp() - t0);
END
$$;

-- cadence: 100,000 leads in one plan_runs call.
TRUNCATE cadence.runs, cadence.scheduled_actions, cadence.events CASCADE;
CHECKPOINT;
SELECT 'plan_actions_per_s ' ||
	   round(500000 / pg_temp.seconds($$SELECT count(*) FROM cadence.plan_runs('bench-5',
			ARRAY(SELECT id FROM cadence.contacts WHERE tenant_id = 'bench'),
			'2026-03-06 15:00Z')$$));
SELECT 'plan_rows_written ' || count(*) FROM cadence.scheduled_actions;

-- Baseline: the per-lead PL/pgSQL loop, on 10,000 of the leads.
TRUNCATE cadence.runs, cadence.scheduled_actions, cadence.events CASCADE;
CHECKPOINT;
SELECT 'baseline_actions_per_s ' ||
	   round(50000 / pg_temp.seconds($$SELECT pg_temp.baseline_enroll('bench-5',
			ARRAY(SELECT id FROM cadence.contacts WHERE tenant_id = 'bench' LIMIT 10000),
			'2026-03-06 15:00Z')$$));

-- calculate_next_step_due over 1,000,000 rows.
SELECT 'calc_timeOfDay_per_s ' ||
	   round(1000000 / pg_temp.seconds($$SELECT count(cadence.calculate_next_step_due(
			'2026-01-01'::timestamptz + g * interval '1 minute',
			'{"kind": "timeOfDay", "timeOfDay": "09:00"}', 'America/New_York'))
		  FROM generate_series(1, 1000000) g$$));
SELECT 'calc_afterPrevious_per_s ' ||
	   round(1000000 / pg_temp.seconds($$SELECT count(cadence.calculate_next_step_due(
			'2026-01-01'::timestamptz + g * interval '1 minute',
			'{"kind": "afterPrevious", "minutesAfterPrev": 90}', 'Europe/London'))
		  FROM generate_series(1, 1000000) g$$));
SELECT 'calc_delay_business_hours_per_s ' ||
	   round(1000000 / pg_temp.seconds($$SELECT count(cadence.calculate_next_step_due(
			'2026-01-01'::timestamptz + g * interval '1 minute',
			'{"kind": "delay", "days": 2, "businessDays": true, "sendAt": "10:00"}', 'Asia/Kolkata',
			'{"businessHours": {"monday": {"start": "09:00", "end": "17:00"},
			  "tuesday": {"start": "09:00", "end": "17:00"}, "wednesday": {"start": "09:00", "end": "17:00"},
			  "thursday": {"start": "09:00", "end": "17:00"}, "friday": {"start": "09:00", "end": "17:00"}},
			  "holidays": ["2026-01-26"]}'))
		  FROM generate_series(1, 1000000) g$$));
SELECT 'calc_sql_baseline_per_s ' ||
	   round(1000000 / pg_temp.seconds($$SELECT count(((t AT TIME ZONE 'America/New_York')::date + time '09:00')
			AT TIME ZONE 'America/New_York')
		  FROM generate_series(1, 1000000) g,
			   LATERAL (SELECT '2026-01-01'::timestamptz + g * interval '1 minute') AS s(t)$$));
