/*
 * providers/webhook.c
 *		Webhooks signed the Standard Webhooks way: the headers webhook-id
 *		(the idempotency key, so a receiver can drop redeliveries),
 *		webhook-timestamp (Unix seconds) and webhook-signature, "v1," and the
 *		base64 HMAC-SHA256 of "{id}.{timestamp}.{body}" under the secret
 *		(whsec_ and base64).  The receiver's own response is not read: a
 *		receiver documents no error format, and whatever answers at a URL a
 *		tenant chose must not reach its rows.
 */
#include "postgres.h"

#include "base/json.h"
#include "base/text.h"
#include "providers/kinds.h"
#include "webhooks/signature.h"

/*
 * signature
 *		v1,<base64 HMAC-SHA256 of content under key>.
 */
static char *
signature(const char *key, int keylen, const char *content, int len)
{
	uint8		mac[PG_SHA256_DIGEST_LENGTH];
	int			maclen = cadence_hmac_compute(false, key, keylen, content, len, mac);

	return psprintf("v1,%s", cadence_base64((const char *) mac, maclen));
}

/*
 * cadence_webhook_request
 *		POST the payload to the step's URL; credentials secret.
 */
CadenceHttpRequest *
cadence_webhook_request(const CadenceAccount *acct, const CadenceMessage *msg)
{
	char	   *secret = cadence_jsonb_require(acct->credentials, "secret",
											   psprintf("the credentials of webhook account \"%s\"",
														acct->id));
	CadenceHttpRequest *req = cadence_http_request_new("POST", msg->url);
	char	   *timestamp = psprintf("%lld", (long long) msg->timestamp);
	char	   *key = secret;
	int			keylen = strlen(secret);
	StringInfoData signed_content;

	if (strncmp(secret, "whsec_", 6) == 0 &&
		(key = cadence_unbase64(secret + 6, &keylen)) == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("the secret of webhook account \"%s\" is not whsec_ followed by base64",
					   acct->id));
	(void) JsonbToCString(&req->body, &msg->payload->root, VARSIZE(msg->payload));

	initStringInfo(&signed_content);
	appendStringInfo(&signed_content, "%s.%s.", msg->idempotency_key, timestamp);
	appendBinaryStringInfo(&signed_content, req->body.data, req->body.len);

	cadence_http_add_header(req, "Content-Type", "application/json");
	cadence_http_add_header(req, "webhook-id", msg->idempotency_key);
	cadence_http_add_header(req, "webhook-timestamp", timestamp);
	cadence_http_add_header(req, "webhook-signature",
							signature(key, keylen, signed_content.data, signed_content.len));
	return req;
}

/*
 * cadence_webhook_reply
 *		Any 2xx is delivery; the id is the webhook-id we sent.  Any other
 *		status is all that is said about a failure.
 */
void
cadence_webhook_reply(const CadenceAccount *acct, const CadenceHttpRequest *req,
					  CadenceProviderReply *reply)
{
	ListCell   *lc;

	if (req->status < 200 || req->status >= 300)
		return;
	foreach(lc, req->headers)
		if (strncmp(lfirst(lc), "webhook-id: ", 12) == 0)
			reply->message_id = pstrdup((char *) lfirst(lc) + 12);
}
