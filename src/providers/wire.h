/*
 * providers/wire.h
 *		What the provider wire formats share (providers/wire.c): form bodies,
 *		URLs, mailboxes, Message-IDs, checked mail fields.
 */
#ifndef CADENCE_PROVIDERS_WIRE_H
#define CADENCE_PROVIDERS_WIRE_H

#include "lib/stringinfo.h"

/* base_url + "/" + path, with exactly one slash between them. */
extern char *cadence_join_url(const char *base_url, const char *path);

/* name=value&... of a form body (value NULL: left out). */
extern void cadence_form_field(StringInfo buf, const char *name,
							   const char *value);

/* "Name <address>", or the address alone. */
extern char *cadence_mailbox(const char *name, const char *address);

/* The Message-ID of an email: <idempotency key@the sender's host>. */
struct CadenceMessage;
extern char *cadence_email_message_id(const struct CadenceMessage *msg,
									  const char *from);

/*
 * Refuse (22023) an e-mail whose sender, recipient or reply-to address,
 * sender or recipient name, or subject holds a line break or another
 * control character, or whose addresses are not plain addresses.
 */
extern void cadence_check_mail_fields(const struct CadenceMessage *msg,
									  const char *from, const char *from_name);

#endif							/* CADENCE_PROVIDERS_WIRE_H */
