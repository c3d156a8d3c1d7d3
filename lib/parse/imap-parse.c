/* imap-parse.c: the incremental IMAP command parser shared by imap-login and
 * the mailstore IMAP session. Bytes are framed into lines and literals as they
 * arrive; each complete line re-runs a pure tokenizer over the whole command
 * so far, which either finishes, asks for a literal, or fails with a message
 * for "tag BAD". After a failure the parser skips the rest of the command. */
#include "imap-parse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum tok_type { T_ATOM, T_NIL, T_QUOTED, T_LITERAL, T_OPEN, T_CLOSE };

struct tok {
	unsigned char type;
	unsigned char flags;   /* IMAP_ARG_F_* */
	unsigned char escaped; /* quoted string holds \" or \\ to remove */
	size_t off, len;
};

enum scan_result { SCAN_DONE, SCAN_LITERAL, SCAN_ERROR };

enum pstate { ST_LINE, ST_LITERAL, ST_WAIT_ACCEPT, ST_DONE, ST_SKIP_LINE, ST_SKIP_LITERAL };

#define TAIL_MAX 24 /* enough for " {4294967295+}\r\n" */

struct imap_parser {
	struct imap_limits lim;
	enum pstate st;
	struct buf raw;     /* the command so far: lines and literal data */
	size_t line_start;  /* where the current line begins in raw */
	uint64_t remaining; /* literal bytes still to read or skip */
	uint32_t lit_size;  /* the announced literal (ST_WAIT_ACCEPT) */
	struct tok *toks;   /* 2 * max_args: values and list brackets */
	size_t ntoks;
	unsigned nvalues;      /* tokens other than ')' */
	struct imap_arg *args; /* max_args */
	struct imap_command cmd;
	const char *err;
	char err_tag[sizeof(((struct imap_command *)0)->tag)];
	char tail[TAIL_MAX]; /* the last bytes of a line being skipped */
	size_t tail_len;
};

/* What scan() learns about one command. */
struct scan {
	size_t tag_len, name_off, name_len;
	uint32_t lit_size;
	int lit_nonsync;
	const char *err;
};

static int is_tag_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\+", c) == NULL;
}

static int is_atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("(){\"", c) == NULL;
}

/* At p[pos]: optional trailing spaces, then CRLF or LF. Returns the offset
 * just past the line end, or 0. */
static size_t at_eol(const char *p, size_t len, size_t pos)
{
	while (pos < len && p[pos] == ' ')
		pos++;
	if (pos < len && p[pos] == '\n')
		return pos + 1;
	if (pos + 1 < len && p[pos] == '\r' && p[pos + 1] == '\n')
		return pos + 2;
	return 0;
}

static int push(struct imap_parser *ps, unsigned type, size_t off, size_t len, unsigned flags,
                struct scan *s)
{
	if (type != T_CLOSE) {
		if (ps->nvalues >= ps->lim.max_args) {
			s->err = "Too many arguments";
			return -1;
		}
		ps->nvalues++;
	}
	struct tok *t = &ps->toks[ps->ntoks++];
	t->type = (unsigned char)type;
	t->flags = (unsigned char)flags;
	t->escaped = 0;
	t->off = off;
	t->len = len;
	return 0;
}

/* A quoted string starting at p[*pos] == '"'. Only \" and \\ escapes. */
static int scan_quoted(struct imap_parser *ps, const char *p, size_t len, size_t *pos,
                       struct scan *s)
{
	size_t start = *pos + 1, i = start;
	int escaped = 0;
	for (;; i++) {
		if (i >= len || p[i] == '\r' || p[i] == '\n') {
			s->err = "CR or LF in quoted string";
			return -1;
		}
		if (p[i] == '\0') {
			s->err = "NUL in quoted string";
			return -1;
		}
		if (p[i] == '"')
			break;
		if (p[i] == '\\') {
			if (i + 1 >= len || (p[i + 1] != '"' && p[i + 1] != '\\')) {
				s->err = "Invalid escape in quoted string";
				return -1;
			}
			escaped = 1;
			i++;
		}
	}
	if (push(ps, T_QUOTED, start, i - start, 0, s) < 0)
		return -1;
	ps->toks[ps->ntoks - 1].escaped = (unsigned char)escaped;
	*pos = i + 1;
	return 0;
}

/* The end of a bracketed section opened at p[i] == '[': spaces, lists and
 * quoted strings are part of it up to the matching ']' (BODY[HEADER.FIELDS
 * (A B)]). Returns the offset just past the ']', or 0 when there is none. */
static size_t section_end(const char *p, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == ']')
			return i + 1;
		if (c == '"') {
			for (i++; i < len && p[i] != '"'; i++) {
				if ((unsigned char)p[i] < 0x20)
					return 0;
				if (p[i] == '\\' && i + 1 < len)
					i++;
			}
			if (i >= len)
				return 0;
		} else if (c == '[' || (c != ' ' && c != '(' && c != ')' && !is_atom_char(c))) {
			return 0;
		}
	}
	return 0;
}

/* An atom. '[' is an ATOM-CHAR (only ']' is a resp-special), so a '[' opens
 * a section only when a matching ']' follows; otherwise it is a plain atom
 * character, as in "select a[}". */
static int scan_atom(struct imap_parser *ps, const char *p, size_t len, size_t *pos, struct scan *s)
{
	size_t start = *pos, i = start;
	while (i < len && is_atom_char((unsigned char)p[i])) {
		size_t end = p[i] == '[' ? section_end(p, len, i) : 0;
		i = end != 0 ? end : i + 1;
	}
	unsigned type = T_ATOM;
	if (i - start == 3 && strncasecmp(p + start, "NIL", 3) == 0)
		type = T_NIL;
	if (push(ps, type, start, i - start, 0, s) < 0)
		return -1;
	*pos = i;
	return 0;
}

/* "{n}", "{n+}" or "~{n}" at p[*pos], its line end, then n bytes of data.
 * Returns 0 (data skipped), 1 (the data has not arrived: a literal to ask
 * for) or -1. */
static int scan_literal(struct imap_parser *ps, const char *p, size_t len, size_t *pos,
                        struct scan *s)
{
	size_t i = *pos;
	unsigned flags = 0;
	if (p[i] == '~') {
		flags |= IMAP_ARG_F_LITERAL8;
		i++;
	}
	i++; /* '{' */
	uint64_t n = 0;
	size_t digits = 0;
	while (i < len && p[i] >= '0' && p[i] <= '9' && digits < 11) {
		n = n * 10 + (uint64_t)(p[i] - '0');
		i++;
		digits++;
	}
	if (i < len && p[i] == '+') {
		flags |= IMAP_ARG_F_NONSYNC;
		i++;
	}
	if (digits == 0 || digits > 10 || n > UINT32_MAX || i >= len || p[i] != '}') {
		s->err = "Invalid literal size";
		return -1;
	}
	size_t data = i + 1;
	if (data < len && p[data] == '\r')
		data++;
	if (data >= len || p[data] != '\n') {
		s->err = "Missing CRLF after literal size";
		return -1;
	}
	data++;
	if (data == len || len - data < n) { /* at the end even when n is 0 */
		s->lit_size = (uint32_t)n;
		s->lit_nonsync = (flags & IMAP_ARG_F_NONSYNC) != 0;
		return 1;
	}
	if (!(flags & IMAP_ARG_F_LITERAL8) && memchr(p + data, '\0', (size_t)n) != NULL) {
		s->err = "NUL in literal";
		return -1;
	}
	if (push(ps, T_LITERAL, data, (size_t)n, flags, s) < 0)
		return -1;
	*pos = data + (size_t)n;
	return 0;
}

/* Tag SP name: sets s->tag_len, name_off, name_len. Returns the position
 * after the name or 0. */
static size_t scan_head(const char *p, size_t len, struct scan *s)
{
	size_t i = 0;
	while (i < len && is_tag_char((unsigned char)p[i]))
		i++;
	if (i == 0) {
		s->err = at_eol(p, len, 0) ? "Empty command line" : "Invalid tag";
		return 0;
	}
	s->tag_len = i;
	if (i >= len || p[i] != ' ' || i > sizeof(((struct imap_command *)0)->tag) - 1) {
		s->err = at_eol(p, len, i) ? "Missing command name" : "Invalid tag";
		return 0;
	}
	s->name_off = ++i;
	while (i < len && is_atom_char((unsigned char)p[i]) && strchr("[]%*\\", p[i]) == NULL)
		i++;
	s->name_len = i - s->name_off;
	if (s->name_len == 0 || s->name_len > IMAP_NAME_MAX) {
		s->err = s->name_len == 0 ? "Missing command name" : "Invalid command name";
		return 0;
	}
	return i;
}

/* After an argument: a line end, ')' or one space. 1 = end of command. */
static int scan_after(const char *p, size_t len, size_t *pos, unsigned depth, struct scan *s)
{
	size_t i = *pos;
	if (at_eol(p, len, i)) {
		if (depth > 0) {
			s->err = "Missing ')'";
			return -1;
		}
		return 1;
	}
	if (i < len && p[i] == ')')
		return 0;
	if (i < len && p[i] == ' ' && i + 1 < len && p[i + 1] != ')') {
		*pos = i + 1;
		return 0;
	}
	if (i < len && p[i] == '\0')
		s->err = "NUL in command";
	else if (i < len && (unsigned char)p[i] >= 0x80)
		s->err = "8-bit character in atom";
	else
		s->err = "Missing space between arguments";
	return -1;
}

/* The pure tokenizer over the whole command in p[0..len). */
static enum scan_result scan(struct imap_parser *ps, const char *p, size_t len, struct scan *s)
{
	memset(s, 0, sizeof(*s));
	ps->ntoks = 0;
	ps->nvalues = 0;
	size_t i = scan_head(p, len, s);
	if (i == 0)
		return SCAN_ERROR;
	if (at_eol(p, len, i))
		return SCAN_DONE;
	if (p[i] != ' ') {
		s->err = "Invalid command name";
		return SCAN_ERROR;
	}
	i++;
	unsigned depth = 0;
	for (;;) {
		char c = i < len ? p[i] : '\n';
		int r = 0;
		if (c == '(') {
			if (depth >= ps->lim.max_depth) {
				s->err = "Lists nested too deeply";
				return SCAN_ERROR;
			}
			if (push(ps, T_OPEN, i, 0, 0, s) < 0)
				return SCAN_ERROR;
			depth++;
			i++;
			continue;
		} else if (c == ')') {
			if (depth == 0) {
				s->err = "Unexpected ')'";
				return SCAN_ERROR;
			}
			if (push(ps, T_CLOSE, i, 0, 0, s) < 0)
				return SCAN_ERROR;
			depth--;
			i++;
		} else if (c == '"') {
			r = scan_quoted(ps, p, len, &i, s);
		} else if (c == '{' || (c == '~' && i + 1 < len && p[i + 1] == '{')) {
			r = scan_literal(ps, p, len, &i, s);
			if (r == 1)
				return SCAN_LITERAL;
		} else if (is_atom_char((unsigned char)c)) {
			r = scan_atom(ps, p, len, &i, s);
		} else {
			s->err = c == '\0'                  ? "NUL in command"
			         : (unsigned char)c >= 0x80 ? "8-bit character in atom"
			                                    : "Missing argument";
			return SCAN_ERROR;
		}
		if (r < 0)
			return SCAN_ERROR;
		r = scan_after(p, len, &i, depth, s);
		if (r < 0)
			return SCAN_ERROR;
		if (r == 1)
			return SCAN_DONE;
	}
}

/* Direct children of the list whose first token is toks[ti]. */
static unsigned count_children(const struct imap_parser *ps, size_t ti)
{
	unsigned n = 0, depth = 0;
	for (; ti < ps->ntoks; ti++) {
		unsigned t = ps->toks[ti].type;
		if (t == T_CLOSE) {
			if (depth == 0)
				break;
			depth--;
			continue;
		}
		if (depth == 0)
			n++;
		if (t == T_OPEN)
			depth++;
	}
	return n;
}

static void unescape(char *s, size_t *len)
{
	size_t w = 0;
	for (size_t r = 0; r < *len; r++) {
		if (s[r] == '\\')
			r++;
		s[w++] = s[r];
	}
	*len = w;
}

/* Fill dst[0..n) from toks[ti..]; nested lists take slots from *slot. */
static size_t build(struct imap_parser *ps, size_t ti, struct imap_arg *dst, unsigned n,
                    size_t *slot)
{
	static const enum imap_arg_type types[] = {[T_ATOM] = IMAP_ARG_ATOM,
	                                           [T_NIL] = IMAP_ARG_NIL,
	                                           [T_QUOTED] = IMAP_ARG_QUOTED,
	                                           [T_LITERAL] = IMAP_ARG_LITERAL,
	                                           [T_OPEN] = IMAP_ARG_LIST};
	for (unsigned k = 0; k < n; k++) {
		struct tok *t = &ps->toks[ti];
		struct imap_arg *a = &dst[k];
		memset(a, 0, sizeof(*a));
		a->type = types[t->type];
		a->flags = t->flags;
		if (t->type == T_OPEN) {
			a->count = count_children(ps, ti + 1);
			a->list = &ps->args[*slot];
			*slot += a->count;
			ti = build(ps, ti + 1, a->list, a->count, slot) + 1;
			continue;
		}
		if (t->escaped)
			unescape(ps->raw.data + t->off, &t->len);
		a->str = ps->raw.data + t->off;
		a->len = t->len;
		ti++;
	}
	return ti;
}

static void finish_command(struct imap_parser *ps, const struct scan *s)
{
	struct imap_command *c = &ps->cmd;
	memcpy(c->tag, ps->raw.data, s->tag_len);
	c->tag[s->tag_len] = '\0';
	for (size_t i = 0; i < s->name_len; i++) {
		char ch = ps->raw.data[s->name_off + i];
		c->name[i] = ch >= 'a' && ch <= 'z' ? (char)(ch - 32) : ch;
	}
	c->name[s->name_len] = '\0';
	c->argc = count_children(ps, 0);
	c->args = ps->args;
	size_t slot = c->argc;
	build(ps, 0, c->args, c->argc, &slot);
}

static void start_command(struct imap_parser *ps)
{
	buf_reset(&ps->raw);
	ps->line_start = 0;
	ps->st = ST_LINE;
	ps->remaining = 0;
	ps->ntoks = 0;
}

/* The tag of the (partial) command in raw, for a reply to it. */
static void tag_set(struct imap_parser *ps)
{
	size_t i = 0;
	while (i < ps->raw.len && i < sizeof(ps->err_tag) - 1 &&
	       is_tag_char((unsigned char)ps->raw.data[i]))
		i++;
	if (i == 0 || i >= ps->raw.len ||
	    (ps->raw.data[i] != ' ' && ps->raw.data[i] != '\r' && ps->raw.data[i] != '\n'))
		i = 0;
	memcpy(ps->err_tag, ps->raw.data, i);
	ps->err_tag[i] = '\0';
}

static void error_set(struct imap_parser *ps, const char *msg)
{
	tag_set(ps);
	ps->err = msg;
}

/* A line ending in "{n+}" CRLF announces n bytes the client sends anyway:
 * they must be skipped, never read as commands. */
static int tail_nonsync(const char *p, size_t len, uint32_t *n_r)
{
	size_t e = len;
	if (e > 0 && p[e - 1] == '\n')
		e--;
	if (e > 0 && p[e - 1] == '\r')
		e--;
	if (e < 4 || p[e - 1] != '}' || p[e - 2] != '+')
		return 0;
	size_t d = e - 2;
	uint64_t n = 0, mul = 1;
	while (d > 0 && p[d - 1] >= '0' && p[d - 1] <= '9' && mul <= 1000000000) {
		n += (uint64_t)(p[d - 1] - '0') * mul;
		mul *= 10;
		d--;
	}
	if (d == 0 || p[d - 1] != '{' || d == e - 2 || n > UINT32_MAX)
		return 0;
	*n_r = (uint32_t)n;
	return 1;
}

static void skip_after_line(struct imap_parser *ps, const char *line, size_t len)
{
	uint32_t n;
	int skip = tail_nonsync(line, len, &n); /* line may point into raw */
	start_command(ps);
	if (skip) {
		ps->st = ST_SKIP_LITERAL;
		ps->remaining = n;
	}
}

/* A complete line is in raw: tokenize the command so far. */
static enum imap_parse_result line_done(struct imap_parser *ps)
{
	struct scan s;
	enum scan_result r = scan(ps, ps->raw.data, ps->raw.len, &s);
	if (r == SCAN_DONE) {
		finish_command(ps, &s);
		ps->st = ST_DONE;
		return IMAP_PARSE_COMMAND;
	}
	if (r == SCAN_LITERAL &&
	    (s.lit_size > ps->lim.max_literal || s.lit_size > ps->lim.max_command - ps->raw.len)) {
		error_set(ps, "Literal too large");
		start_command(ps);
		if (s.lit_nonsync) {
			ps->st = ST_SKIP_LITERAL;
			ps->remaining = s.lit_size;
		}
		return IMAP_PARSE_ERROR;
	}
	if (r == SCAN_LITERAL) {
		ps->lit_size = s.lit_size;
		ps->remaining = s.lit_size;
		ps->st = s.lit_nonsync ? ST_LITERAL : ST_WAIT_ACCEPT;
		tag_set(ps);
		return s.lit_nonsync ? IMAP_PARSE_MORE : IMAP_PARSE_LITERAL;
	}
	error_set(ps, s.err);
	skip_after_line(ps, ps->raw.data + ps->line_start, ps->raw.len - ps->line_start);
	return IMAP_PARSE_ERROR;
}

static void tail_add(struct imap_parser *ps, const char *p, size_t n)
{
	if (n >= TAIL_MAX) {
		memcpy(ps->tail, p + n - TAIL_MAX, TAIL_MAX);
		ps->tail_len = TAIL_MAX;
		return;
	}
	if (ps->tail_len + n > TAIL_MAX) {
		size_t drop = ps->tail_len + n - TAIL_MAX;
		memmove(ps->tail, ps->tail + drop, ps->tail_len - drop);
		ps->tail_len -= drop;
	}
	memcpy(ps->tail + ps->tail_len, p, n);
	ps->tail_len += n;
}

/* ST_LINE: append up to a LF. Returns -1 to keep going, else a result. */
static int feed_line(struct imap_parser *ps, const char *p, size_t len, size_t *pos)
{
	const char *lf = memchr(p + *pos, '\n', len - *pos);
	size_t take = lf != NULL ? (size_t)(lf - p) + 1 - *pos : len - *pos;
	size_t room = ps->lim.max_line - (ps->raw.len - ps->line_start);
	if (room > ps->lim.max_command - ps->raw.len)
		room = ps->lim.max_command - ps->raw.len;
	if (take > room) {
		/* keep what fits (never the LF), so the reply can carry the tag */
		size_t fit = room;
		if (buf_append(&ps->raw, p + *pos, fit) == 0)
			*pos += fit;
		error_set(ps, "Command line too long");
		ps->tail_len = 0;
		tail_add(ps, ps->raw.data + ps->line_start, ps->raw.len - ps->line_start);
		start_command(ps);
		ps->st = ST_SKIP_LINE;
		return IMAP_PARSE_ERROR;
	}
	if (buf_append(&ps->raw, p + *pos, take) < 0) {
		error_set(ps, "Out of memory");
		ps->tail_len = 0;
		start_command(ps);
		ps->st = ST_SKIP_LINE;
		return IMAP_PARSE_ERROR;
	}
	*pos += take;
	if (lf == NULL)
		return IMAP_PARSE_MORE;
	int r = (int)line_done(ps);
	return r == IMAP_PARSE_MORE ? -1 : r;
}

/* The literal and skip states: 1 when the input ran out, 2 on error. */
static int feed_bytes(struct imap_parser *ps, const char *p, size_t len, size_t *pos)
{
	size_t take = len - *pos;
	if (take > ps->remaining)
		take = (size_t)ps->remaining;
	if (ps->st == ST_LITERAL && buf_append(&ps->raw, p + *pos, take) < 0) {
		uint64_t left = ps->remaining;
		error_set(ps, "Out of memory");
		start_command(ps);
		ps->st = ST_SKIP_LITERAL;
		ps->remaining = left;
		return 2;
	}
	*pos += take;
	ps->remaining -= take;
	if (ps->remaining > 0)
		return 1;
	if (ps->st == ST_LITERAL) {
		ps->st = ST_LINE;
		ps->line_start = ps->raw.len;
	} else {
		ps->st = ST_SKIP_LINE;
		ps->tail_len = 0;
	}
	return 0;
}

enum imap_parse_result imap_parser_feed(struct imap_parser *ps, const char *p, size_t len,
                                        size_t *consumed_r)
{
	size_t pos = 0;
	int r = -1;
	if (len == 0)
		p = ""; /* feeding (NULL, 0) is fine: memchr/memcpy never see NULL */
	if (ps->st == ST_DONE)
		start_command(ps);
	if (ps->st == ST_WAIT_ACCEPT) {
		*consumed_r = 0;
		return IMAP_PARSE_LITERAL;
	}
	while (r < 0) {
		if (ps->st == ST_LINE) {
			if (pos == len)
				r = IMAP_PARSE_MORE;
			else
				r = feed_line(ps, p, len, &pos);
		} else if (ps->st == ST_LITERAL || ps->st == ST_SKIP_LITERAL) {
			int b = feed_bytes(ps, p, len, &pos);
			if (b != 0)
				r = b == 1 ? IMAP_PARSE_MORE : IMAP_PARSE_ERROR;
		} else if (ps->st == ST_SKIP_LINE) {
			const char *lf = memchr(p + pos, '\n', len - pos);
			size_t take = lf != NULL ? (size_t)(lf - p) + 1 - pos : len - pos;
			tail_add(ps, p + pos, take);
			pos += take;
			if (lf == NULL)
				r = IMAP_PARSE_MORE;
			else
				skip_after_line(ps, ps->tail, ps->tail_len);
		} else {
			r = ps->st == ST_DONE ? IMAP_PARSE_COMMAND : IMAP_PARSE_LITERAL;
		}
	}
	*consumed_r = pos;
	return (enum imap_parse_result)r;
}

struct imap_parser *imap_parser_new(const struct imap_limits *lim)
{
	struct imap_parser *ps = calloc(1, sizeof(*ps));
	if (ps == NULL)
		return NULL;
	if (lim != NULL)
		ps->lim = *lim;
	if (ps->lim.max_line == 0)
		ps->lim.max_line = 8192;
	if (ps->lim.max_literal == 0)
		ps->lim.max_literal = 64 * 1024;
	if (ps->lim.max_args == 0)
		ps->lim.max_args = 256;
	if (ps->lim.max_command == 0)
		ps->lim.max_command = 4 * ps->lim.max_literal + ps->lim.max_line;
	if (ps->lim.max_command < ps->lim.max_line)
		ps->lim.max_command = ps->lim.max_line;
	if (ps->lim.max_depth == 0 || ps->lim.max_depth > IMAP_DEPTH_MAX)
		ps->lim.max_depth = IMAP_DEPTH_MAX;
	ps->toks = calloc(2 * (size_t)ps->lim.max_args, sizeof(*ps->toks));
	ps->args = calloc(ps->lim.max_args, sizeof(*ps->args));
	if (ps->toks == NULL || ps->args == NULL) {
		imap_parser_free(ps);
		return NULL;
	}
	buf_init(&ps->raw, 0);
	start_command(ps);
	return ps;
}

void imap_parser_free(struct imap_parser *ps)
{
	if (ps == NULL)
		return;
	buf_free(&ps->raw);
	free(ps->toks);
	free(ps->args);
	free(ps);
}

void imap_parser_reset(struct imap_parser *ps)
{
	start_command(ps);
}

const struct imap_command *imap_parser_command(const struct imap_parser *ps)
{
	return ps->st == ST_DONE ? &ps->cmd : NULL;
}

uint32_t imap_parser_literal_size(const struct imap_parser *ps)
{
	return ps->st == ST_WAIT_ACCEPT ? ps->lit_size : 0;
}

void imap_parser_literal_accept(struct imap_parser *ps)
{
	if (ps->st == ST_WAIT_ACCEPT)
		ps->st = ST_LITERAL;
}

void imap_parser_literal_refuse(struct imap_parser *ps)
{
	if (ps->st == ST_WAIT_ACCEPT)
		start_command(ps);
}

const char *imap_parser_error(const struct imap_parser *ps)
{
	return ps->err != NULL ? ps->err : "";
}

const char *imap_parser_error_tag(const struct imap_parser *ps)
{
	return ps->err_tag;
}

const char *imap_parser_tag(const struct imap_parser *ps)
{
	return ps->err_tag;
}

int imap_parser_resyncing(const struct imap_parser *ps)
{
	return ps->st == ST_SKIP_LINE || ps->st == ST_SKIP_LITERAL;
}
