/* fuzz-queue-committed: the committed-ids journal scanner on arbitrary
 * bytes (a journal torn or garbled on disk). It must never read past len,
 * and a match must really be a whole line equal to the id. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue-committed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first byte chooses the id length; the rest is the journal */
	if (size < 1)
		return 0;
	size_t idl = data[0] % 32;
	if (size - 1 < idl)
		return 0;
	char id[33];
	memcpy(id, data + 1, idl);
	id[idl] = '\0';
	size_t jl = size - 1 - idl;
	char *p = malloc(jl > 0 ? jl : 1);
	if (p == NULL)
		return 0;
	memcpy(p, data + 1 + idl, jl);
	bool hit = queue_committed_scan(p, jl, id);
	if (hit) {
		/* some complete line equals id */
		size_t want = strlen(id);
		bool found = false;
		for (size_t s = 0; s < jl && !found;) {
			const char *nl = memchr(p + s, '\n', jl - s);
			if (nl == NULL)
				break;
			size_t ll = (size_t)(nl - (p + s));
			found = ll == want && memcmp(p + s, id, want) == 0;
			s += ll + 1;
		}
		if (!found)
			abort();
	}
	free(p);
	return 0;
}
