/*
 * net/outbound.h
 *		Where provider requests may go (net/outbound.c): the scheme and host of
 *		a URL against cadence.allowed_hosts, and the address a connection is
 *		about to be made to against the address ranges that are not the
 *		public internet (loopback, private, link-local, CGNAT, ...), which
 *		are refused unless cadence.allow_private_networks is on.
 *
 * The address check is made by the HTTP engine on every socket it opens,
 * after DNS resolution and before the connection (net/http.c), so a name that
 * resolves to an internal address is refused however it is spelled, and
 * nothing changes between the check and the connect.
 */
#ifndef CADENCE_NET_OUTBOUND_H
#define CADENCE_NET_OUTBOUND_H

#include <sys/socket.h>

/* The host of a URL, for messages that must not quote its path; "?" if none. */
extern char *cadence_outbound_host(const char *url);

/* Is the URL's scheme one we speak and its host on cadence.allowed_hosts? */
extern bool cadence_outbound_url_allowed(const char *url, char **why);

/*
 * The scope of an address: "public", or the name of the range that is not
 * the public internet ("loopback", "private", "link_local", "cgnat",
 * "unspecified", "broadcast", "multicast", "documentation",
 * "benchmarking", "reserved").  IPv4-mapped, IPv4-translated, NAT64
 * (64:ff9b::/96) and 6to4 addresses have the scope of the IPv4 address
 * they carry.  Anything but AF_INET and AF_INET6 is "reserved".
 */
extern const char *cadence_sockaddr_scope(const struct sockaddr *addr);

/* Whether connections to that scope are allowed now. */
extern bool cadence_scope_allowed(const char *scope);

#endif							/* CADENCE_NET_OUTBOUND_H */
