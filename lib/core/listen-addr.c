/* listen-addr.c: split a listen word ("*:143", "[::]:143", "127.0.0.1:10143",
 * "host:25") into host and port. The master binds what it gives; the relay
 * uses it to know its own addresses (relay-self.c). Pure. */
#include "listen-addr.h"

#include <stdio.h>
#include <string.h>

/* Host names and address literals only: no NUL, blank or control byte can
 * reach getaddrinfo or a log line. */
static bool host_chars_ok(const char *h, size_t n, bool v6)
{
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || (v6 && (c == ':' || c == '%'))))
			return false;
	}
	return true;
}

int listen_parse_addr(const char *p, size_t len, char *host, size_t hostlen, unsigned *port_r,
                      bool *v6_r, char *err, size_t errlen)
{
	const char *hs, *he, *ps;
	*v6_r = false;
	if (len > 0 && p[0] == '[') {
		const char *close = memchr(p, ']', len);
		if (close == NULL || close + 1 >= p + len || close[1] != ':') {
			snprintf(err, errlen, "invalid listen address '%.*s'", (int)len, p);
			return -1;
		}
		hs = p + 1;
		he = close;
		ps = close + 2;
		*v6_r = true;
	} else {
		const char *colon = memrchr(p, ':', len);
		if (colon == NULL) {
			snprintf(err, errlen, "invalid listen address '%.*s' (no port)", (int)len,
			         p);
			return -1;
		}
		hs = p;
		he = colon;
		ps = colon + 1;
		if (he - hs == 1 && hs[0] == '*')
			he = hs;
	}
	size_t hlen = (size_t)(he - hs), plen = (size_t)(p + len - ps);
	if (hlen >= hostlen || (*v6_r && hlen == 0) || !host_chars_ok(hs, hlen, *v6_r)) {
		snprintf(err, errlen, "invalid host in listen address '%.*s'", (int)len, p);
		return -1;
	}
	unsigned port = 0;
	for (size_t i = 0; i < plen; i++) {
		if (ps[i] < '0' || ps[i] > '9' || port > 65535) {
			port = 0;
			break;
		}
		port = port * 10 + (unsigned)(ps[i] - '0');
	}
	if (plen == 0 || port == 0 || port > 65535) {
		snprintf(err, errlen, "invalid port in listen address '%.*s'", (int)len, p);
		return -1;
	}
	memcpy(host, hs, hlen);
	host[hlen] = '\0';
	*port_r = port;
	return 0;
}
