-- One round of the webhook benchmark; prints "metric value" lines.  Each
-- delivery is applied in a transaction that is rolled back, so that every
-- round applies the same events to the same runs.
\set QUIET 1
\pset tuples_only on
\pset format unaligned
SET client_min_messages = warning;
SET cadence.notify = off;
\i test/helpers/sendgrid_keys.sql
UPDATE cadence.providers SET credentials = credentials || jsonb_build_object('webhookVerificationKey',
	   pg_temp.sendgrid_key('hooks'))
 WHERE tenant_id = 'hooks' AND id = 'sendgrid';
-- Milliseconds one ingest_webhook() call takes; a delivery over the caps
-- counts as taken once it is refused.
CREATE FUNCTION pg_temp.hook_ms(provider text, payload jsonb, headers jsonb DEFAULT '{}')
RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
BEGIN
	BEGIN
		PERFORM cadence.ingest_webhook(provider, payload, headers);
	EXCEPTION WHEN program_limit_exceeded THEN
		NULL;
	END;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;
CREATE TEMP TABLE batch (n int PRIMARY KEY, payload jsonb, headers jsonb);
INSERT INTO batch SELECT n, to_jsonb(b), pg_temp.sendgrid_signed('hooks', b)
  FROM (VALUES (1000), (5000), (20000)) v(n), LATERAL bench_batch(n) b;

-- What the caps refuse, at their defaults (1 MB, 5,000 events): the
-- 20,000-event batch, at once.
SELECT 'sendgrid_20000_refused_ms ' || round(pg_temp.hook_ms('sendgrid', payload, headers)::numeric)
  FROM batch WHERE n = 20000;

-- A signed SendGrid batch of n events, applied (the webhook role's path:
-- no tenant, routed by the messages the events name), with the caps
-- raised so that every size is applied.
SET cadence.webhook_max_bytes = '1GB';
SET cadence.webhook_max_events = 1000000;
BEGIN;
SELECT 'sendgrid_1000_events_ms ' || round(pg_temp.hook_ms('sendgrid', payload, headers)::numeric)
  FROM batch WHERE n = 1000;
ROLLBACK;
BEGIN;
SELECT 'sendgrid_5000_events_ms ' || round(pg_temp.hook_ms('sendgrid', payload, headers)::numeric)
  FROM batch WHERE n = 5000;
ROLLBACK;
BEGIN;
SELECT 'sendgrid_20000_events_ms ' || round(pg_temp.hook_ms('sendgrid', payload, headers)::numeric)
  FROM batch WHERE n = 20000;
ROLLBACK;

-- A 9 MB Twilio form body: decoded alone, and refused by the cap.
CREATE FUNCTION pg_temp.decode_ms(body text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
BEGIN
	PERFORM cadence.form_decode(body);
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;
CREATE TEMP TABLE form AS SELECT bench_twilio_form(9) AS raw;
SELECT 'twilio_9mb_form_decode_ms ' || round(pg_temp.decode_ms(raw)::numeric) FROM form;
RESET cadence.webhook_max_bytes;
SELECT 'twilio_9mb_refused_ms ' || round(pg_temp.hook_ms('twilio', to_jsonb(raw))::numeric) FROM form;
