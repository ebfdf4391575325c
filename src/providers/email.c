/*
 * providers/email.c
 *		Email through the HTTP APIs of Resend, SendGrid (v3 mail/send) and
 *		Postmark.  All take JSON with a token; each names the sender, the
 *		recipient and the bodies in its own way.
 */
#include "postgres.h"

#include "base/json.h"
#include "providers/kinds.h"
#include "providers/wire.h"

/* The sender of a message: its own, else the account's settings. */
static void
sender(const CadenceAccount *acct, const CadenceMessage *msg,
	   const char **from, const char **from_name)
{
	*from = msg->from ? msg->from : cadence_jsonb_string(acct->settings, "from");
	*from_name = msg->from_name ? msg->from_name
		: cadence_jsonb_string(acct->settings, "fromName");
	if (*from == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("email account \"%s\" has no sender address", acct->id),
				errhint("Set the provider's settings.from, the cadence's settings.fromEmail or the step's config.email.from."));
	cadence_check_mail_fields(msg, *from, *from_name);
}

/* A JSON API request with a bearer token and the idempotency key. */
static CadenceHttpRequest *
json_request(const CadenceAccount *acct, const CadenceMessage *msg, const char *path,
			 const char *token_header, const char *token_format, const char *token_key)
{
	char	   *what = psprintf("the credentials of %s account \"%s\"", acct->kind, acct->id);
	char	   *token = cadence_jsonb_require(acct->credentials, token_key, what);
	CadenceHttpRequest *req = cadence_http_request_new("POST",
													   cadence_join_url(acct->base_url, path));

	cadence_http_add_header(req, token_header, psprintf(token_format, token));
	cadence_http_add_header(req, "Content-Type", "application/json");
	cadence_http_add_header(req, "Accept", "application/json");
	cadence_http_add_header(req, "Idempotency-Key", msg->idempotency_key);
	return req;
}

/*
 * cadence_resend_request
 *		POST {base}/emails, Authorization: Bearer <apiKey>, Idempotency-Key;
 *		the Message-ID (which replies name) as a header, as for every email.
 */
CadenceHttpRequest *
cadence_resend_request(const CadenceAccount *acct, const CadenceMessage *msg)
{
	const char *from;
	const char *from_name;
	CadenceHttpRequest *req = json_request(acct, msg, "emails", "Authorization",
										   "Bearer %s", "apiKey");
	StringInfo	b = &req->body;

	sender(acct, msg, &from, &from_name);
	appendStringInfoChar(b, '{');
	cadence_json_string(b, "from", cadence_mailbox(from_name, from));
	cadence_json_key(b, "to");
	appendStringInfoChar(b, '[');
	cadence_json_element(b, cadence_mailbox(msg->to_name, msg->to));
	appendStringInfoChar(b, ']');
	cadence_json_string(b, "subject", msg->subject);
	cadence_json_string(b, "html", msg->html);
	cadence_json_string(b, "text", msg->text);
	cadence_json_string(b, "reply_to", msg->reply_to);
	cadence_json_key(b, "headers");
	appendStringInfoChar(b, '{');
	cadence_json_string(b, "Message-ID", cadence_email_message_id(msg, from));
	appendStringInfoChar(b, '}');
	appendStringInfoChar(b, '}');
	return req;
}

/*
 * cadence_sendgrid_request
 *		POST {base}/v3/mail/send, Authorization: Bearer <apiKey>; the
 *		idempotency key and the message's metadata travel as custom_args,
 *		which SendGrid hands back in its event webhooks.
 */
CadenceHttpRequest *
cadence_sendgrid_request(const CadenceAccount *acct, const CadenceMessage *msg)
{
	const char *from;
	const char *from_name;
	CadenceHttpRequest *req = json_request(acct, msg, "v3/mail/send", "Authorization",
										   "Bearer %s", "apiKey");
	StringInfo	b = &req->body;

	sender(acct, msg, &from, &from_name);
	appendStringInfoString(b, "{\"personalizations\":[{\"to\":[{");
	cadence_json_string(b, "email", msg->to);
	cadence_json_string(b, "name", msg->to_name);
	appendStringInfoString(b, "}]}]");
	cadence_json_key(b, "from");
	appendStringInfoChar(b, '{');
	cadence_json_string(b, "email", from);
	cadence_json_string(b, "name", from_name);
	appendStringInfoChar(b, '}');
	if (msg->reply_to)
	{
		cadence_json_key(b, "reply_to");
		appendStringInfoChar(b, '{');
		cadence_json_string(b, "email", msg->reply_to);
		appendStringInfoChar(b, '}');
	}
	cadence_json_string(b, "subject", msg->subject);
	/* text/plain must come before text/html */
	cadence_json_key(b, "content");
	appendStringInfoChar(b, '[');
	if (msg->text)
	{
		appendStringInfoString(b, "{\"type\":\"text/plain\"");
		cadence_json_string(b, "value", msg->text);
		appendStringInfoChar(b, '}');
	}
	if (msg->html)
	{
		if (msg->text)
			appendStringInfoChar(b, ',');
		appendStringInfoString(b, "{\"type\":\"text/html\"");
		cadence_json_string(b, "value", msg->html);
		appendStringInfoChar(b, '}');
	}
	appendStringInfoChar(b, ']');
	cadence_json_key(b, "headers");
	appendStringInfoChar(b, '{');
	cadence_json_string(b, "Message-ID", cadence_email_message_id(msg, from));
	appendStringInfoChar(b, '}');
	cadence_json_key(b, "custom_args");
	appendStringInfoChar(b, '{');
	cadence_json_string(b, "cadence_idempotency_key", msg->idempotency_key);
	appendStringInfoChar(b, '}');
	appendStringInfoChar(b, '}');
	return req;
}

/*
 * cadence_postmark_request
 *		POST {base}/email, X-Postmark-Server-Token; the idempotency key as a
 *		message header.
 */
CadenceHttpRequest *
cadence_postmark_request(const CadenceAccount *acct, const CadenceMessage *msg)
{
	const char *from;
	const char *from_name;
	CadenceHttpRequest *req = json_request(acct, msg, "email", "X-Postmark-Server-Token",
										   "%s", "serverToken");
	char	   *stream = cadence_jsonb_string(acct->settings, "messageStream");
	StringInfo	b = &req->body;

	sender(acct, msg, &from, &from_name);
	appendStringInfoChar(b, '{');
	cadence_json_string(b, "From", cadence_mailbox(from_name, from));
	cadence_json_string(b, "To", cadence_mailbox(msg->to_name, msg->to));
	cadence_json_string(b, "Subject", msg->subject);
	cadence_json_string(b, "HtmlBody", msg->html);
	cadence_json_string(b, "TextBody", msg->text);
	cadence_json_string(b, "ReplyTo", msg->reply_to);
	cadence_json_string(b, "MessageStream", stream ? stream : "outbound");
	cadence_json_key(b, "Headers");
	appendStringInfoString(b, "[{\"Name\":\"X-Cadence-Idempotency-Key\"");
	cadence_json_string(b, "Value", msg->idempotency_key);
	appendStringInfoString(b, "},{\"Name\":\"Message-ID\"");
	cadence_json_string(b, "Value", cadence_email_message_id(msg, from));
	appendStringInfoString(b, "}]}");
	return req;
}

/*
 * cadence_email_reply
 *		The message id: Resend "id", Postmark "MessageID", SendGrid's
 *		X-Message-Id response header (its 202 has no body).  Errors: Resend
 *		"name" and "message", SendGrid errors[0].message, Postmark
 *		"ErrorCode" and "Message".
 */
void
cadence_email_reply(const CadenceAccount *acct, const CadenceHttpRequest *req,
					CadenceProviderReply *reply)
{
	static const char *const id[] = {"id"};
	static const char *const message_id[] = {"MessageID"};
	static const CadenceErrorShape resend = {"Resend", {"name"}, {"message"}};
	static const CadenceErrorShape sendgrid = {"SendGrid", {NULL}, {"errors", "0", "message"}};
	static const CadenceErrorShape postmark = {"Postmark", {"ErrorCode"}, {"Message"}};

	if (req->status < 200 || req->status >= 300)
		reply->error = cadence_reply_error(req,
										   strcmp(acct->kind, "sendgrid") == 0 ? &sendgrid :
										   strcmp(acct->kind, "postmark") == 0 ? &postmark :
										   &resend);
	else if (strcmp(acct->kind, "sendgrid") == 0)
		reply->message_id = cadence_http_response_header(req, "X-Message-Id");
	else if (strcmp(acct->kind, "postmark") == 0)
		reply->message_id = cadence_reply_field(req, message_id, 1);
	else
		reply->message_id = cadence_reply_field(req, id, 1);
}
