/* netmask.c: parse and match `mynetworks` entries, IPv4 dotted quads and
 * bracketed IPv6, with an optional /prefix. Pure: no allocation, no I/O.
 * inet_pton does the address work; the surrounding syntax is checked here. */
#include "netmask.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

static int parse_prefix(const char *p, size_t len, unsigned max, unsigned *out)
{
	unsigned v = 0;
	if (len == 0 || len > 3)
		return -1;
	if (len > 1 && p[0] == '0')
		return -1; /* no leading zeros: "/08" is a typo */
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static bool host_bits_clear(const uint8_t *a, unsigned nbytes, unsigned prefix)
{
	for (unsigned bit = prefix; bit < nbytes * 8; bit++)
		if (a[bit / 8] & (0x80u >> (bit % 8)))
			return false;
	return true;
}

int netmask_parse(const char *p, size_t len, struct netmask *m)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	const char *start = p;
	const char *slash = memchr(p, '/', len);
	size_t alen = slash ? (size_t)(slash - p) : len;
	bool v6 = alen > 0 && p[0] == '[';
	memset(m, 0, sizeof(*m));
	if (v6) {
		if (alen < 3 || p[alen - 1] != ']')
			return -1;
		p++;
		alen -= 2;
	}
	if (alen == 0 || alen >= sizeof(tmp) || memchr(p, '\0', alen))
		return -1;
	memcpy(tmp, p, alen);
	tmp[alen] = '\0';
	m->family = v6 ? AF_INET6 : AF_INET;
	if (inet_pton(m->family, tmp, m->addr) != 1)
		return -1;
	unsigned max = v6 ? 128 : 32;
	m->prefix = max;
	if (slash &&
	    parse_prefix(slash + 1, len - (size_t)(slash + 1 - start), max, &m->prefix) < 0)
		return -1;
	if (!host_bits_clear(m->addr, max / 8, m->prefix))
		return -1;
	return 0;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

bool netmask_match(const struct netmask *m, int family, const uint8_t *addr)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (family == AF_INET6 && m->family == AF_INET && memcmp(addr, mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (family != m->family)
		return false;
	return prefix_equal(m->addr, addr, m->prefix);
}

int netmask_addr_parse(const char *s, int *family_r, uint8_t addr_r[16])
{
	memset(addr_r, 0, 16);
	if (inet_pton(AF_INET, s, addr_r) == 1) {
		*family_r = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr_r) == 1) {
		*family_r = AF_INET6;
		return 0;
	}
	return -1;
}

bool netmask_list_match(const struct netmask *v, size_t n, const char *ip)
{
	int family;
	uint8_t addr[16];
	if (netmask_addr_parse(ip, &family, addr) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (netmask_match(&v[i], family, addr))
			return true;
	return false;
}

bool netmask_is_loopback(const char *ip)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, ip, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, ip, &a6) != 1)
		return false;
	if (IN6_IS_ADDR_LOOPBACK(&a6))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}
