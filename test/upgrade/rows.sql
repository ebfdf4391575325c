-- Takes a snapshot of every row of cadence's tables and where each of its
-- sequences stands, as JSON, into upgrade_check.rows under the name given
-- (psql -v snapshot=NAME).  Outside the extension, so that a later
-- snapshot, after an update or in a restored copy, can be compared with it
-- (test/upgrade/compare.sql).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS upgrade_check;
CREATE TABLE IF NOT EXISTS upgrade_check.rows (snapshot text, rel text, r jsonb);
SELECT set_config('upgrade_check.snapshot', :'snapshot', false) \g /dev/null
DELETE FROM upgrade_check.rows WHERE snapshot = current_setting('upgrade_check.snapshot');
DO $$
DECLARE
	c record;
BEGIN
	FOR c IN SELECT relname, relkind FROM pg_catalog.pg_class
			  WHERE relnamespace = 'cadence'::regnamespace AND relkind IN ('r', 'S') LOOP
		EXECUTE format(CASE c.relkind
			WHEN 'r' THEN 'INSERT INTO upgrade_check.rows SELECT %L, %L, to_jsonb(t) FROM cadence.%I t'
			ELSE 'INSERT INTO upgrade_check.rows SELECT %L, %L,'
				 ' jsonb_build_object(''last_value'', last_value, ''is_called'', is_called)'
				 ' FROM cadence.%I'
			END, current_setting('upgrade_check.snapshot'), c.relname, c.relname);
	END LOOP;
END
$$;
