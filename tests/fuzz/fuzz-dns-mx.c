/* fuzz-dns-mx.c: libFuzzer target for loft-relay's DNS answer parser
 * (smtpd/relay/relay-mxparse.c). The first byte picks the question type (MX, A or
 * AAAA) for the name "example.org"; the rest is the response. Every parsed
 * name must be a short, printable, dot-free-label string. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[3] = {15, 1, 28};
	if (size < 1)
		return 0;
	struct relay_dns_answer a;
	const char *err;
	if (relay_dns_parse(data + 1, size - 1, "example.org", types[data[0] % 3], &a, &err) < 0)
		return 0;
	if (a.nmx > RELAY_DNS_MAX_MX || a.naddr > RELAY_DNS_MAX_ADDR)
		abort();
	relay_dns_sort_mx(&a);
	for (size_t i = 0; i < a.nmx; i++) {
		size_t l = strnlen(a.mx[i].host, sizeof(a.mx[i].host));
		if (l >= sizeof(a.mx[i].host) || (i > 0 && a.mx[i - 1].pref > a.mx[i].pref))
			abort();
		for (size_t k = 0; k < l; k++)
			if ((unsigned char)a.mx[i].host[k] <= 0x20 ||
			    (unsigned char)a.mx[i].host[k] >= 0x7f)
				abort();
	}
	return 0;
}
