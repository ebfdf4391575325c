-- Scheduling math (src/schedule/math.c): when a cadence step is due.
--
-- STABLE, not IMMUTABLE: the answers follow the time zone database, which
-- an operating-system tzdata update changes under a running server, so an
-- index or generated column built on them could silently go stale.  Nothing
-- here reads tables, so every function is PARALLEL SAFE.  Being pure
-- computation over their arguments, calculate_next_step_due and
-- is_valid_timezone are among the functions application roles may call
-- (schema/code/admin/90_grants.sql).

CREATE OR REPLACE FUNCTION cadence.calculate_next_step_due(
	prev		timestamptz,
	rule		jsonb,
	tz			text,
	settings	jsonb DEFAULT '{}')
RETURNS timestamptz
LANGUAGE C STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_calculate_next_step_due';
COMMENT ON FUNCTION cadence.calculate_next_step_due(timestamptz, jsonb, text, jsonb) IS
	'When a step with schedule rule rule (immediately, timeOfDay, afterPrevious, delay) is due after a step at prev, in IANA zone tz, moved into the business hours, weekends and holidays of settings; never earlier than prev';

CREATE OR REPLACE FUNCTION cadence.is_valid_timezone(tz text)
RETURNS boolean
LANGUAGE C STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_is_valid_timezone';
COMMENT ON FUNCTION cadence.is_valid_timezone(text) IS
	'Whether cadence accepts tz as a time zone name (an IANA name such as America/New_York that PostgreSQL knows)';

-- A lead's zone is one PostgreSQL knows, or none: applications write
-- contacts directly (schema/code/internal/30_security.sql), and a name the
-- runners cannot read would quietly put the lead in its cadence's zone
-- instead.
-- The check calls the function above, so it is made here, after it (an
-- update from a version without it first checks the leads it holds:
-- schema/upgrade/).
SELECT cadence.add_check('cadence.contacts', 'contacts_timezone_known',
						 'timezone IS NULL OR cadence.is_valid_timezone(timezone)');
