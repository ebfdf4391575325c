-- One round of the statistics benchmark; prints "metric value" lines.
\set QUIET 1
\pset tuples_only on
\pset format unaligned
SET client_min_messages = warning;
SET cadence.tenant_id = 'stats';

\i bench/ms.sql
-- sequence_stats: the median of 21 calls.
SELECT 'stats_ms ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY t)::numeric, 2)
  FROM (SELECT pg_temp.ms($$SELECT cadence.sequence_stats('stats-5')$$) AS t
		  FROM generate_series(1, 21)) x;
SELECT 'recount_stats_ms ' || round(pg_temp.ms($$SELECT cadence.recount_stats('stats-5')$$)::numeric);
SELECT 'stats_total_enrollments ' || (cadence.sequence_stats('stats-5') -> 'data' ->> 'totalEnrollments');
