/* addr-key.h: the key under which a client address is counted for
 * per-address limits and the login failure throttle. IPv4 is one key per
 * address; IPv6 is grouped by a prefix (a /64 is what one site or one
 * customer usually gets, so counting single IPv6 addresses would let one
 * host take 2^64 slots). Pure. */
#ifndef LOFT_ADDR_KEY_H
#define LOFT_ADDR_KEY_H

#include <stddef.h>

#define ADDR_KEY_MAX 64 /* with the NUL: INET6_ADDRSTRLEN + "/128" fits */

/* The key of the textual address p[0..len) into out (always NUL-terminated).
 * IPv4 and IPv4-mapped IPv6 give the dotted IPv4 address; other IPv6 give
 * the network address of its v6_prefix (capped at 128) as "net/prefix", or
 * the plain address when the prefix is 128. Returns 0, or -1 when p is not
 * an address: out is then p itself, cut to fit, with bytes outside printable
 * ASCII replaced by '?' (a stable key of its own). */
int addr_key(const char *p, size_t len, unsigned v6_prefix, char out[ADDR_KEY_MAX]);

#endif
