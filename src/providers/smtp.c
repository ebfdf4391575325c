/*
 * providers/smtp.c
 *		Email over SMTP for self-hosted mail: a MIME message (text and HTML
 *		alternatives, base64 bodies, encoded-word subject) handed to libcurl's
 *		SMTP client.  The Message-ID carries the idempotency key; it is also
 *		the message id cadence keeps, which inbound replies name in
 *		In-Reply-To.
 */
#include "postgres.h"

#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "base/json.h"
#include "base/text.h"
#include "providers/kinds.h"
#include "providers/wire.h"

/* Base64 body lines are at most this long (RFC 2045). */
#define MIME_LINE 76

/*
 * is_ascii
 *		Plain printable ASCII: no encoding needed in a header.
 */
static bool
is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
			return false;
	return true;
}

/*
 * header_text
 *		A header value: as it is when ASCII, else an RFC 2047 encoded word.
 */
static char *
header_text(const char *s)
{
	if (is_ascii(s))
		return pstrdup(s);
	return psprintf("=?UTF-8?B?%s?=", cadence_base64(s, strlen(s)));
}

/*
 * append_part
 *		One MIME part: its content type and the body in base64 lines.
 */
static void
append_part(StringInfo b, const char *boundary, const char *type, const char *body)
{
	char	   *enc = cadence_base64(body, strlen(body));
	size_t		len = strlen(enc);
	size_t		i;

	appendStringInfo(b, "--%s\r\nContent-Type: %s; charset=UTF-8\r\n"
					 "Content-Transfer-Encoding: base64\r\n\r\n", boundary, type);
	for (i = 0; i < len; i += MIME_LINE)
		appendStringInfo(b, "%.*s\r\n", (int) Min(MIME_LINE, len - i), enc + i);
}

/*
 * rfc5322_date
 *		The Date header of an instant (Unix seconds), in UTC.
 */
static char *
rfc5322_date(int64 unix_secs)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	TimestampTz t = (unix_secs - ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)) *
		USECS_PER_SEC;
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	return psprintf("%s, %02d %s %04d %02d:%02d:%02d +0000",
					days[j2day(date2j(tm.tm_year, tm.tm_mon, tm.tm_mday))],
					tm.tm_mday, months[tm.tm_mon - 1], tm.tm_year,
					tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * cadence_smtp_request
 *		base_url smtp://host:port (STARTTLS when offered) or smtps://;
 *		credentials username, password (optional); settings from, fromName.
 */
CadenceHttpRequest *
cadence_smtp_request(const CadenceAccount *acct, const CadenceMessage *msg)
{
	const char *from = msg->from ? msg->from : cadence_jsonb_string(acct->settings, "from");
	const char *from_name = msg->from_name ? msg->from_name
		: cadence_jsonb_string(acct->settings, "fromName");
	CadenceHttpRequest *req = cadence_http_request_new("SMTP", acct->base_url);
	StringInfo	b = &req->body;
	char	   *boundary = psprintf("cadence-%s", msg->idempotency_key);

	if (from == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("smtp account \"%s\" has no sender address", acct->id),
				errhint("Set the provider's settings.from, the cadence's settings.fromEmail or the step's config.email.from."));
	cadence_check_mail_fields(msg, from, from_name);
	req->mail_from = psprintf("<%s>", from);
	req->mail_rcpt = list_make1(psprintf("<%s>", msg->to));
	req->username = cadence_jsonb_string(acct->credentials, "username");
	req->password = cadence_jsonb_string(acct->credentials, "password");

	appendStringInfo(b, "From: %s\r\n", cadence_mailbox(from_name ? header_text(from_name) : NULL, from));
	appendStringInfo(b, "To: %s\r\n", cadence_mailbox(msg->to_name ? header_text(msg->to_name) : NULL, msg->to));
	if (msg->reply_to)
		appendStringInfo(b, "Reply-To: %s\r\n", msg->reply_to);
	appendStringInfo(b, "Subject: %s\r\n", header_text(msg->subject ? msg->subject : ""));
	appendStringInfo(b, "Date: %s\r\n", rfc5322_date(msg->timestamp));
	appendStringInfo(b, "Message-ID: %s\r\n", cadence_email_message_id(msg, from));
	appendStringInfo(b, "X-Cadence-Idempotency-Key: %s\r\n", msg->idempotency_key);
	appendStringInfoString(b, "MIME-Version: 1.0\r\n");
	appendStringInfo(b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);
	if (msg->text)
		append_part(b, boundary, "text/plain", msg->text);
	if (msg->html)
		append_part(b, boundary, "text/html", msg->html);
	appendStringInfo(b, "--%s--\r\n", boundary);
	return req;
}

/*
 * cadence_smtp_reply
 *		A 2xx reply to the message is acceptance; the id is our Message-ID.
 *		A refusal is told by its reply code alone.
 */
void
cadence_smtp_reply(const CadenceAccount *acct, const CadenceHttpRequest *req,
				   CadenceProviderReply *reply)
{
	const char *p;
	const char *e;

	if (req->status >= 200 && req->status < 300)
	{
		p = strstr(req->body.data, "\r\nMessage-ID: <");
		e = p ? strchr(p + 15, '>') : NULL;
		if (p && e)
			reply->message_id = pnstrdup(p + 15, e - p - 15);
	}
}
