/* netmask.h: parser and matcher for `mynetworks` entries (127.0.0.0/8,
 * 10.1.2.3, [::1]/128, [2001:db8::]/32). Pure functions; used by smtpd to
 * decide whether a client may relay without authentication. */
#ifndef LOFT_NETMASK_H
#define LOFT_NETMASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netmask {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network address, host bits cleared (4 bytes used for v4) */
	unsigned prefix;  /* 0..32 or 0..128 */
};

/* Parse one entry from p[0..len). IPv6 must be bracketed; a missing prefix
 * means a single host. Host bits set below the prefix are refused (a typo
 * like 10.0.0.1/8 is more likely a mistake than intended). 0 or -1. */
int netmask_parse(const char *p, size_t len, struct netmask *m);
/* Does the address (4 or 16 bytes for family) fall inside m? An IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) is matched as the IPv4 address. */
bool netmask_match(const struct netmask *m, int family, const uint8_t *addr);
/* Parse a textual client address (no brackets) into family + 16-byte buf. */
int netmask_addr_parse(const char *s, int *family_r, uint8_t addr_r[16]);
/* Is the textual client address ip inside any of v[0..n)? false when ip is
 * not an address. */
bool netmask_list_match(const struct netmask *v, size_t n, const char *ip);
/* Is the textual address ip a loopback one (127/8, ::1, ::ffff:127.x)? */
bool netmask_is_loopback(const char *ip);

#endif
