/* mime-parse.c: splits a message into its MIME part tree in one pass over
 * the lines: header blocks, multipart boundaries (nested, preamble and
 * epilogue, missing final boundary) and message/rfc822 bodies, within the
 * limits in mime.h. Boundary matching follows Dovecot's message parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime-private.h"

#define STACK_MAX (MIME_MAX_DEPTH + 2)

struct parse_ctx {
	struct mime_message *m;
	const char *p;
	size_t len;
	/* the open parts, root first; bnd[i] is stack[i]'s active boundary */
	struct mime_part *stack[STACK_MAX];
	struct mime_part *last_child[STACK_MAX];
	const char *bnd[STACK_MAX];
	size_t bnd_len[STACK_MAX];
	size_t epi_off[STACK_MAX]; /* where the epilogue starts, once closed */
	size_t depth;
};

size_t mime_crlf_size(const char *p, size_t len)
{
	size_t n = len;

	for (size_t i = 0; i < len; i++)
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			n++;
	return n;
}

static void count_lines(const char *p, size_t off, size_t len, size_t *lines, size_t *bare)
{
	*lines = *bare = 0;
	for (size_t i = off; i < off + len; i++) {
		if (p[i] != '\n')
			continue;
		(*lines)++;
		if (i == off || p[i - 1] != '\r')
			(*bare)++;
	}
}

static size_t line_end(const struct parse_ctx *c, size_t pos)
{
	const char *lf = memchr(c->p + pos, '\n', c->len - pos);

	return lf == NULL ? c->len : (size_t)(lf - c->p) + 1;
}

/* Is the line at pos a boundary of an open multipart? Returns its stack
 * index or -1; *close_r says whether it is the closing "--b--". The longest
 * matching boundary wins, and an exact match ends the search. */
static int boundary_at(const struct parse_ctx *c, size_t pos, bool *close_r)
{
	size_t end = line_end(c, pos), n;
	int best = -1;

	if (end - pos < 2 || c->p[pos] != '-' || c->p[pos + 1] != '-')
		return -1;
	if (c->m->n_parts >= MIME_MAX_PARTS) {
		c->m->limited = true; /* boundaries are no longer recognised */
		return -1;
	}
	const char *s = c->p + pos + 2;
	n = end - pos - 2;
	if (n > 0 && s[n - 1] == '\n')
		n--;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	for (int i = (int)c->depth - 1; i >= 0; i--) {
		size_t bl = c->bnd_len[i];
		if (c->bnd[i] == NULL || bl > n || memcmp(c->bnd[i], s, bl) != 0)
			continue;
		if (best < 0 || c->bnd_len[best] < bl) {
			best = i;
			if (bl == n)
				break;
		}
	}
	if (best >= 0)
		*close_r = n >= c->bnd_len[best] + 2 && memcmp(s + c->bnd_len[best], "--", 2) == 0;
	return best;
}

static int add_hdr(struct mime_part *part, size_t off, size_t len, size_t name_len, size_t voff)
{
	if (part->n_hdrs % 16 == 0) {
		struct mime_hdr *n = realloc(part->hdrs, (part->n_hdrs + 16) * sizeof(*n));
		if (n == NULL)
			return -1;
		part->hdrs = n;
	}
	part->hdrs[part->n_hdrs++] = (struct mime_hdr){off, len, name_len, voff};
	return 0;
}

/* Index one field p[off, end) (continuations included). */
static int index_field(struct parse_ctx *c, struct mime_part *part, size_t off, size_t end)
{
	const char *colon = memchr(c->p + off, ':', end - off);
	size_t name_len, voff;

	if (part->n_hdrs >= MIME_MAX_HEADERS || end - off > MIME_MAX_FIELD_LEN) {
		c->m->limited = true;
		return 0;
	}
	if (colon == NULL) /* not a field; kept in the block, never matched */
		return add_hdr(part, off, end - off, 0, end);
	name_len = (size_t)(colon - (c->p + off));
	voff = name_len + 1 + off;
	while (name_len > 0 &&
	       (c->p[off + name_len - 1] == ' ' || c->p[off + name_len - 1] == '\t'))
		name_len--;
	while (voff < end && (c->p[voff] == ' ' || c->p[voff] == '\t'))
		voff++;
	return add_hdr(part, off, end - off, name_len, voff);
}

/* The header block at pos: fields until a blank line or the end. A header
 * that opens with a boundary line is empty. */
static int parse_header(struct parse_ctx *c, struct mime_part *part, size_t pos)
{
	size_t field = SIZE_MAX;
	bool close;

	part->hdr_off = pos;
	if (boundary_at(c, pos, &close) >= 0) {
		part->body_off = pos;
		return 0;
	}
	while (pos < c->len) {
		size_t next = line_end(c, pos);
		/* a boundary line ends a header that has no blank line */
		if (c->p[pos] == '-' && boundary_at(c, pos, &close) >= 0)
			break;
		bool blank = c->p[pos] == '\n' ||
		             (c->p[pos] == '\r' && next - pos == 2 && c->p[pos + 1] == '\n');
		bool cont = c->p[pos] == ' ' || c->p[pos] == '\t';
		if (field != SIZE_MAX && !cont) {
			if (index_field(c, part, field, pos) < 0)
				return -1;
			field = SIZE_MAX;
		}
		if (blank) {
			pos = next;
			break;
		}
		if (!cont || field == SIZE_MAX)
			field = field == SIZE_MAX ? pos : field;
		pos = next;
	}
	if (field != SIZE_MAX && index_field(c, part, field, pos) < 0)
		return -1;
	part->body_off = pos;
	part->hdr_len = pos - part->hdr_off;
	count_lines(c->p, part->hdr_off, part->hdr_len, &part->hdr_lines, &part->hdr_bare_lf);
	return 0;
}

static struct mime_part *new_part(struct parse_ctx *c, size_t level)
{
	struct mime_part *part = calloc(1, sizeof(*part));

	if (part == NULL)
		return NULL;
	c->m->n_parts++;
	if (c->depth == 0) {
		c->m->root = part;
	} else {
		struct mime_part *parent = c->stack[level];
		part->parent = parent;
		part->depth = parent->depth + 1;
		if (c->last_child[level] == NULL)
			parent->children = part;
		else
			c->last_child[level]->next = part;
		c->last_child[level] = part;
	}
	return part;
}

static const char *param_get(const struct mime_part *part, const char *name)
{
	for (size_t i = 0; i < part->n_params; i++)
		if (strcasecmp(part->params[i].name, name) == 0)
			return part->params[i].value;
	return NULL;
}

static bool is_type(const struct mime_part *part, const char *type, const char *subtype)
{
	return part->type != NULL && strcasecmp(part->type, type) == 0 &&
	       (subtype == NULL || strcasecmp(part->subtype, subtype) == 0);
}

/* Over a limit: the part becomes application/octet-stream (its parameters
 * kept), so nothing below it is parsed, as Dovecot does. */
static int make_opaque(struct parse_ctx *c, struct mime_part *part)
{
	free(part->type);
	free(part->subtype);
	part->type = mime_strndup("application", 11);
	part->subtype = mime_strndup("octet-stream", 12);
	part->opaque = true;
	c->m->limited = true;
	return part->type == NULL || part->subtype == NULL ? -1 : 0;
}

/* Read part's header at pos, push it, and when it is message/rfc822 do the
 * same for the embedded message; leaves *pos at the deepest body. */
static int open_part(struct parse_ctx *c, struct mime_part *part, size_t *pos)
{
	for (;;) {
		if (parse_header(c, part, *pos) < 0 || mime_part_parse_content(c->m, part) < 0)
			return -1;
		struct mime_part *parent = part->parent;
		if (part->type == NULL && parent != NULL &&
		    is_type(parent, "multipart", "digest")) {
			part->type = mime_strndup("message", 7);
			part->subtype = mime_strndup("rfc822", 6);
			if (part->type == NULL || part->subtype == NULL)
				return -1;
		}
		const char *b = param_get(part, "boundary");
		bool mp = is_type(part, "multipart", NULL) && b != NULL; /* "" is valid */
		bool msg = is_type(part, "message", "rfc822");
		if ((mp || msg) &&
		    (part->depth + 1 >= MIME_MAX_DEPTH || c->m->n_parts >= MIME_MAX_PARTS)) {
			if (make_opaque(c, part) < 0)
				return -1;
			mp = msg = false;
		}
		c->stack[c->depth] = part;
		c->last_child[c->depth] = NULL;
		c->bnd[c->depth] = mp ? b : NULL;
		c->bnd_len[c->depth] = mp ? strlen(b) : 0;
		c->depth++;
		*pos = part->body_off;
		part->multipart = mp;
		part->message = msg;
		if (!msg)
			return 0;
		part = new_part(c, c->depth - 1);
		if (part == NULL)
			return -1;
	}
}

/* Close the open parts from level on at end (their bodies stop there). */
static void close_parts(struct parse_ctx *c, size_t level, size_t end)
{
	while (c->depth > level) {
		struct mime_part *part = c->stack[--c->depth];
		/* a boundary right after a header takes the blank line's LF */
		if (end < part->hdr_off)
			part->hdr_off = end;
		if (end < part->body_off) {
			part->body_off = end;
			part->hdr_len = end - part->hdr_off;
			count_lines(c->p, part->hdr_off, part->hdr_len, &part->hdr_lines,
			            &part->hdr_bare_lf);
		}
		part->body_len = end - part->body_off;
		count_lines(c->p, part->body_off, part->body_len, &part->body_lines,
		            &part->body_bare_lf);
	}
}

static int parse_body(struct parse_ctx *c, size_t pos)
{
	while (pos < c->len) {
		size_t next = line_end(c, pos);
		bool close = false;
		int k = boundary_at(c, pos, &close);
		if (k < 0) {
			pos = next;
			continue;
		}
		/* The line end before a boundary belongs to the boundary, except
		 * the one ending a closing boundary line right above (Dovecot
		 * counts that in the closed multipart's epilogue) and the end of
		 * the header of an embedded message with an empty body (found by
		 * comparing with Dovecot). */
		size_t end = pos, top = c->depth - 1;
		const struct mime_part *last = c->stack[top];
		bool keep = (last->epilogue && c->epi_off[top] == pos) ||
		            (last->parent != NULL && last->parent->message && last->hdr_len > 0 &&
		             last->body_off == pos);
		if (!keep && end > 0 && c->p[end - 1] == '\n')
			end--;
		if (!keep && end > 0 && c->p[end - 1] == '\r')
			end--;
		close_parts(c, (size_t)k + 1, end);
		if (close) {
			c->stack[k]->epilogue = true;
			c->epi_off[k] = next;
			c->bnd[k] = NULL;
			pos = next;
			continue;
		}
		struct mime_part *part = new_part(c, (size_t)k);
		pos = next;
		if (part == NULL || open_part(c, part, &pos) < 0)
			return -1;
	}
	close_parts(c, 0, c->len);
	return 0;
}

static void part_free(struct mime_part *part)
{
	while (part != NULL) {
		struct mime_part *next = part->next;
		part_free(part->children);
		mime_part_free_content(part);
		free(part);
		part = next;
	}
}

void mime_message_free(struct mime_message *m)
{
	if (m == NULL)
		return;
	part_free(m->root);
	free(m);
}

struct mime_message *mime_parse(const char *p, size_t len)
{
	struct parse_ctx c = {0};
	size_t pos = 0;

	c.m = calloc(1, sizeof(*c.m));
	if (c.m == NULL)
		return NULL;
	c.m->p = p;
	c.m->len = len;
	c.p = p;
	c.len = len;
	struct mime_part *root = new_part(&c, 0);
	if (root == NULL || open_part(&c, root, &pos) < 0 || parse_body(&c, pos) < 0) {
		mime_message_free(c.m);
		return NULL;
	}
	return c.m;
}
