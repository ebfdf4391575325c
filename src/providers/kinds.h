/*
 * providers/kinds.h
 *		The builders and readers of each provider kind, for providers/provider.c
 *		to dispatch on.  Each file implements one family of wire formats.
 */
#ifndef CADENCE_PROVIDERS_KINDS_H
#define CADENCE_PROVIDERS_KINDS_H

#include "providers/provider.h"

/* providers/sms.c: Twilio Messages API */
extern CadenceHttpRequest *cadence_twilio_request(const CadenceAccount *acct,
												  const CadenceMessage *msg);
extern void cadence_twilio_reply(const CadenceAccount *acct,
								 const CadenceHttpRequest *req,
								 CadenceProviderReply *reply);

/* providers/email.c: Resend, SendGrid v3, Postmark */
extern CadenceHttpRequest *cadence_resend_request(const CadenceAccount *acct,
												  const CadenceMessage *msg);
extern CadenceHttpRequest *cadence_sendgrid_request(const CadenceAccount *acct,
													const CadenceMessage *msg);
extern CadenceHttpRequest *cadence_postmark_request(const CadenceAccount *acct,
													const CadenceMessage *msg);
extern void cadence_email_reply(const CadenceAccount *acct,
								const CadenceHttpRequest *req,
								CadenceProviderReply *reply);

/* providers/smtp.c: a MIME message over SMTP */
extern CadenceHttpRequest *cadence_smtp_request(const CadenceAccount *acct,
												const CadenceMessage *msg);
extern void cadence_smtp_reply(const CadenceAccount *acct,
							   const CadenceHttpRequest *req,
							   CadenceProviderReply *reply);

/* providers/whatsapp.c: WhatsApp Cloud API */
extern CadenceHttpRequest *cadence_whatsapp_request(const CadenceAccount *acct,
													const CadenceMessage *msg);
extern void cadence_whatsapp_reply(const CadenceAccount *acct,
								   const CadenceHttpRequest *req,
								   CadenceProviderReply *reply);

/* providers/webhook.c: Standard Webhooks */
extern CadenceHttpRequest *cadence_webhook_request(const CadenceAccount *acct,
												   const CadenceMessage *msg);
extern void cadence_webhook_reply(const CadenceAccount *acct,
								  const CadenceHttpRequest *req,
								  CadenceProviderReply *reply);

/*
 * Where a provider's JSON error body keeps its code and its message (paths
 * of up to three names; a number indexes an array; code {NULL} for none).
 */
typedef struct CadenceErrorShape
{
	const char *provider;		/* as it is named in error texts */
	const char *code[3];
	const char *message[3];
} CadenceErrorShape;

/*
 * providers/provider.c: "<provider> error <code>: <message>" from those fields,
 * cleaned and cut short, or NULL; nothing else of the body
 */
extern char *cadence_reply_error(const CadenceHttpRequest *req,
								 const CadenceErrorShape *shape);

/* providers/provider.c: a string at a path of a JSON response body, or NULL */
extern char *cadence_reply_field(const CadenceHttpRequest *req,
								 const char *const *path, int depth);

#endif							/* CADENCE_PROVIDERS_KINDS_H */
