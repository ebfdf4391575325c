-- The types of event the audit log (cadence.events) takes, listed once, by
-- event_types().  The check on cadence.events holds the list as a
-- constant taken from it when the check is made: every statement that
-- writes events, the runners' among them, checks against a constant.  An
-- update that changes the list drops events_type_known in its update
-- script, and this part makes it again (test/upgrade fails until it does).
-- The listeners' names for some of the types are in internal/88_triggers.sql.

CREATE OR REPLACE FUNCTION cadence.event_types() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY[
		'cadence.created', 'cadence.updated', 'cadence.versioned',
		'cadence.activated', 'cadence.deactivated',
		'cadence.deleted', 'cadence.duplicated',
		'cadence.variant_winner',
		'run.enrolled', 'run.paused', 'run.resumed',
		'run.cancelled', 'run.completed', 'run.exited',
		'run.skipped_to', 'run.branched', 'run.failed',
		'action.rescheduled', 'action.sending', 'action.sent',
		'action.retry', 'action.failed', 'action.skipped',
		'action.request', 'action.unrecorded',
		'action.pending_manual', 'action.completed',
		'action.executed', 'action.cancelled',
		'action.engagement',
		'lead.replied', 'lead.opted_out', 'lead.opted_in',
		'lead.help', 'lead.meeting_booked', 'lead.assigned',
		'lead.stage_changed', 'lead.updated',
		'user.notified',
		'member.updated', 'member.removed',
		'provider.saved', 'provider.deleted',
		'suppression.added', 'suppression.removed']
$$;
COMMENT ON FUNCTION cadence.event_types() IS
	'Every type of event the audit log cadence.events takes';
SELECT cadence.add_check('cadence.events', 'events_type_known',
						 format('type = ANY (%L::text[])', cadence.event_types()));
