/*
 * provider_util.h
 *		Small helpers the provider wire formats and the dispatcher share
 *		(provider_util.c): jsonb members, a JSON and form body writer, URLs,
 *		base64, mailboxes, Message-IDs, checked mail fields, cleaned text.
 */
#ifndef CADENCE_PROVIDER_UTIL_H
#define CADENCE_PROVIDER_UTIL_H

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/* A non-empty string member of a jsonb object (palloc'd), or NULL. */
extern char *cadence_jsonb_string(Jsonb *obj, const char *key);

/* The same, but a missing member is an error: "<what> has no <key>". */
extern char *cadence_jsonb_require(Jsonb *obj, const char *key,
								   const char *what);

/* An object member of a jsonb object, or NULL. */
extern Jsonb *cadence_jsonb_object(Jsonb *obj, const char *key);

/* base_url + "/" + path, with exactly one slash between them. */
extern char *cadence_join_url(const char *base_url, const char *path);

/*
 * JSON writing: the caller appends '{' or '[' and the closing bracket;
 * these add commas as needed.  Members with a NULL value are left out.
 */
extern void cadence_json_key(StringInfo buf, const char *key);
extern void cadence_json_string(StringInfo buf, const char *key,
								const char *value);
extern void cadence_json_raw(StringInfo buf, const char *key, const char *json);
extern void cadence_json_jsonb(StringInfo buf, const char *key, Jsonb *value);
extern void cadence_json_element(StringInfo buf, const char *value);

/* name=value&... of a form body (value NULL: left out). */
extern void cadence_form_field(StringInfo buf, const char *name,
							   const char *value);

/* Base64 without line breaks, and back (NULL when not base64). */
extern char *cadence_base64(const char *data, int len);
extern char *cadence_unbase64(const char *text, int *len);

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

/*
 * Text fit for a row members read: valid in the database encoding, control
 * characters turned into spaces, at most max_chars characters.
 */
extern char *cadence_clean_text(const char *s, int max_chars);

#endif							/* CADENCE_PROVIDER_UTIL_H */
