/* imap-section.c: BODY[section] for FETCH: parses a section spec ("1.2",
 * "HEADER.FIELDS (From)", "2.MIME", ...), finds the part it names in a
 * parsed message and renders its bytes with bare LFs sent as CRLF. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap-fetch-render.h"

void imap_section_free(struct imap_section *s)
{
	for (size_t i = 0; i < s->n_fields; i++)
		free(s->fields[i]);
	s->n_fields = 0;
}

static bool word_at(const char **p, const char *end, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(end - *p) < n || strncasecmp(*p, w, n) != 0)
		return false;
	*p += n;
	return true;
}

/* One field name: an atom or a quoted string. */
static int parse_field(const char **pp, const char *end, struct imap_section *s)
{
	const char *p = *pp;
	struct buf f;

	buf_init(&f, 1024);
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			if (buf_append(&f, p, 1) < 0)
				break;
		}
		if (p >= end) {
			buf_free(&f);
			return -1;
		}
		p++;
	} else {
		const char *start = p;
		while (p < end && *p != ' ' && *p != ')' && *p != '(' && *p != '"' &&
		       (unsigned char)*p > ' ' && (unsigned char)*p < 0x7f)
			p++;
		if (p == start || buf_append(&f, start, (size_t)(p - start)) < 0) {
			buf_free(&f);
			return -1;
		}
	}
	if (f.len == 0 || memchr(f.data, ':', f.len) != NULL ||
	    s->n_fields >= IMAP_SECTION_MAX_FIELDS) {
		buf_free(&f);
		return -1;
	}
	s->fields[s->n_fields++] = buf_steal(&f);
	*pp = p;
	return 0;
}

static int parse_fields(const char *p, const char *end, struct imap_section *s)
{
	if (p >= end || *p != ' ')
		return -1;
	p++;
	if (p >= end || *p != '(')
		return -1;
	p++;
	for (;;) {
		if (parse_field(&p, end, s) < 0)
			return -1;
		if (p < end && *p == ' ') {
			p++;
			continue;
		}
		if (p < end && *p == ')' && p + 1 == end)
			return 0;
		return -1;
	}
}

int imap_section_parse(const char *p, size_t len, struct imap_section *s, const char **error_r)
{
	const char *end = p + len;

	memset(s, 0, sizeof(*s));
	while (p < end && *p >= '0' && *p <= '9') {
		unsigned long n = 0;
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			n = n * 10 + (unsigned long)(*p - '0');
			if (n > 1000000)
				goto bad;
		}
		if (n == 0 || s->path_len >= IMAP_SECTION_MAX_PATH)
			goto bad;
		s->path[s->path_len++] = (unsigned int)n;
		if (p == end)
			return 0;
		if (*p != '.')
			goto bad;
		p++;
		if (p == end)
			goto bad;
	}
	if (p == end) {
		s->kind = IMAP_SECTION_BODY;
		return 0;
	}
	if (word_at(&p, end, "HEADER.FIELDS.NOT")) {
		s->kind = IMAP_SECTION_FIELDS_NOT;
		if (parse_fields(p, end, s) < 0)
			goto bad;
		return 0;
	}
	if (word_at(&p, end, "HEADER.FIELDS")) {
		s->kind = IMAP_SECTION_FIELDS;
		if (parse_fields(p, end, s) < 0)
			goto bad;
		return 0;
	}
	if (word_at(&p, end, "HEADER"))
		s->kind = IMAP_SECTION_HEADER;
	else if (word_at(&p, end, "TEXT"))
		s->kind = IMAP_SECTION_TEXT;
	else if (word_at(&p, end, "MIME") && s->path_len > 0)
		s->kind = IMAP_SECTION_MIME;
	else
		goto bad;
	if (p == end)
		return 0;
bad:
	imap_section_free(s);
	*error_r = "Invalid BODY[section]";
	return -1;
}

/* Walk the part numbers as Dovecot does (RFC 3501 6.4.5): a multipart's
 * children are numbered from 1; any other part has only number 1, itself,
 * and may be followed by more numbers only when it is message/rfc822, whose
 * further numbers then count in its embedded message. So with a
 * message/rfc822 root, "1" is the root's body (the whole embedded message)
 * and "1.1" the embedded message's first part (its body if not multipart). */
static const struct mime_part *walk(const struct mime_message *m, const struct imap_section *s)
{
	const struct mime_part *cur = m->root;

	for (size_t i = 0; i < s->path_len; i++) {
		bool more = i + 1 < s->path_len;
		if (cur->multipart) {
			const struct mime_part *c = cur->children;
			for (unsigned int n = 1; c != NULL && n < s->path[i]; n++)
				c = c->next;
			if (c == NULL)
				return NULL;
			cur = c;
		} else if (s->path[i] != 1 || (more && !cur->message)) {
			return NULL;
		}
		if (more && cur->message) {
			if (cur->children == NULL)
				return NULL;
			cur = cur->children;
		}
	}
	return cur;
}

static int append_crlf(struct buf *out, const char *p, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\n' || (i > 0 && p[i - 1] == '\r'))
			continue;
		if (buf_append(out, p + start, i - start) < 0 || buf_append(out, "\r\n", 2) < 0)
			return -1;
		start = i + 1;
	}
	return buf_append(out, p + start, len - start);
}

static bool field_listed(const struct mime_message *m, const struct imap_section *s,
                         const struct mime_hdr *h)
{
	for (size_t i = 0; i < s->n_fields; i++)
		if (mime_header_is(m, h, s->fields[i]))
			return true;
	return false;
}

/* The picked fields of a header block, then the blank line. */
static int render_fields(const struct mime_message *m, const struct imap_section *s,
                         const struct mime_part *msg, struct buf *out)
{
	bool want = s->kind == IMAP_SECTION_FIELDS;

	for (size_t i = 0; i < msg->n_hdrs; i++) {
		const struct mime_hdr *h = &msg->hdrs[i];
		if (field_listed(m, s, h) != want)
			continue;
		if (append_crlf(out, m->p + h->off, h->len) < 0)
			return -1;
		/* a last field without a line end still ends its line */
		if (h->len == 0 || m->p[h->off + h->len - 1] != '\n')
			if (buf_append(out, "\r\n", 2) < 0)
				return -1;
	}
	return buf_append(out, "\r\n", 2);
}

int imap_section_lookup(const struct mime_message *m, const struct imap_section *s,
                        struct imap_section_range *r)
{
	const struct mime_part *cur = walk(m, s), *msg;

	memset(r, 0, sizeof(*r));
	if (cur == NULL)
		return 0;
	r->part = cur;
	if (s->kind == IMAP_SECTION_BODY) {
		r->off = s->path_len == 0 ? 0 : cur->body_off;
		r->len = s->path_len == 0 ? m->len : cur->body_len;
	} else if (s->kind == IMAP_SECTION_MIME) {
		r->off = cur->hdr_off;
		r->len = cur->hdr_len;
	} else {
		msg = s->path_len == 0 ? m->root : cur->message ? cur->children : NULL;
		if (msg == NULL)
			return 0;
		r->part = msg;
		r->off = s->kind == IMAP_SECTION_TEXT ? msg->body_off : msg->hdr_off;
		r->len = s->kind == IMAP_SECTION_TEXT ? msg->body_len : msg->hdr_len;
	}
	if (s->kind == IMAP_SECTION_FIELDS || s->kind == IMAP_SECTION_FIELDS_NOT) {
		struct buf tmp;
		buf_init(&tmp, 0);
		int ret = render_fields(m, s, r->part, &tmp);
		r->size = tmp.len;
		buf_free(&tmp);
		return ret < 0 ? -1 : 1;
	}
	r->size = mime_crlf_size(m->p + r->off, r->len);
	return 1;
}

int imap_section_render(const struct mime_message *m, const struct imap_section *s,
                        const struct imap_section_range *r, struct buf *out)
{
	if (s->kind == IMAP_SECTION_FIELDS || s->kind == IMAP_SECTION_FIELDS_NOT)
		return render_fields(m, s, r->part, out);
	return append_crlf(out, m->p + r->off, r->len);
}
