-- Scheduling math behind the API's calculate_next_step_due
-- (api/60_schedule.sql): the explained form, the C validators of schedule
-- rules and settings that the cadence contract's validation calls, and
-- what a flat step's delay rule takes from the settings.  Pure computation over their arguments, PARALLEL SAFE; STABLE for
-- the reason api/60_schedule.sql gives.

CREATE OR REPLACE FUNCTION cadence.explain_next_step_due(
	prev			timestamptz,
	rule			jsonb,
	tz				text,
	settings		jsonb DEFAULT '{}',
	OUT due_at		timestamptz,
	OUT moved_reason text)
RETURNS record
LANGUAGE C STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_explain_next_step_due';
COMMENT ON FUNCTION cadence.explain_next_step_due(timestamptz, jsonb, text, jsonb) IS
	'calculate_next_step_due with the first reason the due time moved from the rule''s own instant: weekend, holiday, outside_business_hours or dst_gap (NULL when it did not move)';

CREATE OR REPLACE FUNCTION cadence.validate_schedule_rule(rule jsonb, path text DEFAULT 'scheduleRule')
RETURNS void
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_validate_schedule_rule';
COMMENT ON FUNCTION cadence.validate_schedule_rule(jsonb, text) IS
	'Raise 22023 when rule is not a valid schedule rule; the message names path, e.g. invalid days[0].actions[1].scheduleRule.timeOfDay: "25:00"';

CREATE OR REPLACE FUNCTION cadence.validate_settings(settings jsonb, path text DEFAULT 'settings')
RETURNS void
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_validate_settings_sql';
COMMENT ON FUNCTION cadence.validate_settings(jsonb, text) IS
	'Raise an error naming path when what planning reads of a cadence''s settings (businessHours, excludeWeekends, holidays, quietHours, maxContactsPerDay, timezoneMode, holidayCalendar) is malformed or leaves no weekday open, by the parser planning uses; other keys are not checked';

CREATE OR REPLACE FUNCTION cadence.settings_business_days(settings jsonb) RETURNS boolean
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_settings_business_days';
COMMENT ON FUNCTION cadence.settings_business_days(jsonb) IS
	'Whether settings exclude weekends (excludeWeekends), as planning reads them: the businessDays of a flat step''s delay rule';
