/*
 * base/template.c
 *		{{variable}} and {{variable|fallback}} rendering (see base/template.h),
 *		and cadence.render_template() to try a template from SQL.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "base/json.h"
#include "base/template.h"

PG_FUNCTION_INFO_V1(cadence_render_template);

/*
 * cadence_text_cap
 *		The cap on a step type's message text.
 */
int
cadence_text_cap(const char *step_type)
{
	if (strcmp(step_type, "sms") == 0)
		return CADENCE_MAX_SMS_CHARS;
	if (strcmp(step_type, "whatsapp") == 0)
		return CADENCE_MAX_WHATSAPP_CHARS;
	return CADENCE_MAX_RENDERED_CHARS;
}

/*
 * append_escaped
 *		Append len bytes of s, escaped for where they land, unless out would
 *		pass max_bytes: then false, and out is to be thrown away.  Escaping
 *		only lengthens, so a piece that is too long as it is is refused
 *		before anything is copied.
 */
static bool
append_escaped(StringInfo out, const char *s, int len, CadenceEscape escape,
			   int max_bytes)
{
	int			i;

	if (len > max_bytes - out->len)
		return false;
	if (escape == CADENCE_ESCAPE_NONE)
	{
		appendBinaryStringInfo(out, s, len);
		return true;
	}
	for (i = 0; i < len && out->len <= max_bytes; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (escape == CADENCE_ESCAPE_HTML)
		{
			switch (c)
			{
				case '&':
					appendStringInfoString(out, "&amp;");
					continue;
				case '<':
					appendStringInfoString(out, "&lt;");
					continue;
				case '>':
					appendStringInfoString(out, "&gt;");
					continue;
				case '"':
					appendStringInfoString(out, "&quot;");
					continue;
				case '\'':
					appendStringInfoString(out, "&#39;");
					continue;
			}
		}
		else if (escape == CADENCE_ESCAPE_JSON)
		{
			if (c == '"' || c == '\\')
			{
				appendStringInfoChar(out, '\\');
				appendStringInfoChar(out, (char) c);
				continue;
			}
			if (c < 0x20)
			{
				appendStringInfo(out, "\\u%04x", c);
				continue;
			}
		}
		appendStringInfoChar(out, (char) c);
	}
	return out->len <= max_bytes;
}

/*
 * lookup
 *		The value at a dotted path of vars, as text; NULL when missing, JSON
 *		null or an empty string.
 */
static char *
lookup(Jsonb *vars, const char *name, int len)
{
	JsonbContainer *obj;
	JsonbValue	v;
	const char *part = name;
	const char *end = name + len;

	if (vars == NULL || !JB_ROOT_IS_OBJECT(vars))
		return NULL;
	obj = &vars->root;
	for (;;)
	{
		const char *dot = memchr(part, '.', end - part);
		int			plen = (dot ? dot : end) - part;

		if (cadence_jsonb_member_len(obj, part, plen, &v) == NULL)
			return NULL;
		if (dot == NULL)
			break;
		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			return NULL;
		obj = v.val.binary.data;
		part = dot + 1;
	}

	switch (v.type)
	{
		case jbvString:
			return v.val.string.len > 0 ? pnstrdup(v.val.string.val, v.val.string.len) : NULL;
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v.val.numeric)));
		case jbvBool:
			return pstrdup(v.val.boolean ? "true" : "false");
		case jbvBinary:
			if (JsonContainerIsArray(v.val.binary.data))
			{
				StringInfoData buf;
				JsonbIterator *it = JsonbIteratorInit(v.val.binary.data);
				JsonbValue	e;
				JsonbIteratorToken tok;

				initStringInfo(&buf);
				while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
					if (tok == WJB_ELEM && e.type == jbvString)
						appendStringInfo(&buf, "%s%.*s", buf.len ? ", " : "",
										 e.val.string.len, e.val.string.val);
				return buf.len > 0 ? buf.data : NULL;
			}
			return JsonbToCString(NULL, v.val.binary.data, -1);
		default:
			return NULL;
	}
}

/*
 * trimmed
 *		[*s, *e) without surrounding blanks.
 */
static void
trimmed(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char) **s))
		(*s)++;
	while (*e > *s && isspace((unsigned char) (*e)[-1]))
		(*e)--;
}

/*
 * cadence_render
 *		Fill every {{...}} of tmpl from vars, within max_chars characters.
 *		While rendering, the bound is in bytes (max_chars characters of the
 *		database encoding at their widest), checked before each piece is
 *		appended; the characters are counted once at the end.
 */
char *
cadence_render(const char *tmpl, Jsonb *vars, CadenceEscape escape,
			   int max_chars, char **missing)
{
	int			max_bytes = max_chars * pg_database_encoding_max_length();
	StringInfoData out;
	const char *p = tmpl;
	bool		fits = true;

	*missing = NULL;
	initStringInfo(&out);
	while (fits)
	{
		const char *open = strstr(p, "{{");
		const char *close;
		const char *name;
		const char *name_end;
		const char *bar;
		char	   *value;

		if (open == NULL || (close = strstr(open + 2, "}}")) == NULL)
		{
			fits = append_escaped(&out, p, strlen(p), CADENCE_ESCAPE_NONE, max_bytes);
			break;
		}
		fits = append_escaped(&out, p, open - p, CADENCE_ESCAPE_NONE, max_bytes);
		if (!fits)
			break;
		name = open + 2;
		bar = memchr(name, '|', close - name);
		name_end = bar ? bar : close;
		trimmed(&name, &name_end);
		value = lookup(vars, name, name_end - name);
		if (value != NULL)
		{
			fits = append_escaped(&out, value, strlen(value), escape, max_bytes);
			pfree(value);
		}
		else if (bar != NULL)
		{
			const char *fb = bar + 1;
			const char *fb_end = close;

			trimmed(&fb, &fb_end);
			fits = append_escaped(&out, fb, fb_end - fb, CADENCE_ESCAPE_NONE, max_bytes);
		}
		else
		{
			*missing = pnstrdup(name, name_end - name);
			pfree(out.data);
			return NULL;
		}
		p = close + 2;
	}
	if (!fits || pg_mbstrlen_with_len(out.data, out.len) > max_chars)
	{
		pfree(out.data);
		return NULL;
	}
	return out.data;
}

/*
 * cadence.render_template(template text, vars jsonb, html boolean) RETURNS text
 *		What a template becomes for these variables; a variable without a
 *		value or fallback is an error naming it (22023), a text longer than
 *		CADENCE_MAX_RENDERED_CHARS too (54000).
 */
Datum
cadence_render_template(PG_FUNCTION_ARGS)
{
	char	   *tmpl = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Jsonb	   *vars = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	bool		html = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
	char	   *missing;
	char	   *out;

	out = cadence_render(tmpl, vars, html ? CADENCE_ESCAPE_HTML : CADENCE_ESCAPE_NONE,
						 CADENCE_MAX_RENDERED_CHARS, &missing);
	if (out == NULL && missing == NULL)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("the template renders to more than %d characters",
					   CADENCE_MAX_RENDERED_CHARS),
				errhint("A rendered message is capped; look for a large variable repeated in the template."));
	if (out == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("template variable \"%s\" has no value and no fallback", missing),
				errhint("Give it a fallback, as in {{%s|there}}, or a value for every lead.",
						missing));
	PG_RETURN_TEXT_P(cstring_to_text(out));
}
