-- Checks on cadence's tables that call cadence's own functions: a list
-- defined once (the step types and the provider kinds, in C; the event
-- types), a time zone PostgreSQL knows.  The tables are made before any function, so the code
-- part that makes such a function adds the check after it, through
-- add_check, in every install and update script; an update from a version
-- that checked the column otherwise drops the old check first
-- (schema/upgrade/).

-- Add the check named name (expression) to rel, unless rel has it.
CREATE OR REPLACE FUNCTION cadence.add_check(rel regclass, name text, expression text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
					WHERE conrelid = rel AND conname = name) THEN
		EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%s)', rel, name, expression);
	END IF;
END
$$;
