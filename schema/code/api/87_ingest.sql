-- What comes back, applied: cadence.ingest_webhook() takes a provider's
-- webhook (or an app event), reads it into signals
-- (internal/85_webhook_formats.sql), finds what each is about, has the
-- accounts concerned authorise it (internal/86_webhook_auth.sql), and in
-- the caller's transaction records the engagement, keeps the
-- do-not-contact list, and ends, pauses or resumes runs by their
-- cadence's exit conditions (internal/87_ingest.sql).  A redelivery is recognised by
-- the provider's event id and applied once.  Nothing is written before
-- every signal is authorised; the work is linear in the delivery's size.
--
-- Locks follow the order every writer of runs keeps (see
-- src/dispatch/dispatch.h): every run a delivery may change is locked
-- first, in key order, before any of it is changed; the step counters
-- last, in key order.

-- cadence.ingest_webhook(provider, payload, headers, url, received_at): see
-- README.  received_at is when the delivery came in: the instant of every
-- change to a run it makes.
--
-- Who may call it: a caller of a tenant (a member, or a role that bypasses
-- row-level security, with the tenant claimed) for what concerns that
-- tenant alone; the role cadence_webhook, for any tenant, each signal
-- authorised by the accounts it concerns (authorise_signals).  Anyone
-- else: 42501.  It runs as the extension's owner (it reads the secrets),
-- so the caller is told by cadence.calling_role(); what it applies for a
-- tenant it applies through internal functions that take that tenant as
-- an argument (internal/87_ingest.sql).
CREATE OR REPLACE FUNCTION cadence.ingest_webhook(provider text, payload jsonb, headers jsonb DEFAULT '{}',
									   url text DEFAULT NULL,
									   received_at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_scope text := cadence.current_tenant();
	v_headers jsonb;
	v_raw text;
	v_body jsonb;
	v_signals cadence.signal[];
	v_actions cadence.scheduled_actions[];
	v_matches cadence.signal_match[];
	v_fresh boolean[];
	v_auth record;
	v_signature text := 'unsigned';
	v_results jsonb[];
	v_counts jsonb[];
	v_applied jsonb;
	v_outcome text;
	v_applied_count int := 0;
	v_duplicates int := 0;
	v_unmatched int := 0;
	v_ignored int := 0;
	i int;
BEGIN
	-- WhatsApp's webhooks go by the name of the provider or of its account
	-- kind alike, and are one provider's: a redelivery under the other name
	-- is the same event.
	IF provider = 'whatsapp_cloud' THEN
		provider := 'whatsapp';
	END IF;
	IF v_scope IS NULL AND NOT cadence.calling_webhook_role() THEN
		RAISE EXCEPTION 'ingest_webhook needs the caller''s tenant, or the role cadence_webhook'
			USING ERRCODE = '42501',
				  HINT = 'Call it as a member of the tenant (JWT claim tenant_id, or SET cadence.tenant_id), or from the webhook endpoint''s role, given cadence_webhook with cadence.grant_webhook(role).';
	ELSIF provider IS NULL OR provider <> ALL (cadence.webhook_formats()) THEN
		RAISE EXCEPTION 'unknown webhook provider "%"', provider
			USING ERRCODE = '22023',
				  HINT = 'Providers: ' || array_to_string(array_replace(cadence.webhook_formats(),
							 'whatsapp', 'whatsapp (or whatsapp_cloud)'), ', ') || '.';
	ELSIF provider = 'app' AND v_scope IS NULL THEN
		RAISE EXCEPTION 'an app event needs the caller''s tenant'
			USING ERRCODE = '42501',
				  HINT = 'Call it as a member of the tenant (JWT claim tenant_id, or SET cadence.tenant_id).';
	END IF;

	-- The caps, before anything is read: the size of what was sent (the
	-- raw body, or the parsed one as JSON text), then the number of events
	-- in it.
	v_raw := CASE WHEN jsonb_typeof(payload) = 'string' THEN payload #>> '{}' END;
	PERFORM cadence.check_webhook_size(provider,
		coalesce(octet_length(v_raw), octet_length(payload::text))
		+ octet_length(coalesce(headers::text, '')) + octet_length(coalesce(url, '')), NULL);
	v_headers := cadence.header_map(headers);

	-- The body: parsed, or raw (a JSON string) and then parsed.
	IF v_raw IS NOT NULL THEN
		IF provider IN ('twilio', 'sendgrid_inbound') AND ltrim(v_raw) !~ '^[{[]' THEN
			v_body := cadence.form_decode(v_raw);
		ELSE
			BEGIN
				v_body := v_raw::jsonb;
			EXCEPTION WHEN invalid_text_representation THEN
				RAISE EXCEPTION 'the body of this % webhook is not JSON', provider
					USING ERRCODE = '22023';
			END;
		END IF;
	ELSE
		v_body := payload;
	END IF;

	v_signals := ARRAY(SELECT s FROM (
		SELECT cadence.signals_twilio(v_body) AS s WHERE provider = 'twilio'
		UNION ALL SELECT cadence.signals_sendgrid(v_body) WHERE provider = 'sendgrid'
		UNION ALL SELECT cadence.signals_resend(v_body, v_headers) WHERE provider = 'resend'
		UNION ALL SELECT cadence.signals_postmark(v_body) WHERE provider = 'postmark'
		UNION ALL SELECT cadence.signals_sendgrid_inbound(v_body) WHERE provider = 'sendgrid_inbound'
		UNION ALL SELECT cadence.signals_calendly(v_body) WHERE provider = 'calendly'
		UNION ALL SELECT cadence.signals_whatsapp(v_body) WHERE provider = 'whatsapp'
		UNION ALL SELECT cadence.signals_app(v_body, v_scope) WHERE provider = 'app') x);
	PERFORM cadence.check_webhook_size(provider, NULL, cardinality(v_signals));

	-- What each signal names, within the caller's tenant when it has one;
	-- which tenants each may be applied to, by the accounts concerned
	-- (a refusal of any refuses the whole delivery, before anything is
	-- written); then what each is about within those tenants.
	FOR i IN 1 .. cardinality(v_signals) LOOP
		v_actions[i] := CASE WHEN v_signals[i].kind <> 'ignored'
							 THEN cadence.find_action(v_signals[i], v_scope) END;
	END LOOP;
	FOR v_auth IN SELECT * FROM cadence.authorise_signals(provider, v_raw, v_body, v_headers, url,
														  v_scope, v_signals, v_actions) LOOP
		IF v_auth.refusal ->> 'hint' IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = v_auth.refusal ->> 'state',
				MESSAGE = v_auth.refusal ->> 'message', HINT = v_auth.refusal ->> 'hint';
		ELSIF v_auth.refusal IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = v_auth.refusal ->> 'state',
				MESSAGE = v_auth.refusal ->> 'message';
		END IF;
		v_matches[v_auth.i] := cadence.match_signal(v_signals[v_auth.i], v_actions[v_auth.i],
													v_auth.tenants);
		IF v_auth.verified THEN
			v_signature := 'verified';
		END IF;
	END LOOP;

	-- Redeliveries are recognised; the rest is applied, every run it may
	-- change locked first.
	FOR i IN 1 .. cardinality(v_signals) LOOP
		v_fresh[i] := false;
		CONTINUE WHEN v_matches[i].tenant_id IS NULL OR v_matches[i].kind = 'ignored';
		INSERT INTO cadence.inbound_events (tenant_id, source, event_key, kind)
		VALUES (v_matches[i].tenant_id, v_signals[i].source, v_signals[i].event_key, v_matches[i].kind)
		ON CONFLICT DO NOTHING;
		v_fresh[i] := FOUND;
	END LOOP;
	PERFORM 1
	  FROM (SELECT DISTINCT m.tenant_id, r AS run_id
			  FROM unnest(v_matches) WITH ORDINALITY AS m
			  JOIN unnest(v_fresh) WITH ORDINALITY AS f(fresh, ordinality) USING (ordinality),
				   unnest(coalesce(m.run_ids, '{}') || coalesce(m.company_run_ids, '{}')) AS r
			 WHERE f.fresh
			 ORDER BY 1, 2) k
	 CROSS JOIN LATERAL (SELECT 1 FROM cadence.runs x
						  WHERE x.tenant_id = k.tenant_id AND x.id = k.run_id
						  FOR UPDATE OFFSET 0) l;

	-- Applied for the tenant of each signal, which apply_signal passes on.
	FOR i IN 1 .. cardinality(v_signals) LOOP
		v_applied := NULL;
		v_outcome := CASE WHEN v_signals[i].kind = 'ignored' THEN 'ignored'
						  WHEN v_matches[i].tenant_id IS NULL THEN 'unmatched'
						  WHEN NOT v_fresh[i] THEN 'duplicate'
						  ELSE 'applied' END;
		IF v_outcome = 'applied' THEN
			v_applied := cadence.apply_signal(v_signals[i], v_matches[i], received_at);
			v_counts[i] := v_applied -> 'counts';
		END IF;
		CASE v_outcome
		WHEN 'applied' THEN v_applied_count := v_applied_count + 1;
		WHEN 'duplicate' THEN v_duplicates := v_duplicates + 1;
		WHEN 'unmatched' THEN v_unmatched := v_unmatched + 1;
		ELSE v_ignored := v_ignored + 1;
		END CASE;
		v_results[i] := jsonb_strip_nulls(jsonb_build_object(
			'kind', v_matches[i].kind, 'eventKey', v_signals[i].event_key, 'outcome', v_outcome,
			'leadIds', to_jsonb(v_matches[i].lead_ids), 'actionId', v_matches[i].action_id,
			'runs', CASE WHEN jsonb_array_length(coalesce(v_applied -> 'runs', '[]')) > 0
						 THEN v_applied -> 'runs' END));
	END LOOP;
	PERFORM cadence.add_step_counts(v_counts);

	RETURN jsonb_build_object('provider', provider, 'signature', v_signature,
							  'received', cardinality(v_signals),
							  'applied', v_applied_count, 'duplicates', v_duplicates,
							  'unmatched', v_unmatched, 'ignored', v_ignored,
							  'results', coalesce(to_jsonb(v_results), '[]'));
END
$$;
COMMENT ON FUNCTION cadence.ingest_webhook(text, jsonb, jsonb, text, timestamptz) IS
	'Apply a provider webhook (twilio, sendgrid, resend, postmark, sendgrid_inbound, calendly, whatsapp) or an app event (app): engagement, replies, bounces, opt-outs, meetings booked; exits, pauses and suppressions in the same transaction; authorised by the secret of the account each event concerns; caps on bytes and events; redeliveries applied once; runs change at received_at';
