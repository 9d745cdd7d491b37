/*
 * realip: who a connection's client is when it may come through proxies.
 *
 * Behind nginx every connection arrives from the proxy's address; the
 * proxy names the client in X-Forwarded-For, appending the address it saw
 * to whatever the client sent. Only a proxy we trust may name the client,
 * and only the entries our trusted proxies appended can be believed: the
 * client is the right-most entry that is not itself a trusted proxy.
 *
 * Pure parsing: no I/O, no libwebsockets (net.c reads the header).
 * A struct realip is owned by its creator (realip_destroy()).
 */
#ifndef ROSTRUM_REALIP_H
#define ROSTRUM_REALIP_H

#include <stdbool.h>
#include <stddef.h>

/* Room for any address this module writes (an IPv6 text form). */
#define REALIP_ADDR_MAX 46

/* The default trusted proxies: loopback, i.e. a proxy on this machine. */
#define REALIP_DEFAULT_TRUSTED "127.0.0.0/8,::1/128"

struct realip;

/* Parses a comma-separated list of CIDR blocks ("10.0.0.0/8", "fd00::/8",
 * or one address "192.0.2.7" = /32 or /128; spaces around entries are
 * ignored). "none" or "" trusts nobody. Host bits set beyond the prefix
 * ("10.0.0.1/8") are an error: such a typo would trust more or less than
 * meant. Returns a new table, or NULL with a message in err (on bad input
 * or out of memory). */
struct realip *realip_create(const char *list, char *err, size_t errlen);
void realip_destroy(struct realip *r); /* NULL is a no-op */

/* Normalizes one address ("::ffff:10.0.0.1" -> "10.0.0.1", "[::1]:80" ->
 * "::1", "10.0.0.1:80" -> "10.0.0.1", "2001:DB8::1" -> "2001:db8::1")
 * into out (REALIP_ADDR_MAX bytes). Returns false when text is not an
 * address (out is then ""). */
bool realip_normalize(const char *text, size_t len, char out[REALIP_ADDR_MAX]);

/* Whether addr (any form realip_normalize() reads) is in a trusted block. */
bool realip_trusted(const struct realip *r, const char *addr);

enum realip_kind {
    /* The peer is not a trusted proxy: the client is the peer, whatever
     * X-Forwarded-For says. Limited per address. */
    REALIP_PEER,
    /* A trusted proxy named the client: the right-most untrusted entry of
     * X-Forwarded-For. Limited per address. */
    REALIP_FORWARDED,
    /* A trusted proxy named nobody (no header, an empty one) or only
     * trusted addresses: not limited per address, only by the global
     * limits. The address is the left-most one known, for logs. */
    REALIP_TRUSTED,
};

/* The client of a connection from peer (the socket's address) that sent
 * X-Forwarded-For xff (NULL when absent; repeated headers joined with
 * ','). Writes the client's address to out (REALIP_ADDR_MAX bytes,
 * normalized when it is an address). An entry that is not an address
 * stops the walk: the client cannot be known, and the connection is
 * limited as the peer's (REALIP_PEER with the peer's address), so that a
 * broken chain never escapes the per-address limits. */
enum realip_kind realip_client(const struct realip *r, const char *peer, const char *xff,
                               char out[REALIP_ADDR_MAX]);

#endif
