/*
 * net/http.c
 *		The outbound request engine over libcurl's multi interface (see
 *		net/http.h).  One multi handle per process keeps connections to each
 *		provider alive between batches; easy handles are pooled.  Both are
 *		process-local and never placed in shared memory.
 *
 * libcurl calls back into us from curl_multi_perform; the callbacks only
 * append to memory allocated before the transfer started (palloc'd in the
 * request's own context), and never raise errors.
 *
 * Every socket is opened by open_socket, which sees the address libcurl
 * resolved and is about to connect to, and refuses it unless its scope is
 * allowed (net/outbound.c).  Redirects are never followed and proxies from the
 * environment are not used, so that address is the one the request goes
 * to.  What the engine says about a failed transfer is one of a few fixed
 * texts: it never tells a closed port from an open one that answered
 * something other than the protocol, and never quotes what came back.
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "base/gucs.h"
#include "net/http.h"
#include "net/outbound.h"

/* Connections kept open per process, beyond those in flight. */
#define IDLE_CONNECTIONS	32

/* Longest single wait in curl_multi_poll, so interrupts stay responsive. */
#define POLL_SLICE_MS		100

/*
 * What is kept of a response: the providers' answers are a few hundred
 * bytes; the rest of a longer one is read and dropped.
 */
#define MAX_RESPONSE_BODY	(64 * 1024)
#define MAX_RESPONSE_HEADERS 100

/* Longest wait a Retry-After may ask for, in seconds. */
#define MAX_RETRY_AFTER		86400.0

/* One transfer: a request and what libcurl needs alongside it. */
typedef struct Transfer
{
	CadenceHttpRequest *req;
	CURL	   *easy;
	struct curl_slist *headers;
	struct curl_slist *rcpt;
	size_t		upload_pos;		/* SMTP: bytes of the message sent */
	MemoryContext mcxt;			/* where response data is allocated */
	const char *refused_scope;	/* an address open_socket refused, or NULL */
	char		refused_addr[INET6_ADDRSTRLEN];
	char		errbuf[CURL_ERROR_SIZE];
} Transfer;

static CURLM *multi = NULL;
static List *idle_easy = NIL;	/* pooled easy handles, in TopMemoryContext */

/* Whether the connections kept by multi were opened with private allowed. */
static bool pool_private = false;

/*
 * cadence_http_request_new
 *		An empty request.
 */
CadenceHttpRequest *
cadence_http_request_new(const char *method, const char *url)
{
	CadenceHttpRequest *req = palloc0(sizeof(CadenceHttpRequest));

	req->method = method;
	req->url = pstrdup(url);
	req->group = -1;
	initStringInfo(&req->body);
	initStringInfo(&req->response);
	req->result = CADENCE_HTTP_PENDING;
	return req;
}

/*
 * cadence_http_add_header
 *		Append "name: value".  A value with a line break or another control
 *		character (a credential pasted with its newline, say) would end the
 *		header and start another: it is refused, naming the header only,
 *		since the value may be a secret.
 */
void
cadence_http_add_header(CadenceHttpRequest *req, const char *name,
						const char *value)
{
	const unsigned char *p;

	for (p = (const unsigned char *) value; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("the %s header of a request to %s would carry a control character",
						   name, cadence_outbound_host(req->url)),
					errhint("Look for a line break at the end of a credential or setting."));
	req->headers = lappend(req->headers, psprintf("%s: %s", name, value));
}

/*
 * cadence_http_response_header
 *		The value of a response header, trimmed.
 */
char *
cadence_http_response_header(const CadenceHttpRequest *req, const char *name)
{
	size_t		len = strlen(name);
	ListCell   *lc;

	foreach(lc, req->response_headers)
	{
		const char *h = lfirst(lc);

		if (pg_strncasecmp(h, name, len) == 0 && h[len] == ':')
		{
			const char *v = h + len + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			return pstrdup(v);
		}
	}
	return NULL;
}

/*
 * cadence_http_retry_after
 *		Retry-After as delay-seconds or as an HTTP date, at most a day: a
 *		server's "inf" or year 9999 must not move an action beyond what a
 *		timestamp holds.
 */
double
cadence_http_retry_after(const CadenceHttpRequest *req)
{
	char	   *v = cadence_http_response_header(req, "Retry-After");
	char	   *end;
	double		secs;
	time_t		when;

	if (v == NULL || *v == '\0')
		return -1;
	secs = strtod(v, &end);
	if (end == v || *end != '\0')
	{
		when = curl_getdate(v, NULL);
		if (when < 0)
			return -1;
		secs = Max((double) when - (double) time(NULL), 0);
	}
	if (!(secs >= 0))
		return -1;				/* negative, or not a number */
	return Min(secs, MAX_RETRY_AFTER);
}

/* libcurl callback: response body bytes, kept up to MAX_RESPONSE_BODY. */
static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	Transfer   *t = arg;
	size_t		room = MAX_RESPONSE_BODY - t->req->response.len;

	appendBinaryStringInfo(&t->req->response, data, Min(size * nmemb, room));
	return size * nmemb;
}

/* libcurl callback: one response header line (or a status line). */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	Transfer   *t = arg;
	size_t		len = size * nmemb;
	MemoryContext old;

	while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n'))
		len--;
	old = MemoryContextSwitchTo(t->mcxt);
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0)
		t->req->response_headers = NIL; /* a new response (after a 1xx) */
	else if (len > 0 && memchr(data, ':', len) != NULL &&
			 list_length(t->req->response_headers) < MAX_RESPONSE_HEADERS)
		t->req->response_headers = lappend(t->req->response_headers,
										   pnstrdup(data, Min(len, MAX_RESPONSE_BODY)));
	MemoryContextSwitchTo(old);
	return size * nmemb;
}

/* libcurl callback: the SMTP message, read from the request body. */
static size_t
on_upload(char *buffer, size_t size, size_t nitems, void *arg)
{
	Transfer   *t = arg;
	size_t		left = t->req->body.len - t->upload_pos;
	size_t		n = Min(left, size * nitems);

	memcpy(buffer, t->req->body.data + t->upload_pos, n);
	t->upload_pos += n;
	return n;
}

/*
 * open_socket
 *		libcurl's socket factory: the address is the one resolved for the
 *		request and about to be connected to.  One whose scope is not
 *		allowed gets no socket, so nothing is sent to it, not even a SYN;
 *		libcurl then tries the host's other addresses, if any.
 */
static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *address)
{
	Transfer   *t = arg;
	const char *scope = cadence_sockaddr_scope(&address->addr);

	if (!cadence_scope_allowed(scope))
	{
		const void *raw = address->family == AF_INET6
			? (const void *) &((struct sockaddr_in6 *) &address->addr)->sin6_addr
			: (const void *) &((struct sockaddr_in *) &address->addr)->sin_addr;

		t->refused_scope = scope;
		if (inet_ntop(address->family, raw, t->refused_addr, sizeof(t->refused_addr)) == NULL)
			strlcpy(t->refused_addr, "?", sizeof(t->refused_addr));
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype, address->protocol);
}

/*
 * ensure_multi
 *		The process's multi handle, created on first use.  Its connections
 *		were checked when they were opened: when private addresses were
 *		allowed then and are not now, they are closed, so that none is
 *		reused.
 */
static void
ensure_multi(int max_inflight)
{
	if (multi != NULL && pool_private && !cadence_allow_private_networks)
	{
		curl_multi_cleanup(multi);
		multi = NULL;
	}
	pool_private = cadence_allow_private_networks;
	if (multi == NULL)
	{
		if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
			ereport(ERROR,
					errcode(ERRCODE_SYSTEM_ERROR),
					errmsg("could not initialize libcurl"));
		multi = curl_multi_init();
		if (multi == NULL)
			elog(ERROR, "out of memory");
	}
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS,
					  (long) (max_inflight + IDLE_CONNECTIONS));
}

/*
 * start_transfer
 *		Set up an easy handle for the request and add it to the multi handle.
 */
static Transfer *
start_transfer(CadenceHttpRequest *req, int timeout_ms)
{
	Transfer   *t = palloc0(sizeof(Transfer));
	bool		smtp = pg_strncasecmp(req->url, "smtp", 4) == 0;
	ListCell   *lc;

	t->req = req;
	t->mcxt = CurrentMemoryContext;
	if (idle_easy != NIL)
	{
		t->easy = linitial(idle_easy);
		idle_easy = list_delete_first(idle_easy);
	}
	else if ((t->easy = curl_easy_init()) == NULL)
		elog(ERROR, "out of memory");

	foreach(lc, req->headers)
		t->headers = curl_slist_append(t->headers, lfirst(lc));
	/* Never wait for a 100 Continue. */
	t->headers = curl_slist_append(t->headers, "Expect:");

	curl_easy_setopt(t->easy, CURLOPT_URL, req->url);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long) timeout_ms);
	curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, (long) Min(timeout_ms, 10000));
	curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https,smtp,smtps");
	curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(t->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "cadence/" CADENCE_VERSION);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);

	if (smtp)
	{
		foreach(lc, req->mail_rcpt)
			t->rcpt = curl_slist_append(t->rcpt, lfirst(lc));
		curl_easy_setopt(t->easy, CURLOPT_MAIL_FROM, req->mail_from);
		curl_easy_setopt(t->easy, CURLOPT_MAIL_RCPT, t->rcpt);
		curl_easy_setopt(t->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(t->easy, CURLOPT_READFUNCTION, on_upload);
		curl_easy_setopt(t->easy, CURLOPT_READDATA, t);
		curl_easy_setopt(t->easy, CURLOPT_INFILESIZE, (long) req->body.len);
		curl_easy_setopt(t->easy, CURLOPT_USE_SSL, (long) CURLUSESSL_TRY);
		if (req->username)
		{
			curl_easy_setopt(t->easy, CURLOPT_USERNAME, req->username);
			curl_easy_setopt(t->easy, CURLOPT_PASSWORD, req->password);
		}
	}
	else
	{
		curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
		if (strcmp(req->method, "POST") == 0)
		{
			curl_easy_setopt(t->easy, CURLOPT_POST, 1L);
			curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE, (long) req->body.len);
			curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, req->body.data);
		}
		else
			curl_easy_setopt(t->easy, CURLOPT_CUSTOMREQUEST, req->method);
	}

	req->started_at = GetCurrentTimestamp();
	if (curl_multi_add_handle(multi, t->easy) != CURLM_OK)
		elog(ERROR, "could not add a transfer to the libcurl multi handle");
	return t;
}

/*
 * end_transfer
 *		Detach the easy handle, free what libcurl allocated, and pool the
 *		handle for the next request.
 */
static void
end_transfer(Transfer *t)
{
	MemoryContext old;

	curl_multi_remove_handle(multi, t->easy);
	curl_slist_free_all(t->headers);
	curl_slist_free_all(t->rcpt);
	t->headers = t->rcpt = NULL;
	curl_easy_reset(t->easy);
	old = MemoryContextSwitchTo(TopMemoryContext);
	idle_easy = lappend(idle_easy, t->easy);
	MemoryContextSwitchTo(old);
	t->easy = NULL;
}

/*
 * finish_transfer
 *		Record how a transfer ended.  libcurl's own error text stays in the
 *		server log at DEBUG1: it names addresses and ports and tells a
 *		refused connection from one that was answered.
 */
static void
finish_transfer(Transfer *t, CURLcode code, int timeout_ms)
{
	CadenceHttpRequest *req = t->req;
	long		status = 0;

	req->finished_at = GetCurrentTimestamp();
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	req->status = status;
	if (code == CURLE_OK)
		req->result = CADENCE_HTTP_RESPONSE;
	else if (code == CURLE_COULDNT_CONNECT && t->refused_scope != NULL)
	{
		req->result = CADENCE_HTTP_REFUSED;
		req->error = psprintf("the request was not sent: its host resolves to a non-public "
							  "address (%s) and cadence.allow_private_networks is off",
							  t->refused_scope);
		ereport(LOG,
				errmsg("cadence refused a request to %s, a %s address, for host \"%s\"",
					   t->refused_addr, t->refused_scope, cadence_outbound_host(req->url)));
	}
	else if (code == CURLE_OPERATION_TIMEDOUT)
	{
		req->result = CADENCE_HTTP_TIMEOUT;
		req->error = psprintf("no answer within %d ms", timeout_ms);
	}
	else if (status >= 400 && pg_strncasecmp(req->url, "smtp", 4) == 0)
		req->result = CADENCE_HTTP_RESPONSE;	/* the server refused: its code */
	else if (status > 0)
	{
		/* Its answer began: the provider had the request. */
		req->result = CADENCE_HTTP_CUT;
		req->error = pstrdup("the answer was cut off before its end");
	}
	else
	{
		req->result = CADENCE_HTTP_NETWORK;
		req->error = pstrdup(code == CURLE_COULDNT_RESOLVE_HOST
							 ? "could not resolve the host name"
							 : "no valid answer: the connection failed or was cut");
	}
	if (code != CURLE_OK)
		elog(DEBUG1, "cadence request to host \"%s\": %s", cadence_outbound_host(req->url),
			 t->errbuf[0] ? t->errbuf : curl_easy_strerror(code));
	end_transfer(t);
}

/* Order of start: not_before, then position (qsort over an index). */
static int
start_order(const void *a, const void *b)
{
	const CadenceHttpRequest *x = *(CadenceHttpRequest *const *) a;
	const CadenceHttpRequest *y = *(CadenceHttpRequest *const *) b;

	if (x->not_before != y->not_before)
		return x->not_before < y->not_before ? -1 : 1;
	return (x > y) - (x < y);
}

/* A cadence_http_perform call in progress. */
typedef struct Perform
{
	CadenceHttpRequest **queue; /* by start order; NULL once started */
	int			nreqs;
	int			next;			/* first entry of queue not yet started */
	int		   *group_active;
	List	   *active;			/* Transfer *, in flight */
	const CadenceHttpLimits *limits;
	int			max_inflight;
} Perform;

/*
 * start_ready
 *		Start what may start, in order, skipping capped groups; returns how
 *		long until the next not-yet-due request may start (at most a slice).
 */
static long
start_ready(Perform *p)
{
	TimestampTz now = GetCurrentTimestamp();
	const CadenceHttpLimits *limits = p->limits;
	long		wait_ms = POLL_SLICE_MS;
	int			i;

	for (i = p->next; i < p->nreqs && list_length(p->active) < p->max_inflight; i++)
	{
		CadenceHttpRequest *req = p->queue[i];
		char	   *why;

		if (req == NULL)
			continue;
		if (req->not_before > now)
		{
			wait_ms = Min(wait_ms, (req->not_before - now) / 1000 + 1);
			break;
		}
		if (req->group >= 0 && req->group < limits->ngroups &&
			limits->group_max[req->group] > 0 &&
			p->group_active[req->group] >= limits->group_max[req->group])
			continue;
		p->queue[i] = NULL;
		if (!cadence_outbound_url_allowed(req->url, &why))
		{
			req->result = CADENCE_HTTP_REFUSED;
			req->error = why;
			continue;
		}
		if (req->group >= 0 && req->group < limits->ngroups)
			p->group_active[req->group]++;
		p->active = lappend(p->active, start_transfer(req, limits->timeout_ms));
	}
	while (p->next < p->nreqs && p->queue[p->next] == NULL)
		p->next++;
	return wait_ms;
}

/*
 * reap_done
 *		Record the transfers libcurl finished; returns how many.
 */
static int
reap_done(Perform *p)
{
	CURLMsg    *msg;
	int			left;
	int			done = 0;

	while ((msg = curl_multi_info_read(multi, &left)) != NULL)
	{
		Transfer   *t;
		int			group;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
		group = t->req->group;
		if (group >= 0 && group < p->limits->ngroups)
			p->group_active[group]--;
		p->active = list_delete_ptr(p->active, t);
		finish_transfer(t, msg->data.result, p->limits->timeout_ms);
		done++;
	}
	return done;
}

/*
 * run_transfers
 *		Start, poll and reap until every request has a result.
 */
static void
run_transfers(Perform *p, void (*poll_cb) (void *), void *poll_arg)
{
	for (;;)
	{
		long		wait_ms = start_ready(p);
		int			running;
		int			reaped;

		if (p->active == NIL && p->next >= p->nreqs)
			break;
		curl_multi_perform(multi, &running);
		reaped = reap_done(p);

		/*
		 * When something finished, go round at once: freed slots are
		 * filled, or the work is done.  Otherwise wait for the network, or
		 * (nothing in flight) for the next start slot.
		 */
		if (reaped == 0)
			curl_multi_poll(multi, NULL, 0, (int) Max(wait_ms, 0), NULL);
		CHECK_FOR_INTERRUPTS();
		if (poll_cb)
			poll_cb(poll_arg);
	}
}

/*
 * cadence_http_perform
 *		Run the requests to completion under the limits.
 */
void
cadence_http_perform(CadenceHttpRequest **reqs, int nreqs,
					 const CadenceHttpLimits *limits,
					 void (*poll_cb) (void *), void *poll_arg)
{
	Perform    *p = palloc0(sizeof(Perform));

	p->queue = palloc(sizeof(CadenceHttpRequest *) * Max(nreqs, 1));
	p->nreqs = nreqs;
	p->group_active = palloc0(sizeof(int) * Max(limits->ngroups, 1));
	p->limits = limits;
	p->max_inflight = Max(limits->max_inflight, 1);
	ensure_multi(p->max_inflight);
	memcpy(p->queue, reqs, sizeof(CadenceHttpRequest *) * nreqs);
	qsort(p->queue, nreqs, sizeof(CadenceHttpRequest *), start_order);

	PG_TRY();
	{
		run_transfers(p, poll_cb, poll_arg);
	}
	PG_CATCH();
	{
		ListCell   *lc;

		foreach(lc, p->active)
			end_transfer(lfirst(lc));
		PG_RE_THROW();
	}
	PG_END_TRY();
}
