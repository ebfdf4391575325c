-- The database's share of dispatch, with no network and no rendering: the
-- claim, outcome and run statements a runner issues per batch (the same
-- row-by-ctid and row-by-key access), as one PL/pgSQL procedure committing
-- each step.  It bounds what one runner on this machine can do.
CREATE PROCEDURE pg_temp.sql_dispatch(batch int)
LANGUAGE plpgsql AS $$
DECLARE
	v_ctids tid[];
	v_tenants text[];
	v_runs bigint[];
	v_ids bigint[];
BEGIN
	LOOP
		-- Claim: a batch for this runner (token 1) and commit.
		WITH picked AS (SELECT ctid FROM cadence.scheduled_actions
						 WHERE status = 'scheduled' AND due_at <= now()
						 ORDER BY due_at LIMIT batch FOR UPDATE SKIP LOCKED),
			 claimed AS (UPDATE cadence.scheduled_actions a
						   SET status = 'sending', runner = 1,
							   attempts = a.attempts + 1, updated_at = now()
						 WHERE a.ctid = ANY (ARRAY(SELECT ctid FROM picked))
						RETURNING a.ctid, a.tenant_id, a.run_id, a.id)
		SELECT array_agg(ctid), array_agg(tenant_id), array_agg(run_id), array_agg(id)
		  INTO v_ctids, v_tenants, v_runs, v_ids FROM claimed;
		EXIT WHEN v_ids IS NULL;
		COMMIT;
		-- Record, while the claim is still this runner's: the outcomes with
		-- their events (one per request), the runs with theirs.
		WITH sent AS (UPDATE cadence.scheduled_actions a
						 SET status = 'sent', runner = NULL, sent_at = now(),
							 provider_message_id = 'SM' || a.id, updated_at = now()
						FROM unnest(v_ctids, v_ids) AS o(row_version, id)
					   WHERE a.ctid = o.row_version AND a.id = o.id
						 AND CASE a.status WHEN 'sending' THEN a.runner END = 1
					  RETURNING a.tenant_id, a.run_id, a.id, a.step_number, a.attempts)
		INSERT INTO cadence.events (tenant_id, run_id, scheduled_action_id, type, payload)
		SELECT tenant_id, run_id, id, 'action.sent',
			   jsonb_build_object('stepNumber', step_number, 'attempt', attempts, 'runner', 1,
								  'outcome', 'accepted', 'httpStatus', 201,
								  'providerMessageId', 'SM' || id)
		  FROM sent;
		WITH done AS (UPDATE cadence.runs r
						 SET status = 'completed', current_step = 0, completed_at = now(),
							 last_activity_at = now()
						FROM unnest(v_tenants, v_runs) AS f(tenant_id, run_id)
					   WHERE r.tenant_id = f.tenant_id AND r.id = f.run_id
					  RETURNING r.tenant_id, r.id, r.lead_id)
		INSERT INTO cadence.events (tenant_id, run_id, lead_id, type)
		SELECT tenant_id, id, lead_id, 'run.completed' FROM done;
		COMMIT;
	END LOOP;
	COMMIT;
END
$$;

-- One run over every due action, batches of 1,000, planned as a runner
-- plans; prints "sql_loop_actions_per_s N".
\set QUIET 1
\pset tuples_only on
\pset format unaligned
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET enable_mergejoin = off;
SELECT count(*) AS due FROM cadence.scheduled_actions WHERE status = 'scheduled' \gset
SELECT clock_timestamp() AS t0 \gset
CALL pg_temp.sql_dispatch(1000);
SELECT 'sql_loop_actions_per_s ' || round(:due / extract(epoch FROM clock_timestamp() - :'t0'::timestamptz));
