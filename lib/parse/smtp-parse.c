/* smtp-parse.c: pure SMTP/LMTP command and address parsers (see smtp-parse.h).
 * Every function works on (p, len), never reads past len, never allocates;
 * an address is normalised into a struct and only then declared valid. */
#include "smtp-parse.h"

#include <arpa/inet.h>
#include <string.h>

static const struct {
	const char *name;
	enum smtp_verb verb;
} verbs[] = {
    {"HELO", SMTP_VERB_HELO}, {"EHLO", SMTP_VERB_EHLO},         {"LHLO", SMTP_VERB_LHLO},
    {"MAIL", SMTP_VERB_MAIL}, {"RCPT", SMTP_VERB_RCPT},         {"DATA", SMTP_VERB_DATA},
    {"BDAT", SMTP_VERB_BDAT}, {"RSET", SMTP_VERB_RSET},         {"NOOP", SMTP_VERB_NOOP},
    {"QUIT", SMTP_VERB_QUIT}, {"VRFY", SMTP_VERB_VRFY},         {"EXPN", SMTP_VERB_EXPN},
    {"HELP", SMTP_VERB_HELP}, {"STARTTLS", SMTP_VERB_STARTTLS}, {"AUTH", SMTP_VERB_AUTH},
};

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool ieq(const char *p, size_t len, const char *s)
{
	size_t n = strlen(s);
	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != lower(s[i]))
			return false;
	return true;
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

const char *smtp_verb_name(enum smtp_verb verb)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (verbs[i].verb == verb)
			return verbs[i].name;
	return "UNKNOWN";
}

enum smtp_parse_result smtp_cmd_parse(const char *p, size_t len, struct smtp_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->args = "";
	if (len > 0 && p[len - 1] == '\n')
		len--;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len > SMTP_LINE_MAX - 2)
		return SMTP_PARSE_TOO_LONG;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return SMTP_PARSE_BAD_CHAR;
	}
	size_t v = 0;
	while (v < len && is_alpha((unsigned char)p[v]))
		v++;
	if (v == 0 || (v < len && p[v] != ' '))
		return SMTP_PARSE_SYNTAX;
	cmd->verb_text = p;
	cmd->verb_len = v;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (ieq(p, v, verbs[i].name))
			cmd->verb = verbs[i].verb;
	if (v < len) {
		const char *a = p + v + 1;
		size_t alen = len - v - 1;
		/* Trailing blanks carry no meaning and some clients send them. */
		while (alen > 0 && (a[alen - 1] == ' ' || a[alen - 1] == '\t'))
			alen--;
		cmd->args = a;
		cmd->args_len = alen;
	}
	return SMTP_PARSE_OK;
}

/* Length of one valid UTF-8 sequence (2..4 bytes) at p, or 0. */
static size_t utf8_len(const unsigned char *p, size_t len)
{
	unsigned char c = p[0];
	size_t n;
	unsigned cp;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool is_atext(unsigned char c)
{
	return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* A valid dot-string: atoms of atext (or UTF-8 when utf8) joined by dots. */
static bool is_dot_string(const char *p, size_t len, bool utf8)
{
	const unsigned char *u = (const unsigned char *)p;
	if (len == 0 || p[0] == '.' || p[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len;) {
		if (u[i] == '.') {
			if (u[i + 1] == '.')
				return false;
			i++;
		} else if (u[i] >= 0x80) {
			size_t n = utf8 ? utf8_len(u + i, len - i) : 0;
			if (n == 0)
				return false;
			i += n;
		} else if (is_atext(u[i])) {
			i++;
		} else {
			return false;
		}
	}
	return true;
}

/* Parse the local part at p; decoded into a->local. Returns bytes used or 0. */
static size_t parse_local(const char *p, size_t len, bool utf8, struct smtp_addr *a)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t out = 0, i;
	if (len > 0 && p[0] == '"') {
		for (i = 1; i < len && p[i] != '"'; i++) {
			unsigned char c = u[i];
			if (c == '\\') {
				if (++i >= len || u[i] < 32 || u[i] > 126)
					return 0;
				c = u[i];
			} else if (c >= 0x80) {
				size_t n = utf8 ? utf8_len(u + i, len - i) : 0;
				if (n == 0 || out + n > SMTP_LOCAL_MAX)
					return 0;
				memcpy(a->local + out, p + i, n);
				out += n;
				i += n - 1;
				continue;
			} else if (c < 32 || c > 126) {
				return 0;
			}
			if (out >= SMTP_LOCAL_MAX)
				return 0;
			a->local[out++] = (char)c;
		}
		if (i >= len)
			return 0;
		i++; /* closing quote */
	} else {
		for (i = 0; i < len && p[i] != '@'; i++)
			;
		if (i > SMTP_LOCAL_MAX || !is_dot_string(p, i, utf8))
			return 0;
		memcpy(a->local, p, i);
		out = i;
	}
	if (i > SMTP_LOCAL_MAX || out == 0)
		return 0;
	a->local[out] = '\0';
	return i;
}

static bool parse_literal(const char *p, size_t len)
{
	char tmp[64];
	if (len < 3 || p[0] != '[' || p[len - 1] != ']' || len - 2 >= sizeof(tmp))
		return false;
	memcpy(tmp, p + 1, len - 2);
	tmp[len - 2] = '\0';
	unsigned char bin[16];
	if (len - 2 > 5 && ieq(tmp, 5, "IPv6:"))
		return inet_pton(AF_INET6, tmp + 5, bin) == 1;
	return inet_pton(AF_INET, tmp, bin) == 1;
}

/* A domain name (LDH labels, or U-labels when utf8) or an address literal. */
static bool parse_domain(const char *p, size_t len, bool utf8, bool *had_utf8)
{
	const unsigned char *u = (const unsigned char *)p;
	if (len == 0 || len > SMTP_DOMAIN_MAX)
		return false;
	if (p[0] == '[')
		return parse_literal(p, len);
	size_t label = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = u[i];
		size_t n = 1;
		if (c == '.') {
			if (label == 0 || p[i - 1] == '-')
				return false;
			label = 0;
			i++;
			continue;
		}
		if (c >= 0x80) {
			n = utf8 ? utf8_len(u + i, len - i) : 0;
			if (n == 0)
				return false;
			*had_utf8 = true;
		} else if (c == '-') {
			if (label == 0)
				return false;
		} else if (!is_alpha(c) && !is_digit(c)) {
			return false;
		}
		label += n;
		if (label > 63)
			return false;
		i += n;
	}
	return label > 0 && p[len - 1] != '-';
}

/* Write a->full: local part (quoted if it is not a dot-string) @ domain. */
static bool make_full(struct smtp_addr *a)
{
	size_t n = 0, cap = sizeof(a->full) - 1, ll = strlen(a->local);
	a->quoted = !is_dot_string(a->local, ll, true);
	if (a->quoted)
		a->full[n++] = '"';
	for (size_t i = 0; i < ll; i++) {
		if (a->quoted && (a->local[i] == '"' || a->local[i] == '\\'))
			a->full[n++] = '\\';
		a->full[n++] = a->local[i];
	}
	if (a->quoted)
		a->full[n++] = '"';
	if (a->has_domain) {
		size_t dl = strlen(a->domain);
		if (n + 1 + dl > cap)
			return false;
		a->full[n++] = '@';
		memcpy(a->full + n, a->domain, dl);
		n += dl;
	}
	a->full[n] = '\0';
	return true;
}

enum smtp_parse_result smtp_addr_parse(const char *p, size_t len, unsigned flags,
                                       struct smtp_addr *a)
{
	bool utf8 = (flags & SMTP_ADDR_ALLOW_UTF8) != 0, dom_utf8 = false;
	memset(a, 0, sizeof(*a));
	if (len > SMTP_PATH_MAX - 2)
		return SMTP_PARSE_TOO_LONG;
	size_t used = parse_local(p, len, utf8, a);
	if (used == 0)
		return SMTP_PARSE_ADDRESS;
	if (used == len) {
		if (!(flags & SMTP_ADDR_ALLOW_NODOMAIN))
			return SMTP_PARSE_ADDRESS;
	} else {
		if (p[used] != '@' || !parse_domain(p + used + 1, len - used - 1, utf8, &dom_utf8))
			return SMTP_PARSE_ADDRESS;
		a->has_domain = true;
		memcpy(a->domain, p + used + 1, len - used - 1);
		a->domain[len - used - 1] = '\0';
		for (char *d = a->domain; *d; d++)
			*d = lower(*d);
	}
	/* Validate the normalised result again: what later code sees is what
	 * was checked, whatever the written form was. */
	for (const char *l = a->local; *l; l++)
		if ((unsigned char)*l < 32 || *l == 127)
			return SMTP_PARSE_ADDRESS;
	for (const char *l = a->local; *l; l++)
		if ((unsigned char)*l >= 0x80)
			a->utf8 = true;
	a->utf8 = a->utf8 || dom_utf8;
	if (!make_full(a))
		return SMTP_PARSE_TOO_LONG;
	return SMTP_PARSE_OK;
}

/* Skip an RFC 5321 source route "@d1,@d2:" (obsolete; must be accepted and
 * ignored). Returns bytes used (0 when there is none), or -1 when bad. */
static long skip_route(const char *p, size_t len)
{
	if (len == 0 || p[0] != '@')
		return 0;
	size_t i = 0;
	for (;;) {
		if (i >= len || p[i] != '@')
			return -1;
		size_t s = ++i;
		while (i < len && p[i] != ',' && p[i] != ':')
			i++;
		bool u = false;
		if (i >= len || !parse_domain(p + s, i - s, false, &u))
			return -1;
		if (p[i++] == ':')
			return (long)i;
	}
}

enum smtp_parse_result smtp_path_parse(const char *p, size_t len, unsigned flags,
                                       struct smtp_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (len > SMTP_PATH_MAX)
		return SMTP_PARSE_TOO_LONG;
	if (len < 2 || p[0] != '<' || p[len - 1] != '>')
		return SMTP_PARSE_SYNTAX;
	if (len == 2) {
		if (!(flags & SMTP_ADDR_ALLOW_NULL))
			return SMTP_PARSE_ADDRESS;
		a->null_path = true;
		return SMTP_PARSE_OK;
	}
	long r = skip_route(p + 1, len - 2);
	if (r < 0)
		return SMTP_PARSE_ADDRESS;
	return smtp_addr_parse(p + 1 + r, len - 2 - (size_t)r, flags, a);
}

/* Length of the path "<...>" at p (quotes respected), or 0. */
static size_t path_span(const char *p, size_t len)
{
	bool q = false;
	if (len == 0 || p[0] != '<')
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (q && p[i] == '\\')
			i++;
		else if (p[i] == '"')
			q = !q;
		else if (!q && p[i] == '>')
			return i + 1;
	}
	return 0;
}

/* Shared start of MAIL / RCPT: "<kw>:" [spaces] path. */
static enum smtp_parse_result parse_lead(const char *p, size_t len, const char *kw, size_t *pos,
                                         size_t *plen)
{
	size_t k = strlen(kw);
	if (len < k || !ieq(p, k, kw))
		return SMTP_PARSE_SYNTAX;
	size_t i = k;
	while (i < len && p[i] == ' ')
		i++;
	size_t n = path_span(p + i, len - i);
	if (n == 0)
		return SMTP_PARSE_SYNTAX;
	*pos = i;
	*plen = n;
	return SMTP_PARSE_OK;
}

static bool parse_u64(const char *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit((unsigned char)p[i]) || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return true;
}

/* One ESMTP parameter "KEY[=VALUE]" of MAIL. */
static enum smtp_parse_result mail_param(const char *p, size_t len, struct smtp_mail *m)
{
	size_t k = 0;
	while (k < len && p[k] != '=')
		k++;
	const char *v = k < len ? p + k + 1 : NULL;
	size_t vlen = k < len ? len - k - 1 : 0;
	if (ieq(p, k, "SIZE")) {
		if (m->has_size || !v || !parse_u64(v, vlen, &m->size))
			return SMTP_PARSE_PARAM;
		m->has_size = true;
	} else if (ieq(p, k, "BODY")) {
		if (m->body != SMTP_BODY_NONE || !v)
			return SMTP_PARSE_PARAM;
		if (ieq(v, vlen, "7BIT"))
			m->body = SMTP_BODY_7BIT;
		else if (ieq(v, vlen, "8BITMIME"))
			m->body = SMTP_BODY_8BITMIME;
		else
			return SMTP_PARSE_PARAM;
	} else if (ieq(p, k, "SMTPUTF8")) {
		if (m->smtputf8 || v)
			return SMTP_PARSE_PARAM;
		m->smtputf8 = true;
	} else {
		return SMTP_PARSE_PARAM;
	}
	return SMTP_PARSE_OK;
}

enum smtp_parse_result smtp_mail_parse(const char *p, size_t len, struct smtp_mail *m)
{
	size_t pos, plen;
	memset(m, 0, sizeof(*m));
	enum smtp_parse_result r = parse_lead(p, len, "FROM:", &pos, &plen);
	if (r != SMTP_PARSE_OK)
		return r;
	size_t i = pos + plen;
	while (i < len) {
		if (p[i] != ' ')
			return SMTP_PARSE_SYNTAX;
		while (i < len && p[i] == ' ')
			i++;
		size_t s = i;
		while (i < len && p[i] != ' ')
			i++;
		if (i > s && (r = mail_param(p + s, i - s, m)) != SMTP_PARSE_OK)
			return r;
	}
	r = smtp_path_parse(p + pos, plen, SMTP_ADDR_ALLOW_NULL | SMTP_ADDR_ALLOW_UTF8, &m->from);
	if (r == SMTP_PARSE_OK && m->from.utf8 && !m->smtputf8)
		return SMTP_PARSE_NEEDS_UTF8;
	return r;
}

enum smtp_parse_result smtp_rcpt_parse(const char *p, size_t len, bool utf8, unsigned flags,
                                       struct smtp_rcpt *r)
{
	size_t pos, plen;
	memset(r, 0, sizeof(*r));
	enum smtp_parse_result res = parse_lead(p, len, "TO:", &pos, &plen);
	if (res != SMTP_PARSE_OK)
		return res;
	size_t i = pos + plen;
	while (i < len && p[i] == ' ')
		i++;
	if (i < len)
		return i == pos + plen ? SMTP_PARSE_SYNTAX : SMTP_PARSE_PARAM;
	flags &= ~(unsigned)SMTP_ADDR_ALLOW_NULL;
	res = smtp_path_parse(p + pos, plen, flags | SMTP_ADDR_ALLOW_UTF8, &r->to);
	if (res == SMTP_PARSE_OK && r->to.utf8 && !utf8)
		return SMTP_PARSE_NEEDS_UTF8;
	return res;
}
