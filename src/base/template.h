/*
 * base/template.h
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
 *
 * Rendered text is capped, and the cap is enforced while rendering: a
 * template that repeats a large variable stops as soon as its text would
 * pass the cap, so memory and time follow the cap, never the product of
 * the template and the lead.
 */
#ifndef CADENCE_BASE_TEMPLATE_H
#define CADENCE_BASE_TEMPLATE_H

#include "utils/jsonb.h"

typedef enum CadenceEscape
{
	CADENCE_ESCAPE_NONE,		/* plain text: SMS, subjects */
	CADENCE_ESCAPE_HTML,		/* &, <, >, ", ' */
	CADENCE_ESCAPE_JSON			/* the inside of a JSON string */
} CadenceEscape;

/*
 * Caps on rendered text, in characters (README, "Sending"): what providers
 * take for an SMS (Twilio's 1,600) and a WhatsApp text (4,096), a mail
 * header line for a subject (RFC 5322's 998), and 256 K for everything else
 * rendered (e-mail bodies, webhook payloads, WhatsApp templates, AI
 * prompts, task texts, cadence.render_template).
 */
#define CADENCE_MAX_SMS_CHARS		1600
#define CADENCE_MAX_WHATSAPP_CHARS	4096
#define CADENCE_MAX_SUBJECT_CHARS	998
#define CADENCE_MAX_RENDERED_CHARS	(256 * 1024)

/* The cap on the text of a step type's message: sms, whatsapp, the rest. */
extern int	cadence_text_cap(const char *step_type);

/*
 * Render tmpl with vars (a jsonb object; NULL for none).  Returns the text,
 * palloc'd, or NULL: with *missing set to the name of the first variable
 * that had no value and no fallback, or with *missing NULL when the text
 * would be longer than max_chars characters.  An unterminated "{{" is kept
 * as text.
 */
extern char *cadence_render(const char *tmpl, Jsonb *vars, CadenceEscape escape,
							int max_chars, char **missing);

#endif							/* CADENCE_BASE_TEMPLATE_H */
