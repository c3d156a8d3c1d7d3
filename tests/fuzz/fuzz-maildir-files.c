/* fuzz-maildir-files.c: the pure parsers of Maildir state files (loft-uidlist
 * and loft-index). Those files are written by Loft, but a corrupt or
 * hand-edited one must only ever be refused, never crash a session. The
 * fuzzer's bytes are fed to the uidlist parser as they are, and to the index
 * parser with a valid checksum line appended so it gets past the checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maildir-private.h"

static uint64_t fnv64(const uint8_t *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_uidlist ul;
	memset(&ul, 0, sizeof(ul));
	const char *err = NULL;
	if (maildir_uidlist_parse((const char *)data, size, &ul, &err) < 0 && err == NULL)
		abort(); /* a refusal must say why */
	maildir_uidlist_free(&ul);

	char *s = malloc(size + 32);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	int n = snprintf(s + size, 32, "end %016llx\n", (unsigned long long)fnv64(data, size));
	struct maildir_mailbox box;
	memset(&box, 0, sizeof(box));
	(void)maildir_index_parse(s, size + (size_t)n, &box);
	maildir_msgs_clear(&box);
	free(s);
	return 0;
}
