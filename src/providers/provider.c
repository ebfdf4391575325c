/*
 * providers/provider.c
 *		The provider kinds, listed once with the channels each sends on
 *		(cadence.provider_channels() gives them to SQL: the check on
 *		cadence.providers and upsert_provider read it); one entry point
 *		over the wire formats of those that send messages (see
 *		providers/provider.h), and what reading their responses shares.
 *
 * Of an answer only what the provider documents is kept: the message id,
 * and for an error its code and message, cleaned (providers/wire.h).  The
 * rest of a body, whatever it says, reaches no row: a URL that points at
 * something that is not the provider learns nothing from its answers.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "base/json.h"
#include "base/text.h"
#include "providers/kinds.h"
#include "providers/provider.h"

PG_FUNCTION_INFO_V1(cadence_provider_channels);
PG_FUNCTION_INFO_V1(cadence_provider_kinds);

/* Most channels one kind of account sends on. */
#define MAX_KIND_CHANNELS 2

typedef struct ProviderKind
{
	const char *kind;
	const char *channels[MAX_KIND_CHANNELS];	/* the first is the default */
	/* The wire format of a message; NULL for a kind that sends none. */
	CadenceHttpRequest *(*build) (const CadenceAccount *, const CadenceMessage *);
	void		(*reply) (const CadenceAccount *, const CadenceHttpRequest *,
						  CadenceProviderReply *);
} ProviderKind;

static const ProviderKind kinds[] = {
	{"twilio", {"sms", "whatsapp"}, cadence_twilio_request, cadence_twilio_reply},
	{"resend", {"email"}, cadence_resend_request, cadence_email_reply},
	{"sendgrid", {"email"}, cadence_sendgrid_request, cadence_email_reply},
	{"postmark", {"email"}, cadence_postmark_request, cadence_email_reply},
	{"smtp", {"email"}, cadence_smtp_request, cadence_smtp_reply},
	{"whatsapp_cloud", {"whatsapp"}, cadence_whatsapp_request, cadence_whatsapp_reply},
	{"webhook", {"webhook"}, cadence_webhook_request, cadence_webhook_reply},
	/* The AI step's account (providers/ai.c), and a calendar's. */
	{"anthropic", {"ai"}, NULL, NULL},
	{"calendly", {"calendar"}, NULL, NULL},
};

/* Longest provider error code and message kept, in characters. */
#define MAX_ERROR_CODE		40
#define MAX_ERROR_MESSAGE	200

/* Longest provider message id kept; a longer one is not an id. */
#define MAX_MESSAGE_ID		255

/*
 * find_kind
 *		The wire format of an account's kind.
 */
static const ProviderKind *
find_kind(const CadenceAccount *acct)
{
	int			i;

	for (i = 0; i < lengthof(kinds); i++)
		if (strcmp(kinds[i].kind, acct->kind) == 0 && kinds[i].build != NULL)
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
	if (reply->message_id != NULL &&
		strcmp(cadence_clean_text(reply->message_id, MAX_MESSAGE_ID), reply->message_id) != 0)
		reply->message_id = NULL;
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
		else if (cadence_jsonb_member(c, path[i], &v) == NULL)
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
 * path_depth
 *		How many names a path of an error shape has.
 */
static int
path_depth(const char *const *path)
{
	int			n = 0;

	while (n < 3 && path[n] != NULL)
		n++;
	return n;
}

/*
 * cadence_reply_error
 *		"<Provider> error <code>: <message>" from the documented fields of a
 *		JSON error body, each cleaned and cut short; NULL when the body has
 *		neither (not JSON, an HTML error page, anything else).
 */
char *
cadence_reply_error(const CadenceHttpRequest *req, const CadenceErrorShape *shape)
{
	char	   *code = NULL;
	char	   *message = NULL;

	if (path_depth(shape->code) > 0)
		code = cadence_reply_field(req, shape->code, path_depth(shape->code));
	message = cadence_reply_field(req, shape->message, path_depth(shape->message));
	if (code != NULL && code[0] != '\0')
		code = cadence_clean_text(code, MAX_ERROR_CODE);
	else
		code = NULL;
	if (message != NULL && message[0] != '\0')
		message = cadence_clean_text(message, MAX_ERROR_MESSAGE);
	else
		message = NULL;
	if (code != NULL && message != NULL)
		return psprintf("%s error %s: %s", shape->provider, code, message);
	if (code != NULL)
		return psprintf("%s error %s", shape->provider, code);
	if (message != NULL)
		return psprintf("%s error: %s", shape->provider, message);
	return NULL;
}

/*
 * cadence.provider_channels(kind text) RETURNS text[]
 *		The channels an account of this kind sends on, its default first;
 *		NULL for a kind that is not one.
 */
Datum
cadence_provider_channels(PG_FUNCTION_ARGS)
{
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Datum		names[MAX_KIND_CHANNELS];
	int			i;
	int			n = 0;

	for (i = 0; i < lengthof(kinds); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			break;
	if (i == lengthof(kinds))
		PG_RETURN_NULL();
	while (n < MAX_KIND_CHANNELS && kinds[i].channels[n] != NULL)
	{
		names[n] = CStringGetTextDatum(kinds[i].channels[n]);
		n++;
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * cadence.provider_kinds() RETURNS text[]
 *		Every kind of provider account.
 */
Datum
cadence_provider_kinds(PG_FUNCTION_ARGS)
{
	Datum		names[lengthof(kinds)];
	int			i;

	for (i = 0; i < lengthof(kinds); i++)
		names[i] = CStringGetTextDatum(kinds[i].kind);
	PG_RETURN_ARRAYTYPE_P(construct_array(names, lengthof(kinds), TEXTOID, -1, false,
										  TYPALIGN_INT));
}
