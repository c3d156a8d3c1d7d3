/* fuzz-mime.c: libFuzzer target for the MIME parser and the FETCH renderers:
 * parses arbitrary bytes, renders ENVELOPE, BODY and BODYSTRUCTURE (which
 * must be balanced IMAP lists) and a few BODY[section]s (whose announced
 * size must match what is rendered). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap-fetch-render.h"

/* Parentheses balance outside quoted strings and literals. */
static void check_balanced(const char *p, size_t len)
{
	long level = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '"') {
			for (i++; i < len && p[i] != '"'; i++)
				if (p[i] == '\\')
					i++;
			if (i >= len)
				abort(); /* unterminated quoted string */
		} else if (p[i] == '{') {
			size_t n = 0;
			for (i++; i < len && p[i] >= '0' && p[i] <= '9'; i++)
				n = n * 10 + (size_t)(p[i] - '0');
			if (i + 2 >= len || p[i] != '}' || p[i + 1] != '\r' || p[i + 2] != '\n')
				abort(); /* malformed literal */
			i += 2 + n;
		} else if (p[i] == '(') {
			level++;
		} else if (p[i] == ')' && --level < 0) {
			abort();
		}
	}
	if (level != 0)
		abort();
}

static void render_sections(const struct mime_message *m)
{
	static const char *const specs[] = {"",
	                                    "1",
	                                    "2",
	                                    "1.1",
	                                    "1.2.1",
	                                    "HEADER",
	                                    "TEXT",
	                                    "1.MIME",
	                                    "2.HEADER",
	                                    "2.TEXT",
	                                    "HEADER.FIELDS (From Subject)",
	                                    "1.HEADER.FIELDS.NOT (Content-Type)"};

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct imap_section s;
		struct imap_section_range r;
		const char *error;
		struct buf b;

		if (imap_section_parse(specs[i], strlen(specs[i]), &s, &error) < 0)
			abort();
		buf_init(&b, 0);
		if (imap_section_lookup(m, &s, &r) == 1) {
			if (r.off + r.len > m->len || imap_section_render(m, &s, &r, &b) < 0 ||
			    b.len != r.size)
				abort();
		}
		buf_free(&b);
		imap_section_free(&s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_message *m = mime_parse((const char *)data, size);
	struct buf b;

	if (m == NULL)
		return 0;
	buf_init(&b, 0);
	if (imap_bodystructure_render(m, m->root, true, &b) < 0)
		abort();
	check_balanced(b.data, b.len);
	buf_reset(&b);
	if (imap_bodystructure_render(m, m->root, false, &b) < 0)
		abort();
	check_balanced(b.data, b.len);
	buf_reset(&b);
	if (imap_envelope_render(m, m->root, &b) < 0)
		abort();
	check_balanced(b.data, b.len);
	buf_free(&b);
	render_sections(m);
	mime_message_free(m);
	return 0;
}
