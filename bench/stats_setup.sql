-- The statistics benchmark's fixture: tenant "stats", the five-step
-- cadence of bench/setup.sql, 200,000 leads enrolled (1,000,000 scheduled
-- actions), then engagement as the runners and webhooks would leave it:
-- the messages of the first four steps sent, a share of them delivered,
-- opened, clicked, replied to or bounced; the counters recounted from the
-- rows.
SET client_min_messages = warning;
SET cadence.notify = off;
SET cadence.tenant_id = 'bench';
SELECT cadence.get_cadence('bench-5') - 'status' - 'version' - 'ownerId'
	   || '{"id": "stats-5", "isActive": true}' AS body \gset
SET cadence.tenant_id = 'stats';
SELECT cadence.upsert_cadence(:'body') ->> 'id';
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, timezone)
SELECT 'stats', 'lead-' || g, 'Lead' || g, 'lead' || g || '@example.com', 'America/New_York'
  FROM generate_series(1, 200000) g;
SELECT count(*) FROM cadence.plan_runs('stats-5',
	ARRAY(SELECT id FROM cadence.contacts WHERE tenant_id = 'stats'), '2026-03-02 14:00Z');
UPDATE cadence.scheduled_actions
   SET status = 'sent', sent_at = due_at,
	   delivered_at = CASE WHEN run_id % 10 <> 0 THEN due_at END,
	   opened_at = CASE WHEN run_id % 3 = 0 THEN due_at END,
	   clicked_at = CASE WHEN run_id % 11 = 0 THEN due_at END,
	   replied_at = CASE WHEN run_id % 17 = step_number THEN due_at END,
	   bounced_at = CASE WHEN run_id % 50 = 0 THEN due_at END
 WHERE tenant_id = 'stats' AND step_number IN (1, 2, 4);
VACUUM ANALYZE cadence.scheduled_actions;
VACUUM ANALYZE cadence.runs;
SELECT cadence.recount_stats('stats-5');
