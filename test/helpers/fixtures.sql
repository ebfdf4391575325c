-- The providers' documented webhook examples (test/fixtures/webhooks/),
-- loaded into a temporary table for the tests that feed them to
-- cadence.ingest_webhook():
--
--   pg_temp.fixture(name)        the file test/fixtures/webhooks/<name>.json, as jsonb
--   pg_temp.fixture_text(name)   the same, as the text of the file

CREATE TEMP TABLE fixtures (name text PRIMARY KEY, body text NOT NULL);
\set f `cat test/fixtures/webhooks/calendly_invitee_created.json`
INSERT INTO fixtures VALUES ('calendly_invitee_created', :'f');
\set f `cat test/fixtures/webhooks/postmark_inbound.json`
INSERT INTO fixtures VALUES ('postmark_inbound', :'f');
\set f `cat test/fixtures/webhooks/postmark_inbound_auto_reply.json`
INSERT INTO fixtures VALUES ('postmark_inbound_auto_reply', :'f');
\set f `cat test/fixtures/webhooks/resend_email_bounced.json`
INSERT INTO fixtures VALUES ('resend_email_bounced', :'f');
\set f `cat test/fixtures/webhooks/resend_email_clicked.json`
INSERT INTO fixtures VALUES ('resend_email_clicked', :'f');
\set f `cat test/fixtures/webhooks/resend_email_complained.json`
INSERT INTO fixtures VALUES ('resend_email_complained', :'f');
\set f `cat test/fixtures/webhooks/resend_email_delivered.json`
INSERT INTO fixtures VALUES ('resend_email_delivered', :'f');
\set f `cat test/fixtures/webhooks/resend_email_opened.json`
INSERT INTO fixtures VALUES ('resend_email_opened', :'f');
\set f `cat test/fixtures/webhooks/resend_email_sent.json`
INSERT INTO fixtures VALUES ('resend_email_sent', :'f');
\set f `cat test/fixtures/webhooks/sendgrid_event_custom_args.json`
INSERT INTO fixtures VALUES ('sendgrid_event_custom_args', :'f');
\set f `cat test/fixtures/webhooks/sendgrid_events.json`
INSERT INTO fixtures VALUES ('sendgrid_events', :'f');
\set f `cat test/fixtures/webhooks/sendgrid_inbound_parse.json`
INSERT INTO fixtures VALUES ('sendgrid_inbound_parse', :'f');
\set f `cat test/fixtures/webhooks/standard_webhooks_signature_example.json`
INSERT INTO fixtures VALUES ('standard_webhooks_signature_example', :'f');
\set f `cat test/fixtures/webhooks/twilio_inbound.json`
INSERT INTO fixtures VALUES ('twilio_inbound', :'f');
\set f `cat test/fixtures/webhooks/twilio_signature_example.json`
INSERT INTO fixtures VALUES ('twilio_signature_example', :'f');
\set f `cat test/fixtures/webhooks/twilio_status_delivered.json`
INSERT INTO fixtures VALUES ('twilio_status_delivered', :'f');
\set f `cat test/fixtures/webhooks/twilio_status_undelivered.json`
INSERT INTO fixtures VALUES ('twilio_status_undelivered', :'f');
\set f `cat test/fixtures/webhooks/whatsapp_inbound_text.json`
INSERT INTO fixtures VALUES ('whatsapp_inbound_text', :'f');
\set f `cat test/fixtures/webhooks/whatsapp_status_delivered.json`
INSERT INTO fixtures VALUES ('whatsapp_status_delivered', :'f');
\set f `cat test/fixtures/webhooks/whatsapp_status_read.json`
INSERT INTO fixtures VALUES ('whatsapp_status_read', :'f');
\unset f

CREATE FUNCTION pg_temp.fixture_text(name text) RETURNS text LANGUAGE sql AS $$
	SELECT f.body FROM fixtures f WHERE f.name = fixture_text.name
$$;
CREATE FUNCTION pg_temp.fixture(name text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT pg_temp.fixture_text(name)::jsonb
$$;
