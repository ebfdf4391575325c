/*
 * providers/sms.c
 *		SMS through Twilio's Messages API:
 *			POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json
 *		form-encoded To, From (or MessagingServiceSid) and Body, HTTP Basic
 *		auth with the account SID and auth token; the response's "sid" is the
 *		message id.
 */
#include "postgres.h"

#include "base/json.h"
#include "base/text.h"
#include "providers/kinds.h"
#include "providers/wire.h"

/*
 * cadence_twilio_request
 *		credentials accountSid, authToken; settings from or
 *		messagingServiceSid.
 */
CadenceHttpRequest *
cadence_twilio_request(const CadenceAccount *acct, const CadenceMessage *msg)
{
	char	   *what = psprintf("the credentials of twilio account \"%s\"", acct->id);
	char	   *sid = cadence_jsonb_require(acct->credentials, "accountSid", what);
	char	   *token = cadence_jsonb_require(acct->credentials, "authToken", what);
	const char *from = msg->from ? msg->from : cadence_jsonb_string(acct->settings, "from");
	char	   *service = cadence_jsonb_string(acct->settings, "messagingServiceSid");
	char	   *userpass = psprintf("%s:%s", sid, token);
	CadenceHttpRequest *req;

	if (from == NULL && service == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("twilio account \"%s\" has no from number or messagingServiceSid",
					   acct->id),
				errhint("Set settings.from (a Twilio phone number) or settings.messagingServiceSid."));
	req = cadence_http_request_new("POST",
								   cadence_join_url(acct->base_url,
													psprintf("2010-04-01/Accounts/%s/Messages.json", sid)));
	cadence_http_add_header(req, "Authorization",
							psprintf("Basic %s", cadence_base64(userpass, strlen(userpass))));
	cadence_http_add_header(req, "Content-Type", "application/x-www-form-urlencoded");
	cadence_http_add_header(req, "Accept", "application/json");
	cadence_http_add_header(req, "Idempotency-Key", msg->idempotency_key);
	cadence_form_field(&req->body, "To", msg->to);
	if (service != NULL && msg->from == NULL)
		cadence_form_field(&req->body, "MessagingServiceSid", service);
	else
		cadence_form_field(&req->body, "From", from);
	cadence_form_field(&req->body, "Body", msg->text);
	return req;
}

/*
 * cadence_twilio_reply
 *		"sid" of the created message; errors carry "code" and "message".
 */
void
cadence_twilio_reply(const CadenceAccount *acct, const CadenceHttpRequest *req,
					 CadenceProviderReply *reply)
{
	static const char *const sid[] = {"sid"};
	static const CadenceErrorShape shape = {"Twilio", {"code"}, {"message"}};

	if (req->status >= 200 && req->status < 300)
		reply->message_id = cadence_reply_field(req, sid, 1);
	else
		reply->error = cadence_reply_error(req, &shape);
}
