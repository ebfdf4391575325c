-- Every malformed cadence body is refused whole: an error with a SQLSTATE,
-- a message naming the field path and the bad value, and nothing written.
SET timezone = 'UTC';
INSERT INTO cadence.members (tenant_id, user_id, role) VALUES ('val', 'vera', 'owner');
SET cadence.tenant_id = 'val';
SET cadence.user_id = 'vera';

-- A cadence that exists, so that failed edits can be shown to leave it alone.
SELECT cadence.upsert_cadence($$
{"id": "keep", "name": "Keep me", "timezone": "Europe/Paris",
 "days": [{"dayNumber": 1, "actions": [
   {"id": "a1", "type": "sms", "scheduleRule": {"kind": "immediately"},
    "config": {"sms": {"body": "Bonjour"}}}]}]}
$$) ->> 'version' AS version;

-- bad(body): the error of upsert_cadence(body) (SQLSTATE, message, detail
-- and hint), and whether the tenant's cadences, days, actions and events
-- are exactly as before.
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
	SELECT md5(concat_ws('|',
		(SELECT string_agg(c::text, ',' ORDER BY c.id) FROM cadence.cadences c WHERE tenant_id = 'val'),
		(SELECT string_agg(d::text, ',' ORDER BY d.cadence_id, d.version, d.day_number) FROM cadence.cadence_days d WHERE tenant_id = 'val'),
		(SELECT string_agg(a::text, ',' ORDER BY a.cadence_id, a.version, a.step_number) FROM cadence.cadence_actions a WHERE tenant_id = 'val'),
		(SELECT count(*)::text FROM cadence.events WHERE tenant_id = 'val')))
$$;
CREATE FUNCTION pg_temp.bad(body text, OUT code text, OUT message text,
							OUT help text, OUT wrote_nothing boolean)
LANGUAGE plpgsql AS $$
DECLARE
	before text := pg_temp.state();
	d text;
	h text;
BEGIN
	BEGIN
		PERFORM cadence.upsert_cadence(body::jsonb);
		code := 'no error';
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
		code := SQLSTATE;
		message := SQLERRM;
		help := concat_ws(' ', 'DETAIL: ' || nullif(d, ''), 'HINT: ' || nullif(h, ''));
	END;
	wrote_nothing := pg_temp.state() = before;
END
$$;

\pset format aligned
\x on

--
-- The body itself.
--
-- Not an object.
SELECT * FROM pg_temp.bad('[1, 2]');
-- A misspelt field is an error, not a silent default.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "timeZone": "Europe/Paris", "days": []}');
-- Missing required fields: name, days (or steps).
SELECT * FROM pg_temp.bad('{"id": "keep", "days": []}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me"}');
-- Wrong JSON types.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": 42, "days": []}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "isActive": "yes", "days": []}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": {"dayNumber": 1}}');
-- Empty name and id.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "  ", "days": []}');
SELECT * FROM pg_temp.bad('{"id": "", "name": "Keep me", "days": []}');
-- Unknown IANA time zone, in either place it can be given.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "timezone": "Europe/Pariss", "days": []}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "settings": {"timezone": "Mars/Olympus"}, "days": []}');
-- Unknown trigger type.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "trigger": {"type": "on_sunrise"}, "days": []}');
-- Exit conditions are booleans.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "exitConditions": {"onReply": "yes"}, "days": []}');

--
-- Days and actions.
--
-- Duplicate dayNumber.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1, "actions": []}, {"dayNumber": 1, "actions": []}]}');
-- dayNumber below 1, not a whole number, too large.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 0, "actions": []}]}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1.5, "actions": []}]}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 99999999999, "actions": []}]}');
-- Missing action type.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "sms", "scheduleRule": {"kind": "immediately"}, "config": {"sms": {"body": "x"}}}, {"id": "a2", "scheduleRule": {"kind": "immediately"}}]}]}');
-- Unknown action type.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "fax", "scheduleRule": {"kind": "immediately"}}]}]}');
-- timeOfDay not HH:mm.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "call_task", "scheduleRule": {"kind": "immediately"}}, {"id": "a2", "type": "call_task", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "25:00"}}]}]}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "call_task", "scheduleRule": {"kind": "timeOfDay", "timeOfDay": "9am"}}]}]}');
-- Negative minutes.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "call_task", "scheduleRule": {"kind": "afterPrevious", "minutesAfterPrev": -30}}]}]}');
-- A missing schedule rule, and one of an unknown kind.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "call_task"}]}]}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "call_task", "scheduleRule": {"kind": "weekly"}}]}]}');
-- Duplicate action ids, within a day or across days.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "call_task", "scheduleRule": {"kind": "immediately"}}]}, {"dayNumber": 2, "actions": [{"id": "a1", "type": "call_task", "scheduleRule": {"kind": "immediately"}}]}]}');
-- What each channel needs in its config.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "sms", "scheduleRule": {"kind": "immediately"}, "config": {}}]}]}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "email", "scheduleRule": {"kind": "immediately"}, "config": {"email": {"bodyHtml": "<p>Hi</p>"}}}]}]}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "webhook", "scheduleRule": {"kind": "immediately"}, "config": {"webhook": {"url": "ftp://example.com/hook"}}}]}]}');
-- A/B variants need unique ids and non-negative weights.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "sms", "scheduleRule": {"kind": "immediately"}, "config": {"sms": {"body": "x"}}, "variants": [{"id": "A", "weight": 1}, {"id": "A", "weight": 1}]}]}]}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "days": [{"dayNumber": 1, "actions": [{"id": "a1", "type": "sms", "scheduleRule": {"kind": "immediately"}, "config": {"sms": {"body": "x"}}, "variants": [{"id": "A", "weight": -1}, {"id": "B"}]}]}]}');

--
-- Settings.
--
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "settings": {"businessHours": {"monday": {"start": "9:00", "end": "17:00"}}}, "days": []}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "settings": {"holidays": ["2026-02-30"]}, "days": []}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "settings": {"businessHours": {"saturday": {"start": "09:00", "end": "12:00"}}, "excludeWeekends": true}, "days": []}');
-- The rest of what planning reads, checked by the same parser: quiet
-- hours per known channel, a daily cap of at least 1, a known time zone
-- mode.
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "settings": {"quietHours": {"fax": {"start": "21:00", "end": "08:00"}}}, "days": []}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "settings": {"quietHours": {"sms": {"start": "21:00", "end": "08:00", "tz": "UTC"}}}, "days": []}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "settings": {"maxContactsPerDay": 0}, "days": []}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "settings": {"maxContactsPerDay": 2.5}, "days": []}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "settings": {"timezoneMode": "lead"}, "days": []}');

--
-- A flat steps[] body: errors name the step's own fields.
--
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "steps": [{"stepNumber": 1, "type": "carrier_pigeon"}]}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "steps": [{"stepNumber": 1, "type": "call", "delayDays": -2}]}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "steps": [{"stepNumber": 1, "type": "call", "sendAt": "10h"}]}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "steps": [{"stepNumber": 1, "type": "auto_email", "subject": "Hi"}]}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "steps": [{"stepNumber": 2, "type": "call"}, {"stepNumber": 2, "type": "task"}]}');
SELECT * FROM pg_temp.bad('{"id": "keep", "name": "Keep me", "steps": [], "days": []}');

--
-- State, not shape: an active cadence needs an action, a deleted id is
-- not reused.
--
SELECT * FROM pg_temp.bad('{"id": "empty", "name": "Empty", "isActive": true, "days": []}');
SELECT cadence.upsert_cadence('{"id": "gone", "name": "Gone", "days": []}') IS NOT NULL AS created;
SELECT cadence.delete_cadence('gone') AS deleted;
SELECT * FROM pg_temp.bad('{"id": "gone", "name": "Back", "days": []}');

\x off
-- After all of the above the cadence is exactly as it was created.
SELECT c - 'createdAt' - 'updatedAt' AS untouched FROM cadence.get_cadence('keep') AS c;
