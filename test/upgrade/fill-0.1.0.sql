-- A cadence 0.1.0 database in use: two tenants with members, cadences
-- (one with an A/B step and a declared winner, one a draft), leads, provider
-- accounts with credentials, a template, the do-not-contact list, a holiday,
-- and runs in every state: due now, sending when its runner died (its lease
-- ran out), waiting on a person's call, paused, completed; with their
-- events, tasks, step counters and the runners' shared counters.
--
-- Written against 0.1.0's tables, row by row (not through the API, whose
-- code is the current version's), with fixed times in June 2026, so that it
-- stays what a 0.1.0 database held whatever later versions change.  The
-- upgrade tests (test/upgrade) load it as a superuser.
\set ON_ERROR_STOP 1
SET timezone = 'UTC';
BEGIN;

INSERT INTO cadence.members (tenant_id, user_id, role, created_at) VALUES
	('acme', 'olivia', 'owner', '2026-05-01 09:00Z'),
	('acme', 'sam', 'member', '2026-05-02 09:00Z'),
	('globex', 'gina', 'owner', '2026-05-03 09:00Z');

INSERT INTO cadence.cadences (tenant_id, id, name, description, status, timezone, trigger,
							  settings, exit_conditions, owner_id, version, created_at, updated_at) VALUES
	('acme', 'welcome', 'Welcome', 'New leads: a text, an e-mail, a call', 'active',
	 'America/New_York', '{"type": "lead_assigned", "config": {}}',
	 '{"quietHours": {"sms": null}}', '{"onReply": true}', 'olivia', 1,
	 '2026-05-10 09:00Z', '2026-05-11 09:00Z'),
	('acme', 'winback', 'Win back', NULL, 'draft', 'Europe/London', '{}', '{}', '{}', 'sam', 1,
	 '2026-05-12 09:00Z', '2026-05-12 09:00Z'),
	('globex', 'renewal', 'Renewal', 'One reminder', 'active', 'UTC', '{}', '{}', '{}', 'gina', 1,
	 '2026-05-13 09:00Z', '2026-05-13 09:00Z');

INSERT INTO cadence.cadence_days (tenant_id, cadence_id, version, day_number) VALUES
	('acme', 'welcome', 1, 1), ('acme', 'welcome', 1, 2),
	('acme', 'winback', 1, 1), ('globex', 'renewal', 1, 1);

INSERT INTO cadence.cadence_actions (tenant_id, cadence_id, version, day_number, position,
									 step_number, action_id, name, type, schedule_rule,
									 config, variants, condition) VALUES
	('acme', 'welcome', 1, 1, 1, 1, 'hello', 'Hello', 'sms', '{"kind": "immediately"}',
	 '{"sms": {"body": "Hi {{firstName}}, welcome!"}}', NULL, NULL),
	('acme', 'welcome', 1, 1, 2, 2, 'intro', 'Intro', 'email',
	 '{"kind": "afterPrevious", "minutesAfterPrev": 30}',
	 '{"email": {"subject": "Getting started", "bodyText": "Hello {{firstName}}"}}',
	 '[{"id": "A", "email": {"subject": "Quick question"}}, {"id": "B", "weight": 3, "email": {"subject": "Hi again"}}]',
	 NULL),
	('acme', 'welcome', 1, 2, 1, 3, 'call', 'Call', 'call_task',
	 '{"kind": "timeOfDay", "timeOfDay": "10:00"}', '{"task": {"title": "Call {{firstName}}"}}',
	 NULL, '{"when": "if_not_replied"}'),
	('acme', 'winback', 1, 1, 1, 1, 'miss', NULL, 'email', '{"kind": "immediately"}',
	 '{"email": {"subject": "We miss you", "templateId": "tpl-welcome"}}', NULL, NULL),
	('globex', 'renewal', 1, 1, 1, 1, 'remind', NULL, 'email', '{"kind": "immediately"}',
	 '{"email": {"subject": "Your renewal", "bodyText": "Hi {{firstName}}"}}', NULL, NULL);

INSERT INTO cadence.contacts (tenant_id, id, first_name, last_name, email, phone, whatsapp,
							  timezone, company, owner_id, status, tags, attributes,
							  unsubscribed, last_activity_at, created_at, updated_at) VALUES
	('acme', 'lead-1', 'Ada', 'Byron', 'ada@lead.test', '+15550000001', NULL, 'America/New_York',
	 'Engines', 'olivia', 'new', '{vip}', '{"title": "CTO"}', false, NULL,
	 '2026-05-20 09:00Z', '2026-05-20 09:00Z'),
	('acme', 'lead-2', 'Ben', NULL, 'ben@lead.test', '+15550000002', NULL, 'America/Chicago',
	 NULL, 'olivia', 'new', '{}', '{}', false, NULL, '2026-05-20 09:00Z', '2026-05-20 09:00Z'),
	('acme', 'lead-3', 'Cy', NULL, 'cy@lead.test', '+15550000003', '+15550000003', NULL,
	 'Engines', 'sam', 'contacted', '{}', '{}', false, '2026-06-01 15:00Z',
	 '2026-05-20 09:00Z', '2026-06-01 15:00Z'),
	('acme', 'lead-4', 'Dee', NULL, 'dee@lead.test', '+15550000004', NULL, NULL, NULL, 'sam',
	 'new', '{}', '{}', false, NULL, '2026-05-20 09:00Z', '2026-05-20 09:00Z'),
	('acme', 'lead-5', 'Eve', NULL, 'eve@lead.test', '+15550000005', NULL, NULL, NULL, NULL,
	 'new', '{}', '{}', false, NULL, '2026-05-20 09:00Z', '2026-05-20 09:00Z'),
	('acme', 'lead-6', 'Fay', NULL, 'gone@lead.test', NULL, NULL, NULL, NULL, NULL, 'lost',
	 '{}', '{}', true, NULL, '2026-05-20 09:00Z', '2026-05-20 09:00Z'),
	('acme', 'lead-7', 'Gil', NULL, 'gil@lead.test', '+15550000007', NULL, NULL, NULL, 'olivia',
	 'new', '{}', '{}', false, NULL, '2026-05-20 09:00Z', '2026-05-20 09:00Z'),
	('globex', 'lead-g1', 'Gus', NULL, 'gus@lead.test', NULL, NULL, 'Europe/Berlin', NULL, 'gina',
	 'new', '{}', '{}', false, NULL, '2026-05-21 09:00Z', '2026-05-21 09:00Z');

INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings,
							   rate_per_second, max_concurrency, is_default, created_at) VALUES
	('acme', 'twilio', 'sms', 'twilio', 'http://127.0.0.1:18025',
	 '{"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "tw-secret"}',
	 '{"from": "+15005550006"}', NULL, NULL, true, '2026-05-01 09:00Z'),
	('acme', 'resend', 'email', 'resend', 'http://127.0.0.1:18025', '{"apiKey": "re_acme"}',
	 '{"from": "sales@acme.test", "fromName": "Acme"}', NULL, NULL, true, '2026-05-01 09:00Z'),
	('globex', 'resend', 'email', 'resend', 'http://127.0.0.1:18025', '{"apiKey": "re_globex"}',
	 '{"from": "hi@globex.test"}', 5, 2, true, '2026-05-03 09:00Z');

INSERT INTO cadence.templates (tenant_id, id, name, channel, subject, body_html, body_text,
							   created_at, updated_at) VALUES
	('acme', 'tpl-welcome', 'Welcome back', 'email', 'Hello again',
	 '<p>Hi {{firstName|there}}</p>', NULL, '2026-05-05 09:00Z', '2026-05-05 09:00Z');

INSERT INTO cadence.suppressions (tenant_id, channel, address, reason, created_at) VALUES
	('acme', 'email', 'gone@lead.test', 'bounce', '2026-05-25 09:00Z'),
	('acme', 'sms', '+15550000009', 'stop_keyword', '2026-05-26 09:00Z');

INSERT INTO cadence.holidays (tenant_id, calendar, day, name) VALUES
	('acme', 'default', '2026-12-25', 'Christmas');

INSERT INTO cadence.runs (tenant_id, id, cadence_id, cadence_version, lead_id, status,
						  current_step, first_day, timezone, assigned_to, exit_reason,
						  trigger_at, enrolled_at, paused_at, resume_at, completed_at,
						  last_activity_at, metadata)
OVERRIDING SYSTEM VALUE VALUES
	('acme', 1, 'welcome', 1, 'lead-1', 'active', 1, 1, 'America/New_York', 'olivia', NULL,
	 '2026-06-01 13:00Z', '2026-06-01 13:00Z', NULL, NULL, NULL, NULL, '{"source": "import"}'),
	('acme', 2, 'welcome', 1, 'lead-2', 'active', 1, 1, 'America/New_York', 'olivia', NULL,
	 '2026-06-01 13:00Z', '2026-06-01 13:00Z', NULL, NULL, NULL, NULL, '{}'),
	('acme', 3, 'welcome', 1, 'lead-3', 'replied', 0, 1, 'America/New_York', 'sam', 'replied',
	 '2026-06-01 13:00Z', '2026-06-01 13:00Z', NULL, NULL, '2026-06-01 15:00Z',
	 '2026-06-01 15:00Z', '{}'),
	('acme', 4, 'welcome', 1, 'lead-4', 'paused', 2, 1, 'America/New_York', 'sam', NULL,
	 '2026-06-01 13:00Z', '2026-06-01 13:00Z', '2026-06-01 13:10Z', NULL, NULL, NULL, '{}'),
	('globex', 5, 'renewal', 1, 'lead-g1', 'active', 1, 1, 'UTC', 'gina', NULL,
	 '2026-06-01 12:00Z', '2026-06-01 12:00Z', NULL, NULL, NULL, NULL, '{}'),
	('acme', 6, 'welcome', 1, 'lead-7', 'active', 3, 1, 'America/New_York', 'olivia', NULL,
	 '2026-06-01 13:00Z', '2026-06-01 13:00Z', NULL, NULL, NULL, NULL, '{}');

INSERT INTO cadence.scheduled_actions (tenant_id, id, run_id, cadence_id, cadence_version,
									   action_id, step_number, day_number, type, due_at,
									   planned_at, status, moved_reason, attempts, lease_until,
									   provider_id, provider_message_id, variant, rendered,
									   skip_reason, last_error, sent_at, completed_at,
									   delivered_at, opened_at, clicked_at, replied_at,
									   bounced_at, created_at, updated_at)
OVERRIDING SYSTEM VALUE VALUES
	-- Run 1: its text is due.
	('acme', 1, 1, 'welcome', 1, 'hello', 1, 1, 'sms', '2026-06-01 13:00Z', '2026-06-01 13:00Z',
	 'scheduled', NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, '2026-06-01 13:00Z', '2026-06-01 13:00Z'),
	('acme', 2, 1, 'welcome', 1, 'intro', 2, 1, 'email', '2026-06-01 13:30Z', '2026-06-01 13:30Z',
	 'planned', NULL, 0, NULL, NULL, NULL, 'B', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, '2026-06-01 13:00Z', '2026-06-01 13:00Z'),
	('acme', 3, 1, 'welcome', 1, 'call', 3, 2, 'call_task', '2026-06-02 14:00Z',
	 '2026-06-02 14:00Z', 'planned', NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, '2026-06-01 13:00Z', '2026-06-01 13:00Z'),
	-- Run 2: its runner claimed the text, then died; the lease ran out.
	('acme', 4, 2, 'welcome', 1, 'hello', 1, 1, 'sms', '2026-06-01 13:00Z', '2026-06-01 13:00Z',
	 'sending', NULL, 1, '2026-06-01 13:02Z', 'twilio', NULL, NULL,
	 '{"to": "+15550000002", "text": "Hi Ben, welcome!", "kind": "twilio", "providerId": "twilio"}',
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2026-06-01 13:00Z',
	 '2026-06-01 13:00Z'),
	('acme', 5, 2, 'welcome', 1, 'intro', 2, 1, 'email', '2026-06-01 13:30Z', '2026-06-01 13:30Z',
	 'planned', NULL, 0, NULL, NULL, NULL, 'A', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, '2026-06-01 13:00Z', '2026-06-01 13:00Z'),
	('acme', 6, 2, 'welcome', 1, 'call', 3, 2, 'call_task', '2026-06-02 14:00Z',
	 '2026-06-02 14:00Z', 'planned', NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, '2026-06-01 13:00Z', '2026-06-01 13:00Z'),
	-- Run 3: text delivered, e-mail opened, clicked and replied to; the
	-- call was cancelled when the reply ended the run.
	('acme', 7, 3, 'welcome', 1, 'hello', 1, 1, 'sms', '2026-06-01 13:00Z', '2026-06-01 13:00Z',
	 'sent', NULL, 1, NULL, 'twilio', 'SM00000000000000000000000000000007', NULL,
	 '{"to": "+15550000003", "text": "Hi Cy, welcome!", "kind": "twilio", "providerId": "twilio"}',
	 NULL, NULL, '2026-06-01 13:00:02Z', NULL, '2026-06-01 13:00:05Z', NULL, NULL, NULL, NULL,
	 '2026-06-01 13:00Z', '2026-06-01 13:00:05Z'),
	('acme', 8, 3, 'welcome', 1, 'intro', 2, 1, 'email', '2026-06-01 13:30Z', '2026-06-01 13:30Z',
	 'sent', NULL, 2, NULL, 'resend', 're-8', 'B',
	 '{"to": "cy@lead.test", "subject": "Hi again", "text": "Hello Cy", "kind": "resend", "providerId": "resend"}',
	 NULL, 'timeout after 10000 ms', '2026-06-01 13:31Z', NULL, '2026-06-01 13:31:10Z',
	 '2026-06-01 14:00Z', '2026-06-01 14:01Z', '2026-06-01 15:00Z', NULL, '2026-06-01 13:00Z',
	 '2026-06-01 15:00Z'),
	('acme', 9, 3, 'welcome', 1, 'call', 3, 2, 'call_task', '2026-06-02 14:00Z',
	 '2026-06-02 14:00Z', 'cancelled', NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, '2026-06-01 13:00Z', '2026-06-01 15:00Z'),
	-- Run 4: paused after its text.
	('acme', 10, 4, 'welcome', 1, 'hello', 1, 1, 'sms', '2026-06-01 13:00Z', '2026-06-01 13:00Z',
	 'sent', NULL, 1, NULL, 'twilio', 'SM00000000000000000000000000000010', NULL,
	 '{"to": "+15550000004", "text": "Hi Dee, welcome!", "kind": "twilio", "providerId": "twilio"}',
	 NULL, NULL, '2026-06-01 13:00:02Z', NULL, NULL, NULL, NULL, NULL, NULL, '2026-06-01 13:00Z',
	 '2026-06-01 13:00:02Z'),
	('acme', 11, 4, 'welcome', 1, 'intro', 2, 1, 'email', '2026-06-01 13:30Z', '2026-06-01 13:30Z',
	 'planned', NULL, 0, NULL, NULL, NULL, 'B', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, '2026-06-01 13:00Z', '2026-06-01 13:10Z'),
	('acme', 12, 4, 'welcome', 1, 'call', 3, 2, 'call_task', '2026-06-02 14:00Z',
	 '2026-06-02 14:00Z', 'planned', NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, '2026-06-01 13:00Z', '2026-06-01 13:00Z'),
	-- Run 5 (globex): its e-mail is due.
	('globex', 13, 5, 'renewal', 1, 'remind', 1, 1, 'email', '2026-06-01 12:00Z',
	 '2026-06-01 12:00Z', 'scheduled', NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, '2026-06-01 12:00Z', '2026-06-01 12:00Z'),
	-- Run 6: text and e-mail sent, the call waits for a person.
	('acme', 14, 6, 'welcome', 1, 'hello', 1, 1, 'sms', '2026-06-01 13:00Z', '2026-06-01 13:00Z',
	 'sent', NULL, 1, NULL, 'twilio', 'SM00000000000000000000000000000014', NULL,
	 '{"to": "+15550000007", "text": "Hi Gil, welcome!", "kind": "twilio", "providerId": "twilio"}',
	 NULL, NULL, '2026-06-01 13:00:02Z', NULL, NULL, NULL, NULL, NULL, NULL, '2026-06-01 13:00Z',
	 '2026-06-01 13:00:02Z'),
	('acme', 15, 6, 'welcome', 1, 'intro', 2, 1, 'email', '2026-06-01 13:30Z', '2026-06-01 13:30Z',
	 'sent', NULL, 1, NULL, 'resend', 're-15', 'B',
	 '{"to": "gil@lead.test", "subject": "Hi again", "text": "Hello Gil", "kind": "resend", "providerId": "resend"}',
	 NULL, NULL, '2026-06-01 13:30:01Z', NULL, NULL, NULL, NULL, NULL, NULL, '2026-06-01 13:00Z',
	 '2026-06-01 13:30:01Z'),
	('acme', 16, 6, 'welcome', 1, 'call', 3, 2, 'call_task', '2026-06-02 14:00Z',
	 '2026-06-02 14:00Z', 'pending_manual', NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2026-06-01 13:00Z', '2026-06-02 14:00Z');

INSERT INTO cadence.tasks (tenant_id, id, run_id, scheduled_action_id, lead_id, assignee_id,
						   type, title, description, due_at, status, outcome, notes,
						   created_at, completed_at)
OVERRIDING SYSTEM VALUE VALUES
	('acme', 1, 6, 16, 'lead-7', 'olivia', 'call', 'Call Gil', NULL, '2026-06-02 14:00Z', 'open',
	 NULL, NULL, '2026-06-02 14:00Z', NULL);

INSERT INTO cadence.events (tenant_id, id, run_id, scheduled_action_id, cadence_id, lead_id,
							type, payload, created_at)
OVERRIDING SYSTEM VALUE VALUES
	('acme', 1, NULL, NULL, 'welcome', NULL, 'cadence.created', '{"name": "Welcome"}', '2026-05-10 09:00Z'),
	('acme', 2, NULL, NULL, 'welcome', NULL, 'cadence.activated', '{}', '2026-05-11 09:00Z'),
	('acme', 3, NULL, NULL, 'welcome', NULL, 'cadence.variant_winner',
	 '{"actionId": "intro", "variant": "B"}', '2026-05-30 09:00Z'),
	('acme', 4, 1, NULL, 'welcome', 'lead-1', 'run.enrolled', '{}', '2026-06-01 13:00Z'),
	('acme', 5, 2, NULL, 'welcome', 'lead-2', 'run.enrolled', '{}', '2026-06-01 13:00Z'),
	('acme', 6, 3, NULL, 'welcome', 'lead-3', 'run.enrolled', '{}', '2026-06-01 13:00Z'),
	('acme', 7, 4, NULL, 'welcome', 'lead-4', 'run.enrolled', '{}', '2026-06-01 13:00Z'),
	('acme', 8, 6, NULL, 'welcome', 'lead-7', 'run.enrolled', '{}', '2026-06-01 13:00Z'),
	('globex', 9, 5, NULL, 'renewal', 'lead-g1', 'run.enrolled', '{}', '2026-06-01 12:00Z'),
	('acme', 10, 2, 4, 'welcome', 'lead-2', 'action.sending', '{"attempt": 1}', '2026-06-01 13:00Z'),
	('acme', 11, 3, 7, 'welcome', 'lead-3', 'action.sent',
	 '{"attempt": 1, "providerMessageId": "SM00000000000000000000000000000007"}', '2026-06-01 13:00:02Z'),
	('acme', 12, 3, 8, 'welcome', 'lead-3', 'action.retry',
	 '{"attempt": 1, "error": "timeout after 10000 ms"}', '2026-06-01 13:30:10Z'),
	('acme', 13, 3, 8, 'welcome', 'lead-3', 'action.sent',
	 '{"attempt": 2, "providerMessageId": "re-8"}', '2026-06-01 13:31Z'),
	('acme', 14, 3, 8, 'welcome', 'lead-3', 'action.engagement', '{"kind": "opened"}',
	 '2026-06-01 14:00Z'),
	('acme', 15, 3, 8, 'welcome', 'lead-3', 'lead.replied', '{"channel": "email"}',
	 '2026-06-01 15:00Z'),
	('acme', 16, 3, NULL, 'welcome', 'lead-3', 'run.exited',
	 '{"status": "replied", "reason": "replied"}', '2026-06-01 15:00Z'),
	('acme', 17, 4, NULL, 'welcome', 'lead-4', 'run.paused', '{"reason": "on leave"}',
	 '2026-06-01 13:10Z'),
	('acme', 18, 6, 16, 'welcome', 'lead-7', 'action.pending_manual', '{}', '2026-06-02 14:00Z'),
	('acme', 19, NULL, NULL, NULL, 'lead-6', 'lead.opted_out', '{"channel": "email"}',
	 '2026-05-25 09:00Z');

INSERT INTO cadence.step_stats (tenant_id, cadence_id, step_number, variant, sent, failed,
								skipped, delivered, opened, clicked, replied, bounced) VALUES
	('acme', 'welcome', 1, '', 4, 0, 0, 1, 0, 0, 0, 0),
	('acme', 'welcome', 2, 'B', 2, 0, 0, 1, 1, 1, 1, 0);

INSERT INTO cadence.daily_sends (tenant_id, cadence_id, day, sent) VALUES
	('acme', 'welcome', '2026-06-01', 6);

INSERT INTO cadence.provider_slots (tenant_id, provider_id, next_slot_at) VALUES
	('globex', 'resend', '2026-06-01 12:00Z');

INSERT INTO cadence.inbound_events (tenant_id, source, event_key, kind, received_at) VALUES
	('acme', 'twilio', 'SM00000000000000000000000000000007:delivered', 'delivered',
	 '2026-06-01 13:00:05Z'),
	('acme', 'resend', 'msg_2ZxZ8cV1', 'replied', '2026-06-01 15:00Z');

INSERT INTO cadence.variant_winners (tenant_id, cadence_id, action_id, variant, declared_at,
									 declared_by) VALUES
	('acme', 'welcome', 'intro', 'B', '2026-05-30 09:00Z', 'olivia');

-- The identity sequences stand where the rows left them.
SELECT setval(pg_get_serial_sequence('cadence.' || t, 'id'), n)
  FROM (VALUES ('runs', 6), ('scheduled_actions', 16), ('tasks', 1), ('events', 19)) AS s(t, n);

COMMIT;
