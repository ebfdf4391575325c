-- The JSON shape checks every validating function uses: how a value and
-- its path are named in messages, and the errors for a missing, mistyped,
-- unknown or repeated member, each under its SQLSTATE (see
-- 65_validate.sql for the list).  A JSON null is an absent member.

-- What a JSON value is, for error messages: 'string "one"', 'number 1.5',
-- 'an array'.  Long values are cut at 60 characters.
CREATE OR REPLACE FUNCTION cadence.json_describe(v jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE pg_catalog.jsonb_typeof(v)
		WHEN 'object' THEN 'an object'
		WHEN 'array' THEN 'an array'
		WHEN 'null' THEN 'null'
		ELSE pg_catalog.jsonb_typeof(v) || ' ' ||
			 CASE WHEN pg_catalog.length(v::text) > 60
				  THEN pg_catalog.left(v::text, 57) || '...'
				  ELSE v::text END
	END
$$;

-- The path of a member: 'key' at the top level, else 'parent.key'.
CREATE OR REPLACE FUNCTION cadence.json_path(parent text, key text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN coalesce(parent, '') = '' THEN key ELSE parent || '.' || key END
$$;

-- {key: value}, or {} when value is NULL: builds objects whose optional
-- members are omitted rather than null.
CREATE OR REPLACE FUNCTION cadence.json_opt(key text, value jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN value IS NULL THEN '{}'::jsonb
				ELSE pg_catalog.jsonb_build_object(key, value) END
$$;

-- Raise 23502 for a missing required field.
CREATE OR REPLACE FUNCTION cadence.raise_missing(path text, hint text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF hint IS NULL THEN
		RAISE EXCEPTION 'missing required field %', path USING ERRCODE = '23502';
	END IF;
	RAISE EXCEPTION 'missing required field %', path USING ERRCODE = '23502', HINT = hint;
END
$$;

-- Raise 22023 unless v is of the expected JSON type: object, array,
-- string, boolean, number, or integer (a whole number that fits int4;
-- beyond that 22003).
CREATE OR REPLACE FUNCTION cadence.expect_type(v jsonb, path text, expected text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF expected = 'integer' THEN
		IF jsonb_typeof(v) = 'number' AND v::numeric = trunc(v::numeric) THEN
			IF abs(v::numeric) > 2147483647 THEN
				RAISE EXCEPTION '% is out of range, got %', path, cadence.json_describe(v)
					USING ERRCODE = '22003',
						  HINT = 'Integers here go up to 2147483647.';
			END IF;
			RETURN;
		END IF;
	ELSIF jsonb_typeof(v) = expected THEN
		RETURN;
	END IF;
	RAISE EXCEPTION '% must be % %, got %', path,
		CASE WHEN expected IN ('integer', 'object', 'array') THEN 'an' ELSE 'a' END,
		expected, coalesce(cadence.json_describe(v), 'nothing')
		USING ERRCODE = '22023';
END
$$;

-- The member key of obj, checked to be of the expected type (see
-- expect_type); NULL when absent or JSON null, or 23502 when required.
CREATE OR REPLACE FUNCTION cadence.json_field(obj jsonb, key text, path text, expected text,
								   required boolean DEFAULT false) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v jsonb := obj -> key;
	full_path text := cadence.json_path(path, key);
BEGIN
	IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
		IF required THEN
			PERFORM cadence.raise_missing(full_path);
		END IF;
		RETURN NULL;
	END IF;
	PERFORM cadence.expect_type(v, full_path, expected);
	RETURN v;
END
$$;

-- The string member key of obj (see json_field) that ends up in a mail
-- header or an SMTP command: an e-mail's subject, sender and reply-to
-- address, sender name.  22023 when it holds a line break or another
-- control character, which would end the header and start one of its own;
-- the runners refuse the same when a rendered subject or a lead's address
-- does (src/providers/wire.c).
CREATE OR REPLACE FUNCTION cadence.json_header_field(obj jsonb, key text, path text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v jsonb := cadence.json_field(obj, key, path, 'string');
BEGIN
	IF v #>> '{}' ~ '[\x01-\x1f\x7f]' THEN
		RAISE EXCEPTION 'invalid %: %', cadence.json_path(path, key), v
			USING ERRCODE = '22023',
				  DETAIL = 'A mail header cannot hold a line break or another control character.';
	END IF;
	RETURN v;
END
$$;

-- Raise 22023 for the first member of obj not in allowed, so that a
-- misspelt field ("timeZone") is an error instead of a silent default.
-- Members in ignored are accepted and have no effect (the read-only fields
-- get_cadence returns, so that its output can be sent back).
CREATE OR REPLACE FUNCTION cadence.reject_unknown_keys(obj jsonb, allowed text[], path text,
											ignored text[] DEFAULT '{}') RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	bad text;
BEGIN
	SELECT k INTO bad
	  FROM jsonb_object_keys(obj) AS k
	 WHERE k <> ALL (allowed || ignored)
	 ORDER BY k
	 LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'unknown field %', cadence.json_path(path, bad)
			USING ERRCODE = '22023',
				  HINT = 'Valid fields here: ' || array_to_string(allowed, ', ') || '.' ||
						 CASE WHEN cardinality(ignored) > 0
							  THEN ' Read-only, ignored: ' || array_to_string(ignored, ', ') || '.'
							  ELSE '' END;
	END IF;
END
$$;

-- A body an upsert function takes (what names it in messages: 'a
-- cadence'): a JSON object (22023 otherwise) with no member but the allowed
-- ones (and the ignored, read-only ones).
CREATE OR REPLACE FUNCTION cadence.check_body(body jsonb, what text, allowed text[],
								   ignored text[] DEFAULT '{}') RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF jsonb_typeof(body) IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION '% must be a JSON object, got %', what,
			coalesce(cadence.json_describe(body), 'nothing')
			USING ERRCODE = '22023';
	END IF;
	PERFORM cadence.reject_unknown_keys(body, allowed, '', ignored);
END
$$;

-- The id a body gives, NULL when it gives none (the upsert generates one);
-- 23514 for an empty one.
CREATE OR REPLACE FUNCTION cadence.body_id(body jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id text := cadence.json_field(body, 'id', '', 'string') #>> '{}';
BEGIN
	IF v_id = '' THEN
		RAISE EXCEPTION 'id must not be empty' USING ERRCODE = '23514',
			HINT = 'Leave id out to have one generated.';
	END IF;
	RETURN v_id;
END
$$;

-- The first element (0-based) of keys, a JSON array, equal to an earlier
-- one; NULL when there is none.  JSON nulls are no keys.  A sort, so that
-- checking a cadence of thousands of steps for repeats stays linear in
-- practice: the validators work out where the first repeat is before they
-- walk the elements, and raise it (raise_duplicate) when they get there, so
-- a body with several errors reports the one it always did.
CREATE OR REPLACE FUNCTION cadence.first_repeat(keys jsonb) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT min(o)::int - 1
	  FROM (SELECT o, row_number() OVER (PARTITION BY k ORDER BY o) AS n
			  FROM jsonb_array_elements(coalesce(keys, '[]')) WITH ORDINALITY AS e(k, o)
			 WHERE jsonb_typeof(k) <> 'null') r
	 WHERE n > 1
$$;

-- Raise 23505 for a value met before: 'duplicate dayNumber 1 at
-- days[1].dayNumber'.
CREATE OR REPLACE FUNCTION cadence.raise_duplicate(v jsonb, label text, path text, hint text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF hint IS NULL THEN
		RAISE EXCEPTION 'duplicate % % at %', label, v::text, path USING ERRCODE = '23505';
	END IF;
	RAISE EXCEPTION 'duplicate % % at %', label, v::text, path
		USING ERRCODE = '23505', HINT = hint;
END
$$;
