-- One round of the access benchmark; prints "metric value" lines.
\set QUIET 1
\pset tuples_only on
\pset format unaligned
SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0;

\i bench/ms.sql
GRANT EXECUTE ON FUNCTION pg_temp.ms(text) TO cadence_bench_app;

SET cadence.tenant_id = 'stats';
SELECT 'upsert_10000_actions_ms ' || round(pg_temp.ms(format(
	'SELECT cadence.upsert_cadence(%L)',
	(SELECT body || jsonb_build_object('id', 'big-' || :round) FROM public.bench_big_cadence)))::numeric);
SELECT 'scan_owner_ms ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY t)::numeric, 1)
  FROM (SELECT pg_temp.ms($$SELECT count(*) FROM cadence.scheduled_actions
							  WHERE tenant_id = 'stats' AND status = 'sent'$$) AS t
		  FROM generate_series(1, 5)) x;
RESET cadence.tenant_id;

BEGIN;
SET LOCAL ROLE cadence_bench_app;
SELECT set_config('request.jwt.claims', '{"sub": "stella", "app_metadata": {"tenant_id": "stats"}}', true)
	   AS claims \gset
SELECT 'scan_member_ms ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY t)::numeric, 1)
  FROM (SELECT pg_temp.ms($$SELECT count(*) FROM cadence.scheduled_actions
							  WHERE status = 'sent'$$) AS t
		  FROM generate_series(1, 5)) x;
COMMIT;
