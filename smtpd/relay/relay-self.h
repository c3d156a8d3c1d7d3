/* relay-self.h: knowing our own SMTP addresses, so that loft-relay never
 * connects to itself. Postfix's rule (smtp(8), "mail for X loops back to
 * myself"): when one of a domain's MX hosts is us, that host and every host of
 * the same or a larger preference go; if nothing is left, or the only host
 * (relayhost, address literal, implicit MX) is us, the mail bounces with
 * 5.4.6 instead of circling until it expires. A server that greets our EHLO
 * with our own host name is us too (NAT, port forwards). */
#ifndef LOFT_RELAY_SELF_H
#define LOFT_RELAY_SELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "relay.h"

#define RELAY_SELF_MAX 64

struct relay_self_addr {
	int family; /* AF_INET or AF_INET6 */
	bool any;   /* "*:25" / "[::]:25": every local address of family */
	unsigned char addr[16];
	uint16_t port;
};

struct relay_self {
	size_t n;
	struct relay_self_addr a[RELAY_SELF_MAX];
};

/* Whether addr (port ignored) is an address of this machine. */
typedef bool (*relay_is_local_fn)(const struct sockaddr *sa);

/* Add the words of one listen list ("*:25 [::]:25 127.0.0.1:2525") whose port
 * is port; other ports cannot be reached by our client (it always connects to
 * smtp_remote_port) and are skipped. A host name is resolved through resolve
 * (getaddrinfo at start-up; NULL in tests = names skipped). 0, or -1 with
 * *error_r (a static string) on a malformed word. */
typedef int (*relay_resolve_fn)(const char *host, bool v6, struct relay_self *s, uint16_t port);
int relay_self_add_list(struct relay_self *s, const char *list, uint16_t port,
                        relay_resolve_fn resolve, const char **error_r);

/* Add one numeric address (v6 = written in brackets). 0, or -1 when s is
 * full or the address is not numeric. */
int relay_self_add_numeric(struct relay_self *s, const char *host, bool v6, uint16_t port);

/* Whether connecting to sa (address and port) would reach one of us. */
bool relay_self_is_me(const struct relay_self *s, const struct sockaddr *sa,
                      relay_is_local_fn is_local);

/* Drop ourselves from rt as described above. 0 = rt still has a host to try;
 * -1 = the mail loops back: err holds "5.4.6 mail for DOMAIN loops back to
 * myself". */
int relay_route_drop_self(struct relay_route *rt, const struct relay_self *s,
                          relay_is_local_fn is_local, const char *domain, char *err, size_t errlen);

/* Whether an EHLO (or HELO) reply's text ("250 name ..." or "250-name")
 * names myhostname, ignoring case and a trailing dot. */
bool relay_ehlo_is_me(const char *reply_text, const char *myhostname);

/* The real is_local: a UDP socket can bind to addr only when the address is
 * one of this machine's (EADDRNOTAVAIL otherwise). Always current, no
 * interface list to keep up to date. */
bool relay_addr_is_local(const struct sockaddr *sa);

#endif
