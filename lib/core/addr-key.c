/* addr-key.c: per-address counting keys (see addr-key.h). */
#include "addr-key.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void raw_key(const char *p, size_t len, char out[ADDR_KEY_MAX])
{
	size_t n = len < ADDR_KEY_MAX - 1 ? len : ADDR_KEY_MAX - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		out[i] = ch >= 0x21 && ch < 0x7f ? (char)ch : '?';
	}
	out[n] = '\0';
}

int addr_key(const char *p, size_t len, unsigned v6_prefix, char out[ADDR_KEY_MAX])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char tmp[INET6_ADDRSTRLEN + 1];
	uint8_t a[16];
	if (len == 0 || len >= sizeof(tmp) || memchr(p, '\0', len) != NULL) {
		raw_key(p, len, out);
		return -1;
	}
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET, tmp, a) == 1) {
		inet_ntop(AF_INET, a, out, ADDR_KEY_MAX);
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, a) != 1) {
		raw_key(p, len, out);
		return -1;
	}
	if (memcmp(a, mapped, sizeof(mapped)) == 0) {
		inet_ntop(AF_INET, a + 12, out, ADDR_KEY_MAX);
		return 0;
	}
	unsigned prefix = v6_prefix > 128 ? 128 : v6_prefix;
	for (unsigned bit = prefix; bit < 128; bit++)
		a[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	char net[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, a, net, sizeof(net));
	if (prefix == 128)
		snprintf(out, ADDR_KEY_MAX, "%s", net);
	else
		snprintf(out, ADDR_KEY_MAX, "%s/%u", net, prefix);
	return 0;
}
