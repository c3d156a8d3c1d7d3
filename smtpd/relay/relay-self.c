/* relay-self.c: our own SMTP addresses and the loop rules of relay-self.h.
 * Everything but relay_addr_is_local is pure. */
#include "relay-self.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "listen-addr.h"

static struct relay_self_addr *self_push(struct relay_self *s)
{
	if (s->n >= RELAY_SELF_MAX)
		return NULL;
	struct relay_self_addr *a = &s->a[s->n];
	memset(a, 0, sizeof(*a));
	return a;
}

int relay_self_add_numeric(struct relay_self *s, const char *host, bool v6, uint16_t port)
{
	struct relay_self_addr *a = self_push(s);
	if (a == NULL)
		return -1;
	a->port = port;
	if (host[0] == '\0') {
		a->family = v6 ? AF_INET6 : AF_INET;
		a->any = true;
	} else if (!v6 && inet_pton(AF_INET, host, a->addr) == 1) {
		a->family = AF_INET;
	} else if (inet_pton(AF_INET6, host, a->addr) == 1) {
		a->family = AF_INET6;
		/* "[::]:25" is every local IPv6 address, as the master binds it */
		static const unsigned char zero[16];
		a->any = memcmp(a->addr, zero, 16) == 0;
	} else {
		return -1;
	}
	if (a->family == AF_INET && !a->any) {
		static const unsigned char zero4[4];
		a->any = memcmp(a->addr, zero4, 4) == 0;
	}
	s->n++;
	return 0;
}

int relay_self_add_list(struct relay_self *s, const char *list, uint16_t port,
                        relay_resolve_fn resolve, const char **error_r)
{
	const char *p = list;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t n = strcspn(p, " \t,");
		if (n == 0)
			break;
		char host[256], err[128];
		unsigned wport;
		bool v6;
		if (listen_parse_addr(p, n, host, sizeof(host), &wport, &v6, err, sizeof(err)) <
		    0) {
			*error_r = "malformed listen address";
			return -1;
		}
		p += n;
		if (wport != port)
			continue;
		if (relay_self_add_numeric(s, host, v6, port) == 0)
			continue;
		if (s->n >= RELAY_SELF_MAX) {
			*error_r = "too many listen addresses";
			return -1;
		}
		/* a host name: whatever it resolves to at start-up */
		if (resolve != NULL && resolve(host, v6, s, port) < 0) {
			*error_r = "cannot resolve a listen address";
			return -1;
		}
	}
	return 0;
}

/* sa's family, address bytes and port; false for other families. */
static bool sa_parts(const struct sockaddr *sa, int *family, const unsigned char **addr,
                     uint16_t *port)
{
	*family = sa->sa_family;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		*addr = (const unsigned char *)&s4->sin_addr;
		*port = ntohs(s4->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		*addr = (const unsigned char *)&s6->sin6_addr;
		*port = ntohs(s6->sin6_port);
		return true;
	}
	return false;
}

bool relay_self_is_me(const struct relay_self *s, const struct sockaddr *sa,
                      relay_is_local_fn is_local)
{
	int family;
	const unsigned char *addr;
	uint16_t port;
	if (s == NULL || !sa_parts(sa, &family, &addr, &port))
		return false;
	size_t alen = family == AF_INET ? 4 : 16;
	bool local_known = false, local = false;
	for (size_t i = 0; i < s->n; i++) {
		const struct relay_self_addr *a = &s->a[i];
		if (a->family != family || a->port != port)
			continue;
		if (!a->any) {
			if (memcmp(a->addr, addr, alen) == 0)
				return true;
			continue;
		}
		if (!local_known) {
			local = is_local != NULL && is_local(sa);
			local_known = true;
		}
		if (local)
			return true;
	}
	return false;
}

static bool host_is_me(const struct relay_host *h, const struct relay_self *s,
                       relay_is_local_fn is_local)
{
	for (size_t i = 0; i < h->naddr; i++)
		if (relay_self_is_me(s, (const struct sockaddr *)&h->addr[i], is_local))
			return true;
	return false;
}

int relay_route_drop_self(struct relay_route *rt, const struct relay_self *s,
                          relay_is_local_fn is_local, const char *domain, char *err, size_t errlen)
{
	/* Hosts come sorted by preference; the first one that is us sets the
	 * cut: it and every host not more preferred than it go. */
	size_t keep = rt->nhost;
	for (size_t h = 0; h < rt->nhost; h++) {
		if (!host_is_me(&rt->host[h], s, is_local))
			continue;
		keep = h;
		while (keep > 0 && rt->host[keep - 1].pref >= rt->host[h].pref)
			keep--;
		break;
	}
	rt->nhost = keep;
	if (keep > 0)
		return 0;
	snprintf(err, errlen, "5.4.6 mail for %.255s loops back to myself", domain);
	return -1;
}

bool relay_ehlo_is_me(const char *reply_text, const char *myhostname)
{
	/* "250 name text" or "250-name": skip the code and its separator */
	const char *p = reply_text;
	size_t i = 0;
	while (i < 3 && p[i] >= '0' && p[i] <= '9')
		i++;
	if (i != 3 || (p[3] != ' ' && p[3] != '-'))
		return false;
	p += 4;
	size_t n = strcspn(p, " ");
	size_t m = strlen(myhostname);
	if (n > 0 && p[n - 1] == '.')
		n--;
	if (m > 0 && myhostname[m - 1] == '.')
		m--;
	return n > 0 && n == m && strncasecmp(p, myhostname, n) == 0;
}

bool relay_addr_is_local(const struct sockaddr *sa)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (sa->sa_family == AF_INET)
		len = sizeof(struct sockaddr_in);
	else if (sa->sa_family == AF_INET6)
		len = sizeof(struct sockaddr_in6);
	else
		return false;
	memcpy(&ss, sa, len);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool local = bind(fd, (struct sockaddr *)&ss, len) == 0 || errno == EADDRINUSE;
	close(fd);
	return local;
}
