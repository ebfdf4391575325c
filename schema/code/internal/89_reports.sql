-- What the reports (api/89_reports.sql) are built of: rates, step counts
-- as JSON, paging, and one enrollment as JSON.

-- A percentage of part in whole, one decimal (0 when whole is 0).
CREATE OR REPLACE FUNCTION cadence.rate(part bigint, whole bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN coalesce(whole, 0) = 0 THEN 0.0
				ELSE round(100.0 * coalesce(part, 0) / whole, 1) END
$$;

-- Counters of one step or variant (a cadence.step_stats row, or their sum)
-- with their rates: opens, clicks, replies and bounces per message sent.
CREATE OR REPLACE FUNCTION cadence.step_counts_json(sent bigint, delivered bigint, opened bigint,
										 clicked bigint, replied bigint, bounced bigint,
										 failed bigint, skipped bigint)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT jsonb_build_object(
		'sent', coalesce(sent, 0), 'delivered', coalesce(delivered, 0),
		'opened', coalesce(opened, 0), 'clicked', coalesce(clicked, 0),
		'replied', coalesce(replied, 0), 'bounced', coalesce(bounced, 0),
		'failed', coalesce(failed, 0), 'skipped', coalesce(skipped, 0),
		'openRate', cadence.rate(opened, sent), 'clickRate', cadence.rate(clicked, sent),
		'replyRate', cadence.rate(replied, sent), 'bounceRate', cadence.rate(bounced, sent))
$$;

-- One page (1-based) of page_size rows, checked.
CREATE OR REPLACE FUNCTION cadence.check_page(page integer, page_size integer) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF page IS NULL OR page < 1 THEN
		RAISE EXCEPTION 'page must be at least 1, got %', coalesce(page::text, 'nothing')
			USING ERRCODE = '22023';
	END IF;
	IF page_size IS NULL OR page_size NOT BETWEEN 1 AND 500 THEN
		RAISE EXCEPTION 'page_size must be between 1 and 500, got %', coalesce(page_size::text, 'nothing')
			USING ERRCODE = '22023';
	END IF;
END
$$;

-- A run in the sequence enrollment shape, from its row as jsonb (to_jsonb(r):
-- the shard of a Citus cluster has a row type of its own) and the due time
-- of its next open step.
CREATE OR REPLACE FUNCTION cadence.enrollment_json(r jsonb, next_due_at timestamptz) RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object(
		'id', r -> 'id', 'sequenceId', r -> 'cadence_id', 'sequenceVersion', r -> 'cadence_version',
		'contactId', r -> 'lead_id', 'status', r -> 'status', 'currentStepNumber', r -> 'current_step',
		'assignedTo', r -> 'assigned_to', 'exitReason', r -> 'exit_reason', 'timezone', r -> 'timezone',
		'enrolledAt', r -> 'enrolled_at', 'pausedAt', r -> 'paused_at', 'resumeAt', r -> 'resume_at',
		'completedAt', r -> 'completed_at', 'lastActivityAt', r -> 'last_activity_at',
		'nextDueAt', next_due_at, 'metadata', r -> 'metadata'))
$$;
