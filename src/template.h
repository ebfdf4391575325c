/*
 * template.h
 *		Message templates: {{name}} and {{name|fallback}} filled from a lead.
 *
 * A name is a key of the variables object, or a dotted path into nested
 * objects ({{attributes.title}}).  Spaces around the name and the fallback
 * are ignored.  A value that is missing, JSON null or an empty string takes
 * the fallback; without one the template cannot be rendered and the caller
 * learns which variable was missing (a message saying "Hi ," is never
 * sent).  Strings are inserted as they are, numbers and booleans as their
 * JSON text, arrays of strings joined with ", ".  Inserted values (not the
 * template's own text, fallbacks included) are escaped for where they land:
 * HTML bodies, or the inside of JSON strings.
 */
#ifndef CADENCE_TEMPLATE_H
#define CADENCE_TEMPLATE_H

#include "utils/jsonb.h"

typedef enum CadenceEscape
{
	CADENCE_ESCAPE_NONE,		/* plain text: SMS, subjects */
	CADENCE_ESCAPE_HTML,		/* &, <, >, ", ' */
	CADENCE_ESCAPE_JSON			/* the inside of a JSON string */
} CadenceEscape;

/*
 * Render tmpl with vars (a jsonb object; NULL for none).  Returns the text,
 * palloc'd, or NULL with *missing set to the name of the first variable that
 * had no value and no fallback.  An unterminated "{{" is kept as text.
 */
extern char *cadence_render(const char *tmpl, Jsonb *vars, CadenceEscape escape,
							char **missing);

#endif							/* CADENCE_TEMPLATE_H */
