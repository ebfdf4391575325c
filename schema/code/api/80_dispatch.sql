-- Trying a template: render_template, pure computation any caller may
-- run.  The runners themselves are C (src/dispatch, src/worker).

CREATE OR REPLACE FUNCTION cadence.render_template(template text, vars jsonb DEFAULT '{}',
										html boolean DEFAULT false)
RETURNS text
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_render_template';
COMMENT ON FUNCTION cadence.render_template(text, jsonb, boolean) IS
	'A message template filled from vars the way the runner fills it: {{name}}, {{name|fallback}}, dotted paths, values HTML-escaped when html; 22023 naming a variable with no value and no fallback, 54000 when it renders to more than 262,144 characters';
