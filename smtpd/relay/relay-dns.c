/* relay-dns.c: where loft-relay sends a job. relayhost ("[host]:port" = that
 * host, "host[:port]" = its MX hosts, as Postfix) or the MX hosts of the
 * domain, each resolved to A then AAAA addresses; no MX = the domain itself
 * (implicit MX); NXDOMAIN and null MX (RFC 7505) are permanent, any other DNS
 * failure temporary. Queries are built with res_nmkquery; they go out with
 * res_nsend (resolv.conf) or, when smtp_dns_server names a server ("ip",
 * "ip:port", "[ip6]:port"), over our own UDP socket (TCP when truncated),
 * since res_state cannot carry a port for every address family. Answers are
 * parsed by relay-mxparse.c. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "relay.h"
#include "wire.h"

#define DNS_BUF     65536
#define DNS_TRIES   2
#define DNS_WAIT_MS 3000

struct dns_ctx {
	struct __res_state rs;
	bool rs_ok;
	bool own; /* smtp_dns_server: our own socket */
	struct sockaddr_storage ns;
	socklen_t nslen;
};

/* ---- relayhost and server values (pure) ---- */

int relay_host_parse(const char *s, char *host, size_t hostlen, uint16_t *port, bool *no_mx)
{
	const char *h = s, *end, *rest;
	*no_mx = false;
	if (*s == '[') {
		h = s + 1;
		end = strchr(h, ']');
		if (end == NULL)
			return -1;
		rest = end + 1;
		*no_mx = true;
	} else {
		end = strchr(s, ':');
		if (end == NULL)
			end = s + strlen(s);
		rest = end;
	}
	size_t n = (size_t)(end - h);
	if (n == 0 || n >= hostlen)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '/' || c == '\\')
			return -1;
		if (c == ':' && !*no_mx)
			return -1;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	if (*rest == '\0')
		return 0;
	uint32_t v;
	if (rest[0] != ':' || wire_parse_u32(rest + 1, strlen(rest + 1), 65535, &v) < 0 || v == 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* "1.2.3.4", "1.2.3.4:53", "::1", "[::1]:53" -> sockaddr. */
static int server_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 8];
	uint16_t port = 53;
	bool br;
	const char *colon = strchr(s, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL && s[0] != '[') {
		if (strlen(s) >= sizeof(host))
			return -1;
		memcpy(host, s, strlen(s) + 1); /* bare IPv6 */
	} else if (relay_host_parse(s, host, sizeof(host), &port, &br) < 0) {
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
	} else {
		return -1;
	}
	return 0;
}

/* ---- sending a query ---- */

static int wait_fd(int fd, short ev, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = ev};
	int r;
	while ((r = poll(&pfd, 1, ms)) < 0 && errno == EINTR) {
	}
	return r;
}

static ssize_t own_udp(struct dns_ctx *d, const uint8_t *q, size_t qlen, uint8_t *ans)
{
	int fd = socket(d->ns.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ssize_t n = -1;
	if (connect(fd, (struct sockaddr *)&d->ns, d->nslen) == 0) {
		for (int t = 0; t < DNS_TRIES && n < 0; t++) {
			if (send(fd, q, qlen, 0) != (ssize_t)qlen)
				break;
			/* Skip datagrams that are not the answer to this query. */
			while (wait_fd(fd, POLLIN, DNS_WAIT_MS) > 0) {
				ssize_t r = recv(fd, ans, DNS_BUF, 0);
				if (r >= 4 && ans[0] == q[0] && ans[1] == q[1] && (ans[2] & 0x80)) {
					n = r;
					break;
				}
				if (r < 0 && errno != EINTR)
					break;
			}
		}
	}
	close(fd);
	return n;
}

static int read_full(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		if (wait_fd(fd, POLLIN, DNS_WAIT_MS) <= 0)
			return -1;
		ssize_t r = read(fd, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static ssize_t own_tcp(struct dns_ctx *d, const uint8_t *q, size_t qlen, uint8_t *ans)
{
	int fd = socket(d->ns.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = {.tv_sec = DNS_WAIT_MS / 1000};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	uint8_t hdr[2] = {(uint8_t)(qlen >> 8), (uint8_t)qlen};
	ssize_t n = -1;
	if (connect(fd, (struct sockaddr *)&d->ns, d->nslen) == 0 && write(fd, hdr, 2) == 2 &&
	    write(fd, q, qlen) == (ssize_t)qlen && read_full(fd, hdr, 2) == 0) {
		size_t al = (size_t)hdr[0] << 8 | hdr[1];
		if (read_full(fd, ans, al) == 0)
			n = (ssize_t)al;
	}
	close(fd);
	return n;
}

/* Ask (name, type): 0 with *a parsed (look at a->rcode), or -1 with err when
 * no usable answer came back (a temporary failure). */
static int dns_query(struct dns_ctx *d, const char *name, uint16_t type, struct relay_dns_answer *a,
                     char *err, size_t errlen)
{
	uint8_t q[NS_PACKETSZ];
	uint8_t *ans = malloc(DNS_BUF);
	if (ans == NULL) {
		relay_textf(err, errlen, "out of memory");
		return -1;
	}
	int rc = -1;
	int qlen =
	    res_nmkquery(&d->rs, ns_o_query, name, ns_c_in, type, NULL, 0, NULL, q, sizeof(q));
	ssize_t n = -1;
	if (qlen < 0) {
		relay_textf(err, errlen, "cannot make a DNS query for %.300s", name);
		goto out;
	}
	if (d->own) {
		n = own_udp(d, q, (size_t)qlen, ans);
		if (n >= 4 && (ans[2] & 0x02))
			n = own_tcp(d, q, (size_t)qlen, ans);
	} else {
		n = res_nsend(&d->rs, q, qlen, ans, DNS_BUF);
	}
	if (n < 0) {
		relay_textf(err, errlen, "no answer from the DNS server");
		goto out;
	}
	const char *perr;
	if (relay_dns_parse(ans, (size_t)n, name, type, a, &perr) < 0) {
		relay_textf(err, errlen, "%s", perr);
		goto out;
	}
	if (a->id != (uint16_t)(q[0] << 8 | q[1])) {
		relay_textf(err, errlen, "DNS answer with a wrong id");
		goto out;
	}
	rc = 0;
out:
	free(ans);
	return rc;
}

/* ---- resolving hosts ---- */

static void host_add_addr(struct relay_host *h, int family, const void *addr, uint16_t port)
{
	if (h->naddr >= RELAY_HOST_MAX_ADDR)
		return;
	struct sockaddr_storage *ss = &h->addr[h->naddr];
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, addr, 4);
		h->addrlen[h->naddr++] = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, addr, 16);
		h->addrlen[h->naddr++] = sizeof(*s6);
	}
}

/* Addresses of name into h: 0 with at least one, 1 when the name does not
 * exist or has none (permanent), -1 with err on a DNS failure. */
static int host_resolve(struct dns_ctx *d, const char *name, uint16_t port, struct relay_host *h,
                        char *err, size_t errlen)
{
	uint8_t lit[16];
	const char *n = name;
	if (strncasecmp(n, "ipv6:", 5) == 0)
		n += 5;
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->naddr = 0;
	if (inet_pton(AF_INET, n, lit) == 1) {
		host_add_addr(h, AF_INET, lit, port);
		return 0;
	}
	if (inet_pton(AF_INET6, n, lit) == 1) {
		host_add_addr(h, AF_INET6, lit, port);
		return 0;
	}
	static const uint16_t types[2] = {ns_t_a, ns_t_aaaa};
	bool temp = false, nx = false;
	struct relay_dns_answer *a = malloc(sizeof(*a));
	if (a == NULL) {
		relay_textf(err, errlen, "out of memory");
		return -1;
	}
	for (int t = 0; t < 2; t++) {
		char e[256];
		if (dns_query(d, name, types[t], a, e, sizeof(e)) < 0) {
			relay_textf(err, errlen, "%s lookup of %.255s: %s", t ? "AAAA" : "A", name,
			            e);
			temp = true;
			continue;
		}
		if (a->rcode == RELAY_DNS_NXDOMAIN) {
			nx = true;
			break;
		}
		if (a->rcode != RELAY_DNS_NOERROR) {
			relay_textf(err, errlen, "%s lookup of %.255s: DNS error (rcode %d)",
			            t ? "AAAA" : "A", name, a->rcode);
			temp = true;
			continue;
		}
		for (size_t i = 0; i < a->naddr; i++)
			host_add_addr(h, a->addr[i].family, a->addr[i].a, port);
	}
	free(a);
	if (h->naddr > 0)
		return 0;
	if (temp && !nx)
		return -1;
	relay_textf(err, errlen, "%.255s: %s", name,
	            nx ? "host not found (NXDOMAIN)" : "no address record");
	return 1;
}

/* Hosts of the MX records of name (or name itself: implicit MX). */
static int route_mx(struct dns_ctx *d, const char *name, struct relay_route *rt,
                    enum relay_status *st, char *err, size_t errlen)
{
	struct relay_dns_answer *a = malloc(sizeof(*a));
	char e[512];
	int rc = -1;
	*st = RELAY_TEMP;
	if (a == NULL) {
		relay_textf(err, errlen, "4.3.0 out of memory");
		return -1;
	}
	if (dns_query(d, name, ns_t_mx, a, e, sizeof(e)) < 0) {
		relay_textf(err, errlen,
		            "4.4.3 Host or domain name lookup failed: MX lookup of %.255s: %s",
		            name, e);
		goto out;
	}
	if (a->rcode == RELAY_DNS_NXDOMAIN) {
		*st = RELAY_PERM;
		relay_textf(err, errlen, "5.1.2 Host or domain name not found: %.255s (NXDOMAIN)",
		            name);
		goto out;
	}
	if (a->rcode != RELAY_DNS_NOERROR) {
		relay_textf(
		    err, errlen,
		    "4.4.3 Host or domain name lookup failed: MX lookup of %.255s: rcode %d", name,
		    a->rcode);
		goto out;
	}
	if (a->nmx == 0) {
		int r = host_resolve(d, name, rt->port, &rt->host[0], e, sizeof(e));
		if (r == 0) {
			rt->nhost = 1;
			rc = 0;
		} else if (r > 0) {
			*st = RELAY_PERM;
			relay_textf(err, errlen,
			            "5.1.2 Host or domain name not found: no MX and %s", e);
		} else {
			relay_textf(err, errlen, "4.4.3 Host or domain name lookup failed: %s", e);
		}
		goto out;
	}
	relay_dns_sort_mx(a);
	if (a->nmx == 1 && a->mx[0].host[0] == '\0') {
		*st = RELAY_PERM;
		relay_textf(err, errlen, "5.1.10 Domain %.255s accepts no mail (null MX)", name);
		goto out;
	}
	relay_textf(e, sizeof(e), "no MX host has an address");
	for (size_t i = 0; i < a->nmx && rt->nhost < RELAY_MAX_HOSTS; i++) {
		if (a->mx[i].host[0] == '\0')
			continue; /* "." beside real MX records: ignore it */
		rt->host[rt->nhost].pref = a->mx[i].pref;
		int r =
		    host_resolve(d, a->mx[i].host, rt->port, &rt->host[rt->nhost], e, sizeof(e));
		if (r == 0)
			rt->nhost++;
	}
	if (rt->nhost > 0) {
		rc = 0;
	} else {
		/* MX records that lead nowhere: maybe fixed soon; retry. */
		relay_textf(err, errlen, "4.4.3 No usable MX host for %.255s: %s", name, e);
	}
out:
	free(a);
	return rc;
}

static int dns_open(struct dns_ctx *d, const struct relay_opts *o, char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	if (res_ninit(&d->rs) < 0) {
		relay_textf(err, errlen, "4.3.0 resolver initialisation failed");
		return -1;
	}
	d->rs_ok = true;
	d->rs.retrans = DNS_WAIT_MS / 1000;
	d->rs.retry = DNS_TRIES;
	if (o->dns_server != NULL && o->dns_server[0] != '\0') {
		if (server_parse(o->dns_server, &d->ns, &d->nslen) < 0) {
			relay_textf(err, errlen, "4.3.5 bad smtp_dns_server value: %.100s",
			            o->dns_server);
			return -1;
		}
		d->own = true;
	}
	return 0;
}

int relay_route_find(const struct relay_opts *o, const char *domain, struct relay_route *rt,
                     enum relay_status *status_r, char *err, size_t errlen)
{
	struct dns_ctx *d = calloc(1, sizeof(*d));
	memset(rt, 0, sizeof(*rt));
	rt->port = o->port;
	*status_r = RELAY_TEMP;
	if (d == NULL) {
		relay_textf(err, errlen, "4.3.0 out of memory");
		return -1;
	}
	int rc = -1;
	if (dns_open(d, o, err, errlen) < 0)
		goto out;
	char host[RELAY_DNS_NAME];
	bool no_mx = false;
	if (o->relayhost != NULL && o->relayhost[0] != '\0') {
		if (relay_host_parse(o->relayhost, host, sizeof(host), &rt->port, &no_mx) < 0) {
			relay_textf(err, errlen, "4.3.5 bad relayhost value: %.200s", o->relayhost);
			goto out;
		}
	} else if (domain[0] == '[') {
		/* an address literal recipient domain: that address, no DNS */
		uint16_t ignored = 0;
		if (relay_host_parse(domain, host, sizeof(host), &ignored, &no_mx) < 0) {
			*status_r = RELAY_PERM;
			relay_textf(err, errlen, "5.1.2 bad address literal %.255s", domain);
			goto out;
		}
	} else {
		snprintf(host, sizeof(host), "%s", domain);
	}
	if (!no_mx) {
		rc = route_mx(d, host, rt, status_r, err, errlen);
		goto out;
	}
	char e[512];
	int r = host_resolve(d, host, rt->port, &rt->host[0], e, sizeof(e));
	if (r == 0) {
		rt->nhost = 1;
		rc = 0;
	} else {
		/* a configured relay host that does not resolve is a local problem:
		 * keep the mail and retry */
		relay_textf(err, errlen, "4.4.3 Host or domain name lookup failed: %s", e);
	}
out:
	if (d->rs_ok)
		res_nclose(&d->rs);
	free(d);
	return rc;
}
