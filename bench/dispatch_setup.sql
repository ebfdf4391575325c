-- Dispatch benchmark fixture: one tenant whose SMS go to the nginx stub,
-- a one-step SMS cadence (quiet hours off: the benchmark runs at any
-- hour), and 100,000 leads.
SET cadence.tenant_id = 'bench';
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default)
VALUES ('bench', 'stub', 'sms', 'twilio', 'http://127.0.0.1:18080',
		'{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "bench"}',
		'{"from": "+15005550006"}', true);
SELECT cadence.upsert_cadence($$
{"id": "blast", "name": "One SMS", "timezone": "UTC", "isActive": true,
 "settings": {"quietHours": {"sms": null}},
 "days": [{"dayNumber": 1, "actions": [
   {"id": "sms", "type": "sms", "scheduleRule": {"kind": "immediately"},
    "config": {"sms": {"body": "Hi {{firstName}}, a quick question about {{company|your team}}?"}}}]}]}
$$) IS NOT NULL;
INSERT INTO cadence.contacts (tenant_id, id, first_name, phone, company, timezone)
SELECT 'bench', 'lead-' || g, 'Lead' || g, '+1415' || lpad(g::text, 7, '0'), 'Company ' || (g % 97), 'UTC'
  FROM generate_series(1, 100000) g;
ANALYZE cadence.contacts;
