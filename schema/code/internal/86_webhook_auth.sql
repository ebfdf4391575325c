-- Checking that a webhook comes from the provider account it is about:
-- the one that sent the message a delivery names, whatever provider name
-- the caller passes, or, for what names no message of ours, the accounts
-- that received it (receiving_accounts); each event is applied only to
-- the tenants whose accounts authorise it (authorise_signals, which
-- ingest_webhook asks before it writes anything).  One account checks one
-- delivery (verify_webhook) under the account kind's own scheme, with the
-- secret kept in its credentials:
--
--   twilio            authToken: X-Twilio-Signature, base64 HMAC-SHA1 of
--                     the URL Twilio called followed by every POST
--                     parameter's name and value, sorted by name
--   resend            webhookSecret (whsec_...): Standard Webhooks, svix-*
--                     or webhook-* headers, base64 HMAC-SHA256 of
--                     "id.timestamp.body"
--   sendgrid          webhookVerificationKey: ECDSA over the
--                     X-Twilio-Email-Event-Webhook-Timestamp and the body
--   calendly          signingKey: Calendly-Webhook-Signature
--                     t=...,v1=<hex HMAC-SHA256 of "t.body">
--   whatsapp_cloud    appSecret: X-Hub-Signature-256,
--                     sha256=<hex HMAC-SHA256 of the body>
--
-- Postmark's inbound webhook and SendGrid's Inbound Parse cannot sign: the
-- e-mail account that received a reply keeps a shared inboundToken, which
-- the caller presents as ?token=... in the URL or as the password of HTTP
-- basic auth (Authorization: Basic).
--
-- An account whose secret is set authorises only deliveries that pass its
-- check, and only under its own scheme: a delivery passed as another
-- provider's never does.  An account without a secret authorises a
-- delivery only for a caller of its own tenant ("unsigned").  Schemes over
-- the body need it as the provider sent it, byte for byte: a JSON string
-- holding the raw body, not a parsed object.  Timestamps more than five
-- minutes away from now are refused (a replayed delivery).  Every
-- comparison with what the caller presented goes through
-- cadence.secure_equal(), in constant time.  A failed check is SQLSTATE
-- 28000.

-- Whether what a caller presented (a signature, a MAC, a token) is what
-- was expected, in constant time (src/webhooks/signature.c).
CREATE OR REPLACE FUNCTION cadence.secure_equal(presented text, expected text) RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_secure_equal';
COMMENT ON FUNCTION cadence.secure_equal(text, text) IS
	'Whether presented equals expected, compared in constant time (SHA-256 digests of both, CRYPTO_memcmp)';

-- Refuse a webhook whose signature does not check out.
CREATE OR REPLACE FUNCTION cadence.refuse_webhook(provider text, why text, hint text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION 'the % webhook is refused: %', provider, why
		USING ERRCODE = '28000',
			  HINT = coalesce(hint, 'Check the signing secret in the provider account''s credentials, and pass the body exactly as received.');
END
$$;

-- A signed timestamp (Unix seconds) within five minutes of now.
CREATE OR REPLACE FUNCTION cadence.check_webhook_time(provider text, ts text) RETURNS void
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
CREATE OR REPLACE FUNCTION cadence.twilio_signature(auth_token text, url text, params jsonb) RETURNS text
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
CREATE OR REPLACE FUNCTION cadence.standard_webhook_signature(secret text, id text, ts text, body text)
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

-- The webhook scheme of an account kind (named as ingest_webhook's
-- providers), and the credential that holds each scheme's secret.
-- Kinds without a scheme of their own (smtp, postmark) have no secret but
-- inboundToken.
CREATE OR REPLACE FUNCTION cadence.webhook_scheme(kind text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE kind WHEN 'whatsapp_cloud' THEN 'whatsapp'
					 WHEN 'twilio' THEN 'twilio' WHEN 'resend' THEN 'resend'
					 WHEN 'sendgrid' THEN 'sendgrid' WHEN 'calendly' THEN 'calendly' END
$$;

CREATE OR REPLACE FUNCTION cadence.webhook_secret_name(scheme text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE scheme WHEN 'twilio' THEN 'authToken' WHEN 'resend' THEN 'webhookSecret'
					   WHEN 'sendgrid' THEN 'webhookVerificationKey' WHEN 'calendly' THEN 'signingKey'
					   WHEN 'whatsapp' THEN 'appSecret' WHEN 'token' THEN 'inboundToken' END
$$;

-- The shared token a caller of a provider that cannot sign presents: the
-- password of HTTP basic auth (Authorization: Basic, as
-- https://cadence:TOKEN@host/... sends it), else the URL's token query
-- parameter; NULL when there is none.
CREATE OR REPLACE FUNCTION cadence.presented_token(headers jsonb, url text) RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_basic text := substring(headers ->> 'authorization' FROM '(?i)^basic +([a-z0-9+/=]+) *$');
	v_pair text;
BEGIN
	IF v_basic IS NOT NULL THEN
		BEGIN
			v_pair := convert_from(decode(v_basic, 'base64'), 'UTF8');
		EXCEPTION WHEN invalid_parameter_value OR character_not_in_repertoire THEN
			v_pair := NULL;		-- not base64, or not text: no token
		END;
		IF strpos(v_pair, ':') > 0 THEN
			RETURN substr(v_pair, strpos(v_pair, ':') + 1);
		END IF;
	END IF;
	RETURN cadence.url_decode(substring(url FROM '[?&]token=([^&#]*)'));
END
$$;

-- Check one delivery against one account: 'verified', or 'unsigned' when
-- the account has no secret for the scheme; raises 28000 when the
-- signature or token is missing or wrong, or the delivery is another
-- provider's than the account's.  raw is the body as received (NULL when
-- only the parsed payload was given).
CREATE OR REPLACE FUNCTION cadence.verify_webhook(provider text, raw text, payload jsonb, headers jsonb,
									   url text, account cadence.providers)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_scheme text := CASE WHEN provider IN ('postmark', 'sendgrid_inbound') THEN 'token'
						  ELSE cadence.webhook_scheme(account.kind) END;
	v_secret text := account.credentials ->> cadence.webhook_secret_name(v_scheme);
	v_sig text;
	v_id text;
	v_ts text;
	v_expected text;
BEGIN
	IF coalesce(v_secret, '') = '' THEN
		RETURN 'unsigned';
	END IF;
	IF v_scheme NOT IN ('token', provider) THEN
		PERFORM cadence.refuse_webhook(provider,
			format('what it names went through a %s account, which takes only its own %s webhooks',
				   account.kind, v_scheme));
	END IF;

	IF v_scheme = 'token' THEN
		v_sig := cadence.presented_token(headers, url);
		IF v_sig IS NULL THEN
			PERFORM cadence.refuse_webhook(provider, 'it presents no token',
				'Add ?token=<the e-mail account''s credentials.inboundToken> to the URL the provider posts to, or use the token as the password of HTTP basic auth.');
		ELSIF NOT cadence.secure_equal(v_sig, v_secret) THEN
			PERFORM cadence.refuse_webhook(provider, 'its token does not match',
				'The token is the inboundToken in the credentials of the e-mail account the reply came back to.');
		END IF;
		RETURN 'verified';
	END IF;

	IF provider = 'twilio' THEN
		v_sig := headers ->> 'x-twilio-signature';
		url := coalesce(url, account.settings ->> 'webhookUrl');
		IF v_sig IS NULL THEN
			PERFORM cadence.refuse_webhook(provider, 'it has no X-Twilio-Signature');
		ELSIF url IS NULL THEN
			RAISE EXCEPTION 'the URL Twilio called is needed to check X-Twilio-Signature'
				USING ERRCODE = '22023',
					  HINT = 'Pass it as ingest_webhook(..., url => ''https://...''), or set settings.webhookUrl of the Twilio account.';
		ELSIF NOT cadence.secure_equal(v_sig, cadence.twilio_signature(v_secret, url, payload)) THEN
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
		v_expected := cadence.standard_webhook_signature(v_secret, v_id, v_ts, raw);
		IF NOT EXISTS (SELECT 1 FROM unnest(string_to_array(v_sig, ' ')) AS x
						WHERE cadence.secure_equal(x, v_expected)) THEN
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
		IF NOT coalesce(cadence.secure_equal(substring(v_sig FROM '(?:^|,)v1=([0-9a-f]+)'),
				encode(cadence.hmac(convert_to(v_ts || '.' || raw, 'UTF8'), convert_to(v_secret, 'UTF8'), 'sha256'), 'hex')),
				false) THEN
			PERFORM cadence.refuse_webhook(provider, 'its Calendly-Webhook-Signature does not match');
		END IF;
	ELSIF provider = 'whatsapp' THEN
		v_sig := headers ->> 'x-hub-signature-256';
		IF v_sig IS NULL THEN
			PERFORM cadence.refuse_webhook(provider, 'it has no X-Hub-Signature-256');
		END IF;
		IF NOT cadence.secure_equal(v_sig,
				'sha256=' || encode(cadence.hmac(convert_to(raw, 'UTF8'), convert_to(v_secret, 'UTF8'), 'sha256'), 'hex')) THEN
			PERFORM cadence.refuse_webhook(provider, 'its X-Hub-Signature-256 does not match');
		END IF;
	END IF;
	RETURN 'verified';
END
$$;
COMMENT ON FUNCTION cadence.verify_webhook(text, text, jsonb, jsonb, text, cadence.providers) IS
	'Check a webhook delivery against one provider account, under that account kind''s scheme: verified, unsigned (no secret set), or 28000';

-- One account's verdict on a delivery, as data: {"verdict": "verified"} or
-- "unsigned" (no account, or no secret), or "refused" with the SQLSTATE,
-- message and hint the check raised.  ingest_webhook weighs the verdicts
-- of every account a delivery concerns before it refuses anything.
CREATE OR REPLACE FUNCTION cadence.check_account(provider text, raw text, payload jsonb, headers jsonb,
									  url text, account cadence.providers)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_state text;
	v_message text;
	v_hint text;
BEGIN
	IF account.id IS NULL THEN
		RETURN '{"verdict": "unsigned"}';
	END IF;
	RETURN jsonb_build_object('verdict',
		cadence.verify_webhook(provider, raw, payload, headers, url, account));
EXCEPTION WHEN invalid_authorization_specification OR invalid_parameter_value THEN
	GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
							v_hint = PG_EXCEPTION_HINT;
	RETURN jsonb_build_object('verdict', 'refused', 'state', v_state, 'message', v_message,
							  'hint', nullif(v_hint, ''));
END
$$;

-- The accounts that received what names no message of ours, by the
-- account the signal gives: the Twilio account (AccountSid), the WhatsApp
-- number (phone_number_id), the e-mail accounts sending from the address
-- an inbound e-mail went to, every Calendly account (its signing key
-- tells).  With a tenant (scope), every account of that kind of the
-- tenant, whatever the signal gives.
CREATE OR REPLACE FUNCTION cadence.receiving_accounts(provider text, account text, scope text)
RETURNS SETOF cadence.providers
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	SELECT p.* FROM cadence.providers p
	 WHERE (scope IS NULL OR p.tenant_id = scope)
	   AND CASE
			WHEN provider = 'twilio' THEN p.kind = 'twilio'
				AND (scope IS NOT NULL OR p.credentials ->> 'accountSid' = account)
			WHEN provider = 'whatsapp' THEN p.kind = 'whatsapp_cloud'
				AND (scope IS NOT NULL OR p.settings ->> 'phoneNumberId' = account)
			WHEN provider = 'calendly' THEN p.kind = 'calendly'
			WHEN provider IN ('postmark', 'sendgrid_inbound') THEN p.channel = 'email'
				AND (scope IS NOT NULL OR lower(p.settings ->> 'from') = account)
			WHEN provider IN ('sendgrid', 'resend') THEN p.kind = provider AND scope IS NOT NULL
			ELSE false END
	 ORDER BY p.tenant_id, p.id;
END
$$;

-- Which tenants each signal of a delivery may be applied to.  A signal
-- naming a message of ours (actions[i], found within scope) concerns that
-- message's tenant and is authorised by the account that sent it; one
-- naming none but an address concerns the tenants whose accounts received
-- it, each authorised by its own accounts; with a tenant (scope) and no
-- such account, it concerns the caller's own tenant.  A tenant is allowed
-- when one of its accounts verifies the delivery, or when it is the
-- caller's own and none of those accounts has a secret.  One row per
-- signal: the tenants allowed, whether a secret checked it, and for a
-- signal that concerns some tenant but is allowed for none the refusal
-- to raise ({state, message, hint}).  Each account is checked once,
-- however many signals it concerns.
CREATE OR REPLACE FUNCTION cadence.authorise_signals(provider text, raw text, body jsonb, headers jsonb,
										  url text, scope text, signals cadence.signal[],
										  actions cadence.scheduled_actions[])
RETURNS TABLE (i integer, tenants text[], verified boolean, refusal jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	WITH sig AS (
		SELECT s.ordinality::int AS i, s.kind, s.account, a.id AS action_id,
			   a.tenant_id AS action_tenant, a.provider_id AS action_account
		  FROM unnest(signals) WITH ORDINALITY AS s
		  JOIN unnest(actions) WITH ORDINALITY AS a USING (ordinality)
	), routed AS (
		SELECT sig.i, sig.account FROM sig
		 WHERE sig.action_id IS NULL
		   AND sig.kind IN ('replied', 'opted_out', 'opted_in', 'opted_in_or_replied', 'help',
							'complained', 'unsubscribed', 'meeting_booked', 'lead_assigned',
							'stage_changed')
	), receivers AS MATERIALIZED (
		SELECT r.account, p.tenant_id, p.id
		  FROM (SELECT DISTINCT routed.account FROM routed) r,
			   LATERAL cadence.receiving_accounts(provider, r.account, scope) AS p
	), candidates AS (
		SELECT sig.i, sig.action_tenant AS tenant_id, sig.action_account AS provider_id
		  FROM sig WHERE sig.action_id IS NOT NULL
		UNION ALL
		SELECT r.i, x.tenant_id, x.id
		  FROM routed r JOIN receivers x ON x.account IS NOT DISTINCT FROM r.account
		UNION ALL
		SELECT r.i, scope, NULL FROM routed r
		 WHERE scope IS NOT NULL
		   AND NOT EXISTS (SELECT 1 FROM receivers x WHERE x.account IS NOT DISTINCT FROM r.account)
	), verdicts AS MATERIALIZED (
		SELECT c.tenant_id, c.provider_id, cadence.check_account(provider, raw, body, headers, url, p) AS v
		  FROM (SELECT DISTINCT candidates.tenant_id, candidates.provider_id FROM candidates) c
		  LEFT JOIN cadence.providers p ON p.tenant_id = c.tenant_id AND p.id = c.provider_id
	), per_tenant AS (
		SELECT c.i, c.tenant_id,
			   bool_or(v.v ->> 'verdict' = 'verified')
				   OR coalesce(c.tenant_id = scope AND bool_and(v.v ->> 'verdict' = 'unsigned'), false)
				   AS allowed,
			   bool_or(v.v ->> 'verdict' = 'verified') AS verified,
			   (array_agg(v.v ORDER BY c.provider_id) FILTER (WHERE v.v ->> 'verdict' = 'refused'))[1]
				   AS refusal
		  FROM candidates c
		  JOIN verdicts v ON v.tenant_id = c.tenant_id AND v.provider_id IS NOT DISTINCT FROM c.provider_id
		 GROUP BY c.i, c.tenant_id
	)
	SELECT sig.i,
		   coalesce(array_agg(t.tenant_id ORDER BY t.tenant_id) FILTER (WHERE t.allowed), '{}'),
		   coalesce(bool_or(t.verified AND t.allowed), false),
		   CASE WHEN count(t.tenant_id) > 0 AND NOT bool_or(t.allowed) THEN coalesce(
				(array_agg(t.refusal ORDER BY t.tenant_id) FILTER (WHERE t.refusal IS NOT NULL))[1],
				jsonb_build_object('state', '28000',
					'message', format('the %s webhook is refused: the account it concerns has no webhook secret, and a caller without a tenant is taken only when a secret checks it', provider),
					'hint', 'Set the account''s secret in its credentials: authToken (twilio), webhookSecret (resend), webhookVerificationKey (sendgrid), signingKey (calendly), appSecret (whatsapp_cloud), inboundToken (replies through postmark or sendgrid_inbound); or call ingest_webhook with the tenant set.'))
			END
	  FROM sig LEFT JOIN per_tenant t ON t.i = sig.i
	 GROUP BY sig.i
	 ORDER BY sig.i;
END
$$;
