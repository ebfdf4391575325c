-- Latency of an idle dispatcher: when each request reached the stub (its
-- access log, -v arrivals=FILE) against when its action fell due.  Prints
-- "idle_latency_p50_ms N" and "idle_latency_p99_ms N".
\set QUIET 1
\pset tuples_only on
\pset format unaligned
CREATE TEMP TABLE arrivals (at numeric, key text);
COPY arrivals FROM :'arrivals' WITH (FORMAT text, DELIMITER ' ');
WITH latency AS (
	SELECT (a.at - extract(epoch FROM s.due_at)) * 1000 AS ms
	  FROM arrivals a
	  JOIN cadence.scheduled_actions s ON s.id = split_part(a.key, '-', 3)::bigint)
SELECT 'idle_latency_p50_ms ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2)
  FROM latency
UNION ALL
SELECT 'idle_latency_p99_ms ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2)
  FROM latency;
