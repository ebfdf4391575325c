-- The database's share of dispatch, with no network and no rendering: the
-- claim, outcome and run statements a runner issues per batch, as one
-- PL/pgSQL procedure committing each step.  It bounds what any runner on
-- this machine can do.
CREATE PROCEDURE pg_temp.sql_dispatch(batch int)
LANGUAGE plpgsql AS $$
DECLARE
	n int;
BEGIN
	LOOP
		CREATE TEMP TABLE IF NOT EXISTS claimed (tenant_id text, run_id bigint, id bigint,
												 lead_id text, step int) ON COMMIT DELETE ROWS;
		WITH picked AS (SELECT a.tenant_id, a.run_id, a.id FROM cadence.scheduled_actions a
						 WHERE a.status = 'scheduled' AND a.due_at <= now()
						 ORDER BY a.due_at LIMIT batch FOR UPDATE SKIP LOCKED),
			 leased AS (UPDATE cadence.scheduled_actions a
						   SET status = 'sending', lease_until = now() + interval '2 min',
							   attempts = a.attempts + 1, updated_at = now()
						  FROM picked p
						 WHERE a.tenant_id = p.tenant_id AND a.run_id = p.run_id AND a.id = p.id
						RETURNING a.tenant_id, a.run_id, a.id, a.step_number)
		INSERT INTO claimed SELECT l.tenant_id, l.run_id, l.id, r.lead_id, l.step_number
		  FROM leased l JOIN cadence.runs r ON r.tenant_id = l.tenant_id AND r.id = l.run_id;
		GET DIAGNOSTICS n = ROW_COUNT;
		EXIT WHEN n = 0;
		UPDATE cadence.scheduled_actions a
		   SET status = 'sent', lease_until = NULL, sent_at = now(),
			   provider_message_id = 'SM' || a.id, updated_at = now()
		  FROM claimed c
		 WHERE a.tenant_id = c.tenant_id AND a.run_id = c.run_id AND a.id = c.id;
		INSERT INTO cadence.events (tenant_id, run_id, scheduled_action_id, lead_id, type, payload)
		SELECT c.tenant_id, c.run_id, c.id, c.lead_id, 'action.sent',
			   jsonb_build_object('stepNumber', c.step, 'providerMessageId', 'SM' || c.id)
		  FROM claimed c;
		UPDATE cadence.runs r
		   SET status = 'completed', current_step = 0, completed_at = now(), last_activity_at = now()
		  FROM claimed c WHERE r.tenant_id = c.tenant_id AND r.id = c.run_id;
		INSERT INTO cadence.events (tenant_id, run_id, lead_id, type)
		SELECT c.tenant_id, c.run_id, c.lead_id, 'run.completed' FROM claimed c;
		COMMIT;
	END LOOP;
	COMMIT;
END
$$;
