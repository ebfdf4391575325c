-- SendGrid's signed event webhook, for the tests (and the benchmark) that
-- post one: ECDSA P-256 key pairs made with openssl (SendGrid shows its
-- public key as base64 DER), and the headers SendGrid sends with a raw
-- body, signed over the timestamp header followed by the body.  They run
-- openssl through COPY ... PROGRAM, so they need a superuser.
--
--   pg_temp.sendgrid_key(name)          a new key pair called name; its
--                                       public key, for the account's
--                                       credentials.webhookVerificationKey
--   pg_temp.sendgrid_signed(name, raw)  the signature headers of raw under
--                                       that key pair, timestamped now

CREATE TEMP TABLE sendgrid_keys (name text PRIMARY KEY, public_key text, dir text);
CREATE TEMP TABLE sendgrid_lines (n serial, line text);

CREATE FUNCTION pg_temp.sendgrid_key(name text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	TRUNCATE sendgrid_lines;
	EXECUTE $c$COPY sendgrid_lines (line) FROM PROGRAM 'd=$(mktemp -d) && openssl ecparam -name prime256v1 -genkey -noout -out $d/key.pem 2>/dev/null && openssl ec -in $d/key.pem -pubout -outform DER 2>/dev/null | base64 -w0 && echo && echo $d'$c$;
	INSERT INTO sendgrid_keys
	SELECT sendgrid_key.name, (SELECT line FROM sendgrid_lines ORDER BY n LIMIT 1),
		   (SELECT line FROM sendgrid_lines ORDER BY n OFFSET 1 LIMIT 1);
	RETURN (SELECT k.public_key FROM sendgrid_keys k WHERE k.name = sendgrid_key.name);
END
$$;

CREATE FUNCTION pg_temp.sendgrid_signed(name text, raw text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	dir text := (SELECT k.dir FROM sendgrid_keys k WHERE k.name = sendgrid_signed.name);
	ts text := extract(epoch FROM now())::bigint::text;
BEGIN
	EXECUTE format('COPY (SELECT %L) TO %L WITH (FORMAT csv, QUOTE E''\x01'', DELIMITER E''\x02'')',
				   ts || raw, dir || '/message');
	TRUNCATE sendgrid_lines;
	EXECUTE format('COPY sendgrid_lines (line) FROM PROGRAM %L',
				   format('truncate -s -1 %1$s/message && openssl dgst -sha256 -sign %1$s/key.pem %1$s/message | base64 -w0', dir));
	RETURN jsonb_build_object('X-Twilio-Email-Event-Webhook-Signature',
							  (SELECT line FROM sendgrid_lines ORDER BY n DESC LIMIT 1),
							  'X-Twilio-Email-Event-Webhook-Timestamp', ts);
END
$$;
