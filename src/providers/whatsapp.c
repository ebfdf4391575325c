/*
 * providers/whatsapp.c
 *		WhatsApp through the Cloud API:
 *			POST {base}/{apiVersion}/{phoneNumberId}/messages
 *		bearer token, JSON with messaging_product "whatsapp", a text body or
 *		an approved template; the response's messages[0].id (wamid.) is the
 *		message id.
 */
#include "postgres.h"

#include "base/json.h"
#include "providers/kinds.h"
#include "providers/wire.h"

/*
 * cadence_whatsapp_request
 *		credentials accessToken; settings phoneNumberId, apiVersion.
 */
CadenceHttpRequest *
cadence_whatsapp_request(const CadenceAccount *acct, const CadenceMessage *msg)
{
	char	   *what = psprintf("whatsapp_cloud account \"%s\"", acct->id);
	char	   *token = cadence_jsonb_require(acct->credentials, "accessToken",
											  psprintf("the credentials of %s", what));
	char	   *phone_id = cadence_jsonb_require(acct->settings, "phoneNumberId",
												 psprintf("the settings of %s", what));
	char	   *version = cadence_jsonb_string(acct->settings, "apiVersion");
	CadenceHttpRequest *req;
	StringInfo	b;

	req = cadence_http_request_new("POST",
								   cadence_join_url(acct->base_url,
													psprintf("%s/%s/messages",
															 version ? version : "v21.0", phone_id)));
	cadence_http_add_header(req, "Authorization", psprintf("Bearer %s", token));
	cadence_http_add_header(req, "Content-Type", "application/json");
	cadence_http_add_header(req, "Idempotency-Key", msg->idempotency_key);
	b = &req->body;
	appendStringInfoChar(b, '{');
	cadence_json_string(b, "messaging_product", "whatsapp");
	cadence_json_string(b, "recipient_type", "individual");
	cadence_json_string(b, "to", msg->to);
	if (msg->template)
	{
		cadence_json_string(b, "type", "template");
		cadence_json_jsonb(b, "template", msg->template);
	}
	else
	{
		cadence_json_string(b, "type", "text");
		cadence_json_key(b, "text");
		appendStringInfoString(b, "{\"preview_url\":false");
		cadence_json_string(b, "body", msg->text);
		appendStringInfoChar(b, '}');
	}
	appendStringInfoChar(b, '}');
	return req;
}

/*
 * cadence_whatsapp_reply
 *		messages[0].id, or the Graph API's error.code and error.message.
 */
void
cadence_whatsapp_reply(const CadenceAccount *acct, const CadenceHttpRequest *req,
					   CadenceProviderReply *reply)
{
	static const char *const id[] = {"messages", "0", "id"};
	static const CadenceErrorShape shape = {"WhatsApp", {"error", "code"}, {"error", "message"}};

	if (req->status >= 200 && req->status < 300)
		reply->message_id = cadence_reply_field(req, id, 3);
	else
		reply->error = cadence_reply_error(req, &shape);
}
