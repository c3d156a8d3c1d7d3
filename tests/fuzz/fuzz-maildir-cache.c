/* fuzz-maildir-cache.c: the reader of a folder's loft-cache file. The file
 * is written by Loft but may be torn, corrupt or hand-made: the parser must
 * never read past the buffer, and every record it accepts must re-encode to
 * exactly the bytes it came from. Each input is tried as it is and, so the
 * fuzzer gets past the magic, behind a valid magic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maildir-cache.h"

struct ctx {
	const char *start;
	size_t off;
};

static int check(void *p, const struct maildir_cache_record *r)
{
	struct ctx *c = p;
	struct buf b;
	buf_init(&b, 0);
	if (strlen(r->base) != r->base_len ||
	    maildir_cache_encode(&b, r->base, r->kind, r->data, r->len) < 0 ||
	    memcmp(b.data, c->start + c->off, b.len) != 0)
		abort();
	c->off += b.len;
	buf_free(&b);
	return 0;
}

static void run(const char *p, size_t len)
{
	struct ctx c = {p, MAILDIR_CACHE_MAGIC_LEN};
	size_t good = maildir_cache_parse(p, len, check, &c);
	if (good > len || (good != 0 && good != c.off))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run((const char *)data, size);
	char *p = malloc(size + MAILDIR_CACHE_MAGIC_LEN);
	if (p == NULL)
		return 0;
	memcpy(p, MAILDIR_CACHE_MAGIC, MAILDIR_CACHE_MAGIC_LEN);
	if (size > 0)
		memcpy(p + MAILDIR_CACHE_MAGIC_LEN, data, size);
	run(p, size + MAILDIR_CACHE_MAGIC_LEN);
	free(p);
	return 0;
}
