/* fuzz-addr-key.c: libFuzzer target for the per-address counting key
 * (lib/core/addr-key.c). The first byte picks the IPv6 prefix. The key is
 * always NUL-terminated printable ASCII; an accepted address gives a key
 * that is itself an address (or net/prefix) whose key is the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr-key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	unsigned prefix = data[0];
	const char *p = (const char *)data + 1;
	size_t len = size - 1;
	char out[ADDR_KEY_MAX];
	memset(out, 'X', sizeof(out));
	int rc = addr_key(p, len, prefix, out);
	size_t n = strnlen(out, sizeof(out));
	if (n == sizeof(out))
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x21 || (unsigned char)out[i] >= 0x7f)
			abort();
	if (rc == 0) {
		/* Keying the key again (without its /prefix) is stable. */
		char again[ADDR_KEY_MAX];
		const char *slash = strchr(out, '/');
		size_t alen = slash != NULL ? (size_t)(slash - out) : n;
		if (addr_key(out, alen, prefix, again) != 0 || strcmp(again, out) != 0)
			abort();
	} else if (rc != -1) {
		abort();
	}
	return 0;
}
