/* service.c: the daemon side of the master contract: parses LOFT_LISTEN_FDS
 * ("imap:3 imaps:4 ...") into protocol/fd pairs. Pure and strict: one bad pair
 * rejects the whole value, since a daemon must not guess which fd is what. */
#include "service.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

static bool proto_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Parse one "proto:fd" pair of n bytes into out. 0 or -1. */
static int parse_pair(const char *p, size_t n, struct service_listener *out)
{
	size_t i = 0;
	while (i < n && proto_char(p[i]))
		i++;
	if (i == 0 || i >= sizeof(out->proto) || i >= n || p[i] != ':')
		return -1;
	memcpy(out->proto, p, i);
	out->proto[i] = '\0';
	long fd = 0;
	size_t d = ++i;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		fd = fd * 10 + (p[i] - '0');
		if (fd > INT_MAX)
			return -1;
	}
	if (i == d || i != n || fd < 3)
		return -1;
	out->fd = (int)fd;
	return 0;
}

int service_parse_listen_fds(const char *s, struct service_listener *out, size_t max)
{
	size_t count = 0;
	if (s == NULL)
		return -1;
	while (*s != '\0') {
		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		size_t n = strcspn(s, " ");
		struct service_listener l;
		if (count >= max || count >= SERVICE_MAX_LISTENERS || parse_pair(s, n, &l) < 0)
			return -1;
		for (size_t i = 0; i < count; i++) {
			if (out[i].fd == l.fd)
				return -1; /* one fd cannot serve two entries */
		}
		out[count++] = l;
		s += n;
	}
	return (int)count;
}
