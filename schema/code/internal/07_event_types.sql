-- The types of event the audit log (cadence.events) takes, listed once:
-- its check calls event_types(), and the listeners' names for some of them
-- are in internal/88_triggers.sql.

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
						 'type = ANY (cadence.event_types())');
