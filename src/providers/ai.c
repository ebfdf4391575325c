/*
 * providers/ai.c
 *		AI personalization through the Anthropic Messages API:
 *			POST {base}/v1/messages
 *		headers x-api-key and anthropic-version; the instruction and the
 *		lead's fields go in "system", the rendered draft is the user turn,
 *		and the first text block of the answer replaces the draft.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "base/json.h"
#include "providers/kinds.h"
#include "providers/provider.h"
#include "providers/wire.h"

#define ANTHROPIC_VERSION		"2023-06-01"
#define DEFAULT_MODEL			"claude-sonnet-4-5"
#define DEFAULT_MAX_TOKENS		"1024"

/*
 * cadence_anthropic_request
 *		credentials apiKey; settings model, maxTokens.
 */
CadenceHttpRequest *
cadence_anthropic_request(const CadenceAccount *acct, const char *prompt,
						  const char *draft, Jsonb *lead,
						  const char *idempotency_key)
{
	char	   *key = cadence_jsonb_require(acct->credentials, "apiKey",
											psprintf("the credentials of anthropic account \"%s\"",
													 acct->id));
	char	   *model = cadence_jsonb_string(acct->settings, "model");
	char	   *max_tokens = NULL;
	CadenceHttpRequest *req = cadence_http_request_new("POST",
													   cadence_join_url(acct->base_url, "v1/messages"));
	StringInfo	b = &req->body;
	StringInfoData system;
	JsonbValue	v;

	if (acct->settings && JB_ROOT_IS_OBJECT(acct->settings) &&
		cadence_jsonb_member(&acct->settings->root, "maxTokens", &v) &&
		v.type == jbvNumeric)
		max_tokens = DatumGetCString(DirectFunctionCall1(numeric_out,
														 NumericGetDatum(v.val.numeric)));

	initStringInfo(&system);
	appendStringInfoString(&system, prompt);
	appendStringInfoString(&system, "\n\nThe lead, as JSON: ");
	if (lead)
		(void) JsonbToCString(&system, &lead->root, VARSIZE(lead));
	appendStringInfoString(&system, "\n\nAnswer with the rewritten message only.");

	cadence_http_add_header(req, "x-api-key", key);
	cadence_http_add_header(req, "anthropic-version", ANTHROPIC_VERSION);
	cadence_http_add_header(req, "Content-Type", "application/json");
	cadence_http_add_header(req, "Idempotency-Key", idempotency_key);
	appendStringInfoChar(b, '{');
	cadence_json_string(b, "model", model ? model : DEFAULT_MODEL);
	cadence_json_raw(b, "max_tokens", max_tokens ? max_tokens : DEFAULT_MAX_TOKENS);
	cadence_json_string(b, "system", system.data);
	cadence_json_key(b, "messages");
	appendStringInfoString(b, "[{\"role\":\"user\"");
	cadence_json_string(b, "content", draft);
	appendStringInfoString(b, "}]}");
	return req;
}

/*
 * cadence_anthropic_text
 *		content[0].text of a 2xx answer, if at most max_chars characters;
 *		else NULL and why (the error's type and message, nothing else of
 *		the body).
 */
char *
cadence_anthropic_text(const CadenceHttpRequest *req, int max_chars, char **error)
{
	static const char *const text_path[] = {"content", "0", "text"};
	static const CadenceErrorShape shape = {"Anthropic", {"error", "type"}, {"error", "message"}};
	char	   *text;

	*error = NULL;
	if (req->result != CADENCE_HTTP_RESPONSE)
	{
		*error = psprintf("no answer: %s", req->error ? req->error : "timed out");
		return NULL;
	}
	if (req->status < 200 || req->status >= 300)
	{
		char	   *why = cadence_reply_error(req, &shape);

		*error = why ? psprintf("HTTP %ld: %s", req->status, why)
			: psprintf("HTTP %ld", req->status);
		return NULL;
	}
	text = cadence_reply_field(req, text_path, 3);
	if (text == NULL || text[0] == '\0')
	{
		*error = pstrdup("the answer has no text");
		return NULL;
	}
	if (pg_mbstrlen(text) > max_chars)
	{
		*error = psprintf("the answer is longer than %d characters", max_chars);
		return NULL;
	}
	return text;
}
