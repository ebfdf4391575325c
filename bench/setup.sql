-- Benchmark fixture: one tenant, a 5-step cadence over 8 days with business
-- hours, weekends off and recipient time, and 100,000 leads spread over
-- eight zones (three continents, a half-hour offset, both hemispheres).
SET cadence.tenant_id = 'bench';
SELECT cadence.upsert_cadence($$
{"id": "bench-5", "name": "Benchmark, five steps", "timezone": "America/New_York",
 "settings": {"timezoneMode": "recipient", "excludeWeekends": true,
   "businessHours": {"monday": {"start": "09:00", "end": "17:00"},
                     "tuesday": {"start": "09:00", "end": "17:00"},
                     "wednesday": {"start": "09:00", "end": "17:00"},
                     "thursday": {"start": "09:00", "end": "17:00"},
                     "friday": {"start": "09:00", "end": "17:00"}}},
 "days": [
  {"dayNumber": 1, "actions": [
    {"id": "intro", "type": "email", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "09:00"},
     "config": {"email": {"subject": "Hello {{firstName}}", "bodyHtml": "<p>Hi</p>"}}},
    {"id": "nudge", "type": "sms", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": 120},
     "config": {"sms": {"body": "Hi {{firstName}}, sent you an email"}}}]},
  {"dayNumber": 3, "actions": [
    {"id": "call", "type": "call_task", "scheduleRule": {"kind": "immediately"}, "config": {}}]},
  {"dayNumber": 5, "actions": [
    {"id": "follow", "type": "email", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "10:00"},
     "config": {"email": {"subject": "Following up", "bodyHtml": "<p>Any thoughts?</p>"}}}]},
  {"dayNumber": 8, "actions": [
    {"id": "breakup", "type": "email", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "09:30"},
     "config": {"email": {"subject": "Closing the loop", "bodyHtml": "<p>Last note</p>"}}}]}]}
$$);
SELECT cadence.activate('bench-5');

INSERT INTO cadence.contacts (tenant_id, id, first_name, email, timezone)
SELECT 'bench', 'lead-' || g, 'Lead' || g, 'lead' || g || '@example.com',
	   (ARRAY['America/New_York', 'America/Los_Angeles', 'Europe/London',
			  'Europe/Berlin', 'Asia/Kolkata', 'Asia/Tokyo',
			  'Australia/Sydney', 'America/Sao_Paulo'])[1 + g % 8]
  FROM generate_series(1, 100000) g;
ANALYZE cadence.contacts;
