-- cadence install script, assembled by the Makefile from schema/*.sql in
-- name order.  Each part holds one concern: identity, tables, security,
-- scheduling, validation, the cadence contract, grants.

\echo Use "CREATE EXTENSION cadence" to load this file. \quit

-- Every object lives here; the schema belongs to the extension, so DROP
-- EXTENSION takes it away with everything else.
CREATE SCHEMA cadence;
COMMENT ON SCHEMA cadence IS 'sales cadences: definitions, runs, scheduled actions and their dispatch';
REVOKE ALL ON SCHEMA cadence FROM PUBLIC;
