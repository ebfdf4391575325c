-- Helpers of make demo (demo/demo.sql), for tenant "seed".  None of this is
-- needed to use cadence: it posts webhooks the way the providers do, and
-- turns cadence's answers into sentences.  Everything is in pg_temp and
-- goes with the session.

-- A lead's name, and a time zone's city.
CREATE FUNCTION pg_temp.who(lead text) RETURNS text LANGUAGE sql AS $$
	SELECT concat_ws(' ', first_name, last_name) FROM cadence.contacts
	 WHERE tenant_id = 'seed' AND id = lead
$$;
CREATE FUNCTION pg_temp.city(zone text) RETURNS text LANGUAGE sql AS $$
	SELECT replace(replace(split_part(zone, '/', 2), '_', ' '), 'Sao', 'São')
$$;
-- The scheduled action of a lead's run at a step.
CREATE FUNCTION pg_temp.action(lead text, step text) RETURNS cadence.scheduled_actions
LANGUAGE sql AS $$
	SELECT a.* FROM cadence.scheduled_actions a
	  JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
	 WHERE r.tenant_id = 'seed' AND r.lead_id = lead AND a.action_id = step
$$;

-- The providers' documented webhook examples: pg_temp.fixture(name).
\i test/helpers/fixtures.sql

-- Every post a provider makes, with what it said (for a message from a
-- lead) and cadence's answer, for the narration.
CREATE TEMP TABLE posts (n serial PRIMARY KEY, provider text, said text, answer jsonb);
CREATE FUNCTION pg_temp.post(provider text, payload jsonb, headers jsonb DEFAULT '{}',
							 said text DEFAULT NULL, url text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql AS $$
	INSERT INTO posts (provider, said, answer)
	VALUES (provider, said, cadence.ingest_webhook(provider, payload, headers, url))
	RETURNING answer
$$;
-- A provider's name as it spells it.
CREATE FUNCTION pg_temp.brand(provider text) RETURNS text LANGUAGE sql AS $$
	SELECT CASE provider WHEN 'sendgrid' THEN 'SendGrid' ELSE initcap(provider) END
$$;
-- What cadence made of one event of a post, in words.
CREATE FUNCTION pg_temp.read_as(x jsonb) RETURNS text LANGUAGE sql AS $$
	SELECT CASE
		WHEN x ->> 'outcome' <> 'applied' THEN x ->> 'outcome'
		WHEN x -> 'runs' -> 0 ->> 'resumeAt' IS NOT NULL THEN 'an out-of-office reply'
		WHEN x ->> 'kind' = 'replied' THEN 'a reply'
		WHEN x ->> 'kind' = 'opted_out' THEN 'an opt-out'
		WHEN x ->> 'kind' = 'meeting_booked' THEN 'a meeting booked'
		ELSE x ->> 'kind' END
$$;
-- The messages leads sent since post n.
CREATE FUNCTION pg_temp.messages(since int)
RETURNS TABLE ("from" text, via text, message text, "signature" text, "read as" text)
LANGUAGE sql AS $$
	SELECT pg_temp.who(p.answer -> 'results' -> 0 -> 'leadIds' ->> 0), pg_temp.brand(p.provider),
		   CASE WHEN length(p.said) > 64 THEN left(p.said, 61) || '...' ELSE p.said END,
		   CASE p.answer ->> 'signature' WHEN 'verified' THEN 'checked' ELSE 'not signed' END,
		   pg_temp.read_as(p.answer -> 'results' -> 0)
	  FROM posts p WHERE p.n > since AND p.said IS NOT NULL ORDER BY p.n
$$;

-- What Twilio posts to the account's webhook URL, signed with the
-- account's auth token (X-Twilio-Signature) the way Twilio signs it.
CREATE FUNCTION pg_temp.from_twilio(params jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.post('twilio', p, jsonb_build_object('X-Twilio-Signature',
		   cadence.twilio_signature(a.credentials ->> 'authToken', a.settings ->> 'webhookUrl', p)),
		   p ->> 'Body')
	  FROM cadence.providers a,
		   LATERAL (SELECT params || jsonb_build_object('AccountSid', a.credentials ->> 'accountSid')) AS x(p)
	 WHERE a.tenant_id = 'seed' AND a.id = 'twilio'
$$;
-- A text a lead sends to Seed's number.
CREATE FUNCTION pg_temp.text_from(lead text, body text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.from_twilio(pg_temp.fixture('twilio_inbound') || jsonb_build_object(
		'From', c.phone, 'To', '+14155550100', 'Body', body, 'MessageSid', sid, 'SmsSid', sid,
		'SmsMessageSid', sid))
	  FROM cadence.contacts c, LATERAL (SELECT 'SM' || md5(lead || body)) AS x(sid)
	 WHERE c.tenant_id = 'seed' AND c.id = lead
$$;
-- An e-mail from a lead answering one of ours (In-Reply-To names the
-- Message-ID it carried), as Postmark's inbound webhook posts it to the
-- URL that carries the e-mail account's inbound token; auto: Postmark's
-- out-of-office example instead of its reply example.
CREATE FUNCTION pg_temp.email_from(lead text, answering text, subject text, body text,
								   auto boolean DEFAULT false)
RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.post('postmark', f || jsonb_build_object(
		'From', c.email, 'FromName', pg_temp.who(lead),
		'FromFull', jsonb_build_object('Email', c.email, 'Name', pg_temp.who(lead), 'MailboxHash', ''),
		'Subject', subject, 'MessageID', md5(lead || subject),
		'TextBody', body, 'StrippedTextReply', body, 'HtmlBody', '<p>' || body || '</p>',
		'Attachments', '[]'::jsonb,
		'Headers', (SELECT jsonb_agg(CASE WHEN h ->> 'Name' IN ('In-Reply-To', 'References')
										  THEN jsonb_build_object('Name', h ->> 'Name', 'Value',
											   '<' || cadence.idempotency_key((pg_temp.action(lead, answering)).id)
											   || '@seed.test>')
										  ELSE h END)
					  FROM jsonb_array_elements(f -> 'Headers') AS h)),
		'{}', body, 'https://hooks.seed.test/postmark?token=demo-inbound-token')
	  FROM cadence.contacts c,
		   LATERAL (SELECT pg_temp.fixture(CASE WHEN auto THEN 'postmark_inbound_auto_reply'
												 ELSE 'postmark_inbound' END)) AS x(f)
	 WHERE c.tenant_id = 'seed' AND c.id = lead
$$;
-- SendGrid's documented event of a kind, about an e-mail we sent:
-- sg_message_id starts with the X-Message-Id SendGrid answered the send
-- with, and the custom argument cadence sent comes back at the top level.
CREATE FUNCTION pg_temp.sendgrid_event(kind text, a cadence.scheduled_actions, after interval)
RETURNS jsonb LANGUAGE sql AS $$
	SELECT e || jsonb_build_object('email', a.rendered ->> 'to',
		   'timestamp', extract(epoch FROM a.sent_at + after)::bigint,
		   'sg_event_id', md5(kind || a.id), 'cadence_idempotency_key', cadence.idempotency_key(a.id),
		   'sg_message_id', a.provider_message_id || '.filter0001.16648.5515E0B88.0')
	  FROM jsonb_array_elements(pg_temp.fixture('sendgrid_events')) AS e
	 WHERE e ->> 'event' = kind AND coalesce(e ->> 'type', 'bounce') = 'bounce'
$$;
-- Who opens and who clicks: a fixed pattern, so that every run of the demo
-- tells the same story.  Variant B's subject is opened more often.
CREATE FUNCTION pg_temp.opens(a cadence.scheduled_actions) RETURNS boolean LANGUAGE sql AS $$
	SELECT (a.run_id * 37 + a.step_number * 11) % 100 < CASE a.variant WHEN 'B' THEN 48 ELSE 30 END
$$;
CREATE FUNCTION pg_temp.clicks(a cadence.scheduled_actions) RETURNS boolean LANGUAGE sql AS $$
	SELECT pg_temp.opens(a) AND (a.run_id * 53 + a.step_number * 7) % 100 < 20
$$;
-- A day of SendGrid events about one step's e-mails, in one post as
-- SendGrid batches them: delivered (or bounced, for the lead named), then
-- opens and clicks.
CREATE FUNCTION pg_temp.sendgrid_day(step text, bounce text DEFAULT NULL) RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.post('sendgrid', jsonb_agg(e ORDER BY e -> 'timestamp', n))
	  FROM (SELECT a.id AS n, pg_temp.sendgrid_event(
					   CASE WHEN r.lead_id = bounce THEN 'bounce' ELSE 'delivered' END, a, '1 minute') AS e
			  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
			 WHERE a.tenant_id = 'seed' AND a.action_id = step AND a.status = 'sent'
			UNION ALL
			SELECT a.id, pg_temp.sendgrid_event('open', a, '47 minutes')
			  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
			 WHERE a.tenant_id = 'seed' AND a.action_id = step AND a.status = 'sent'
			   AND r.lead_id IS DISTINCT FROM bounce AND pg_temp.opens(a)
			UNION ALL
			SELECT a.id, pg_temp.sendgrid_event('click', a, '49 minutes')
			  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
			 WHERE a.tenant_id = 'seed' AND a.action_id = step AND a.status = 'sent'
			   AND r.lead_id IS DISTINCT FROM bounce AND pg_temp.clicks(a)) x
$$;
-- The posts since post n (about what), in words: how many, whether their
-- signatures were checked, and what they reported.
CREATE FUNCTION pg_temp.heard(since int, about text) RETURNS text LANGUAGE sql AS $$
	SELECT format(E'   %s, %s about %s%s:\n     %s.', pg_temp.brand(min(p.provider)),
		   CASE WHEN count(*) = 1 THEN 'one post' ELSE count(*) || ' posts' END
		   || CASE WHEN sum((p.answer ->> 'received')::int) > count(*)
				   THEN ' of ' || sum((p.answer ->> 'received')::int) || ' events' ELSE '' END,
		   about,
		   CASE WHEN bool_and(p.answer ->> 'signature' = 'verified')
				THEN CASE WHEN count(*) = 1 THEN ', signature checked' ELSE ', every signature checked' END
				ELSE '' END,
		   (SELECT string_agg(k.n || ' ' || k.what, ', ' ORDER BY k.o)
			  FROM (SELECT CASE x ->> 'kind' WHEN 'clicked' THEN 'clicked a link'
						   WHEN 'opted_out' THEN 'STOP' WHEN 'meeting_booked' THEN 'meeting booked'
						   WHEN 'replied' THEN 'reply' ELSE x ->> 'kind' END AS what,
						   count(*) AS n, min(q.n * 10000 + o) AS o
					  FROM posts q, jsonb_array_elements(q.answer -> 'results') WITH ORDINALITY AS e(x, o)
					 WHERE q.n > since AND x ->> 'outcome' = 'applied' GROUP BY 1) k))
	  FROM posts p WHERE p.n > since
$$;
-- Where a lead's cadence stands, in words.
CREATE FUNCTION pg_temp.standing(lead text) RETURNS text LANGUAGE sql AS $$
	SELECT CASE
		WHEN r.status = 'paused' AND r.resume_at IS NOT NULL
			THEN 'paused: out of office; resumes by itself on the return date'
		WHEN r.status = 'paused' THEN 'paused: a colleague replied; the rep decides'
		WHEN r.status = 'active' AND t.title IS NOT NULL THEN 'waiting for the call'
		WHEN r.status = 'active' THEN 'active, next at step ' || r.current_step
		WHEN r.status = 'replied' THEN 'ended: replied'
		WHEN r.status = 'bounced' THEN 'ended: email bounced'
		WHEN r.status = 'unsubscribed' THEN 'ended: opted out'
		WHEN r.status = 'meeting_booked' THEN 'ended: meeting booked'
		WHEN r.status = 'completed' THEN 'completed' || coalesce(' (' || t.outcome || ')', '')
		ELSE r.status END
	  FROM cadence.runs r
	  LEFT JOIN LATERAL (SELECT x.title, x.outcome FROM cadence.tasks x
						  WHERE x.tenant_id = r.tenant_id AND x.run_id = r.id
						  ORDER BY x.id DESC LIMIT 1) t ON true
	 WHERE r.tenant_id = 'seed' AND r.lead_id = lead
$$;
-- The do-not-contact entries for a lead's addresses.
CREATE FUNCTION pg_temp.blocked(lead text) RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(string_agg(CASE s.channel WHEN 'sms' THEN 'texts' ELSE s.channel END
							   || ' (' || CASE s.reason WHEN 'stop_keyword' THEN 'texted STOP'
													WHEN 'bounce' THEN 'bounced'
													ELSE replace(s.reason, '_', ' ') END || ')',
							   ', '), '')
	  FROM cadence.contacts c JOIN cadence.suppressions s ON s.tenant_id = c.tenant_id
	   AND s.address IN (lower(c.email), c.phone)
	 WHERE c.tenant_id = 'seed' AND c.id = lead
$$;

-- What a runner pass did to the actions ids, step by step, in words.
CREATE FUNCTION pg_temp.outcome_words(ids bigint[]) RETURNS text LANGUAGE sql AS $$
	WITH a AS (
		SELECT a.step_number, ca.name, a.variant,
			   CASE
				WHEN a.status = 'sent' THEN 'sent'
				WHEN a.status = 'pending_manual' THEN 'put on the reps'' call lists'
				WHEN a.status = 'skipped' AND a.skip_reason = 'no_address'
					THEN 'skipped (no ' || CASE a.type WHEN 'sms' THEN 'mobile number' ELSE 'address' END || ')'
				WHEN a.status = 'skipped' THEN 'skipped (' || replace(a.skip_reason, '_', ' ') || ')'
				WHEN a.status = 'failed'
					THEN 'failed (' || regexp_replace(a.last_error, '^HTTP [0-9]+: Twilio error [0-9]+: ', 'Twilio: ') || ')'
				WHEN a.status IN ('scheduled', 'planned') AND a.moved_reason = 'outside_business_hours'
					THEN 'held until business hours open'
				WHEN a.status IN ('scheduled', 'planned') AND a.moved_reason = 'quiet_hours'
					THEN 'held until quiet hours end'
				WHEN a.status IN ('scheduled', 'planned')
					THEN 'moved (' || replace(a.moved_reason, '_', ' ') || ')'
				ELSE a.status END AS phrase
		  FROM cadence.scheduled_actions a
		  JOIN cadence.cadence_actions ca ON ca.tenant_id = a.tenant_id AND ca.cadence_id = a.cadence_id
		   AND ca.version = a.cadence_version AND ca.action_id = a.action_id
		 WHERE a.tenant_id = 'seed' AND a.id = ANY (ids)
		   -- a condition shows in what follows it (a call, or the breakup
		   -- email and no call): it is left out, as are the calls not needed
		   AND a.type <> 'condition' AND coalesce(a.skip_reason, '') <> 'condition_not_met'),
	p AS (
		SELECT a.step_number, a.name, a.phrase, count(*) AS n,
			   CASE WHEN a.phrase = 'sent' AND count(a.variant) > 0 THEN
					' (' || (SELECT string_agg(v.variant || ' ' || v.n, ', ' ORDER BY v.variant)
							   FROM (SELECT x.variant, count(*) AS n FROM a x
									  WHERE x.step_number = a.step_number AND x.phrase = 'sent'
									  GROUP BY 1) v) || ')' ELSE '' END AS variants
		  FROM a GROUP BY a.step_number, a.name, a.phrase)
	SELECT string_agg(line, '; ' ORDER BY step_number)
	  FROM (SELECT step_number, name || ' ' || string_agg(n || ' ' || phrase || variants, ', '
														   ORDER BY n DESC, phrase) AS line
			  FROM p GROUP BY step_number, name) s
$$;

-- The sender, with the clock moved forward by hand: from the first due
-- time (or not_before, when the sender was down until then) up to until,
-- cadence.run_due_actions() with as_of at each due time in turn (again at
-- the same time while that makes more work due then), as the background
-- worker would wake for each.  One line per time: UTC, the leads' local
-- time, and what happened, step by step.
CREATE FUNCTION pg_temp.run_until(until timestamptz, not_before timestamptz DEFAULT NULL)
RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz;
	due bigint[];
	ids bigint[];
	passes int := 0;
	local text;
BEGIN
	LOOP
		SELECT greatest(min(a.due_at), not_before) INTO t FROM cadence.scheduled_actions a
		 WHERE a.tenant_id = 'seed' AND a.status = 'scheduled';
		EXIT WHEN t IS NULL OR t > until;
		ids := '{}';
		LOOP
			due := ARRAY(SELECT a.id FROM cadence.scheduled_actions a
						  WHERE a.tenant_id = 'seed' AND a.status = 'scheduled' AND a.due_at <= t);
			EXIT WHEN cardinality(due) = 0;
			passes := passes + 1;
			IF passes > 100 THEN
				RAISE EXCEPTION 'the sender is not getting anywhere at %', t;
			END IF;
			ids := ids || due;
			PERFORM cadence.run_due_actions(1000, t, 'seed');
		END LOOP;
		SELECT string_agg(z.at || ' in ' || pg_temp.city(z.timezone), ', ' ORDER BY z.at DESC)
		  INTO local
		  FROM (SELECT DISTINCT r.timezone, to_char(t AT TIME ZONE r.timezone, 'HH24:MI') AS at
				  FROM cadence.scheduled_actions a
				  JOIN cadence.runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id
				 WHERE a.tenant_id = 'seed' AND a.id = ANY (ids)) z;
		RETURN NEXT format('   %s UTC, %s: %s', to_char(t, 'HH24:MI'), local, pg_temp.outcome_words(ids));
	END LOOP;
END
$$;
