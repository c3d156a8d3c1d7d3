/* fuzz-mime-address.c: libFuzzer target for RFC 5322 address lists: parses
 * arbitrary bytes as ENVELOPE and SEARCH FROM/TO/CC/BCC do, writes the list
 * back in its normal form; group markers never nest (a list cut at the
 * address limit may lack the last end marker). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_address *a;
	size_t n;
	struct buf b;
	long groups = 0;

	if (mime_address_parse((const char *)data, size, &a, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (a[i].group_start && a[i].group_end)
			abort();
		groups += a[i].group_start ? 1 : a[i].group_end ? -1 : 0;
		if (groups < 0 || groups > 1)
			abort(); /* groups do not nest; an end follows its start */
	}
	buf_init(&b, 0);
	if (mime_address_write(a, n, &b) < 0)
		abort();
	if (n > 0 && b.len == 0)
		abort(); /* every entry writes something */
	buf_free(&b);
	mime_address_free(a, n);
	return 0;
}
