/*
 * providers/wire.c
 *		What the provider wire formats share: form bodies, URLs, mailboxes,
 *		Message-IDs, and keeping text that came from elsewhere fit for a mail
 *		header.
 */
#include "postgres.h"


#include "base/text.h"
#include "providers/provider.h"
#include "providers/wire.h"

/*
 * cadence_join_url
 *		base_url and path with one slash between them.
 */
char *
cadence_join_url(const char *base_url, const char *path)
{
	size_t		len = strlen(base_url);

	while (len > 0 && base_url[len - 1] == '/')
		len--;
	while (*path == '/')
		path++;
	return psprintf("%.*s/%s", (int) len, base_url, path);
}

/*
 * cadence_form_field
 *		name=value of an application/x-www-form-urlencoded body, left out
 *		when value is NULL.
 */
void
cadence_form_field(StringInfo buf, const char *name, const char *value)
{
	const unsigned char *p;

	if (value == NULL)
		return;
	if (buf->len > 0)
		appendStringInfoChar(buf, '&');
	appendStringInfo(buf, "%s=", name);
	for (p = (const unsigned char *) value; *p; p++)
	{
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
			appendStringInfoChar(buf, (char) *p);
		else
			appendStringInfo(buf, "%%%02X", *p);
	}
}

/*
 * cadence_mailbox
 *		"Name <address>" when there is a name, else the address.  The name
 *		is quoted when it has characters a mail header would read.
 */
char *
cadence_mailbox(const char *name, const char *address)
{
	if (name == NULL || name[0] == '\0')
		return pstrdup(address);
	if (strpbrk(name, "\"(),.:;<>@[\\]") != NULL)
	{
		StringInfoData buf;
		const char *p;

		initStringInfo(&buf);
		appendStringInfoChar(&buf, '"');
		for (p = name; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				appendStringInfoChar(&buf, '\\');
			appendStringInfoChar(&buf, *p);
		}
		appendStringInfo(&buf, "\" <%s>", address);
		return buf.data;
	}
	return psprintf("%s <%s>", name, address);
}

/*
 * cadence_email_message_id
 *		The Message-ID cadence gives an email: <idempotency-key@host of the
 *		sender>.  A reply names it in In-Reply-To and References, which is
 *		how ingest_webhook finds the step that was answered.
 */
char *
cadence_email_message_id(const CadenceMessage *msg, const char *from)
{
	const char *at = from ? strrchr(from, '@') : NULL;

	return psprintf("<%s@%s>", msg->idempotency_key, at ? at + 1 : "cadence.invalid");
}

/*
 * has_control
 *		Does s hold a control character (a line break, a tab, NUL's kin)?
 */
static bool
has_control(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *) s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/*
 * check_mail_field
 *		One field of check_mail_fields; an address must be one word besides.
 */
static void
check_mail_field(const char *field, const char *value, bool address)
{
	if (value == NULL)
		return;
	if (has_control(value))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("the e-mail's %s \"%s\" holds a line break or another control character",
					   field, cadence_clean_text(value, 100)),
				errhint("A mail header or SMTP command would end there; the e-mail is not sent."));
	if (address && strpbrk(value, " <>") != NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("the e-mail's %s \"%s\" is not a plain address",
					   field, cadence_clean_text(value, 100)),
				errhint("Give the address alone, as in ana@example.com, and the name apart."));
}

/*
 * cadence_check_mail_fields
 *		Refuse an e-mail whose addresses, names or subject hold a line break
 *		or another control character, before any connection: over SMTP each
 *		would end a command or a header and start one of the sender's
 *		choosing, and no provider sends such a message as it was meant.
 *		Raises 22023 naming the field and its value.
 */
void
cadence_check_mail_fields(const CadenceMessage *msg, const char *from,
						  const char *from_name)
{
	check_mail_field("sender address", from, true);
	check_mail_field("sender name", from_name, false);
	check_mail_field("recipient address", msg->to, true);
	check_mail_field("recipient name", msg->to_name, false);
	check_mail_field("reply-to address", msg->reply_to, true);
	check_mail_field("subject", msg->subject, false);
}
