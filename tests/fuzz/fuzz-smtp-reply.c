/* fuzz-smtp-reply.c: libFuzzer target for loft-relay's SMTP reply parser
 * (smtpd/relay/relay-reply.c): any bytes, parsed reply after reply as the client
 * does; the text must stay one NUL-terminated line. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t off = 0;
	struct relay_reply r;
	for (;;) {
		int n = relay_reply_parse(p + off, size - off, &r);
		if (n <= 0)
			break;
		if ((size_t)n > size - off || r.code < 100 || r.code > 599 ||
		    strlen(r.text) >= sizeof(r.text) || strpbrk(r.text, "\r\n") != NULL)
			abort();
		off += (size_t)n;
	}
	return 0;
}
