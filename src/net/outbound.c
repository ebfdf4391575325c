/*
 * net/outbound.c
 *		Where provider requests may go (see net/outbound.h), and
 *		cadence.address_scope(inet), which tells a DBA what the engine makes
 *		of an address.
 *
 * The ranges refused by default are those that are not the public
 * internet: loopback, RFC 1918 and IPv6 unique-local, link-local (cloud
 * metadata services live at 169.254.169.254 and fd00:ec2::254), CGNAT
 * (100.64/10, where Alibaba's metadata service lives), unspecified,
 * broadcast, multicast, and the special-purpose blocks (documentation,
 * benchmarking, IETF protocol assignments, reserved).  An IPv6 address that
 * carries an IPv4 one (mapped, translated, NAT64, 6to4) is judged by the
 * IPv4 address, since that is where the packets end up.
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/inet.h"

#include "base/compat.h"
#include "base/gucs.h"
#include "net/outbound.h"

PG_FUNCTION_INFO_V1(cadence_address_scope);

/* A prefix of an address family and the scope of the addresses in it. */
typedef struct Range
{
	uint8		prefix[16];
	int			bits;
	const char *scope;			/* NULL: judge the IPv4 address inside */
	int			v4_at;			/* where that IPv4 address starts */
} Range;

static const Range v4_ranges[] = {
	{{0, 0, 0, 0}, 8, "unspecified"},
	{{10, 0, 0, 0}, 8, "private"},
	{{100, 64, 0, 0}, 10, "cgnat"},
	{{127, 0, 0, 0}, 8, "loopback"},
	{{169, 254, 0, 0}, 16, "link_local"},
	{{172, 16, 0, 0}, 12, "private"},
	{{192, 0, 0, 0}, 24, "reserved"},
	{{192, 0, 2, 0}, 24, "documentation"},
	{{192, 168, 0, 0}, 16, "private"},
	{{198, 18, 0, 0}, 15, "benchmarking"},
	{{198, 51, 100, 0}, 24, "documentation"},
	{{203, 0, 113, 0}, 24, "documentation"},
	{{224, 0, 0, 0}, 4, "multicast"},
	{{255, 255, 255, 255}, 32, "broadcast"},
	{{240, 0, 0, 0}, 4, "reserved"},
};

/* First match wins: the more specific prefixes come first. */
static const Range v6_ranges[] = {
	{{0}, 128, "unspecified"},
	{{[15] = 1}, 128, "loopback"},
	{{[10] = 0xff, [11] = 0xff}, 96, NULL, 12},	/* ::ffff:a.b.c.d, mapped */
	{{[8] = 0xff, [9] = 0xff}, 96, NULL, 12},	/* ::ffff:0:a.b.c.d,
												 * translated */
	{{0}, 96, "reserved"},		/* ::a.b.c.d, IPv4-compatible (deprecated) */
	{{0x00, 0x64, 0xff, 0x9b}, 96, NULL, 12},	/* 64:ff9b::/96, NAT64 */
	{{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, "private"},	/* local NAT64 */
	{{0x01, 0x00}, 64, "reserved"}, /* 100::/64, discard */
	{{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation"},
	{{0x20, 0x01}, 23, "reserved"}, /* IETF protocol assignments, Teredo */
	{{0x20, 0x02}, 16, NULL, 2},	/* 6to4 */
	{{0x3f, 0xff}, 20, "documentation"},
	{{0xfc}, 7, "private"},		/* unique local */
	{{0xfe, 0x80}, 10, "link_local"},
	{{0xfe, 0xc0}, 10, "private"},	/* site-local (deprecated) */
	{{0xff}, 8, "multicast"},
};

/*
 * in_prefix
 *		Do the first bits of addr equal those of prefix?
 */
static bool
in_prefix(const uint8 *addr, const uint8 *prefix, int bits)
{
	int			whole = bits / 8;
	int			rest = bits % 8;

	if (memcmp(addr, prefix, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((addr[whole] ^ prefix[whole]) & (0xff << (8 - rest))) == 0;
}

/*
 * v4_scope
 *		The scope of an IPv4 address (4 bytes, network order).
 */
static const char *
v4_scope(const uint8 *addr)
{
	int			i;

	for (i = 0; i < lengthof(v4_ranges); i++)
		if (in_prefix(addr, v4_ranges[i].prefix, v4_ranges[i].bits))
			return v4_ranges[i].scope;
	return "public";
}

/*
 * v6_scope
 *		The scope of an IPv6 address (16 bytes, network order).
 */
static const char *
v6_scope(const uint8 *addr)
{
	int			i;

	for (i = 0; i < lengthof(v6_ranges); i++)
		if (in_prefix(addr, v6_ranges[i].prefix, v6_ranges[i].bits))
			return v6_ranges[i].scope ? v6_ranges[i].scope
				: v4_scope(addr + v6_ranges[i].v4_at);
	return "public";
}

/*
 * cadence_sockaddr_scope
 *		The scope of the address a socket is about to connect to.
 */
const char *
cadence_sockaddr_scope(const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET)
		return v4_scope((const uint8 *) &((const struct sockaddr_in *) addr)->sin_addr);
	if (addr->sa_family == AF_INET6)
		return v6_scope((const uint8 *) &((const struct sockaddr_in6 *) addr)->sin6_addr);
	return "reserved";
}

/*
 * cadence_scope_allowed
 *		Public addresses always; the others only when a DBA turned
 *		cadence.allow_private_networks on.
 */
bool
cadence_scope_allowed(const char *scope)
{
	return strcmp(scope, "public") == 0 || cadence_allow_private_networks;
}

/*
 * cadence.address_scope(address inet) RETURNS text
 *		"public", or the range an address belongs to that requests are not
 *		sent to unless cadence.allow_private_networks is on.
 */
Datum
cadence_address_scope(PG_FUNCTION_ARGS)
{
	inet	   *ip = PG_GETARG_INET_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(ip_family(ip) == PGSQL_AF_INET
									 ? v4_scope(ip_addr(ip))
									 : v6_scope(ip_addr(ip))));
}

/*
 * host_matches
 *		Does host match one allow-list entry: an exact name, or "*.domain"
 *		for the domain's subdomains?
 */
static bool
host_matches(const char *host, const char *entry)
{
	if (entry[0] == '*' && entry[1] == '.')
	{
		size_t		hl = strlen(host);
		size_t		sl = strlen(entry + 1);

		return hl > sl && pg_strcasecmp(host + hl - sl, entry + 1) == 0;
	}
	return pg_strcasecmp(host, entry) == 0;
}

/*
 * cadence_outbound_host
 *		The host part of a URL (its path may carry an account id).
 */
char *
cadence_outbound_host(const char *url)
{
	CURLU	   *u = curl_url();
	char	   *host = NULL;
	char	   *result;

	if (u == NULL)
		elog(ERROR, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		result = pstrdup(host);
	else
		result = pstrdup("?");
	curl_free(host);
	curl_url_cleanup(u);
	return result;
}

/*
 * cadence_outbound_url_allowed
 *		Scheme http, https, smtp or smtps, and a host on cadence.allowed_hosts
 *		(a comma-separated list; empty allows every host).
 */
bool
cadence_outbound_url_allowed(const char *url, char **why)
{
	CURLU	   *u = curl_url();
	char	   *scheme = NULL;
	char	   *host = NULL;
	bool		ok = false;

	*why = NULL;
	if (u == NULL)
		elog(ERROR, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		*why = psprintf("malformed URL \"%s\"", url);
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0 &&
			 strcmp(scheme, "smtp") != 0 && strcmp(scheme, "smtps") != 0)
		*why = psprintf("scheme \"%s\" is not http, https, smtp or smtps", scheme);
	else if (cadence_allowed_hosts == NULL || cadence_allowed_hosts[0] == '\0')
		ok = true;
	else
	{
		char	   *list = pstrdup(cadence_allowed_hosts);
		char	   *save = NULL;
		char	   *entry;

		for (entry = strtok_r(list, ", ", &save); entry && !ok;
			 entry = strtok_r(NULL, ", ", &save))
			ok = host_matches(host, entry);
		if (!ok)
			*why = psprintf("host \"%s\" is not in cadence.allowed_hosts", host);
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}
