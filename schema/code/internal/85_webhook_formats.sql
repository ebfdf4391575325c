-- The providers' webhook payloads, read into one shape, cadence.signal:
-- what happened (kind), to which message or lead, when, and the key the
-- provider gives the event (to recognise a redelivery).  One function per
-- format; each raises 22023 naming the member it needed for a payload it
-- cannot read, so a malformed delivery changes nothing.
--
-- kinds: delivered, opened, clicked, bounced (hard), delivery_failed (soft,
-- or a failure that is not the address's), complained, unsubscribed,
-- replied, opted_out, opted_in, help, meeting_booked, lead_assigned,
-- stage_changed, ignored (an event that changes nothing here: processed,
-- queued, sent, ...).
--
-- No table stores a signal: like the functions, the type is made afresh by
-- every install and upgrade script (dropping it takes the functions that
-- use it, which follow).

DO $$
BEGIN
	IF pg_catalog.to_regtype('cadence.signal') IS NOT NULL THEN
		DROP TYPE cadence.signal CASCADE;
	END IF;
END
$$;

CREATE TYPE cadence.signal AS (
	source		text,			-- one of webhook_formats()
	event_key	text,			-- the provider's id of this event
	kind		text,
	channel		text,			-- sms, email, whatsapp (when known)
	message_id	text,			-- the provider's id of the message concerned
	action_id	bigint,			-- our scheduled action, when the event names it
	thread_ids	text[],			-- message ids an inbound email replies to
	address		text,			-- the lead's address: e-mail (lower case) or phone
	account		text,			-- which provider account: Twilio AccountSid,
								-- WhatsApp phone_number_id, an inbound address
	lead_id		text,			-- app events name the lead
	tenant_id	text,			-- app events: the caller's tenant
	occurred_at	timestamptz,
	subject		text,			-- inbound messages
	body		text,
	headers		jsonb,			-- inbound e-mail headers, names in lower case
	detail		jsonb			-- what else is worth keeping in the event
);
COMMENT ON TYPE cadence.signal IS
	'One thing a provider or the application reports, read from its webhook payload by a cadence.signals_* function';

-- The formats ingest_webhook reads, each by its signals_<format> function
-- below (app: an event the application sends).
CREATE OR REPLACE FUNCTION cadence.webhook_formats() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['twilio', 'sendgrid', 'resend', 'postmark', 'sendgrid_inbound', 'calendly',
				 'whatsapp', 'app']
$$;

-- A member the format requires, as text; 22023 naming it when absent.
CREATE OR REPLACE FUNCTION cadence.webhook_field(payload jsonb, key text, what text) RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF jsonb_typeof(payload) IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION '% must be a JSON object, got %', what,
			coalesce(cadence.json_describe(payload), 'nothing')
			USING ERRCODE = '22023';
	END IF;
	IF coalesce(payload ->> key, '') = '' THEN
		RAISE EXCEPTION '% has no %', what, key USING ERRCODE = '22023';
	END IF;
	RETURN payload ->> key;
END
$$;

-- An application/x-www-form-urlencoded body as a JSON object of strings,
-- and one URL-encoded string decoded; both in one pass over their input
-- (src/webhooks/input.c).
CREATE OR REPLACE FUNCTION cadence.form_decode(body text) RETURNS jsonb
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_form_decode';
COMMENT ON FUNCTION cadence.form_decode(text) IS
	'A URL-encoded form body (name=value&...) as a JSON object of decoded strings; a name given twice keeps its last value';

CREATE OR REPLACE FUNCTION cadence.url_decode(s text) RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_url_decode';
COMMENT ON FUNCTION cadence.url_decode(text) IS
	'A URL-encoded string decoded: + is a space, %XX a byte, the bytes UTF-8';

-- The caps on one delivery, cadence.webhook_max_bytes and
-- cadence.webhook_max_events: 54000 when over either (NULL skips a check).
CREATE OR REPLACE FUNCTION cadence.check_webhook_size(provider text, bytes bigint, events integer)
RETURNS void
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_check_webhook_size';

-- Header names in lower case, each value a string (the first of an array).
CREATE OR REPLACE FUNCTION cadence.header_map(headers jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(jsonb_object_agg(lower(key),
			   CASE jsonb_typeof(value) WHEN 'array' THEN value -> 0 ELSE value END), '{}')
	  FROM jsonb_each(CASE WHEN jsonb_typeof(headers) = 'object' THEN headers ELSE '{}' END)
$$;

-- A raw header block ("Name: value" lines, folded lines joined) as a
-- header_map; the first of repeated headers wins.
CREATE OR REPLACE FUNCTION cadence.parse_header_block(block text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(jsonb_object_agg(name, value), '{}')
	  FROM (SELECT DISTINCT ON (lower(m[1])) lower(m[1]) AS name, btrim(m[2]) AS value
			  FROM regexp_split_to_table(regexp_replace(coalesce(block, ''), '\r?\n[ \t]+', ' ', 'g'),
										 '\r?\n') WITH ORDINALITY AS l(line, ord),
				   regexp_match(line, '^([!-9;-~]+):(.*)$') AS m
			 WHERE m IS NOT NULL
			 ORDER BY lower(m[1]), ord) h
$$;

-- The message ids an e-mail names as the one it answers: In-Reply-To, then
-- References, each <...> once.
CREATE OR REPLACE FUNCTION cadence.thread_ids(headers jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(array_agg(id ORDER BY first), '{}')
	  FROM (SELECT m[1] AS id, min(ord) AS first
			  FROM regexp_matches(coalesce(headers ->> 'in-reply-to', '') || ' ' ||
								  coalesce(headers ->> 'references', ''), '<([^<>[:space:]]+)>', 'g')
				   WITH ORDINALITY AS x(m, ord)
			 GROUP BY m[1]) t
$$;

-- The address part of "Name <address>" (or of a bare address), lower case.
CREATE OR REPLACE FUNCTION cadence.mailbox_address(mailbox text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT nullif(lower(btrim(coalesce(substring(mailbox FROM '<([^<>]+)>'), mailbox))), '')
$$;

-- The scheduled action an idempotency key (cadence-<installation>-<id>)
-- names, when it is one of this database's.
CREATE OR REPLACE FUNCTION cadence.action_of_key(key text) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT id FROM (SELECT substring(key FROM '^cadence-[0-9a-f]{16}-([0-9]{1,18})$')::bigint AS id) k
	 WHERE cadence.idempotency_key(id) = key
$$;

-- A date and time as providers write them (ISO 8601, RFC 2822), or NULL
-- when it cannot be read.
CREATE OR REPLACE FUNCTION cadence.try_timestamptz(v text) RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN v::timestamptz;
EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR invalid_text_representation THEN
	RETURN NULL;
END
$$;

-- Unix seconds (a number or a numeric string) as a timestamp.
CREATE OR REPLACE FUNCTION cadence.unix_time(v jsonb) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN (v #>> '{}') ~ '^[0-9]{1,12}(\.[0-9]+)?$' THEN to_timestamp((v #>> '{}')::numeric) END
$$;

-- What an incoming SMS or WhatsApp message is: exactly an opt-out keyword
-- (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT, in any
-- case, punctuation aside) opts out; START or UNSTOP opts back in; YES
-- opts in a number that opted out and is a reply from any other
-- (opted_in_or_replied, settled once the number is known); HELP or INFO
-- asks for help; Twilio's OptOutType (Advanced Opt-Out) says so itself.
-- Anything else is a reply.
CREATE OR REPLACE FUNCTION cadence.message_kind(body text, opt_out_type text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN upper(opt_out_type) = 'STOP'
			 OR w IN ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT')
			THEN 'opted_out'
		WHEN upper(opt_out_type) = 'START' OR w IN ('START', 'UNSTOP') THEN 'opted_in'
		WHEN w = 'YES' THEN 'opted_in_or_replied'
		WHEN upper(opt_out_type) = 'HELP' OR w IN ('HELP', 'INFO') THEN 'help'
		ELSE 'replied' END
	  FROM (SELECT upper(regexp_replace(coalesce(body, ''), '[[:space:][:punct:]]+', '', 'g')) AS w) x
$$;

-- Twilio: a message status callback (MessageStatus) or an incoming message
-- (Body, SmsStatus received), which message_kind() tells apart.  WhatsApp
-- through Twilio (whatsapp: addresses) too.
-- A failed or undelivered message is a bounce when its ErrorCode says the
-- number cannot get messages (21211, 21214, 21610, 21612, 21614, 30005,
-- 30006), else a delivery failure.
CREATE OR REPLACE FUNCTION cadence.signals_twilio(payload jsonb) RETURNS SETOF cadence.signal
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_sid text := cadence.webhook_field(payload, 'MessageSid', 'a Twilio webhook');
	v_status text := lower(coalesce(payload ->> 'MessageStatus', payload ->> 'SmsStatus', ''));
	v_from text := payload ->> 'From';
	v_channel text := CASE WHEN coalesce(v_from, '') LIKE 'whatsapp:%'
								OR coalesce(payload ->> 'To', '') LIKE 'whatsapp:%'
						   THEN 'whatsapp' ELSE 'sms' END;
	s cadence.signal;
BEGIN
	s.source := 'twilio';
	s.channel := v_channel;
	s.account := cadence.webhook_field(payload, 'AccountSid', 'a Twilio webhook');
	s.occurred_at := now();
	IF payload ? 'Body' AND v_status IN ('received', '') THEN
		s.event_key := v_sid;
		s.address := regexp_replace(cadence.webhook_field(payload, 'From', 'a Twilio incoming message'),
									'^whatsapp:', '');
		s.body := payload ->> 'Body';
		s.detail := jsonb_build_object('to', payload ->> 'To', 'messageSid', v_sid);
		s.kind := cadence.message_kind(s.body, payload ->> 'OptOutType');
		RETURN NEXT s;
		RETURN;
	END IF;
	IF v_status = '' THEN
		RAISE EXCEPTION 'a Twilio webhook has no MessageStatus and no Body' USING ERRCODE = '22023',
			HINT = 'Pass the form fields Twilio posted, as a JSON object or as the raw body.';
	END IF;
	s.event_key := v_sid || ':' || v_status;
	s.message_id := v_sid;
	s.address := regexp_replace(payload ->> 'To', '^whatsapp:', '');
	s.detail := jsonb_strip_nulls(jsonb_build_object('status', v_status,
		'errorCode', payload ->> 'ErrorCode'));
	s.kind := CASE
		WHEN v_status = 'delivered' THEN 'delivered'
		WHEN v_status = 'read' THEN 'opened'
		WHEN v_status IN ('undelivered', 'failed')
			 AND payload ->> 'ErrorCode' IN ('21211', '21214', '21610', '21612', '21614', '30005', '30006')
			THEN 'bounced'
		WHEN v_status IN ('undelivered', 'failed') THEN 'delivery_failed'
		ELSE 'ignored' END;
	RETURN NEXT s;
END
$$;

-- SendGrid's event webhook: an array of events.  Our message is named by
-- the custom argument cadence_idempotency_key, else by sg_message_id,
-- whose first part is the X-Message-Id the send returned.  bounce with
-- type bounce is hard; type blocked, deferred and dropped are failures of
-- the delivery; spamreport is a complaint; unsubscribe and
-- group_unsubscribe opt out.
CREATE OR REPLACE FUNCTION cadence.signals_sendgrid(payload jsonb) RETURNS SETOF cadence.signal
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	e jsonb;
	i int := 0;
	v_event text;
	s cadence.signal;
BEGIN
	IF jsonb_typeof(payload) IS DISTINCT FROM 'array' THEN
		RAISE EXCEPTION 'a SendGrid event webhook must be a JSON array of events, got %',
			coalesce(cadence.json_describe(payload), 'nothing')
			USING ERRCODE = '22023';
	END IF;
	FOR e IN SELECT value FROM jsonb_array_elements(payload) LOOP
		v_event := cadence.webhook_field(e, 'event', format('SendGrid event [%s]', i));
		s := NULL;
		s.source := 'sendgrid';
		s.channel := 'email';
		s.event_key := cadence.webhook_field(e, 'sg_event_id', format('SendGrid event [%s]', i));
		s.message_id := nullif(split_part(e ->> 'sg_message_id', '.', 1), '');
		s.action_id := cadence.action_of_key(e ->> 'cadence_idempotency_key');
		s.address := lower(e ->> 'email');
		s.occurred_at := coalesce(cadence.unix_time(e -> 'timestamp'), now());
		s.detail := jsonb_strip_nulls(jsonb_build_object('event', v_event, 'type', e ->> 'type',
			'reason', e ->> 'reason', 'url', e ->> 'url', 'status', e ->> 'status'));
		s.kind := CASE v_event
			WHEN 'delivered' THEN 'delivered'
			WHEN 'open' THEN 'opened'
			WHEN 'click' THEN 'clicked'
			WHEN 'bounce' THEN CASE WHEN e ->> 'type' = 'blocked' THEN 'delivery_failed' ELSE 'bounced' END
			WHEN 'dropped' THEN 'delivery_failed'
			WHEN 'deferred' THEN 'delivery_failed'
			WHEN 'spamreport' THEN 'complained'
			WHEN 'unsubscribe' THEN 'unsubscribed'
			WHEN 'group_unsubscribe' THEN 'unsubscribed'
			ELSE 'ignored' END;
		RETURN NEXT s;
		i := i + 1;
	END LOOP;
END
$$;

-- Resend's webhooks ({type, created_at, data}); the event's id is the
-- svix-id (or webhook-id) header.  email.bounced with bounce.type
-- Permanent is hard, others are failures of the delivery.
CREATE OR REPLACE FUNCTION cadence.signals_resend(payload jsonb, headers jsonb) RETURNS SETOF cadence.signal
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_type text := cadence.webhook_field(payload, 'type', 'a Resend webhook');
	v_data jsonb := payload -> 'data';
	s cadence.signal;
BEGIN
	s.source := 'resend';
	s.channel := 'email';
	s.message_id := cadence.webhook_field(v_data, 'email_id', 'the data of a Resend webhook');
	s.event_key := coalesce(headers ->> 'svix-id', headers ->> 'webhook-id',
							v_type || ':' || s.message_id || ':' || (payload ->> 'created_at'));
	s.address := cadence.mailbox_address(v_data -> 'to' ->> 0);
	s.occurred_at := coalesce(cadence.try_timestamptz(payload ->> 'created_at'), now());
	s.detail := jsonb_strip_nulls(jsonb_build_object('type', v_type,
		'bounce', v_data -> 'bounce', 'url', v_data -> 'click' ->> 'link'));
	s.kind := CASE v_type
		WHEN 'email.delivered' THEN 'delivered'
		WHEN 'email.opened' THEN 'opened'
		WHEN 'email.clicked' THEN 'clicked'
		WHEN 'email.bounced' THEN CASE WHEN v_data -> 'bounce' ->> 'type' = 'Permanent'
									   THEN 'bounced' ELSE 'delivery_failed' END
		WHEN 'email.delivery_delayed' THEN 'delivery_failed'
		WHEN 'email.failed' THEN 'delivery_failed'
		WHEN 'email.complained' THEN 'complained'
		ELSE 'ignored' END;
	RETURN NEXT s;
END
$$;

-- An inbound e-mail, from its parts: a reply, matched by the message ids
-- it names (In-Reply-To, References), else by its sender.  It happened
-- when it arrived (its Date header is the sender's clock).
CREATE OR REPLACE FUNCTION cadence.inbound_email(source text, event_key text, sender text, recipient text,
									  subject text, body text, headers jsonb)
RETURNS cadence.signal
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s cadence.signal;
BEGIN
	s.source := source;
	s.kind := 'replied';
	s.channel := 'email';
	s.event_key := event_key;
	s.address := cadence.mailbox_address(sender);
	s.account := cadence.mailbox_address(recipient);
	s.thread_ids := cadence.thread_ids(headers);
	s.subject := subject;
	s.body := body;
	s.headers := headers;
	s.occurred_at := now();
	s.detail := jsonb_strip_nulls(jsonb_build_object('from', s.address, 'subject', subject));
	IF s.address IS NULL THEN
		RAISE EXCEPTION 'an inbound % e-mail has no sender', source USING ERRCODE = '22023';
	END IF;
	RETURN s;
END
$$;

-- Postmark's inbound webhook (JSON): Headers is an array of {Name, Value};
-- the reply text without the quoted message is StrippedTextReply.
CREATE OR REPLACE FUNCTION cadence.signals_postmark(payload jsonb) RETURNS SETOF cadence.signal
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT cadence.inbound_email('postmark',
		cadence.webhook_field(payload, 'MessageID', 'a Postmark inbound webhook'),
		coalesce(payload -> 'FromFull' ->> 'Email', cadence.webhook_field(payload, 'From', 'a Postmark inbound webhook')),
		coalesce(payload ->> 'OriginalRecipient', payload -> 'ToFull' -> 0 ->> 'Email', payload ->> 'To'),
		payload ->> 'Subject',
		coalesce(nullif(payload ->> 'StrippedTextReply', ''), payload ->> 'TextBody'),
		(SELECT coalesce(jsonb_object_agg(lower(h ->> 'Name'), h ->> 'Value'), '{}')
		   FROM jsonb_array_elements(CASE WHEN jsonb_typeof(payload -> 'Headers') = 'array'
										  THEN payload -> 'Headers' ELSE '[]' END) AS h))
$$;

-- SendGrid's Inbound Parse (its form fields as a JSON object): headers is
-- the raw header block.
CREATE OR REPLACE FUNCTION cadence.signals_sendgrid_inbound(payload jsonb) RETURNS SETOF cadence.signal
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT cadence.inbound_email('sendgrid_inbound',
		coalesce(h ->> 'message-id', md5(payload::text)),
		cadence.webhook_field(payload, 'from', 'a SendGrid Inbound Parse webhook'),
		payload ->> 'to', payload ->> 'subject', payload ->> 'text', h)
	  FROM cadence.parse_header_block(
			   cadence.webhook_field(payload, 'headers', 'a SendGrid Inbound Parse webhook')) AS h
$$;

-- Calendly: invitee.created is a meeting booked by the invitee's e-mail;
-- other events change nothing here.
CREATE OR REPLACE FUNCTION cadence.signals_calendly(payload jsonb) RETURNS SETOF cadence.signal
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_event text := cadence.webhook_field(payload, 'event', 'a Calendly webhook');
	v_invitee jsonb := payload -> 'payload';
	s cadence.signal;
BEGIN
	s.source := 'calendly';
	s.event_key := v_event || ':' || cadence.webhook_field(v_invitee, 'uri', 'the payload of a Calendly webhook');
	s.address := lower(cadence.webhook_field(v_invitee, 'email', 'the payload of a Calendly webhook'));
	s.occurred_at := coalesce(cadence.try_timestamptz(payload ->> 'created_at'), now());
	s.detail := jsonb_strip_nulls(jsonb_build_object('event', v_event, 'name', v_invitee ->> 'name',
		'meeting', v_invitee -> 'scheduled_event' ->> 'name',
		'startTime', v_invitee -> 'scheduled_event' ->> 'start_time',
		'invitee', v_invitee ->> 'uri'));
	s.kind := CASE v_event WHEN 'invitee.created' THEN 'meeting_booked' ELSE 'ignored' END;
	RETURN NEXT s;
END
$$;

-- WhatsApp Cloud API: entry[].changes[].value holds statuses (sent,
-- delivered, read, failed) of our messages and messages from leads, which
-- message_kind() reads.  A failed message is a failure of the delivery.
CREATE OR REPLACE FUNCTION cadence.signals_whatsapp(payload jsonb) RETURNS SETOF cadence.signal
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v jsonb;
	m jsonb;
	s cadence.signal;
BEGIN
	IF payload ->> 'object' IS DISTINCT FROM 'whatsapp_business_account' THEN
		RAISE EXCEPTION 'a WhatsApp webhook has object "whatsapp_business_account", got %',
			coalesce(cadence.json_describe(payload -> 'object'), 'nothing')
			USING ERRCODE = '22023';
	END IF;
	FOR v IN SELECT c -> 'value'
			   FROM jsonb_array_elements(coalesce(payload -> 'entry', '[]')) AS e,
					jsonb_array_elements(coalesce(e -> 'changes', '[]')) AS c
	LOOP
		FOR m IN SELECT value FROM jsonb_array_elements(coalesce(v -> 'statuses', '[]')) LOOP
			s := NULL;
			s.source := 'whatsapp';
			s.channel := 'whatsapp';
			s.account := v -> 'metadata' ->> 'phone_number_id';
			s.message_id := cadence.webhook_field(m, 'id', 'a WhatsApp status');
			s.event_key := s.message_id || ':' || (m ->> 'status');
			s.address := '+' || (m ->> 'recipient_id');
			s.occurred_at := coalesce(cadence.unix_time(m -> 'timestamp'), now());
			s.detail := jsonb_strip_nulls(jsonb_build_object('status', m ->> 'status',
				'errors', m -> 'errors'));
			s.kind := CASE m ->> 'status' WHEN 'delivered' THEN 'delivered' WHEN 'read' THEN 'opened'
										  WHEN 'failed' THEN 'delivery_failed' ELSE 'ignored' END;
			RETURN NEXT s;
		END LOOP;
		FOR m IN SELECT value FROM jsonb_array_elements(coalesce(v -> 'messages', '[]')) LOOP
			s := NULL;
			s.source := 'whatsapp';
			s.channel := 'whatsapp';
			s.account := v -> 'metadata' ->> 'phone_number_id';
			s.event_key := cadence.webhook_field(m, 'id', 'a WhatsApp message');
			s.address := '+' || cadence.webhook_field(m, 'from', 'a WhatsApp message');
			s.body := coalesce(m -> 'text' ->> 'body', m -> 'button' ->> 'text',
							   m -> 'interactive' -> 'button_reply' ->> 'title');
			s.occurred_at := coalesce(cadence.unix_time(m -> 'timestamp'), now());
			s.detail := jsonb_strip_nulls(jsonb_build_object('type', m ->> 'type',
				'context', m -> 'context' ->> 'id'));
			s.message_id := m -> 'context' ->> 'id';
			s.kind := cadence.message_kind(s.body, NULL);
			RETURN NEXT s;
		END LOOP;
	END LOOP;
END
$$;

-- The application's own events, for the caller's tenant:
--   {"type": "lead_assigned", "leadId", "assignedTo"}
--   {"type": "reply", "leadId", "channel"?, "text"?, "subject"?}
--   {"type": "meeting_booked", "leadId"}
--   {"type": "stage_changed", "leadId", "stage"}
-- each with an optional eventId (a redelivery with the same one is
-- recognised) and occurredAt.
CREATE OR REPLACE FUNCTION cadence.signals_app(payload jsonb, tenant_id text) RETURNS SETOF cadence.signal
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_type text := cadence.webhook_field(payload, 'type', 'an app event');
	s cadence.signal;
BEGIN
	s.source := 'app';
	s.tenant_id := tenant_id;
	s.lead_id := cadence.webhook_field(payload, 'leadId', 'an app event');
	s.event_key := coalesce(payload ->> 'eventId', md5(payload::text));
	s.occurred_at := coalesce(cadence.try_timestamptz(payload ->> 'occurredAt'), now());
	s.channel := payload ->> 'channel';
	s.body := payload ->> 'text';
	s.subject := payload ->> 'subject';
	CASE v_type
	WHEN 'lead_assigned' THEN
		s.kind := 'lead_assigned';
		s.detail := jsonb_build_object('assignedTo',
			cadence.webhook_field(payload, 'assignedTo', 'a lead_assigned event'));
	WHEN 'reply' THEN
		s.kind := 'replied';
	WHEN 'meeting_booked' THEN
		s.kind := 'meeting_booked';
	WHEN 'stage_changed' THEN
		s.kind := 'stage_changed';
		s.detail := jsonb_build_object('stage',
			cadence.webhook_field(payload, 'stage', 'a stage_changed event'));
	ELSE
		RAISE EXCEPTION 'unknown app event type "%"', v_type
			USING ERRCODE = '22023',
				  HINT = 'App events: lead_assigned, reply, meeting_booked, stage_changed.';
	END CASE;
	RETURN NEXT s;
END
$$;
