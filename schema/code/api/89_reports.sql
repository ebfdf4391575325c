-- What the team reads: a cadence's statistics (the sequence statistics response),
-- its enrollments, one enrollment with its steps, the manual task list, and
-- declaring an A/B winner.  JSON out, named arguments; SECURITY DEFINER,
-- each reading only the caller's tenant (cadence.require_tenant).

-- GET /sequences/:id/stats: enrollments by outcome and the
-- reply rate, then per step of the current version (by step number) the
-- messages sent, delivered, opened, clicked, replied to, bounced, failed
-- and skipped with their rates, and the same per A/B variant.  Read from
-- the counters the runners and ingest_webhook keep (cadence.step_stats)
-- and the runs' status index: a few rows however many actions there are.
CREATE OR REPLACE FUNCTION cadence.sequence_stats(cadence_id text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	c cadence.cadences;
	v_runs jsonb;
	v_steps jsonb;
	v_total bigint;
BEGIN
	SELECT * INTO c FROM cadence.cadences x
	 WHERE x.tenant_id = v_tenant AND x.id = sequence_stats.cadence_id AND x.deleted_at IS NULL;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'cadence "%" not found', sequence_stats.cadence_id USING ERRCODE = 'P0002';
	END IF;

	SELECT coalesce(jsonb_object_agg(r.status, r.n), '{}'), coalesce(sum(r.n), 0)
	  INTO v_runs, v_total
	  FROM (SELECT x.status, count(*) AS n FROM cadence.runs x
			 WHERE x.tenant_id = v_tenant AND x.cadence_id = c.id GROUP BY x.status) r;

	SELECT coalesce(jsonb_agg(
			jsonb_build_object('stepNumber', a.step_number, 'actionId', a.action_id,
							   'type', a.type)
			|| cadence.json_opt('name', to_jsonb(a.name))
			|| cadence.step_counts_json(t.sent, t.delivered, t.opened, t.clicked, t.replied,
										t.bounced, t.failed, t.skipped)
			|| CASE WHEN a.variants IS NULL THEN '{}' ELSE jsonb_build_object('variants', (
				SELECT jsonb_agg(jsonb_build_object('variantId', v ->> 'id',
						   'weight', coalesce((v ->> 'weight')::numeric, 1),
						   'winner', coalesce(w.variant = v ->> 'id', false))
					   || cadence.json_opt('name', v -> 'name')
					   || cadence.step_counts_json(s.sent, s.delivered, s.opened, s.clicked,
												   s.replied, s.bounced, s.failed, s.skipped)
					   ORDER BY o)
				  FROM jsonb_array_elements(a.variants) WITH ORDINALITY AS e(v, o)
				  LEFT JOIN cadence.step_stats s
					ON s.tenant_id = v_tenant AND s.cadence_id = c.id
				   AND s.step_number = a.step_number AND s.variant = v ->> 'id'
				  LEFT JOIN cadence.variant_winners w
					ON w.tenant_id = v_tenant AND w.cadence_id = c.id
				   AND w.action_id = a.action_id)) END
			ORDER BY a.step_number), '[]')
	  INTO v_steps
	  FROM cadence.cadence_actions a
	  LEFT JOIN LATERAL (
			SELECT sum(s.sent)::bigint AS sent, sum(s.delivered)::bigint AS delivered,
				   sum(s.opened)::bigint AS opened, sum(s.clicked)::bigint AS clicked,
				   sum(s.replied)::bigint AS replied, sum(s.bounced)::bigint AS bounced,
				   sum(s.failed)::bigint AS failed, sum(s.skipped)::bigint AS skipped
			  FROM cadence.step_stats s
			 WHERE s.tenant_id = v_tenant AND s.cadence_id = c.id
			   AND s.step_number = a.step_number) t ON true
	 WHERE a.tenant_id = v_tenant AND a.cadence_id = c.id AND a.version = c.version;

	RETURN jsonb_build_object('success', true, 'data', jsonb_build_object(
		'sequenceId', c.id,
		'totalEnrollments', v_total,
		'activeEnrollments', coalesce((v_runs ->> 'active')::bigint, 0),
		'pausedEnrollments', coalesce((v_runs ->> 'paused')::bigint, 0),
		'completedEnrollments', coalesce((v_runs ->> 'completed')::bigint, 0),
		'repliedEnrollments', coalesce((v_runs ->> 'replied')::bigint, 0),
		'replyRate', cadence.rate((v_runs ->> 'replied')::bigint, v_total),
		'meetingBookedEnrollments', coalesce((v_runs ->> 'meeting_booked')::bigint, 0),
		'meetingRate', cadence.rate((v_runs ->> 'meeting_booked')::bigint, v_total),
		'bouncedEnrollments', coalesce((v_runs ->> 'bounced')::bigint, 0),
		'unsubscribedEnrollments', coalesce((v_runs ->> 'unsubscribed')::bigint, 0),
		'cancelledEnrollments', coalesce((v_runs ->> 'cancelled')::bigint, 0),
		'failedEnrollments', coalesce((v_runs ->> 'failed')::bigint, 0),
		'stepStats', v_steps));
END
$$;
COMMENT ON FUNCTION cadence.sequence_stats(text) IS
	'A cadence''s statistics in the sequence statistics shape: enrollments by outcome, reply and meeting rates, and per step (and A/B variant) messages sent, delivered, opened, clicked, replied to, bounced, with rates';

-- Count a cadence's step statistics again from its scheduled actions, for
-- after rows were changed by hand; returns the steps counted.
CREATE OR REPLACE FUNCTION cadence.recount_stats(cadence_id text) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	n int;
BEGIN
	PERFORM cadence.lock_cadence_for_write(v_tenant, recount_stats.cadence_id);
	DELETE FROM cadence.step_stats s
	 WHERE s.tenant_id = v_tenant AND s.cadence_id = recount_stats.cadence_id;
	INSERT INTO cadence.step_stats (tenant_id, cadence_id, step_number, variant, sent, failed,
									skipped, delivered, opened, clicked, replied, bounced)
	SELECT v_tenant, recount_stats.cadence_id, a.step_number, coalesce(a.variant, ''),
		   count(*) FILTER (WHERE a.status = 'sent'), count(*) FILTER (WHERE a.status = 'failed'),
		   count(*) FILTER (WHERE a.status = 'skipped'
							AND a.skip_reason NOT IN ('skipped_to_step', 'branched_past')),
		   count(a.delivered_at), count(a.opened_at), count(a.clicked_at), count(a.replied_at),
		   count(a.bounced_at)
	  FROM cadence.scheduled_actions a
	 WHERE a.tenant_id = v_tenant AND a.cadence_id = recount_stats.cadence_id
	 GROUP BY a.step_number, coalesce(a.variant, '');
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION cadence.recount_stats(text) IS
	'Count a cadence''s step statistics again from its scheduled actions (owners and admins)';

-- GET /sequences/:id/enrollments: a cadence's enrollments,
-- newest first, optionally of one status or assignee, one page at a time:
-- {"data": [...], "page", "pageSize", "total"}.
CREATE OR REPLACE FUNCTION cadence.list_enrollments(cadence_id text, status text DEFAULT NULL,
										 assigned_to text DEFAULT NULL, page integer DEFAULT 1,
										 page_size integer DEFAULT 20)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	v_result jsonb;
BEGIN
	PERFORM cadence.check_page(page, page_size);
	IF status IS NOT NULL AND status NOT IN ('active', 'paused', 'completed', 'replied', 'bounced',
											 'unsubscribed', 'meeting_booked', 'cancelled', 'failed') THEN
		RAISE EXCEPTION 'unknown enrollment status "%"', status
			USING ERRCODE = '22023',
				  HINT = 'Statuses: active, paused, completed, replied, bounced, unsubscribed, meeting_booked, cancelled, failed.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM cadence.cadences c WHERE c.tenant_id = v_tenant
					  AND c.id = list_enrollments.cadence_id AND c.deleted_at IS NULL) THEN
		RAISE EXCEPTION 'cadence "%" not found', list_enrollments.cadence_id USING ERRCODE = 'P0002';
	END IF;
	WITH f AS (
		SELECT to_jsonb(r) AS r, r.enrolled_at, r.id,
			   (SELECT min(a.due_at) FROM cadence.scheduled_actions a
				 WHERE a.tenant_id = r.tenant_id AND a.run_id = r.id
				   AND a.status IN ('scheduled', 'planned', 'pending_manual')) AS next_due_at
		  FROM cadence.runs r
		 WHERE r.tenant_id = v_tenant AND r.cadence_id = list_enrollments.cadence_id
		   AND (list_enrollments.status IS NULL OR r.status = list_enrollments.status)
		   AND (list_enrollments.assigned_to IS NULL OR r.assigned_to = list_enrollments.assigned_to))
	SELECT jsonb_build_object(
		'data', coalesce((SELECT jsonb_agg(cadence.enrollment_json(p.r, p.next_due_at)
										   ORDER BY p.enrolled_at DESC, p.id DESC)
							FROM (SELECT f.* FROM f ORDER BY f.enrolled_at DESC, f.id DESC
								   LIMIT page_size OFFSET (page - 1)::bigint * page_size) p), '[]'),
		'page', page, 'pageSize', page_size, 'total', (SELECT count(*) FROM f))
	  INTO v_result;
	RETURN v_result;
END
$$;
COMMENT ON FUNCTION cadence.list_enrollments(text, text, text, integer, integer) IS
	'A cadence''s enrollments, newest first, filtered by status and assignee, one page at a time: {data, page, pageSize, total}';

-- GET /sequences/:id/enrollments/:enrollmentId: a run and its
-- steps, with what happened to each.
CREATE OR REPLACE FUNCTION cadence.get_enrollment(run_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	r cadence.runs;
BEGIN
	SELECT * INTO r FROM cadence.runs x
	 WHERE x.tenant_id = v_tenant AND x.id = get_enrollment.run_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'run % not found', get_enrollment.run_id USING ERRCODE = 'P0002';
	END IF;
	RETURN cadence.enrollment_json(to_jsonb(r),
			(SELECT min(a.due_at) FROM cadence.scheduled_actions a
			  WHERE a.tenant_id = r.tenant_id AND a.run_id = r.id
				AND a.status IN ('scheduled', 'planned', 'pending_manual')))
		|| jsonb_build_object('steps', (
		SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
				'stepNumber', a.step_number, 'actionId', a.action_id, 'type', a.type,
				'status', a.status, 'dueAt', a.due_at, 'movedReason', a.moved_reason,
				'attempts', a.attempts, 'variant', a.variant, 'skipReason', a.skip_reason,
				'lastError', a.last_error, 'providerMessageId', a.provider_message_id,
				'sentAt', a.sent_at, 'completedAt', a.completed_at,
				'deliveredAt', a.delivered_at, 'openedAt', a.opened_at,
				'clickedAt', a.clicked_at, 'repliedAt', a.replied_at, 'bouncedAt', a.bounced_at))
				ORDER BY a.step_number), '[]')
		  FROM cadence.scheduled_actions a
		 WHERE a.tenant_id = r.tenant_id AND a.run_id = r.id));
END
$$;
COMMENT ON FUNCTION cadence.get_enrollment(bigint) IS
	'One run of the caller''s tenant with each of its steps: status, due time, attempts, variant, outcome and engagement';

-- GET /sequences/tasks: the manual steps waiting for a person,
-- by due time, optionally of one assignee, due by the end of due_date (in
-- the run's zone: overdue included), one page at a time.  status
-- pending_manual (default) means open tasks; also completed, skipped,
-- cancelled, or all.
CREATE OR REPLACE FUNCTION cadence.list_tasks(assigned_to text DEFAULT NULL, status text DEFAULT 'pending_manual',
								   due_date date DEFAULT NULL, page integer DEFAULT 1,
								   page_size integer DEFAULT 50)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	v_status text := CASE status WHEN 'pending_manual' THEN 'open' ELSE status END;
	v_result jsonb;
BEGIN
	PERFORM cadence.check_page(page, page_size);
	IF v_status IS NULL OR v_status NOT IN ('open', 'completed', 'skipped', 'cancelled', 'all') THEN
		RAISE EXCEPTION 'unknown task status "%"', status
			USING ERRCODE = '22023', HINT = 'Statuses: pending_manual (open), completed, skipped, cancelled, all.';
	END IF;
	WITH t AS (
		SELECT t.*, r.cadence_id, r.timezone, a.step_number,
			   nullif(concat_ws(' ', c.first_name, c.last_name), '') AS lead_name,
			   c.company, c.phone, c.email
		  FROM cadence.tasks t
		  JOIN cadence.runs r ON r.tenant_id = t.tenant_id AND r.id = t.run_id
		  JOIN cadence.scheduled_actions a ON a.tenant_id = t.tenant_id AND a.run_id = t.run_id
		   AND a.id = t.scheduled_action_id
		  LEFT JOIN cadence.contacts c ON c.tenant_id = t.tenant_id AND c.id = t.lead_id
		 WHERE t.tenant_id = v_tenant
		   AND (v_status = 'all' OR t.status = v_status)
		   AND (list_tasks.assigned_to IS NULL OR t.assignee_id = list_tasks.assigned_to)
		   AND (due_date IS NULL OR t.due_at < (due_date + 1)::timestamp AT TIME ZONE r.timezone))
	SELECT jsonb_build_object(
		'data', coalesce((SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
					'id', p.id, 'runId', p.run_id, 'sequenceId', p.cadence_id,
					'stepNumber', p.step_number, 'type', p.type, 'title', p.title,
					'description', p.description, 'assignedTo', p.assignee_id,
					'contactId', p.lead_id, 'contactName', p.lead_name, 'company', p.company,
					'phone', p.phone, 'email', p.email, 'status', p.status, 'dueAt', p.due_at,
					'outcome', p.outcome, 'notes', p.notes, 'completedAt', p.completed_at))
					ORDER BY p.due_at, p.id)
				  FROM (SELECT * FROM t ORDER BY t.due_at, t.id
						 LIMIT page_size OFFSET (page - 1)::bigint * page_size) p), '[]'),
		'page', page, 'pageSize', page_size, 'total', (SELECT count(*) FROM t))
	  INTO v_result;
	RETURN v_result;
END
$$;
COMMENT ON FUNCTION cadence.list_tasks(text, text, date, integer, integer) IS
	'The manual task list: open tasks (or of another status) by due time, of one assignee, due by a date, one page at a time: {data, page, pageSize, total}';

-- Declare variant_id the winner of a step's A/B test: runs enrolled from
-- now on (from this transaction's start) get it; runs under way keep
-- theirs.  Owners and admins.
CREATE OR REPLACE FUNCTION cadence.declare_winner(cadence_id text, action_id text, variant_id text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	c cadence.cadences := cadence.lock_cadence_for_write(v_tenant, declare_winner.cadence_id);
	v_at timestamptz := now();
BEGIN
	IF NOT EXISTS (SELECT 1 FROM cadence.cadence_actions a, jsonb_array_elements(a.variants) AS v
					WHERE a.tenant_id = v_tenant AND a.cadence_id = c.id AND a.version = c.version
					  AND a.action_id = declare_winner.action_id AND v ->> 'id' = variant_id) THEN
		RAISE EXCEPTION 'step "%" of cadence "%" has no variant "%"', declare_winner.action_id,
			c.id, variant_id
			USING ERRCODE = '22023';
	END IF;
	INSERT INTO cadence.variant_winners (tenant_id, cadence_id, action_id, variant, declared_at,
										 declared_by)
	VALUES (v_tenant, c.id, declare_winner.action_id, variant_id, v_at, cadence.current_user_id())
	ON CONFLICT ON CONSTRAINT variant_winners_pkey DO UPDATE
	   SET variant = excluded.variant, declared_at = excluded.declared_at,
		   declared_by = excluded.declared_by;
	PERFORM cadence.log_cadence_event(v_tenant, c.id, 'cadence.variant_winner',
		jsonb_build_object('actionId', declare_winner.action_id, 'variant', variant_id));
	RETURN jsonb_build_object('success', true, 'cadenceId', c.id, 'actionId', declare_winner.action_id,
							  'variant', variant_id, 'declaredAt', v_at);
END
$$;
COMMENT ON FUNCTION cadence.declare_winner(text, text, text) IS
	'Declare an A/B variant of a step the winner: runs enrolled from now on get it, runs under way keep theirs';
