-- What a role with CREATE on a schema on a superuser's search_path could
-- plant there: look-alikes of the operators (text and bigint =, jsonb ||
-- and ->>) and functions (jsonb_build_object, now, unnest, lower, ...) that
-- cadence's statements use.  Each counts its calls in the sequence
-- planted.calls, which no rollback undoes; the tests put the schema first
-- on a path, pg_catalog last, and check that nothing was called.  Run as a
-- superuser; DROP SCHEMA planted CASCADE and DROP ROLE
-- cadence_test_planter clean up.

CREATE ROLE cadence_test_planter NOLOGIN;
CREATE SCHEMA planted AUTHORIZATION cadence_test_planter;
SET ROLE cadence_test_planter;
CREATE SEQUENCE planted.calls;
CREATE FUNCTION planted.text_eq(a text, b text) RETURNS boolean LANGUAGE sql
	AS $$ SELECT pg_catalog.nextval('planted.calls') > 0 AND pg_catalog.texteq(a, b) $$;
CREATE OPERATOR planted.= (LEFTARG = text, RIGHTARG = text, FUNCTION = planted.text_eq);
CREATE FUNCTION planted.int8_eq(a bigint, b bigint) RETURNS boolean LANGUAGE sql
	AS $$ SELECT pg_catalog.nextval('planted.calls') > 0 AND pg_catalog.int8eq(a, b) $$;
CREATE OPERATOR planted.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = planted.int8_eq);
CREATE FUNCTION planted.jsonb_cat(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql
	AS $$ SELECT pg_catalog.nextval('planted.calls')::text::jsonb $$;
CREATE OPERATOR planted.|| (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = planted.jsonb_cat);
CREATE FUNCTION planted.jsonb_text(a jsonb, b text) RETURNS text LANGUAGE sql
	AS $$ SELECT pg_catalog.nextval('planted.calls')::text $$;
CREATE OPERATOR planted.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = planted.jsonb_text);
CREATE FUNCTION planted.jsonb_build_object(VARIADIC text[]) RETURNS jsonb LANGUAGE sql
	AS $$ SELECT pg_catalog.nextval('planted.calls')::text::jsonb $$;
CREATE FUNCTION planted.jsonb_strip_nulls(jsonb) RETURNS jsonb LANGUAGE sql
	AS $$ SELECT pg_catalog.nextval('planted.calls')::text::jsonb $$;
CREATE FUNCTION planted.now() RETURNS timestamptz LANGUAGE sql
	AS $$ SELECT pg_catalog.to_timestamp(pg_catalog.nextval('planted.calls')) $$;
CREATE FUNCTION planted.lower(text) RETURNS text LANGUAGE sql
	AS $$ SELECT pg_catalog.nextval('planted.calls')::text $$;
CREATE FUNCTION planted.unnest(text[]) RETURNS SETOF text LANGUAGE sql
	AS $$ SELECT pg_catalog.nextval('planted.calls')::text $$;
CREATE FUNCTION planted.current_setting(text, boolean) RETURNS text LANGUAGE sql
	AS $$ SELECT pg_catalog.nextval('planted.calls')::text $$;
CREATE FUNCTION planted.concat_ws(text, VARIADIC text[]) RETURNS text LANGUAGE sql
	AS $$ SELECT pg_catalog.nextval('planted.calls')::text $$;
RESET ROLE;
