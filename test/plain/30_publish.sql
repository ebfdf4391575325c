-- Without the library preloaded there is no telling who listens: every
-- event is published, as cadence.notify asks, whether or not any session
-- listens on its channel.
\set ON_ERROR_STOP 1
\set QUIET 1
CREATE EXTENSION cadence;
SELECT plan(3);

SELECT is(current_setting('shared_preload_libraries'), '', 'nothing is preloaded');
SELECT ok(cadence.publish_event('run.enrolled', 1, 'solo', 1, NULL, 'c', 'ana', now(), '{}'),
		  'an event is published with nobody listening');
SET cadence.notify = off;
SELECT ok(NOT cadence.publish_event('run.enrolled', 2, 'solo', 1, NULL, 'c', 'ana', now(), '{}'),
		  'and not when cadence.notify is off');

SELECT * FROM finish();
DROP EXTENSION cadence;
