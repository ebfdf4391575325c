/*
 * dispatch/build.c
 *		Turn a claimed action into its message and requests: pick the
 *		content (the step's own, or its cadence.templates row), render it
 *		for the lead, and let the provider build the request.  A step with
 *		aiPersonalization also gets an Anthropic request, whose answer
 *		replaces the text before the provider request is built again
 *		(cadence_dispatch_send).
 *
 * Where the content lives, per step type:
 *	sms			config.sms.body (or the template's text); from
 *	email		config.email.subject, bodyHtml, bodyText (or the template's),
 *				from, fromName, replyTo; the cadence's settings.fromEmail and
 *				fromName are the defaults
 *	whatsapp	config.whatsapp.body, or config.whatsapp.template
 *	webhook		config.webhook.url, and config.webhook.payload, sent inside
 *				{"type": "cadence.step", "timestamp", "data": {...}}
 *
 * Each rendered text has its cap (base/template.h): an SMS body, a WhatsApp
 * text, an e-mail subject their own, the rest the general one.  A text that
 * would pass it fails the action, saying which text and the cap.
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xlog.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "base/json.h"
#include "base/template.h"
#include "dispatch/dispatch.h"

/* What the AI is asked when the step gives no prompt of its own. */
#define DEFAULT_AI_PROMPT \
	"You personalize sales outreach. Rewrite the draft for this lead: keep " \
	"its meaning, length and tone, mention what the lead's details make " \
	"relevant, and invent nothing."

/*
 * cadence_idempotency_key
 *		cadence-<installation>-<action id>: the installation part (from the
 *		cluster's system identifier and the database) keeps two databases
 *		that share a provider account from colliding.
 */
char *
cadence_idempotency_key(int64 action_id)
{
	uint64		installation = GetSystemIdentifier() ^ ((uint64) MyDatabaseId << 32);

	return psprintf("cadence-%016llx-%lld", (unsigned long long) installation,
					(long long) action_id);
}

/*
 * cadence_ai_config
 *		config.aiPersonalization: {} for true, the object itself, or NULL
 *		when absent or false.
 */
Jsonb *
cadence_ai_config(Jsonb *config)
{
	JsonbValue	v;

	if (config == NULL || !JB_ROOT_IS_OBJECT(config) ||
		cadence_jsonb_member(&config->root, "aiPersonalization", &v) == NULL)
		return NULL;
	if (v.type == jbvBool)
		return v.val.boolean ? DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																  CStringGetDatum("{}"))) : NULL;
	if (v.type == jbvBinary && JsonContainerIsObject(v.val.binary.data))
		return JsonbValueToJsonb(&v);
	return NULL;
}

/*
 * render
 *		Render a template for the item's lead; a variable without value or
 *		fallback skips the item (missing_variable), a text longer than
 *		max_chars fails it naming what (the "sms body"), and either returns
 *		NULL.
 */
static char *
render(DispatchItem *item, const char *tmpl, CadenceEscape escape, int max_chars,
	   const char *what)
{
	char	   *missing;
	char	   *out;

	if (tmpl == NULL || item->verdict != VERDICT_SEND)
		return NULL;
	out = cadence_render(tmpl, item->vars, escape, max_chars, &missing);
	if (out == NULL && missing != NULL)
		cadence_dispatch_verdict(item, VERDICT_SKIPPED, "missing_variable",
								 psprintf("template variable \"%s\" has no value and no fallback",
										  missing));
	else if (out == NULL)
		cadence_dispatch_verdict(item, VERDICT_FAILED, NULL,
								 psprintf("the rendered %s would be longer than %d characters",
										  what, max_chars));
	return out;
}

/*
 * render_jsonb
 *		Render every {{...}} inside the string values of a JSON value.
 */
static Jsonb *
render_jsonb(DispatchItem *item, Jsonb *value, const char *what)
{
	char	   *text;

	if (value == NULL)
		return NULL;
	text = render(item, JsonbToCString(NULL, &value->root, VARSIZE(value)),
				  CADENCE_ESCAPE_JSON, CADENCE_MAX_RENDERED_CHARS, what);
	if (text == NULL)
		return NULL;
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
}

/*
 * webhook_payload
 *		The body of a webhook step: an event envelope around the lead and
 *		the step's own rendered payload.
 */
static Jsonb *
webhook_payload(DispatchBatch *batch, DispatchItem *item, Jsonb *payload)
{
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfoChar(&b, '{');
	cadence_json_string(&b, "type", "cadence.step");
	cadence_json_string(&b, "timestamp",
						DatumGetCString(DirectFunctionCall1(timestamptz_out,
															TimestampTzGetDatum(batch->now))));
	cadence_json_key(&b, "data");
	appendStringInfoChar(&b, '{');
	cadence_json_string(&b, "tenantId", item->tenant_id);
	cadence_json_string(&b, "cadenceId", item->cadence_id);
	cadence_json_raw(&b, "runId", psprintf("%lld", (long long) item->run_id));
	cadence_json_raw(&b, "actionId", psprintf("%lld", (long long) item->id));
	cadence_json_raw(&b, "stepNumber", psprintf("%d", item->step_number));
	cadence_json_string(&b, "leadId", item->lead_id);
	cadence_json_jsonb(&b, "lead", item->vars);
	cadence_json_jsonb(&b, "payload", payload);
	appendStringInfoString(&b, "}}");
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(b.data)));
}

/*
 * blank
 *		Is a rendered text missing, empty or only white space?
 */
static bool
blank(const char *text)
{
	if (text == NULL)
		return true;
	for (; *text; text++)
		if (!isspace((unsigned char) *text))
			return false;
	return true;
}

/*
 * require_body
 *		An SMS or WhatsApp text that renders to nothing fails before any
 *		request: a provider would refuse it, or deliver an empty message.
 */
static void
require_body(DispatchItem *item, Jsonb *cc, const char *source)
{
	char	   *template_id = cadence_jsonb_string(cc, "templateId");

	if (item->verdict != VERDICT_SEND || !blank(item->msg.text))
		return;
	if (source == NULL && template_id != NULL)
		cadence_dispatch_verdict(item, VERDICT_FAILED, "empty_body",
								 psprintf("template \"%s\" not found or has no text", template_id));
	else if (source == NULL)
		cadence_dispatch_verdict(item, VERDICT_FAILED, "empty_body",
								 psprintf("the %s step has no body", item->type));
	else
		cadence_dispatch_verdict(item, VERDICT_FAILED, "empty_body",
								 psprintf("the %s body renders empty", item->type));
}

/*
 * fill_message
 *		The rendered message of the item's channel.
 */
static void
fill_message(DispatchBatch *batch, DispatchItem *item)
{
	CadenceMessage *m = &item->msg;
	Jsonb	   *cc = cadence_jsonb_object(item->config, item->type);

	memset(m, 0, sizeof(*m));
	m->idempotency_key = cadence_idempotency_key(item->id);
	m->timestamp = (batch->now / USECS_PER_SEC) +
		(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	m->to = item->address;
	m->to_name = cadence_jsonb_string(item->vars, "fullName");
	m->from = cadence_jsonb_string(cc, "from");
	m->from_name = cadence_jsonb_string(cc, "fromName");
	m->reply_to = cadence_jsonb_string(cc, "replyTo");

	if (strcmp(item->type, "sms") == 0)
	{
		char	   *body = cadence_jsonb_string(cc, "body");

		if (body == NULL)
			body = item->template_text;
		m->text = render(item, body, CADENCE_ESCAPE_NONE, CADENCE_MAX_SMS_CHARS, "sms body");
		require_body(item, cc, body);
	}
	else if (strcmp(item->type, "email") == 0)
	{
		char	   *subject = cadence_jsonb_string(cc, "subject");
		char	   *html = cadence_jsonb_string(cc, "bodyHtml");
		char	   *text = cadence_jsonb_string(cc, "bodyText");

		if (html == NULL && text == NULL)
		{
			html = item->template_html;
			text = item->template_text;
		}
		if (subject == NULL)
			subject = item->template_subject;
		if (subject == NULL || (html == NULL && text == NULL))
		{
			cadence_dispatch_verdict(item, VERDICT_FAILED, NULL,
									 cadence_jsonb_string(cc, "templateId")
									 ? psprintf("template \"%s\" not found or has no subject or body",
												cadence_jsonb_string(cc, "templateId"))
									 : pstrdup("the email step has no subject or body"));
			return;
		}
		if (m->from == NULL)
			m->from = cadence_jsonb_string(item->settings, "fromEmail");
		if (m->from_name == NULL)
			m->from_name = cadence_jsonb_string(item->settings, "fromName");
		m->subject = render(item, subject, CADENCE_ESCAPE_NONE, CADENCE_MAX_SUBJECT_CHARS,
							"email subject");
		m->html = render(item, html, CADENCE_ESCAPE_HTML, CADENCE_MAX_RENDERED_CHARS,
						 "email HTML body");
		m->text = render(item, text, CADENCE_ESCAPE_NONE, CADENCE_MAX_RENDERED_CHARS,
						 "email text body");
	}
	else if (strcmp(item->type, "whatsapp") == 0)
	{
		char	   *body = cadence_jsonb_string(cc, "body");
		Jsonb	   *template = cadence_jsonb_object(cc, "template");

		if (body == NULL)
			body = item->template_text;
		if (body == NULL && template != NULL)
			m->template = render_jsonb(item, template, "whatsapp template");
		else
		{
			m->text = render(item, body, CADENCE_ESCAPE_NONE, CADENCE_MAX_WHATSAPP_CHARS,
							 "whatsapp body");
			require_body(item, cc, body);
		}
	}
	else
	{
		m->url = cadence_jsonb_string(cc, "url");
		m->payload = webhook_payload(batch, item,
									 render_jsonb(item, cadence_jsonb_object(cc, "payload"),
												  "webhook payload"));
	}
}

/*
 * ai_draft
 *		The text an AI rewrite replaces: the plain text of the message, or
 *		its HTML when it has no plain text.
 */
static const char **
ai_draft(DispatchItem *item)
{
	CadenceMessage *m = &item->msg;

	if (m->text != NULL)
		return &m->text;
	if (m->html != NULL)
		return &m->html;
	return NULL;
}

/*
 * cadence_dispatch_build
 *		Message, AI request (when asked for) and provider request.
 */
void
cadence_dispatch_build(DispatchBatch *batch, DispatchItem *item)
{
	Jsonb	   *ai = cadence_ai_config(item->config);
	const char **draft;

	fill_message(batch, item);
	if (item->verdict != VERDICT_SEND)
		return;
	if (ai != NULL && item->ai_account != NULL && (draft = ai_draft(item)) != NULL)
	{
		char	   *prompt = cadence_jsonb_string(ai, "prompt");

		item->ai_prompt = prompt ? render(item, prompt, CADENCE_ESCAPE_NONE,
										  CADENCE_MAX_RENDERED_CHARS, "AI prompt")
			: pstrdup(DEFAULT_AI_PROMPT);
		if (item->verdict != VERDICT_SEND)
			return;
		item->ai_req = cadence_anthropic_request(&item->ai_account->acct, item->ai_prompt,
												 *draft, item->vars,
												 item->msg.idempotency_key);
		item->ai_req->group = item->ai_account->index;
		item->ai_req->owner = item;
	}
	item->req = cadence_provider_request(&item->account->acct, &item->msg);
	item->req->group = item->account->index;
	item->req->not_before = item->not_before;
	item->req->owner = item;
}
