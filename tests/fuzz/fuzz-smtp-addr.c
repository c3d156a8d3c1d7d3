/* fuzz-smtp-addr.c: libFuzzer target for the strict RFC 5321 address parser
 * (lib/parse/smtp-parse.c). An accepted path must normalise to fields within the
 * RFC limits with no control bytes, and its written-back form must parse
 * again to the very same address (normalisation is stable). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp-parse.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_clean(const char *s, size_t max)
{
	size_t n = strlen(s);
	check(n <= max);
	for (size_t i = 0; i < n; i++)
		check((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	unsigned flags = size > 0 ? (unsigned)(data[0] & 7) : 0;
	struct smtp_addr a, b;
	if (size == 0)
		return 0;
	p++;
	size--;
	if (smtp_path_parse(p, size, flags, &a) != SMTP_PARSE_OK)
		return 0;
	if (a.null_path) {
		check(flags & SMTP_ADDR_ALLOW_NULL);
		return 0;
	}
	check_clean(a.local, SMTP_LOCAL_MAX);
	check_clean(a.domain, SMTP_DOMAIN_MAX);
	check(a.local[0] != '\0');
	check(a.has_domain || (flags & SMTP_ADDR_ALLOW_NODOMAIN));
	check(!a.utf8 || (flags & SMTP_ADDR_ALLOW_UTF8));
	/* a local part written unquoted holds only atext and dots */
	if (!a.quoted)
		for (const char *l = a.local; *l; l++)
			check(strchr(" ;\"\\<>()[],:@", *l) == NULL);
	if (smtp_addr_parse(a.full, strlen(a.full), flags, &b) == SMTP_PARSE_OK) {
		check(strcmp(a.local, b.local) == 0 && strcmp(a.domain, b.domain) == 0);
		check(strcmp(a.full, b.full) == 0);
	} else {
		/* only the length cap may differ: quoting can lengthen the form */
		check(strlen(a.full) > SMTP_LOCAL_MAX);
	}
	return 0;
}
