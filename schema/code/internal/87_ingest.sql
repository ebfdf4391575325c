-- What ingest_webhook (api/87_ingest.sql) is built of: finding what each
-- signal is about, recording the engagement, keeping the do-not-contact
-- list and ending, pausing or resuming runs by their cadence's exit
-- conditions.  Locks follow the order every writer of runs keeps (see
-- src/dispatch/dispatch.h): every run a delivery may change first, in key
-- order; the step counters last, in key order.

-- What a signal is about, once found.  Made afresh by every script, like
-- cadence.signal.
DO $$
BEGIN
	IF pg_catalog.to_regtype('cadence.signal_match') IS NOT NULL THEN
		DROP TYPE cadence.signal_match CASCADE;
	END IF;
END
$$;

CREATE TYPE cadence.signal_match AS (
	kind			text,		-- the signal's kind, settled (a YES from a
								-- number that opted out is an opt-in)
	tenant_id		text,
	provider_id		text,		-- the account that sent the message it is about
	action_tenant	text,		-- the scheduled action it is about
	run_id			bigint,
	action_id		bigint,
	cadence_id		text,
	lead_ids		text[],		-- the leads it is about
	run_ids			bigint[],	-- the live runs it may end or pause
	company_run_ids	bigint[]	-- live runs of the lead's colleagues
								-- (settings.pauseCompanyOnReply)
);

-- Whether a cadence's exit conditions end a run on key: onReply,
-- onMeetingBooked, onBounce and onUnsubscribe are on unless set to false;
-- onAutoReply (an out-of-office ends the run like a reply) is off unless
-- set to true.
CREATE OR REPLACE FUNCTION cadence.exits_on(exit_conditions jsonb, key text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce((exit_conditions ->> key)::boolean, key <> 'onAutoReply')
$$;

-- The scheduled action a signal names (by our idempotency key, the
-- provider's message id, or an e-mail's thread ids), within scope (a
-- tenant, or NULL for any).  Only a message sent can be answered or named
-- by our key.
CREATE OR REPLACE FUNCTION cadence.find_action(s cadence.signal, scope text)
RETURNS cadence.scheduled_actions
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a cadence.scheduled_actions;
	v_id text;
BEGIN
	IF s.action_id IS NOT NULL THEN
		SELECT * INTO a FROM cadence.scheduled_actions x
		 WHERE x.id = s.action_id AND x.status = 'sent' AND (scope IS NULL OR x.tenant_id = scope);
		IF FOUND THEN
			RETURN a;
		END IF;
	END IF;
	IF s.message_id IS NOT NULL THEN
		SELECT * INTO a FROM cadence.scheduled_actions x
		 WHERE x.provider_message_id = s.message_id AND (scope IS NULL OR x.tenant_id = scope)
		 ORDER BY x.id LIMIT 1;
		IF FOUND THEN
			RETURN a;
		END IF;
	END IF;
	FOREACH v_id IN ARRAY coalesce(s.thread_ids, '{}') LOOP
		SELECT * INTO a FROM cadence.scheduled_actions x
		 WHERE x.id = cadence.action_of_key(split_part(v_id, '@', 1)) AND x.status = 'sent'
		   AND (scope IS NULL OR x.tenant_id = scope);
		IF FOUND THEN
			RETURN a;
		END IF;
		SELECT * INTO a FROM cadence.scheduled_actions x
		 WHERE x.provider_message_id IN (v_id, '<' || v_id || '>', split_part(v_id, '@', 1))
		   AND (scope IS NULL OR x.tenant_id = scope)
		 ORDER BY x.id LIMIT 1;
		IF FOUND THEN
			RETURN a;
		END IF;
	END LOOP;
	RETURN NULL;
END
$$;

-- What a signal is about, within the tenants it may be applied to
-- (authorise_signals): its message a (and so tenant, run and lead), or its
-- leads by id or address; and the live runs it may end or pause.
CREATE OR REPLACE FUNCTION cadence.match_signal(s cadence.signal, a cadence.scheduled_actions, tenants text[])
RETURNS cadence.signal_match
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m cadence.signal_match;
BEGIN
	m.kind := s.kind;
	IF s.kind = 'ignored' OR coalesce(cardinality(tenants), 0) = 0 THEN
		RETURN m;
	END IF;
	IF a.id IS NOT NULL THEN
		m.tenant_id := a.tenant_id;
		m.provider_id := a.provider_id;
		m.action_tenant := a.tenant_id;
		m.run_id := a.run_id;
		m.action_id := a.id;
		m.cadence_id := a.cadence_id;
		SELECT ARRAY[r.lead_id] INTO m.lead_ids
		  FROM cadence.runs r WHERE r.tenant_id = a.tenant_id AND r.id = a.run_id;
	ELSIF s.lead_id IS NOT NULL THEN
		m.tenant_id := tenants[1];
		IF NOT EXISTS (SELECT 1 FROM cadence.contacts c
						WHERE c.tenant_id = m.tenant_id AND c.id = s.lead_id) THEN
			RAISE EXCEPTION 'lead "%" does not exist in tenant "%"', s.lead_id, m.tenant_id
				USING ERRCODE = 'P0002';
		END IF;
		m.lead_ids := ARRAY[s.lead_id];
	ELSIF s.address IS NOT NULL AND s.kind IN ('replied', 'opted_out', 'opted_in', 'opted_in_or_replied',
											   'help', 'complained', 'unsubscribed', 'meeting_booked') THEN
		-- (one statement per kind of address, so that each uses its index)
		IF s.channel = 'email' OR s.source = 'calendly' THEN
			SELECT c.tenant_id, array_agg(c.id ORDER BY c.id) INTO m.tenant_id, m.lead_ids
			  FROM cadence.contacts c
			 WHERE c.tenant_id = ANY (tenants) AND lower(c.email) = s.address
			 GROUP BY c.tenant_id ORDER BY c.tenant_id LIMIT 1;
		ELSE
			SELECT c.tenant_id, array_agg(c.id ORDER BY c.id) INTO m.tenant_id, m.lead_ids
			  FROM cadence.contacts c
			 WHERE c.tenant_id = ANY (tenants) AND (c.phone = s.address OR c.whatsapp = s.address)
			 GROUP BY c.tenant_id ORDER BY c.tenant_id LIMIT 1;
		END IF;
		IF m.tenant_id IS NULL AND cardinality(tenants) = 1 THEN
			m.tenant_id := tenants[1];
		END IF;
	END IF;
	IF m.tenant_id IS NULL THEN
		RETURN m;
	END IF;

	IF m.kind = 'opted_in_or_replied' THEN
		m.kind := CASE WHEN EXISTS (SELECT 1 FROM cadence.suppressions x
									 WHERE x.tenant_id = m.tenant_id AND x.channel = s.channel
									   AND x.address = s.address AND x.reason = 'stop_keyword')
					   THEN 'opted_in' ELSE 'replied' END;
	END IF;

	-- The live runs it may end or pause: the message's own for a bounce,
	-- and for a reply to a message; every one of the lead's otherwise.
	m.run_ids := CASE
		WHEN m.kind = 'bounced' OR (m.kind = 'replied' AND m.run_id IS NOT NULL) THEN
			ARRAY(SELECT r.id FROM cadence.runs r
				   WHERE r.tenant_id = m.tenant_id AND r.id = m.run_id
					 AND r.status IN ('active', 'paused'))
		WHEN m.kind IN ('replied', 'complained', 'unsubscribed', 'opted_out', 'meeting_booked') THEN
			ARRAY(SELECT r.id FROM cadence.runs r
				   WHERE r.tenant_id = m.tenant_id AND r.lead_id = ANY (m.lead_ids)
					 AND r.status IN ('active', 'paused') ORDER BY r.id)
		ELSE '{}' END;
	IF m.kind = 'replied' THEN
		m.company_run_ids := ARRAY(
			SELECT o.id FROM cadence.contacts me
			  JOIN cadence.contacts co ON co.tenant_id = me.tenant_id
			   AND lower(co.company) = lower(me.company) AND co.id <> ALL (m.lead_ids)
			  JOIN cadence.runs o ON o.tenant_id = co.tenant_id AND o.lead_id = co.id
			   AND o.status = 'active'
			 WHERE me.tenant_id = m.tenant_id AND me.id = ANY (m.lead_ids)
			   AND me.company IS NOT NULL AND me.company <> ''
			   AND EXISTS (SELECT 1 FROM cadence.runs r
							 JOIN cadence.cadences c ON c.tenant_id = r.tenant_id AND c.id = r.cadence_id
							WHERE r.tenant_id = m.tenant_id AND r.id = ANY (m.run_ids)
							  AND (c.settings ->> 'pauseCompanyOnReply')::boolean)
			 ORDER BY o.id);
	END IF;
	RETURN m;
END
$$;

-- Mark engagement (delivered, opened, clicked, replied, bounced) on a
-- scheduled action, at most once: its <kind>_at column is set unless it is
-- already, and then the step counter to add is returned,
-- [{"t": tenant, "c": cadence, "s": step, "v": variant, "f": kind}]; [] when
-- it was marked before.
CREATE OR REPLACE FUNCTION cadence.engage(tenant_id text, run_id bigint, action_id bigint, kind text,
							   at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_count jsonb;
BEGIN
	EXECUTE format('UPDATE cadence.scheduled_actions SET %1$I = $4, updated_at = now()'
				   ' WHERE tenant_id = $1 AND run_id = $2 AND id = $3 AND %1$I IS NULL'
				   ' RETURNING jsonb_build_array(jsonb_build_object(''t'', tenant_id,'
				   '   ''c'', cadence_id, ''s'', step_number, ''v'', coalesce(variant, ''''),'
				   '   ''f'', $5))', kind || '_at')
		INTO v_count USING tenant_id, run_id, action_id, at, kind;
	RETURN coalesce(v_count, '[]');
END
$$;

-- The message a reply without a thread answers: the latest sent of the
-- runs, on the reply's channel when there is one.
CREATE OR REPLACE FUNCTION cadence.answered_message(tenant_id text, run_ids bigint[], channel text)
RETURNS cadence.scheduled_actions
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	v_row cadence.scheduled_actions;
BEGIN
	SELECT a.* INTO v_row FROM cadence.scheduled_actions a
	 WHERE a.tenant_id = answered_message.tenant_id AND a.run_id = ANY (run_ids)
	   AND a.status = 'sent'
	 ORDER BY (a.type = channel) DESC, a.sent_at DESC LIMIT 1;
	RETURN v_row;
END
$$;

-- Put an address on the do-not-contact list (kept as it is when already on).
CREATE OR REPLACE FUNCTION cadence.suppress(tenant_id text, channel text, address text, reason text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
	INSERT INTO cadence.suppressions (tenant_id, channel, address, reason)
	SELECT tenant_id, channel, lower(address), reason WHERE coalesce(address, '') <> ''
	ON CONFLICT DO NOTHING;
END
$$;

-- End each of the runs that is still live, when its cadence's exit
-- conditions say so for key, at the instant at; returns [{runId, status}]
-- of those ended.
CREATE OR REPLACE FUNCTION cadence.exit_runs(tenant_id text, run_ids bigint[], key text, status text,
								  reason text, at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_run bigint;
	v_ended jsonb := '[]';
BEGIN
	FOR v_run IN
		SELECT r.id FROM cadence.runs r
		  JOIN cadence.cadences c ON c.tenant_id = r.tenant_id AND c.id = r.cadence_id
		 WHERE r.tenant_id = exit_runs.tenant_id AND r.id = ANY (run_ids)
		   AND r.status IN ('active', 'paused')
		   AND cadence.exits_on(c.exit_conditions, key)
		 ORDER BY r.id
	LOOP
		PERFORM cadence.exit_run_in(tenant_id, v_run, status, reason, at);
		v_ended := v_ended || jsonb_build_object('runId', v_run, 'status', status);
	END LOOP;
	RETURN v_ended;
END
$$;

-- A lead-level event (lead.*) for each lead.
CREATE OR REPLACE FUNCTION cadence.lead_event(tenant_id text, lead_ids text[], type text, payload jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
	INSERT INTO cadence.events (tenant_id, lead_id, type, payload)
	SELECT tenant_id, l, type, payload FROM unnest(lead_ids) AS l;
END
$$;

-- A reply (or an auto-reply) to the runs m is about.  A human reply marks
-- the message answered (the one replied to, else the run's latest sent,
-- on the same channel when there is one), ends the run when its cadence
-- exits on replies, and pauses the lead's colleagues' runs when the
-- cadence says so.  An auto-reply pauses the run until the return date
-- the text gives (at the same time of day), else for
-- settings.autoReplyPauseDays (7), or ends it when exitConditions
-- onAutoReply is set.  Runs change at received_at, the instant the
-- delivery came in.  Returns what it did and the counters to add.
CREATE OR REPLACE FUNCTION cadence.apply_reply(s cadence.signal, m cadence.signal_match,
									received_at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_auto text := cadence.auto_reply_signal(coalesce(s.headers, '{}'), s.subject, s.body);
	v_run record;
	v_action cadence.scheduled_actions;
	v_runs jsonb := '[]';
	v_counts jsonb := '[]';
	v_resume timestamptz;
	v_back date;
	v_pause_company boolean := false;
	v_detail jsonb := jsonb_strip_nulls(coalesce(s.detail, '{}')
		|| jsonb_build_object('source', s.source, 'text', left(s.body, 500), 'autoReply', v_auto));
BEGIN
	UPDATE cadence.contacts c SET last_activity_at = greatest(c.last_activity_at, s.occurred_at)
	 WHERE c.tenant_id = m.tenant_id AND c.id = ANY (m.lead_ids) AND v_auto IS NULL;

	-- The message replied to, when the reply named it, even if its run is over.
	IF m.action_id IS NOT NULL AND v_auto IS NULL THEN
		v_counts := v_counts || cadence.engage(m.action_tenant, m.run_id, m.action_id, 'replied',
											   s.occurred_at);
	END IF;

	FOR v_run IN
		SELECT r.id, r.status, r.cadence_id, coalesce(l.timezone, r.timezone) AS lead_zone,
			   c.exit_conditions, c.settings
		  FROM cadence.runs r JOIN cadence.cadences c ON c.tenant_id = r.tenant_id AND c.id = r.cadence_id
		  LEFT JOIN cadence.contacts l ON l.tenant_id = r.tenant_id AND l.id = r.lead_id
		 WHERE r.tenant_id = m.tenant_id AND r.id = ANY (m.run_ids) AND r.status IN ('active', 'paused')
		 ORDER BY r.id
	LOOP
		IF m.action_id IS NULL AND v_auto IS NULL THEN
			v_action := cadence.answered_message(m.tenant_id, ARRAY[v_run.id], s.channel);
			IF v_action.id IS NOT NULL THEN
				v_counts := v_counts || cadence.engage(m.tenant_id, v_run.id, v_action.id, 'replied',
													   s.occurred_at);
			END IF;
		END IF;
		INSERT INTO cadence.events (tenant_id, run_id, scheduled_action_id, cadence_id, lead_id, type, payload)
		SELECT m.tenant_id, v_run.id, CASE WHEN v_run.id = m.run_id THEN m.action_id END,
			   v_run.cadence_id, r.lead_id, 'action.engagement',
			   jsonb_build_object('kind', CASE WHEN v_auto IS NULL THEN 'replied' ELSE 'auto_replied' END)
			   || v_detail
		  FROM cadence.runs r WHERE r.tenant_id = m.tenant_id AND r.id = v_run.id;

		IF v_auto IS NULL OR cadence.exits_on(v_run.exit_conditions, 'onAutoReply') THEN
			IF cadence.exits_on(v_run.exit_conditions, 'onReply') THEN
				PERFORM cadence.exit_run_in(m.tenant_id, v_run.id, 'replied', coalesce(v_auto, 'reply'),
											received_at);
				v_runs := v_runs || jsonb_build_object('runId', v_run.id, 'status', 'replied');
			END IF;
			v_pause_company := v_pause_company OR v_auto IS NULL
				AND coalesce((v_run.settings ->> 'pauseCompanyOnReply')::boolean, false);
		ELSIF v_run.status = 'active' THEN
			-- The sender names the day they are back in their own zone: it
			-- is read there, and the run resumes on it at the wall time the
			-- reply came in.
			v_back := cadence.auto_reply_return_date(s.body, received_at, v_run.lead_zone);
			v_resume := CASE WHEN v_back IS NOT NULL
				THEN (v_back + (received_at AT TIME ZONE v_run.lead_zone)::time) AT TIME ZONE v_run.lead_zone
				ELSE received_at + make_interval(days =>
					coalesce((v_run.settings ->> 'autoReplyPauseDays')::int, 7)) END;
			PERFORM cadence.pause_run_in(m.tenant_id, v_run.id, greatest(v_resume, received_at),
										 'auto_reply', received_at);
			v_runs := v_runs || jsonb_build_object('runId', v_run.id, 'status', 'paused',
				'resumeAt', greatest(v_resume, received_at));
		END IF;
	END LOOP;

	IF v_pause_company THEN
		FOR v_run IN SELECT r.id FROM cadence.runs r
					  WHERE r.tenant_id = m.tenant_id AND r.id = ANY (m.company_run_ids)
						AND r.status = 'active'
					  ORDER BY r.id LOOP
			PERFORM cadence.pause_run_in(m.tenant_id, v_run.id, NULL, 'company_replied', received_at);
			v_runs := v_runs || jsonb_build_object('runId', v_run.id, 'status', 'paused',
												   'reason', 'company_replied');
		END LOOP;
	END IF;

	-- No live run and no message named: the lead's latest message (of a
	-- run that ended) is the one answered.
	IF cardinality(m.run_ids) = 0 AND m.action_id IS NULL THEN
		v_action := cadence.answered_message(m.tenant_id,
			ARRAY(SELECT r.id FROM cadence.runs r
				   WHERE r.tenant_id = m.tenant_id AND r.lead_id = ANY (m.lead_ids)
					 AND r.status NOT IN ('active', 'paused')), s.channel);
		IF v_action.id IS NOT NULL AND v_auto IS NULL THEN
			v_counts := v_counts || cadence.engage(m.tenant_id, v_action.run_id, v_action.id,
												   'replied', s.occurred_at);
		END IF;
		PERFORM cadence.lead_event(m.tenant_id, m.lead_ids, 'lead.replied', v_detail);
	END IF;
	RETURN jsonb_build_object('runs', v_runs, 'counts', v_counts, 'autoReply', v_auto);
END
$$;

-- Apply one matched signal, received at received_at; returns what it did
-- and the counters to add.
CREATE OR REPLACE FUNCTION cadence.apply_signal(s cadence.signal, m cadence.signal_match,
									 received_at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_counts jsonb := '[]';
	v_runs jsonb := '[]';
	v_channel text := coalesce(s.channel, 'email');
	v_detail jsonb := jsonb_strip_nulls(coalesce(s.detail, '{}') || jsonb_build_object('source', s.source));
	v_result jsonb;
BEGIN
	-- Engagement on the message, once each (a click is an open too).
	IF m.kind IN ('delivered', 'opened', 'clicked', 'bounced') AND m.action_id IS NOT NULL THEN
		IF m.kind = 'clicked' THEN
			v_counts := v_counts || cadence.engage(m.action_tenant, m.run_id, m.action_id, 'opened',
												   s.occurred_at);
		END IF;
		v_counts := v_counts || cadence.engage(m.action_tenant, m.run_id, m.action_id, m.kind,
											   s.occurred_at);
	END IF;
	IF m.action_id IS NOT NULL AND m.kind NOT IN ('replied') THEN
		INSERT INTO cadence.events (tenant_id, run_id, scheduled_action_id, cadence_id, lead_id, type, payload)
		VALUES (m.tenant_id, m.run_id, m.action_id, m.cadence_id, m.lead_ids[1], 'action.engagement',
				jsonb_build_object('kind', m.kind) || v_detail);
	END IF;

	CASE m.kind
	WHEN 'bounced' THEN
		PERFORM cadence.suppress(m.tenant_id, v_channel, s.address, 'bounce');
		v_runs := cadence.exit_runs(m.tenant_id, m.run_ids, 'onBounce', 'bounced', 'bounce',
									received_at);
	WHEN 'complained', 'unsubscribed', 'opted_out' THEN
		PERFORM cadence.suppress(m.tenant_id, v_channel, s.address,
			CASE m.kind WHEN 'complained' THEN 'spam_report' WHEN 'unsubscribed' THEN 'unsubscribe'
						ELSE 'stop_keyword' END);
		IF m.action_id IS NULL THEN
			PERFORM cadence.lead_event(m.tenant_id, m.lead_ids, 'lead.opted_out',
									   jsonb_build_object('kind', m.kind) || v_detail);
		END IF;
		v_runs := cadence.exit_runs(m.tenant_id, m.run_ids, 'onUnsubscribe', 'unsubscribed', m.kind,
									received_at);
	WHEN 'opted_in' THEN
		DELETE FROM cadence.suppressions x
		 WHERE x.tenant_id = m.tenant_id AND x.channel = v_channel AND x.address = lower(s.address)
		   AND x.reason = 'stop_keyword';
		PERFORM cadence.lead_event(m.tenant_id, m.lead_ids, 'lead.opted_in', v_detail);
	WHEN 'help' THEN
		PERFORM cadence.lead_event(m.tenant_id, m.lead_ids, 'lead.help', v_detail);
	WHEN 'replied' THEN
		v_result := cadence.apply_reply(s, m, received_at);
		v_runs := v_result -> 'runs';
		v_counts := v_counts || (v_result -> 'counts');
	WHEN 'meeting_booked' THEN
		UPDATE cadence.contacts c SET last_activity_at = greatest(c.last_activity_at, s.occurred_at)
		 WHERE c.tenant_id = m.tenant_id AND c.id = ANY (m.lead_ids);
		PERFORM cadence.lead_event(m.tenant_id, m.lead_ids, 'lead.meeting_booked', v_detail);
		v_runs := cadence.exit_runs(m.tenant_id, m.run_ids, 'onMeetingBooked', 'meeting_booked',
									'meeting_booked', received_at);
	WHEN 'lead_assigned' THEN
		UPDATE cadence.contacts c SET owner_id = s.detail ->> 'assignedTo', updated_at = now()
		 WHERE c.tenant_id = m.tenant_id AND c.id = s.lead_id;
		PERFORM cadence.lead_event(m.tenant_id, m.lead_ids, 'lead.assigned', v_detail);
		v_runs := cadence.enroll_on_trigger_in(m.tenant_id, s.lead_id, 'lead_assigned',
											   s.detail ->> 'assignedTo', s.occurred_at);
	WHEN 'stage_changed' THEN
		UPDATE cadence.contacts c SET status = s.detail ->> 'stage', updated_at = now(),
			   last_activity_at = greatest(c.last_activity_at, s.occurred_at)
		 WHERE c.tenant_id = m.tenant_id AND c.id = s.lead_id;
		PERFORM cadence.lead_event(m.tenant_id, m.lead_ids, 'lead.stage_changed', v_detail);
		v_runs := cadence.enroll_on_trigger_in(m.tenant_id, s.lead_id, 'stage_changed',
											   s.detail ->> 'stage', s.occurred_at);
	ELSE
		NULL;	-- delivered, opened, clicked, delivery_failed: the engagement above
	END CASE;
	RETURN jsonb_build_object('runs', v_runs, 'counts', v_counts);
END
$$;

-- Add engagement counted while applying (per signal, a JSON array of
-- {t, c, s, v, f}) to cadence.step_stats, in key order.
CREATE OR REPLACE FUNCTION cadence.add_step_counts(counts jsonb[]) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
	INSERT INTO cadence.step_stats AS st (tenant_id, cadence_id, step_number, variant,
										  delivered, opened, clicked, replied, bounced)
	SELECT x ->> 't', x ->> 'c', (x ->> 's')::int, coalesce(x ->> 'v', ''),
		   count(*) FILTER (WHERE x ->> 'f' = 'delivered'), count(*) FILTER (WHERE x ->> 'f' = 'opened'),
		   count(*) FILTER (WHERE x ->> 'f' = 'clicked'), count(*) FILTER (WHERE x ->> 'f' = 'replied'),
		   count(*) FILTER (WHERE x ->> 'f' = 'bounced')
	  FROM unnest(counts) AS c, jsonb_array_elements(c) AS x
	 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
	ON CONFLICT (tenant_id, cadence_id, step_number, variant) DO UPDATE
	   SET delivered = st.delivered + excluded.delivered, opened = st.opened + excluded.opened,
		   clicked = st.clicked + excluded.clicked, replied = st.replied + excluded.replied,
		   bounced = st.bounced + excluded.bounced;
END
$$;

-- Whether the caller may ingest without a tenant: it holds the role
-- cadence_webhook (see cadence.grant_webhook), or is a superuser.
CREATE OR REPLACE FUNCTION cadence.calling_webhook_role() RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
					WHERE r.rolname = cadence.calling_role() AND r.rolsuper)
		OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
					WHERE r.rolname = 'cadence_webhook'
					  AND pg_catalog.pg_has_role(cadence.calling_role(), r.oid, 'USAGE'))
$$;
