-- Message templates: {{variable}} and {{variable|fallback}}, filled from
-- the lead the way the runner fills them.  cadence.render_template shows
-- what a template becomes without sending anything.
\set lead '{"firstName": "Ana", "lastName": "Lima", "company": "Seed & Sons", "score": 42, "vip": true, "empty": "", "tags": ["cfo", "emea"], "attributes": {"title": "CFO"}}'

-- Plain text (SMS, subjects): values as they are.
SELECT cadence.render_template('Hi {{firstName}}, welcome to Seed!', :'lead');
-- Spaces inside the braces are ignored; dotted paths reach nested values;
-- numbers, booleans and lists of strings become text.
SELECT cadence.render_template('{{ firstName }} {{lastName}} ({{attributes.title}}), score {{score}}, vip {{vip}}, tags {{tags}}', :'lead');
-- A fallback covers a missing, null or empty value.
SELECT cadence.render_template('Hi {{nickname|there}}, {{empty|no value}}, {{ missing | friend }}!', :'lead');
-- An empty fallback is allowed and means "nothing".
SELECT cadence.render_template('Hi{{nickname|}}!', :'lead');
-- HTML bodies: the values are escaped, the template's own markup is not.
SELECT cadence.render_template('<p>Hello {{company}} <b>team</b></p>', :'lead', html => true);
SELECT cadence.render_template('<p>{{x}}</p>', '{"x": "<script>alert(\"1\")</script> & ''q''"}', html => true);
-- Text that only looks like a placeholder stays as it is.
SELECT cadence.render_template('Price: {{ {not closed', :'lead');

-- A variable with neither a value nor a fallback is an error that names
-- it; the runner skips such a step (missing_variable) instead of sending
-- "Hi ,".
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
	RETURN SQLSTATE || ': ' || SQLERRM || ' HINT: ' || h;
END
$$;
SELECT pg_temp.try($$SELECT cadence.render_template('Hi {{firstName}},', '{}')$$);
SELECT pg_temp.try($$SELECT cadence.render_template('Hi {{empty}},', '{"empty": ""}')$$);
