-- One send window for planning, preview and sending (rule 6), the daily
-- cap on new leads (rule 7), and flat steps[] bodies under the contract
-- (rule 9).  The runner's clock is as_of.
SET timezone = 'UTC';
\set ECHO none
\i test/helpers/mock.sql
\set ECHO all
SELECT pg_temp.mock_post('/_mock/reset');
INSERT INTO cadence.members (tenant_id, user_id, role) VALUES ('window', 'wes', 'owner');
SET cadence.tenant_id = 'window';
SET cadence.user_id = 'wes';
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default)
VALUES ('window', 'mail', 'email', 'resend', 'http://127.0.0.1:18025', '{"apiKey": "re_x"}',
		'{"from": "sales@acme.test"}', true);
INSERT INTO cadence.contacts (tenant_id, id, email, phone, timezone) VALUES
	('window', 'ny', 'ny@example.com', '+12125550101', 'America/New_York'),
	('window', 'blr', 'blr@example.com', '+919800000001', 'Asia/Kolkata'),
	('window', 'syd', 'syd@example.com', '+61200000001', 'Australia/Sydney'),
	('window', 'a', 'a@example.com', NULL, 'Europe/London'),
	('window', 'b', 'b@example.com', NULL, 'Europe/London'),
	('window', 'c', 'c@example.com', NULL, 'Europe/London'),
	('window', 'd', 'd@example.com', NULL, 'Europe/London');
CREATE FUNCTION pg_temp.preview(cid text, lead text, as_of timestamptz)
RETURNS TABLE (step int, type text, local text, reason text) LANGUAGE sql AS $$
	SELECT p.step_number, p.type, to_char(p.local_time, 'Dy YYYY-MM-DD HH24:MI'), p.reason
	  FROM cadence.preview_schedule(cid, lead, as_of) p ORDER BY p.step_number
$$;
CREATE FUNCTION pg_temp.actions(cid text)
RETURNS TABLE (lead text, step int, status text, local text, reason text) LANGUAGE sql AS $$
	SELECT r.lead_id, a.step_number, a.status, to_char(a.due_at AT TIME ZONE r.timezone, 'Dy YYYY-MM-DD HH24:MI'),
		   coalesce(a.skip_reason, a.moved_reason)
	  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
	 WHERE r.tenant_id = 'window' AND r.cadence_id = cid ORDER BY r.lead_id, a.step_number
$$;

--
-- Rule 6.  A cadence in London time, business hours 09:00-17:00 on
-- weekdays: an SMS at 16:30 London, then an email right after.  Quiet
-- hours (21:00-08:00 by default, for SMS and WhatsApp) are the lead's own:
-- for a New York lead 16:30 London is 12:30 there, allowed; for a Kolkata
-- lead it is 22:00, so the SMS waits for 08:00 IST = 03:30 London, outside
-- business hours: 09:00 London (13:30 IST).  The email keeps no quiet
-- hours and follows the SMS.
--
SELECT cadence.upsert_cadence($${"id": "texts", "name": "texts", "timezone": "Europe/London", "isActive": true,
  "settings": {"businessHours": {"monday": {"start": "09:00", "end": "17:00"}, "tuesday": {"start": "09:00", "end": "17:00"},
     "wednesday": {"start": "09:00", "end": "17:00"}, "thursday": {"start": "09:00", "end": "17:00"}, "friday": {"start": "09:00", "end": "17:00"}}},
  "days": [{"dayNumber": 1, "actions": [
    {"id": "text", "type": "sms", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "16:30"}, "config": {"sms": {"body": "Hi"}}},
    {"id": "mail", "type": "email", "scheduleRule": {"kind": "immediately"}, "config": {"email": {"subject": "Hi", "bodyHtml": "<p>Hi</p>"}}}]}]}$$) IS NOT NULL AS saved;
SELECT * FROM pg_temp.preview('texts', 'ny', '2027-05-03 08:00 Europe/London');
SELECT * FROM pg_temp.preview('texts', 'blr', '2027-05-03 08:00 Europe/London');
-- A cadence may move them: quiet from 23:00 to 07:00 lets the Kolkata
-- lead's SMS go at 16:30 London (21:00 IST).
UPDATE cadence.cadences SET settings = settings || '{"quietHours": {"sms": {"start": "23:00", "end": "07:00"}}}' WHERE id = 'texts';
SELECT * FROM pg_temp.preview('texts', 'blr', '2027-05-03 08:00 Europe/London');

-- No allowed instant within 14 days: a Sydney cadence whose only window,
-- 22:00-23:30, lies in the SMS quiet hours.  The SMS is shown, planned and
-- then skipped with no_send_window, and the run goes on: the email after
-- it is due by its rule from the SMS's own time.
SELECT cadence.upsert_cadence($${"id": "never", "name": "never", "timezone": "Australia/Sydney", "isActive": true,
  "settings": {"businessHours": {"monday": {"start": "22:00", "end": "23:30"}, "tuesday": {"start": "22:00", "end": "23:30"}}},
  "days": [{"dayNumber": 1, "actions": [
    {"id": "text", "type": "sms", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "22:00"}, "config": {"sms": {"body": "Hi"}}},
    {"id": "mail", "type": "email", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 30}, "config": {"email": {"subject": "Hi", "bodyHtml": "<p>Hi</p>"}}}]}]}$$) IS NOT NULL AS saved;
SELECT * FROM pg_temp.preview('never', 'syd', '2027-05-03 08:00 Australia/Sydney');
SELECT count(*) FROM cadence.plan_runs('never', ARRAY['syd'], '2027-05-03 08:00 Australia/Sydney');
SELECT cadence.run_due_actions(50, '2027-05-03 22:00 Australia/Sydney', 'window') ->> 'skipped' AS skipped;
SELECT * FROM pg_temp.actions('never');
SELECT cadence.run_due_actions(50, '2027-05-03 22:30 Australia/Sydney', 'window') ->> 'sent' AS sent;
SELECT * FROM pg_temp.actions('never');

--
-- Rule 7.  maxContactsPerDay 1 counts runs that start: three leads
-- enrolled Monday 2027-05-03 10:00 London, two days (an email at once,
-- one at 09:00 the next open day).  Monday: one starts; the two others
-- start on Tuesday at 10:00 (their first action's time of day).
--
SELECT cadence.upsert_cadence($${"id": "capped", "name": "capped", "timezone": "Europe/London", "isActive": true,
  "settings": {"maxContactsPerDay": 1, "excludeWeekends": true},
  "days": [{"dayNumber": 1, "actions": [{"id": "hello", "type": "email", "scheduleRule": {"kind": "immediately"}, "config": {"email": {"subject": "Hi", "bodyHtml": "<p>Hi</p>"}}}]},
           {"dayNumber": 2, "actions": [{"id": "again", "type": "email", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "09:00"}, "config": {"email": {"subject": "Again", "bodyHtml": "<p>Again</p>"}}}]}]}$$) IS NOT NULL AS saved;
SELECT count(*) FROM cadence.plan_runs('capped', ARRAY['a', 'b', 'c'], '2027-05-03 10:00 Europe/London');
SELECT cadence.run_due_actions(50, '2027-05-03 10:00 Europe/London', 'window') - 'claimed' AS ran;
SELECT * FROM pg_temp.actions('capped');
-- The preview knows: a lead enrolled now would start on Tuesday.
SELECT * FROM pg_temp.preview('capped', 'd', '2027-05-03 11:00 Europe/London');
-- Tuesday 10:00: the first lead's follow-up is never held; one more run
-- starts, the third waits for Wednesday.
SELECT cadence.run_due_actions(50, '2027-05-04 10:00 Europe/London', 'window') - 'claimed' AS ran;
SELECT * FROM pg_temp.actions('capped');
SELECT day, started FROM cadence.daily_sends WHERE cadence_id = 'capped' ORDER BY day;

--
-- Rule 9.  Flat steps[] keep their meaning: each delay counts
-- from when the step before it really happened.  In Kolkata, weekends off:
-- send at 10:00, three days later at 10:00, a call task four days after.
--
SELECT cadence.upsert_cadence($${"id": "flat", "name": "flat", "isActive": true,
  "settings": {"timezone": "Asia/Kolkata", "excludeWeekends": true},
  "steps": [{"stepNumber": 1, "type": "auto_email", "subject": "Hi", "body": "<p>Hi</p>", "delayDays": 0, "sendAt": "10:00"},
            {"stepNumber": 2, "type": "auto_email", "subject": "Again", "body": "<p>Again</p>", "delayDays": 3, "sendAt": "10:00"},
            {"stepNumber": 3, "type": "call", "delayDays": 4, "taskDescription": "Call"}]}$$) IS NOT NULL AS saved;
SELECT * FROM pg_temp.preview('flat', 'blr', '2027-05-03 09:00 Asia/Kolkata');
SELECT count(*) FROM cadence.plan_runs('flat', ARRAY['blr'], '2027-05-03 09:00 Asia/Kolkata');
-- The first email goes out two days late (Wednesday 15:00): the second is
-- three business days from then, and the call four after that.
SELECT cadence.advance_to_next_step((SELECT id FROM cadence.runs WHERE cadence_id = 'flat'),
									'2027-05-05 15:00 Asia/Kolkata') ->> 'currentStep' AS step;
SELECT * FROM pg_temp.actions('flat');
