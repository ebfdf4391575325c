/*
 * provider.c
 *		One entry point over every provider kind (see provider.h), and what
 *		reading their responses shares.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "provider.h"
#include "provider_kinds.h"

typedef struct ProviderKind
{
	const char *kind;
	CadenceHttpRequest *(*build) (const CadenceAccount *, const CadenceMessage *);
	void		(*reply) (const CadenceAccount *, const CadenceHttpRequest *,
						  CadenceProviderReply *);
} ProviderKind;

static const ProviderKind kinds[] = {
	{"twilio", cadence_twilio_request, cadence_twilio_reply},
	{"resend", cadence_resend_request, cadence_email_reply},
	{"sendgrid", cadence_sendgrid_request, cadence_email_reply},
	{"postmark", cadence_postmark_request, cadence_email_reply},
	{"smtp", cadence_smtp_request, cadence_smtp_reply},
	{"whatsapp_cloud", cadence_whatsapp_request, cadence_whatsapp_reply},
	{"webhook", cadence_webhook_request, cadence_webhook_reply},
};

/* Longest provider error text kept, in bytes. */
#define MAX_ERROR_TEXT 300

/*
 * find_kind
 *		The wire format of an account's kind.
 */
static const ProviderKind *
find_kind(const CadenceAccount *acct)
{
	int			i;

	for (i = 0; i < lengthof(kinds); i++)
		if (strcmp(kinds[i].kind, acct->kind) == 0)
			return &kinds[i];
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("provider account \"%s\" is of kind \"%s\", which cannot send messages",
				   acct->id, acct->kind));
	return NULL;				/* keep compiler quiet */
}

/*
 * cadence_provider_request
 *		Build the request of a message through an account.
 */
CadenceHttpRequest *
cadence_provider_request(const CadenceAccount *acct, const CadenceMessage *msg)
{
	return find_kind(acct)->build(acct, msg);
}

/*
 * cadence_provider_reply
 *		Read the id or the error out of a response.
 */
void
cadence_provider_reply(const CadenceAccount *acct, const CadenceHttpRequest *req,
					   CadenceProviderReply *reply)
{
	memset(reply, 0, sizeof(*reply));
	find_kind(acct)->reply(acct, req, reply);
}

/*
 * response_json
 *		The response body as jsonb, or NULL when it is not JSON.
 */
static Jsonb *
response_json(const CadenceHttpRequest *req)
{
	Jsonb	   *volatile result = NULL;
	MemoryContext mcxt = CurrentMemoryContext;

	if (req->response.len == 0 || (req->response.data[0] != '{' && req->response.data[0] != '['))
		return NULL;
	PG_TRY();
	{
		result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
													CStringGetDatum(req->response.data)));
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(mcxt);
		FlushErrorState();
		result = NULL;
	}
	PG_END_TRY();
	return result;
}

/*
 * cadence_reply_field
 *		The string (or number) at path in a JSON response body; a numeric
 *		path element ("0") indexes an array.
 */
char *
cadence_reply_field(const CadenceHttpRequest *req, const char *const *path, int depth)
{
	Jsonb	   *body = response_json(req);
	JsonbContainer *c;
	JsonbValue	v;
	int			i;

	if (body == NULL)
		return NULL;
	c = &body->root;
	for (i = 0; i < depth; i++)
	{
		JsonbValue *e;

		if (JsonContainerIsArray(c))
		{
			e = getIthJsonbValueFromContainer(c, (uint32) atoi(path[i]));
			if (e == NULL)
				return NULL;
			v = *e;
		}
		else if (getKeyJsonValueFromContainer(c, path[i], strlen(path[i]), &v) == NULL)
			return NULL;
		if (i == depth - 1)
			break;
		if (v.type != jbvBinary)
			return NULL;
		c = v.val.binary.data;
	}
	if (v.type == jbvString)
		return pnstrdup(v.val.string.val, v.val.string.len);
	if (v.type == jbvNumeric)
		return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
	return NULL;
}

/*
 * cadence_reply_error
 *		The error message of a provider's JSON error body, in the places the
 *		providers put it; else the start of the body.
 */
char *
cadence_reply_error(const CadenceHttpRequest *req)
{
	static const char *const paths[][3] = {
		{"message"}, {"Message"}, {"error", "message"}, {"errors", "0", "message"},
	};
	static const int depths[] = {1, 1, 2, 3};
	int			i;
	char	   *text = NULL;

	for (i = 0; i < lengthof(paths) && text == NULL; i++)
		text = cadence_reply_field(req, paths[i], depths[i]);
	if (text == NULL && req->response.len > 0)
	{
		/* Keep what is valid in the database encoding, up to a NUL. */
		int			len = pg_encoding_verifymbstr(GetDatabaseEncoding(),
												  req->response.data,
												  req->response.len);

		text = pnstrdup(req->response.data, len);
	}
	if (text != NULL && strlen(text) > MAX_ERROR_TEXT)
		text[pg_mbcliplen(text, strlen(text), MAX_ERROR_TEXT)] = '\0';
	return text;
}
