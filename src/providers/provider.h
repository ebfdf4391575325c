/*
 * providers/provider.h
 *		Provider wire formats: turn one rendered message into the request a
 *		provider's API expects (Twilio, Resend, SendGrid, Postmark, SMTP,
 *		WhatsApp Cloud API, Standard Webhooks, Anthropic Messages), and read
 *		the provider's message id or error out of its response.
 *
 * Builders are pure: no SPI, no network, no clock except the webhook
 * timestamp they are handed.  Credentials go into the request only; a
 * builder never copies them anywhere else, and errors it raises never
 * quote them.
 */
#ifndef CADENCE_PROVIDERS_PROVIDER_H
#define CADENCE_PROVIDERS_PROVIDER_H

#include "net/http.h"
#include "utils/jsonb.h"

/* A provider account (a row of cadence.providers). */
typedef struct CadenceAccount
{
	const char *id;
	const char *kind;			/* twilio, resend, sendgrid, postmark, smtp,
								 * whatsapp_cloud, webhook, anthropic */
	const char *base_url;		/* no trailing slash needed */
	Jsonb	   *credentials;	/* see each kind below */
	Jsonb	   *settings;		/* see each kind below */
} CadenceAccount;

/*
 * One message, rendered, for one recipient.  Which members a kind reads:
 *
 *	sms (twilio)		to, from, text
 *	email (resend, sendgrid, postmark, smtp)
 *						to, to_name, from, from_name, reply_to, subject,
 *						html and/or text
 *	whatsapp			to, and text or template (an object
 *						{"name", "language", "components"} as the Cloud API
 *						takes it, variables already rendered)
 *	webhook				url, payload (the JSON body sent as is)
 *	ai (anthropic)		see cadence_anthropic_request
 *
 * from and from_name default to the account's settings (see below).
 */
typedef struct CadenceMessage
{
	const char *idempotency_key;	/* same for every attempt of an action */
	const char *to;
	const char *to_name;
	const char *from;
	const char *from_name;
	const char *reply_to;
	const char *subject;
	const char *text;
	const char *html;
	Jsonb	   *template;		/* whatsapp template, or NULL */
	const char *url;			/* webhook target */
	Jsonb	   *payload;		/* webhook body */
	Jsonb	   *metadata;		/* {"tenantId", "runId", "actionId", ...}:
								 * tags and custom args where a provider has
								 * them */
	int64		timestamp;		/* webhook-timestamp, Unix seconds */
} CadenceMessage;

/* What a response means. */
typedef struct CadenceProviderReply
{
	char	   *message_id;		/* the provider's id of the message, or NULL */
	char	   *error;			/* the provider's documented error code and
								 * message, cleaned, or NULL */
} CadenceProviderReply;

/*
 * Build the request for a message through an account.  Raises 22023 for an
 * account whose credentials or settings lack what its kind needs (naming
 * the missing key, never a value), or an unknown kind.
 *
 * Credentials and settings per kind:
 *	twilio			credentials accountSid, authToken; settings from (a
 *					phone number) or messagingServiceSid
 *	resend			credentials apiKey; settings from, fromName
 *	sendgrid		credentials apiKey; settings from, fromName
 *	postmark		credentials serverToken; settings from, fromName,
 *					messageStream
 *	smtp			credentials username, password (both optional); settings
 *					from, fromName; base_url smtp://host:port or smtps://
 *	whatsapp_cloud	credentials accessToken; settings phoneNumberId,
 *					apiVersion (default v21.0)
 *	webhook			credentials secret ("whsec_" + base64, Standard Webhooks)
 */
extern CadenceHttpRequest *cadence_provider_request(const CadenceAccount *acct,
													const CadenceMessage *msg);

/* Read a finished request's response (any status) for id and error text. */
extern void cadence_provider_reply(const CadenceAccount *acct,
								   const CadenceHttpRequest *req,
								   CadenceProviderReply *reply);

/*
 * Anthropic Messages API: ask the model to personalize text for a lead.
 * credentials apiKey; settings model (default claude-sonnet-4-5),
 * maxTokens (default 1024).  prompt is the instruction, draft the rendered
 * template, lead the lead's fields as JSON.
 */
extern CadenceHttpRequest *cadence_anthropic_request(const CadenceAccount *acct,
													 const char *prompt,
													 const char *draft,
													 Jsonb *lead,
													 const char *idempotency_key);

/*
 * The text of a successful Anthropic response of at most max_chars
 * characters, or NULL (with *error set).
 */
extern char *cadence_anthropic_text(const CadenceHttpRequest *req, int max_chars,
									char **error);

#endif							/* CADENCE_PROVIDERS_PROVIDER_H */
