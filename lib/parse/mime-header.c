/* mime-header.c: header-field access and the RFC 2045/2183/3066 Content-*
 * fields of a MIME part (type, parameters with RFC 2231 continuations,
 * encoding, id, description, md5, disposition, language, location). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime-private.h"

char *mime_strndup(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

int rfc822_skip_cfws(struct rfc822_cur *c)
{
	int level = 0;

	for (; c->p < c->end; c->p++) {
		char ch = *c->p;

		if (level > 0) {
			if (ch == '\\' && c->p + 1 < c->end)
				c->p++;
			else if (ch == '(')
				level++;
			else if (ch == ')')
				level--;
		} else if (ch == '(') {
			level = 1;
		} else if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') {
			return 0;
		}
	}
	return level > 0 ? -1 : 0;
}

static bool is_tspecial(unsigned char ch)
{
	return ch <= ' ' || ch == 0x7f || strchr("()<>@,;:\\\"/[]?=", ch) != NULL;
}

int rfc822_mime_token(struct rfc822_cur *c, struct buf *out)
{
	const char *start = c->p;

	while (c->p < c->end && !is_tspecial((unsigned char)*c->p))
		c->p++;
	if (c->p == start)
		return -1;
	return buf_append(out, start, (size_t)(c->p - start));
}

static bool is_atext(unsigned char ch)
{
	return ch > ' ' && ch != 0x7f && strchr("()<>@,;:\\\".[]", ch) == NULL;
}

int rfc822_atom(struct rfc822_cur *c, struct buf *out)
{
	const char *start = c->p;

	while (c->p < c->end && is_atext((unsigned char)*c->p))
		c->p++;
	if (c->p == start)
		return -1;
	return buf_append(out, start, (size_t)(c->p - start));
}

int rfc822_quoted(struct rfc822_cur *c, struct buf *out)
{
	if (c->p >= c->end || *c->p != '"')
		return -1;
	for (c->p++; c->p < c->end; c->p++) {
		if (*c->p == '"') {
			c->p++;
			return 0;
		}
		if (*c->p == '\\' && c->p + 1 < c->end)
			c->p++;
		if (buf_append(out, c->p, 1) < 0)
			return -1;
	}
	return -1; /* unterminated */
}

bool mime_header_is(const struct mime_message *m, const struct mime_hdr *h, const char *name)
{
	size_t n = strlen(name);

	return h->name_len == n && strncasecmp(m->p + h->off, name, n) == 0;
}

const struct mime_hdr *mime_header_find(const struct mime_message *m, const struct mime_part *part,
                                        const char *name)
{
	for (size_t i = 0; i < part->n_hdrs; i++)
		if (mime_header_is(m, &part->hdrs[i], name))
			return &part->hdrs[i];
	return NULL;
}

int mime_header_value(const struct mime_message *m, const struct mime_hdr *h, struct buf *out)
{
	const char *p = m->p + h->value_off, *end = m->p + h->off + h->len;

	/* the field's own line end is not part of the value */
	if (end > p && end[-1] == '\n')
		end--;
	if (end > p && end[-1] == '\r')
		end--;
	/* NUL becomes U+FFFD, as Dovecot's header parser does */
	for (; p < end; p++) {
		if (*p == '\r' || *p == '\n')
			continue;
		if (buf_append(out, *p == '\0' ? "\xef\xbf\xbd" : p, *p == '\0' ? 3 : 1) < 0)
			return -1;
	}
	return 0;
}

/* A value: token or quoted-string; an empty token is an empty value. */
static int param_value(struct rfc822_cur *c, struct buf *out)
{
	if (c->p < c->end && *c->p == '"')
		return rfc822_quoted(c, out);
	rfc822_mime_token(c, out);
	return 0;
}

/* A raw "; key=value" list, as the message writes it. */
struct raw_param {
	char *key, *value;
};

static void raw_free(struct raw_param *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].key);
		free(r[i].value);
	}
	free(r);
}

/* Junk after a value, or a parameter that is not name=value: Dovecot skips
 * to the next ';' and goes on. */
static void skip_junk(struct rfc822_cur *c)
{
	while (c->p < c->end && *c->p != ';')
		c->p++;
}

static int raw_params(struct rfc822_cur *c, struct raw_param **r_out, size_t *n_out)
{
	struct raw_param *r = NULL;
	size_t n = 0;
	struct buf k, v;
	int ret = 0;

	buf_init(&k, MIME_MAX_FIELD_LEN);
	buf_init(&v, MIME_MAX_FIELD_LEN);
	for (;;) {
		rfc822_skip_cfws(c);
		if (c->p >= c->end || *c->p != ';')
			break;
		c->p++;
		rfc822_skip_cfws(c);
		buf_reset(&k);
		buf_reset(&v);
		/* an empty name is kept when '=' follows (Dovecot does) */
		if (rfc822_mime_token(c, &k) < 0 && (c->p >= c->end || *c->p != '=')) {
			skip_junk(c);
			continue;
		}
		rfc822_skip_cfws(c);
		if (c->p >= c->end || *c->p != '=') {
			skip_junk(c);
			continue;
		}
		c->p++;
		rfc822_skip_cfws(c);
		if (param_value(c, &v) < 0) {
			skip_junk(c);
			continue;
		}
		if (n >= MIME_MAX_HEADERS)
			break;
		skip_junk(c);
		struct raw_param *nr = realloc(r, (n + 1) * sizeof(*r));
		if (nr == NULL)
			goto fail;
		r = nr;
		r[n].key = mime_strndup(k.data != NULL ? k.data : "", k.len);
		r[n].value = mime_strndup(v.data != NULL ? v.data : "", v.len);
		n++;
		if (r[n - 1].key == NULL || r[n - 1].value == NULL)
			goto fail;
	}
	*r_out = r;
	*n_out = n;
	goto out;
fail:
	raw_free(r, n);
	ret = -1;
out:
	buf_free(&k);
	buf_free(&v);
	return ret;
}

/* "name*", "name*N" or "name*N*": the continuation index (0 for "name*"),
 * or -1 when key is a plain name. */
static long continuation_index(const char *key, size_t *name_len_r, bool *ext_r)
{
	const char *star = strchr(key, '*');
	long idx = 0;

	if (star == NULL)
		return -1;
	*name_len_r = (size_t)(star - key);
	if (star[1] == '\0') {
		*ext_r = true;
		return 0;
	}
	const char *q = star + 1;
	if (*q < '0' || *q > '9')
		return -1;
	for (; *q >= '0' && *q <= '9'; q++) {
		if (idx > 100000)
			return -1;
		idx = idx * 10 + (*q - '0');
	}
	*ext_r = *q == '*';
	if (*ext_r)
		q++;
	return *q == '\0' ? idx : -1;
}

static int param_push(struct mime_param **ps, size_t *n, char *name, char *value)
{
	struct mime_param *np = realloc(*ps, (*n + 1) * sizeof(**ps));

	if (np == NULL || name == NULL || value == NULL) {
		if (np != NULL)
			*ps = np;
		free(name);
		free(value);
		return -1;
	}
	*ps = np;
	np[*n].name = name;
	np[*n].value = value;
	(*n)++;
	return 0;
}

/* One RFC 2231 segment: r[raw] is "name*idx[*]". */
struct segment {
	const struct raw_param *raw;
	size_t name_len;
	long idx;
	bool ext;
};

static int segment_cmp(const void *x, const void *y)
{
	const struct segment *a = x, *b = y;
	size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int c = strncasecmp(a->raw->key, b->raw->key, n);

	if (c != 0)
		return c;
	if (a->name_len != b->name_len)
		return a->name_len < b->name_len ? -1 : 1;
	if (a->idx != b->idx)
		return a->idx < b->idx ? -1 : 1;
	return a->raw < b->raw ? -1 : a->raw > b->raw;
}

/* The value of a complete group: an unextended segment in an extended
 * value is %-escaped, and a leading one gets an empty charset'lang'. */
static int merged_value(const struct segment *g, size_t n, bool have_ext, struct buf *v)
{
	if (have_ext && !g[0].ext && buf_append_str(v, "''") < 0)
		return -1;
	for (size_t j = 0; j < n; j++) {
		for (const char *p = g[j].raw->value; *p != '\0'; p++) {
			bool esc = have_ext && !g[j].ext && *p == '%';
			if (buf_append(v, esc ? "%25" : p, esc ? 3 : 1) < 0)
				return -1;
		}
	}
	return 0;
}

/* Merge one name's segments into "name*" (any extended) or "name"; with an
 * index missing or repeated they are sent apart as "name*N[*]". */
static int merge_group(const struct segment *g, size_t n, struct mime_param **ps, size_t *np)
{
	bool ok = true, have_ext = false;
	struct buf k, v;
	int ret = 0;

	for (size_t j = 0; j < n; j++) {
		ok = ok && g[j].idx == (long)j;
		have_ext = have_ext || g[j].ext;
	}
	buf_init(&k, MIME_MAX_FIELD_LEN);
	buf_init(&v, MIME_MAX_FIELD_LEN);
	for (size_t j = 0; j < n && ret == 0; j++) {
		buf_reset(&k);
		buf_reset(&v);
		if (buf_append(&k, g[j].raw->key, g[j].name_len) < 0)
			ret = -1;
		else if (!ok)
			ret = buf_printf(&k, "*%ld%s", g[j].idx, g[j].ext ? "*" : "") < 0 ||
			              buf_append_str(&v, g[j].raw->value) < 0
			          ? -1
			          : 0;
		else if ((have_ext && buf_append(&k, "*", 1) < 0) ||
		         merged_value(g, n, have_ext, &v) < 0)
			ret = -1;
		if (ret == 0)
			ret = param_push(ps, np, mime_strndup(k.data, k.len),
			                 mime_strndup(v.data != NULL ? v.data : "", v.len));
		if (ok)
			break;
	}
	buf_free(&k);
	buf_free(&v);
	return ret;
}

/* Parse the parameters after the cursor: plain ones in message order, then
 * the RFC 2231 ones (name*, name*N, name*N*) sorted by name and index and
 * merged per name, as Dovecot does. */
static int parse_params(struct rfc822_cur *c, struct mime_param **ps, size_t *np)
{
	struct raw_param *r = NULL;
	size_t n = 0, ns = 0;
	int ret = 0;

	if (raw_params(c, &r, &n) < 0)
		return -1;
	struct segment *seg = calloc(n + 1, sizeof(*seg));
	if (seg == NULL) {
		raw_free(r, n);
		return -1;
	}
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct segment *sg = &seg[ns];
		sg->idx = continuation_index(r[i].key, &sg->name_len, &sg->ext);
		if (sg->idx >= 0) {
			sg->raw = &r[i];
			ns++;
			continue;
		}
		ret = param_push(ps, np, r[i].key, r[i].value);
		r[i].key = r[i].value = NULL;
	}
	qsort(seg, ns, sizeof(*seg), segment_cmp);
	for (size_t i = 0, j; i < ns && ret == 0; i = j) {
		for (j = i + 1; j < ns && seg[j].name_len == seg[i].name_len &&
		                strncasecmp(seg[j].raw->key, seg[i].raw->key, seg[i].name_len) == 0;
		     j++)
			;
		ret = merge_group(seg + i, j - i, ps, np);
	}
	free(seg);
	raw_free(r, n);
	return ret;
}

static int value_of(const struct mime_message *m, const struct mime_hdr *h, struct buf *b)
{
	buf_reset(b);
	if (mime_header_value(m, h, b) < 0)
		return -1;
	return buf_append(b, "", 0);
}

/* type "/" subtype [params]. As Dovecot: "type" alone keeps an empty
 * subtype; anything else malformed before the parameters gives an empty
 * type and subtype (rendered ("" "")); parameters stop at the first broken
 * one. */
static int parse_content_type(struct mime_part *part, const char *v, size_t len)
{
	struct rfc822_cur c = {v, v + len};
	struct buf t, s;
	bool ok = false, params = false;
	int ret = 0;

	buf_init(&t, MIME_MAX_FIELD_LEN);
	buf_init(&s, MIME_MAX_FIELD_LEN);
	if (rfc822_skip_cfws(&c) == 0 && rfc822_mime_token(&c, &t) == 0) {
		/* "type" alone, also before an unclosed comment */
		ok = rfc822_skip_cfws(&c) < 0 || c.p >= c.end;
		if (!ok && *c.p == '/') {
			c.p++;
			params = rfc822_skip_cfws(&c) == 0 && rfc822_mime_token(&c, &s) == 0 &&
			         rfc822_skip_cfws(&c) == 0 && (c.p >= c.end || *c.p == ';');
			ok = params;
		}
	}
	part->type = mime_strndup(ok ? t.data : "", ok ? t.len : 0);
	part->subtype = mime_strndup(ok && s.data != NULL ? s.data : "", ok ? s.len : 0);
	if (part->type == NULL || part->subtype == NULL)
		ret = -1;
	else if (params)
		ret = parse_params(&c, &part->params, &part->n_params);
	buf_free(&t);
	buf_free(&s);
	return ret;
}

static int parse_disposition(struct mime_part *part, const char *v, size_t len)
{
	struct rfc822_cur c = {v, v + len};
	struct buf t;
	int ret = 0;

	buf_init(&t, MIME_MAX_FIELD_LEN);
	rfc822_skip_cfws(&c);
	if (rfc822_mime_token(&c, &t) == 0) {
		part->disposition = mime_strndup(t.data, t.len);
		ret = part->disposition == NULL
		          ? -1
		          : parse_params(&c, &part->disp_params, &part->n_disp_params);
	}
	buf_free(&t);
	return ret;
}

/* Content-Language: a comma list of tags (RFC 3282). */
static int parse_language(struct mime_part *part, const char *v, size_t len)
{
	struct rfc822_cur c = {v, v + len};
	struct buf t;
	int ret = 0;

	buf_init(&t, MIME_MAX_FIELD_LEN);
	for (;;) {
		rfc822_skip_cfws(&c);
		buf_reset(&t);
		if (rfc822_mime_token(&c, &t) < 0 || part->n_languages >= MIME_MAX_HEADERS)
			break;
		char **nl = realloc(part->languages, (part->n_languages + 1) * sizeof(char *));
		if (nl == NULL || (nl[part->n_languages] = mime_strndup(t.data, t.len)) == NULL) {
			if (nl != NULL)
				part->languages = nl;
			ret = -1;
			break;
		}
		part->languages = nl;
		part->n_languages++;
		rfc822_skip_cfws(&c);
		if (c.p >= c.end || *c.p != ',')
			break;
		c.p++;
	}
	buf_free(&t);
	return ret;
}

/* Content-Transfer-Encoding: one token and nothing else, or it is ignored. */
static char *parse_token_field(const char *v, size_t len)
{
	struct rfc822_cur c = {v, v + len};
	struct buf t;
	char *s = NULL;

	buf_init(&t, MIME_MAX_FIELD_LEN);
	if (rfc822_skip_cfws(&c) == 0 && rfc822_mime_token(&c, &t) == 0 &&
	    rfc822_skip_cfws(&c) == 0 && c.p >= c.end)
		s = mime_strndup(t.data, t.len);
	buf_free(&t);
	return s;
}

/* Content-ID, Content-Description, Content-MD5, Content-Location: the
 * unfolded value as written (as Dovecot keeps them). */
static char *raw_field(const char *v, size_t len)
{
	char *s = malloc(len + 1);
	size_t j = 0;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		s[j++] = v[i];
	s[j] = '\0';
	return s;
}

/* The first occurrence of each field counts, as in Dovecot. */
static int content_field(struct mime_part *part, const char *name, const char *v, size_t len)
{
	if (strcasecmp(name, "type") == 0 && part->type == NULL)
		return parse_content_type(part, v, len);
	if (strcasecmp(name, "transfer-encoding") == 0 && part->encoding == NULL) {
		part->encoding = parse_token_field(v, len);
		return 0;
	}
	if (strcasecmp(name, "disposition") == 0 && part->disposition == NULL)
		return parse_disposition(part, v, len);
	if (strcasecmp(name, "language") == 0 && part->languages == NULL)
		return parse_language(part, v, len);
	char **dst = NULL;
	if (strcasecmp(name, "id") == 0)
		dst = &part->id;
	else if (strcasecmp(name, "description") == 0)
		dst = &part->description;
	else if (strcasecmp(name, "md5") == 0)
		dst = &part->md5;
	else if (strcasecmp(name, "location") == 0)
		dst = &part->location;
	if (dst == NULL || *dst != NULL)
		return 0;
	*dst = raw_field(v, len);
	return *dst == NULL ? -1 : 0;
}

int mime_part_parse_content(const struct mime_message *m, struct mime_part *part)
{
	struct buf v, name;
	int ret = 0;

	/* A message's Content-* fields count only once it is MIME: after a
	 * MIME-Version or Content-Type field (Dovecot's rule); a multipart's
	 * children always are. */
	bool is_mime = part->parent != NULL && !part->parent->message;

	buf_init(&v, 0);
	buf_init(&name, 0);
	for (size_t i = 0; i < part->n_hdrs && ret == 0; i++) {
		const struct mime_hdr *h = &part->hdrs[i];
		if (mime_header_is(m, h, "mime-version"))
			is_mime = true;
		if (h->name_len <= 8 || strncasecmp(m->p + h->off, "content-", 8) != 0)
			continue;
		if (h->name_len == 12 && strncasecmp(m->p + h->off + 8, "type", 4) == 0)
			is_mime = true;
		else if (!is_mime)
			continue;
		buf_reset(&name);
		if (buf_append(&name, m->p + h->off + 8, h->name_len - 8) < 0 ||
		    value_of(m, h, &v) < 0) {
			ret = -1;
			break;
		}
		ret = content_field(part, name.data, v.data, v.len);
	}
	buf_free(&v);
	buf_free(&name);
	return ret;
}

static void params_free(struct mime_param *ps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ps[i].name);
		free(ps[i].value);
	}
	free(ps);
}

void mime_part_free_content(struct mime_part *part)
{
	free(part->type);
	free(part->subtype);
	params_free(part->params, part->n_params);
	params_free(part->disp_params, part->n_disp_params);
	free(part->id);
	free(part->description);
	free(part->encoding);
	free(part->md5);
	free(part->location);
	free(part->disposition);
	for (size_t i = 0; i < part->n_languages; i++)
		free(part->languages[i]);
	free(part->languages);
	free(part->hdrs);
}
