/* fuzz-listen-addr: the listen-address parser (lib/core/listen-addr.c) on
 * arbitrary bytes. It must never read past len, and what it accepts must be a sane result:
 * a NUL-terminated host shorter than the buffer and a port in 1..65535. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listen-addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char host[64], err[256];
	unsigned port = 0;
	bool v6 = false;
	/* a private copy, exactly size bytes, so ASan catches any over-read */
	char *p = malloc(size > 0 ? size : 1);
	if (p == NULL)
		return 0;
	memcpy(p, data, size);
	if (listen_parse_addr(p, size, host, sizeof(host), &port, &v6, err, sizeof(err)) == 0) {
		if (port < 1 || port > 65535 || strlen(host) >= sizeof(host))
			abort();
		if (v6 && host[0] == '\0')
			abort();
	}
	free(p);
	return 0;
}
