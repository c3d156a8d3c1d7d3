/* relay-reply.c: the pure parser of SMTP server replies for loft-relay's
 * client (RFC 5321 4.2): "ddd-text" continuation lines then "ddd text" (or a
 * bare "ddd"), all with one code. Also picks the EHLO keywords the client
 * acts on (STARTTLS, SIZE, 8BITMIME, PIPELINING). The joined text is one
 * sanitised line, so remote text can never break a log or protocol line. */
#include <string.h>

#include "relay.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Append src to r->text, control bytes replaced by '?', capped. */
static void text_add(struct relay_reply *r, size_t *tl, const char *src, size_t n)
{
	for (size_t i = 0; i < n && *tl + 1 < sizeof(r->text); i++) {
		unsigned char c = (unsigned char)src[i];
		r->text[(*tl)++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	r->text[*tl] = '\0';
}

static bool word_eq(const char *p, size_t n, const char *w)
{
	size_t wl = strlen(w);
	if (n != wl)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c != w[i])
			return false;
	}
	return true;
}

/* An EHLO keyword line's text (after "250-" / "250 "). */
static void ehlo_keyword(struct relay_reply *r, const char *p, size_t n)
{
	size_t kl = 0;
	while (kl < n && p[kl] != ' ')
		kl++;
	if (word_eq(p, kl, "STARTTLS"))
		r->starttls = true;
	else if (word_eq(p, kl, "8BITMIME"))
		r->eightbitmime = true;
	else if (word_eq(p, kl, "PIPELINING"))
		r->pipelining = true;
	else if (word_eq(p, kl, "SIZE")) {
		r->has_size = true;
		uint64_t v = 0;
		for (size_t i = kl + 1; i < n && is_digit(p[i]); i++) {
			if (v > UINT64_MAX / 10 - 10)
				break; /* absurd: treat as no limit */
			v = v * 10 + (uint64_t)(p[i] - '0');
		}
		r->size_max = v;
	}
}

int relay_reply_parse(const char *p, size_t len, struct relay_reply *r)
{
	memset(r, 0, sizeof(*r));
	size_t pos = 0, tl = 0;
	for (;;) {
		const char *nl = memchr(p + pos, '\n', len - pos);
		size_t avail = nl != NULL ? (size_t)(nl - (p + pos)) : len - pos;
		if (nl == NULL)
			return avail > RELAY_REPLY_LINE ? -1 : 0;
		if (avail > RELAY_REPLY_LINE || r->nlines >= RELAY_REPLY_LINES)
			return -1;
		const char *line = p + pos;
		size_t ll = avail;
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (memchr(line, '\0', ll) != NULL)
			return -1;
		if (ll < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
		    line[0] < '1' || line[0] > '5' || (ll > 3 && line[3] != ' ' && line[3] != '-'))
			return -1;
		int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (r->nlines > 0 && code != r->code)
			return -1;
		r->code = code;
		const char *txt = ll > 4 ? line + 4 : line + ll;
		size_t tn = ll > 4 ? ll - 4 : 0;
		if (r->nlines == 0) {
			text_add(r, &tl, line, 3);
		}
		if (tn > 0) {
			text_add(r, &tl, " ", 1);
			text_add(r, &tl, txt, tn);
		}
		if (r->nlines > 0)
			ehlo_keyword(r, txt, tn);
		r->nlines++;
		pos += avail + 1;
		if (ll == 3 || line[3] == ' ')
			return (int)pos;
		if (pos == len)
			return 0;
	}
}
