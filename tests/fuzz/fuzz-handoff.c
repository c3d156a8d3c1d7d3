/* fuzz-handoff.c: libFuzzer target for handoff_decode (lib/ipc/handoff.c), the
 * parser mailstore's root dispatcher runs on every SESSION line a login
 * daemon sends. Whatever decodes must re-encode and decode to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handoff.h"
#include "wire.h"

static void same(const struct handoff_req *a, const struct handoff_req *b)
{
	if (a->id != b->id || strcmp(a->proto, b->proto) != 0 || strcmp(a->token, b->token) != 0 ||
	    strcmp(a->user, b->user) != 0 || strcmp(a->rip, b->rip) != 0 ||
	    strcmp(a->lip, b->lip) != 0 || a->rport != b->rport || a->lport != b->lport ||
	    strcmp(a->session, b->session) != 0 || a->tls != b->tls || a->secured != b->secured ||
	    a->data_len != b->data_len || memcmp(a->data, b->data, a->data_len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > WIRE_MAX_LINE)
		return 0;
	char *line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	struct wire_field f[WIRE_MAX_FIELDS];
	struct handoff_req req, again;
	const char *err = NULL;
	int n = wire_decode(line, size, f, WIRE_MAX_FIELDS);
	if (n > 0 && handoff_decode(f, n, &req, &err) == 0) {
		struct buf b;
		buf_init(&b, 0);
		if (handoff_encode(&b, &req) != 0 || b.len == 0 || b.data[b.len - 1] != '\n')
			abort();
		struct wire_field g[WIRE_MAX_FIELDS];
		int m = wire_decode(b.data, b.len - 1, g, WIRE_MAX_FIELDS);
		if (m < 0 || handoff_decode(g, m, &again, &err) != 0)
			abort();
		same(&req, &again);
		buf_free(&b);
	} else if (n > 0 && err == NULL) {
		abort(); /* every refusal carries a reason */
	}
	free(line);
	return 0;
}
