-- Checking that a webhook comes from the provider: each scheme as the
-- provider documents it, with the secret kept in the provider account's
-- credentials.  A secret that is set makes its signature required; an
-- account without one accepts unsigned deliveries (say so in the answer).
--
--   twilio            credentials.authToken: X-Twilio-Signature, base64
--                     HMAC-SHA1 of the URL Twilio called followed by every
--                     POST parameter's name and value, sorted by name
--   resend            credentials.webhookSecret (whsec_...): Standard
--                     Webhooks, svix-* or webhook-* headers, base64
--                     HMAC-SHA256 of "id.timestamp.body"
--   sendgrid          credentials.webhookVerificationKey: ECDSA over the
--                     X-Twilio-Email-Event-Webhook-Timestamp and the body
--   calendly          credentials.signingKey: Calendly-Webhook-Signature
--                     t=...,v1=<hex HMAC-SHA256 of "t.body">
--   whatsapp          credentials.appSecret: X-Hub-Signature-256,
--                     sha256=<hex HMAC-SHA256 of the body>
--
-- Schemes over the body need it as the provider sent it, byte for byte: a
-- JSON string holding the raw body, not a parsed object.  Timestamps more
-- than five minutes away from now are refused (a replayed delivery).
-- A failed check is SQLSTATE 28000.

-- Refuse a webhook whose signature does not check out.
CREATE FUNCTION cadence.refuse_webhook(provider text, why text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION 'the % webhook is refused: %', provider, why
		USING ERRCODE = '28000',
			  HINT = 'Check the signing secret in the provider account''s credentials, and pass the body exactly as received.';
END
$$;

-- A signed timestamp (Unix seconds) within five minutes of now.
CREATE FUNCTION cadence.check_webhook_time(provider text, ts text) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF ts IS NULL OR ts !~ '^[0-9]{1,12}$' THEN
		PERFORM cadence.refuse_webhook(provider, 'no signed timestamp');
	ELSIF abs(extract(epoch FROM now()) - ts::bigint) > 300 THEN
		PERFORM cadence.refuse_webhook(provider,
			format('its timestamp is %s seconds away from now', abs(extract(epoch FROM now()) - ts::bigint)::bigint));
	END IF;
END
$$;

-- Twilio's X-Twilio-Signature of the form parameters params posted to url.
CREATE FUNCTION cadence.twilio_signature(auth_token text, url text, params jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT encode(cadence.hmac(convert_to(url || coalesce(
			   (SELECT string_agg(key || value, '' ORDER BY key COLLATE "C")
				  FROM jsonb_each_text(params)), ''), 'UTF8'),
		   convert_to(auth_token, 'UTF8'), 'sha1'), 'base64')
$$;
COMMENT ON FUNCTION cadence.twilio_signature(text, text, jsonb) IS
	'The X-Twilio-Signature Twilio sends with the parameters params posted to url, under the account''s auth token';

-- The Standard Webhooks signature ("v1,<base64>") of a body under a
-- whsec_ secret.
CREATE FUNCTION cadence.standard_webhook_signature(secret text, id text, ts text, body text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT 'v1,' || encode(cadence.hmac(convert_to(id || '.' || ts || '.' || body, 'UTF8'),
		CASE WHEN secret LIKE 'whsec\_%' THEN decode(substr(secret, 7), 'base64')
			 ELSE convert_to(secret, 'UTF8') END, 'sha256'), 'base64')
$$;
COMMENT ON FUNCTION cadence.standard_webhook_signature(text, text, text, text) IS
	'The Standard Webhooks (Svix, Resend) signature v1,<base64 HMAC-SHA256 of "id.timestamp.body"> under a whsec_ secret';

-- Check one delivery against one account's secret: 'verified', or
-- 'unsigned' when the account has no secret for the scheme; raises 28000
-- when the signature is missing or wrong.  raw is the body as received
-- (NULL when only the parsed payload was given).
CREATE FUNCTION cadence.verify_webhook(provider text, raw text, payload jsonb, headers jsonb,
									   url text, credentials jsonb, settings jsonb)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_secret text;
	v_sig text;
	v_id text;
	v_ts text;
BEGIN
	v_secret := credentials ->> CASE provider
		WHEN 'twilio' THEN 'authToken'
		WHEN 'resend' THEN 'webhookSecret'
		WHEN 'sendgrid' THEN 'webhookVerificationKey'
		WHEN 'calendly' THEN 'signingKey'
		WHEN 'whatsapp' THEN 'appSecret' END;
	IF coalesce(v_secret, '') = '' THEN
		RETURN 'unsigned';
	END IF;

	IF provider = 'twilio' THEN
		v_sig := headers ->> 'x-twilio-signature';
		url := coalesce(url, settings ->> 'webhookUrl');
		IF v_sig IS NULL THEN
			PERFORM cadence.refuse_webhook(provider, 'it has no X-Twilio-Signature');
		ELSIF url IS NULL THEN
			RAISE EXCEPTION 'the URL Twilio called is needed to check X-Twilio-Signature'
				USING ERRCODE = '22023',
					  HINT = 'Pass it as ingest_webhook(..., url => ''https://...''), or set settings.webhookUrl of the Twilio account.';
		ELSIF cadence.twilio_signature(v_secret, url, payload) <> v_sig THEN
			PERFORM cadence.refuse_webhook(provider, 'its X-Twilio-Signature does not match');
		END IF;
		RETURN 'verified';
	END IF;

	IF raw IS NULL THEN
		RAISE EXCEPTION 'a signed % webhook must be passed as its raw body (a JSON string), so that its signature can be checked', provider
			USING ERRCODE = '22023';
	END IF;
	IF provider = 'resend' THEN
		v_id := coalesce(headers ->> 'svix-id', headers ->> 'webhook-id');
		v_ts := coalesce(headers ->> 'svix-timestamp', headers ->> 'webhook-timestamp');
		v_sig := coalesce(headers ->> 'svix-signature', headers ->> 'webhook-signature');
		IF v_id IS NULL OR v_sig IS NULL THEN
			PERFORM cadence.refuse_webhook(provider, 'it has no svix-id / svix-signature headers');
		END IF;
		PERFORM cadence.check_webhook_time(provider, v_ts);
		IF cadence.standard_webhook_signature(v_secret, v_id, v_ts, raw)
		   <> ALL (string_to_array(v_sig, ' ')) THEN
			PERFORM cadence.refuse_webhook(provider, 'no signature in svix-signature matches');
		END IF;
	ELSIF provider = 'sendgrid' THEN
		v_sig := headers ->> 'x-twilio-email-event-webhook-signature';
		v_ts := headers ->> 'x-twilio-email-event-webhook-timestamp';
		IF v_sig IS NULL THEN
			PERFORM cadence.refuse_webhook(provider, 'it has no X-Twilio-Email-Event-Webhook-Signature');
		END IF;
		PERFORM cadence.check_webhook_time(provider, v_ts);
		IF NOT cadence.verify_ecdsa(convert_to(v_ts || raw, 'UTF8'), decode(v_sig, 'base64'), v_secret) THEN
			PERFORM cadence.refuse_webhook(provider, 'its ECDSA signature does not verify');
		END IF;
	ELSIF provider = 'calendly' THEN
		v_sig := headers ->> 'calendly-webhook-signature';
		v_ts := substring(v_sig FROM '(?:^|,)t=([0-9]+)');
		IF v_sig IS NULL THEN
			PERFORM cadence.refuse_webhook(provider, 'it has no Calendly-Webhook-Signature');
		END IF;
		PERFORM cadence.check_webhook_time(provider, v_ts);
		IF encode(cadence.hmac(convert_to(v_ts || '.' || raw, 'UTF8'), convert_to(v_secret, 'UTF8'), 'sha256'), 'hex')
		   IS DISTINCT FROM substring(v_sig FROM '(?:^|,)v1=([0-9a-f]+)') THEN
			PERFORM cadence.refuse_webhook(provider, 'its Calendly-Webhook-Signature does not match');
		END IF;
	ELSIF provider = 'whatsapp' THEN
		v_sig := headers ->> 'x-hub-signature-256';
		IF v_sig IS NULL THEN
			PERFORM cadence.refuse_webhook(provider, 'it has no X-Hub-Signature-256');
		END IF;
		IF 'sha256=' || encode(cadence.hmac(convert_to(raw, 'UTF8'), convert_to(v_secret, 'UTF8'), 'sha256'), 'hex')
		   <> v_sig THEN
			PERFORM cadence.refuse_webhook(provider, 'its X-Hub-Signature-256 does not match');
		END IF;
	END IF;
	RETURN 'verified';
END
$$;
COMMENT ON FUNCTION cadence.verify_webhook(text, text, jsonb, jsonb, text, jsonb, jsonb) IS
	'Check a webhook delivery''s signature against a provider account''s secret: verified, unsigned (no secret set), or 28000';
