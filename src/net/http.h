/*
 * net/http.h
 *		Outbound requests over libcurl's multi interface: many requests at
 *		once, a cap on how many are in flight (overall and per provider
 *		account), a start time per request (for requests-per-second limits),
 *		one overall deadline, interrupts checked while waiting.
 *
 * A request is plain data built by a provider (providers/provider.h) in the
 * caller's memory context; the engine fills in the response.  Nothing here
 * touches the database.  Connections stay open between calls, in this process
 * only.
 */
#ifndef CADENCE_NET_HTTP_H
#define CADENCE_NET_HTTP_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

/* What came back, or why nothing did. */
typedef enum CadenceHttpResult
{
	CADENCE_HTTP_PENDING,		/* not performed yet */
	CADENCE_HTTP_RESPONSE,		/* a status line arrived: see status */
	CADENCE_HTTP_TIMEOUT,		/* no complete response within the timeout */
	CADENCE_HTTP_CUT,			/* the answer began (a status line came) and
								 * the connection broke before its end */
	CADENCE_HTTP_NETWORK,		/* no answer at all: DNS, TLS, refused,
								 * closed before answering ... */
	CADENCE_HTTP_REFUSED		/* not sent: host not on cadence.allowed_hosts,
								 * a malformed URL, or an address that is not
								 * public (cadence.allow_private_networks) */
} CadenceHttpResult;

typedef struct CadenceHttpRequest
{
	/* --- set by the provider that builds the request --- */
	const char *method;			/* "POST"; ignored for smtp:// URLs */
	char	   *url;			/* http(s):// or smtp(s):// */
	List	   *headers;		/* char * "Name: value", in order */
	StringInfoData body;		/* request body (for SMTP: the message) */
	/* SMTP only */
	char	   *mail_from;
	List	   *mail_rcpt;		/* char * addresses */
	char	   *username;		/* SMTP AUTH; NULL for none */
	char	   *password;

	/* --- set by the caller before cadence_http_perform --- */
	int			group;			/* requests of one group share a concurrency
								 * cap (a provider account); -1 for none */
	TimestampTz not_before;		/* do not start before this instant (0: now) */
	void	   *owner;			/* the caller's own pointer, untouched */

	/* --- set by cadence_http_perform --- */
	CadenceHttpResult result;
	long		status;			/* HTTP status, or SMTP reply code */
	List	   *response_headers;	/* char * "Name: value", the first 100 */
	StringInfoData response;	/* response body, its first 64 kB */
	char	   *error;			/* what went wrong, one of a few fixed texts
								 * that quote nothing received; NULL if fine */
	TimestampTz started_at;
	TimestampTz finished_at;
} CadenceHttpRequest;

/* Limits for one cadence_http_perform call. */
typedef struct CadenceHttpLimits
{
	int			max_inflight;	/* requests in flight at once, overall */
	int			ngroups;		/* size of group_max */
	const int  *group_max;		/* per group: in flight at once (0: no cap) */
	int			timeout_ms;		/* per request, from its start */
} CadenceHttpLimits;

/* A request with empty body, headers and response, in CurrentMemoryContext. */
extern CadenceHttpRequest *cadence_http_request_new(const char *method,
													const char *url);

/*
 * Append a header "name: value"; a value with a control character (a line
 * break would start another header) is an error (22023) naming the header.
 */
extern void cadence_http_add_header(CadenceHttpRequest *req, const char *name,
									const char *value);

/* The value of a response header (case-insensitive name), or NULL. */
extern char *cadence_http_response_header(const CadenceHttpRequest *req,
										  const char *name);

/*
 * Perform the requests, at most limits->max_inflight at a time, each no
 * earlier than its not_before.  Returns when every request has a result.
 * Requests are checked against cadence.allowed_hosts first, and the
 * address of every connection against cadence.allow_private_networks
 * (net/outbound.h).  Calls
 * CHECK_FOR_INTERRUPTS while waiting; between polls it also calls
 * poll_cb(poll_arg) when given, which may ereport to abandon the batch.
 */
extern void cadence_http_perform(CadenceHttpRequest **reqs, int nreqs,
								 const CadenceHttpLimits *limits,
								 void (*poll_cb) (void *), void *poll_arg);

/*
 * Seconds a response asks the client to wait before retrying (Retry-After
 * in seconds or as an HTTP date, at most a day), or -1 when it does not
 * say.
 */
extern double cadence_http_retry_after(const CadenceHttpRequest *req);

#endif							/* CADENCE_NET_HTTP_H */
