/* mime-address.c: RFC 5322 address-list parsing for ENVELOPE (name, route,
 * mailbox, host; groups as start/end markers). Lenient like Dovecot: what
 * can be understood is returned, the rest skipped; never an error. Also
 * writes a parsed list back in a normal form, which SEARCH FROM/TO/CC/BCC
 * match against. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime-private.h"

#define MAX_ADDRESSES 10000

struct addr_ctx {
	struct rfc822_cur c;
	struct mime_address *a;
	size_t n;
	struct buf comment; /* the last comment seen, for an addr-spec's name */
	bool bad;           /* an unterminated quoted string */
	bool stop;          /* a syntax error: the rest of the list is dropped */
};

/* Skip CFWS, remembering the text of a top-level comment. */
static void skip_cfws_note(struct addr_ctx *x)
{
	struct rfc822_cur *c = &x->c;

	for (;;) {
		while (c->p < c->end &&
		       (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
			c->p++;
		if (c->p >= c->end || *c->p != '(')
			return;
		const char *start = ++c->p;
		int level = 1;
		for (; c->p < c->end && level > 0; c->p++) {
			if (*c->p == '\\' && c->p + 1 < c->end)
				c->p++;
			else if (*c->p == '(')
				level++;
			else if (*c->p == ')')
				level--;
		}
		buf_reset(&x->comment);
		size_t n = (size_t)(c->p - start);
		if (level == 0)
			n--;
		buf_append(&x->comment, start, n);
	}
}

/* A phrase: words (atoms, quoted strings, and dots, as obs-phrase allows),
 * one space where the source had blanks or comments between them. Returns the word count, -1 on
 * ENOMEM. */
static int parse_phrase(struct addr_ctx *x, struct buf *out, bool *spaced_r)
{
	int words = 0;

	*spaced_r = false;
	for (;;) {
		const char *at = x->c.p;
		skip_cfws_note(x);
		if (words == 0)
			buf_reset(&x->comment); /* a leading comment names nothing */
		if (x->c.p >= x->c.end)
			break;
		size_t before = out->len;
		/* words keep the spacing they had: "John Q. Public", "j.doe" */
		if (words > 0 && x->c.p != at) {
			if (buf_append(out, " ", 1) < 0)
				return -1;
			*spaced_r = true;
		}
		int r;
		if (*x->c.p == '"') {
			r = rfc822_quoted(&x->c, out);
			if (r < 0 && x->c.p >= x->c.end) {
				x->bad = true;
				return words;
			}
		} else if (*x->c.p == '.') {
			x->c.p++;
			r = buf_append(out, ".", 1);
		} else {
			r = rfc822_atom(&x->c, out);
		}
		if (r < 0) {
			out->len = before;
			if (out->data != NULL)
				out->data[before] = '\0';
			break;
		}
		words++;
	}
	return words;
}

/* dot-atom or domain-literal, blanks and comments dropped. */
static int parse_domain(struct addr_ctx *x, struct buf *out)
{
	skip_cfws_note(x);
	if (x->c.p < x->c.end && *x->c.p == '[') {
		const char *s = x->c.p;
		while (x->c.p < x->c.end && *x->c.p != ']')
			x->c.p++;
		if (x->c.p < x->c.end)
			x->c.p++;
		if (buf_append(out, s, (size_t)(x->c.p - s)) < 0)
			return -1;
		skip_cfws_note(x);
		return 0;
	}
	for (;;) {
		if (rfc822_atom(&x->c, out) < 0) {
			buf_reset(out); /* "a@" or "a@b." has no domain */
			return 0;
		}
		skip_cfws_note(x);
		if (x->c.p >= x->c.end || *x->c.p != '.')
			return 0;
		x->c.p++;
		if (buf_append(out, ".", 1) < 0)
			return -1;
		skip_cfws_note(x);
	}
}

static int push(struct addr_ctx *x, const struct buf *name, const struct buf *route,
                const struct buf *mbox, const struct buf *dom, int kind)
{
	if (x->n >= MAX_ADDRESSES)
		return 0;
	struct mime_address *na = realloc(x->a, (x->n + 1) * sizeof(*na));
	if (na == NULL)
		return -1;
	x->a = na;
	struct mime_address *a = &na[x->n++];
	memset(a, 0, sizeof(*a));
	a->group_start = kind == 1;
	a->group_end = kind == 2;
	const struct buf *src[4] = {name, route, mbox, dom};
	char **dst[4] = {&a->name, &a->route, &a->mailbox, &a->domain};
	for (int i = 0; i < 4; i++) {
		if (src[i] == NULL)
			continue;
		*dst[i] = mime_strndup(src[i]->data != NULL ? src[i]->data : "", src[i]->len);
		if (*dst[i] == NULL)
			return -1;
	}
	return 0;
}

/* "<[@route,@route:]local@domain>" with the cursor on '<'. */
static int parse_angle(struct addr_ctx *x, struct buf *route, struct buf *mbox, struct buf *dom)
{
	bool spaced;

	x->c.p++;
	skip_cfws_note(x);
	while (x->c.p < x->c.end && *x->c.p == '@') {
		const char *s = x->c.p;
		while (x->c.p < x->c.end && *x->c.p != ':' && *x->c.p != '>')
			x->c.p++;
		if (x->c.p >= x->c.end || *x->c.p != ':')
			break;
		x->c.p++;
		if (buf_append(route, s, (size_t)(x->c.p - s - 1)) < 0)
			return -1;
		skip_cfws_note(x);
	}
	if (parse_phrase(x, mbox, &spaced) < 0)
		return -1;
	if (x->c.p < x->c.end && *x->c.p == '@') {
		x->c.p++;
		if (parse_domain(x, dom) < 0)
			return -1;
	}
	skip_cfws_note(x);
	if (x->c.p < x->c.end && *x->c.p == '>') {
		x->c.p++;
		return 0;
	}
	/* no closing '>': Dovecot marks the domain and stops the list */
	x->stop = true;
	buf_reset(dom);
	return buf_append_str(dom, "SYNTAX_ERROR");
}

/* One mailbox (or the start of a group). in_group: ';' ends the group. */
/* One mailbox (or the start of a group). in_group: ';' ends the group. */
static int parse_mailbox(struct addr_ctx *x, bool in_group, bool *group_r)
{
	struct buf phrase, route, mbox, dom;
	bool spaced;
	int ret = 0;

	*group_r = false;
	buf_init(&phrase, MIME_MAX_FIELD_LEN);
	buf_init(&route, MIME_MAX_FIELD_LEN);
	buf_init(&mbox, MIME_MAX_FIELD_LEN);
	buf_init(&dom, MIME_MAX_FIELD_LEN);
	int words = parse_phrase(x, &phrase, &spaced);
	char ch = x->c.p < x->c.end ? *x->c.p : '\0';
	if (words < 0) {
		ret = -1;
	} else if (x->bad) {
		x->stop = true; /* unterminated quote: one empty address */
		ret = push(x, NULL, NULL, NULL, NULL, 0);
	} else if (ch == ':' && !in_group) {
		x->c.p++;
		*group_r = true;
		ret = push(x, NULL, NULL, &phrase, NULL, 1);
	} else if (ch == '<') {
		ret = parse_angle(x, &route, &mbox, &dom);
		if (ret == 0)
			ret =
			    push(x, phrase.len > 0 ? &phrase : NULL, route.len > 0 ? &route : NULL,
			         &mbox, dom.len > 0 ? &dom : NULL, 0);
	} else if (ch == '@' || (words > 0 && !spaced)) {
		if (ch == '@') {
			x->c.p++;
			ret = parse_domain(x, &dom);
		}
		/* an addr-spec's comment (not a leading one) serves as its name */
		bool has_name = x->comment.len > 0;
		if (ret == 0)
			ret = push(x, has_name ? &x->comment : NULL, NULL, &phrase,
			           dom.len > 0 ? &dom : NULL, 0);
	} else if (words > 0) {
		/* a phrase with no address: a name without mailbox */
		ret = push(x, &phrase, NULL, NULL, NULL, 0);
	} else if (ch == ',') {
		ret = push(x, NULL, NULL, NULL, NULL, 0); /* an empty list element */
	}
	buf_free(&phrase);
	buf_free(&route);
	buf_free(&mbox);
	buf_free(&dom);
	return ret;
}

int mime_address_parse(const char *p, size_t len, struct mime_address **addrs_r, size_t *n_r)
{
	struct addr_ctx x = {{p, p + len}, NULL, 0, {0}, false, false};
	bool in_group = false, group;
	int ret = 0;

	buf_init(&x.comment, MIME_MAX_FIELD_LEN);
	while (x.c.p < x.c.end && ret == 0 && !x.stop) {
		ret = parse_mailbox(&x, in_group, &group);
		if (ret < 0 || x.stop)
			break;
		if (group) {
			in_group = true;
			continue;
		}
		skip_cfws_note(&x);
		if (x.c.p < x.c.end && *x.c.p == ';' && in_group) {
			x.c.p++;
			in_group = false;
			ret = push(&x, NULL, NULL, NULL, NULL, 2);
			skip_cfws_note(&x);
		}
		if (x.c.p >= x.c.end)
			break;
		if (*x.c.p != ',')
			break; /* junk after an address ends the list, as in Dovecot */
		x.c.p++;
	}
	if (in_group && ret == 0)
		ret = push(&x, NULL, NULL, NULL, NULL, 2);
	buf_free(&x.comment);
	if (ret < 0) {
		mime_address_free(x.a, x.n);
		*addrs_r = NULL;
		*n_r = 0;
		return -1;
	}
	*addrs_r = x.a;
	*n_r = x.n;
	return 0;
}

void mime_address_free(struct mime_address *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].name);
		free(a[i].route);
		free(a[i].mailbox);
		free(a[i].domain);
	}
	free(a);
}

static bool is_atext(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch >= 0x80 || (ch != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL);
}

/* s as written in an address: as is when it is atext (a dot allowed too
 * when !quote); otherwise '"' and '\\' escaped and, when quote, the whole
 * in double quotes. An encoded-word phrase must stay unquoted to be read. */
static int append_word(struct buf *out, const char *s, bool quote)
{
	bool plain = true;

	if (strstr(s, "=?") != NULL)
		return buf_append_str(out, s);
	for (const char *p = s; *p != '\0' && plain; p++)
		plain = is_atext((unsigned char)*p) || (*p == '.' && !quote);
	if (plain)
		return buf_append_str(out, s);
	if (quote && buf_append(out, "\"", 1) < 0)
		return -1;
	for (const char *p = s; *p != '\0'; p++)
		if (((*p == '"' || *p == '\\') && buf_append(out, "\\", 1) < 0) ||
		    buf_append(out, p, 1) < 0)
			return -1;
	return quote ? buf_append(out, "\"", 1) : 0;
}

/* One mailbox: "local@domain", or "Name <@route:local@domain>" when it has
 * a name or a route; missing parts filled in as ENVELOPE shows them. */
static int write_mailbox(const struct mime_address *a, struct buf *out)
{
	const char *mbox =
	    a->mailbox != NULL && *a->mailbox != '\0' ? a->mailbox : "MISSING_MAILBOX";
	const char *dom = a->domain != NULL && *a->domain != '\0' ? a->domain : "MISSING_DOMAIN";
	bool named = a->name != NULL && *a->name != '\0';
	bool angle = named || a->route != NULL;

	if (named && (append_word(out, a->name, true) < 0 || buf_append(out, " ", 1) < 0))
		return -1;
	if (angle && buf_append(out, "<", 1) < 0)
		return -1;
	if (a->route != NULL && (buf_append_str(out, a->route) < 0 || buf_append(out, ":", 1) < 0))
		return -1;
	if (append_word(out, mbox, false) < 0 || buf_append(out, "@", 1) < 0 ||
	    buf_append_str(out, dom) < 0)
		return -1;
	return angle ? buf_append(out, ">", 1) : 0;
}

int mime_address_write(const struct mime_address *a, size_t n, struct buf *out)
{
	bool sep = false;             /* a ", " is due before the next entry */
	size_t group_open = SIZE_MAX; /* out->len right after "group: " */

	for (size_t i = 0; i < n; i++) {
		if (a[i].group_end) {
			/* "g: a@b;" and, for an empty group, "g;" as Dovecot */
			if (out->len == group_open && out->len >= 2) {
				out->len -= 2;
				out->data[out->len] = '\0';
			}
			if (buf_append(out, ";", 1) < 0)
				return -1;
			group_open = SIZE_MAX;
			sep = true;
			continue;
		}
		if (sep && buf_append(out, ", ", 2) < 0)
			return -1;
		if (a[i].group_start) {
			const char *g = a[i].mailbox != NULL ? a[i].mailbox : "";
			if ((*g == '\0' ? buf_append_str(out, "\"\"") : append_word(out, g, true)) <
			        0 ||
			    buf_append(out, ": ", 2) < 0)
				return -1;
			group_open = out->len;
			sep = false;
			continue;
		}
		if (write_mailbox(&a[i], out) < 0)
			return -1;
		sep = true;
	}
	return 0;
}
