-- cadence install script, assembled by the Makefile: schema/tables/*.sql
-- (the schema, the tables and their indexes: what holds data), then
-- schema/code/ (functions, triggers, policies, grants) in name order, a
-- concern's internals (internal/) before its API (api/, admin/).  Each
-- part holds one concern.  An upgrade script runs its own
-- changes to the tables, then the same code parts (see the Makefile).

\echo Use "CREATE EXTENSION cadence" to load this file. \quit

-- Every object lives here; the schema belongs to the extension, so DROP
-- EXTENSION takes it away with everything else.
CREATE SCHEMA cadence;
COMMENT ON SCHEMA cadence IS 'sales cadences: definitions, runs, scheduled actions and their dispatch';
REVOKE ALL ON SCHEMA cadence FROM PUBLIC;
