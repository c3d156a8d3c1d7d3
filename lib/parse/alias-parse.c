/* alias-parse.c: aliases(5), virtual(5) and .forward syntax over a buffer.
 *
 * A logical line starts with non-blank text; a line starting with a blank
 * continues it; blank lines and lines whose first non-blank byte is '#' are
 * ignored, also between continuation lines (Postfix's rules). Targets are
 * separated by commas and blanks; a target holding blanks or commas is
 * quoted ("|/usr/bin/prog -a"), with \" and \\ inside. An entry with any
 * problem is dropped whole: delivering to half of a list would hide it. */
#include "alias-parse.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One logical line being parsed. */
struct logical {
	char *text; /* continuation lines joined with a blank */
	size_t len, cap;
	unsigned line;
};

/* A set of keys seen so far, to report duplicates in linear time. */
struct keyset {
	size_t *slot; /* entry index + 1; 0 = empty */
	size_t cap;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int problem(struct alias_list *l, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int problem(struct alias_list *l, unsigned line, const char *fmt, ...)
{
	if (l->nproblems == l->problems_cap) {
		size_t cap = l->problems_cap ? l->problems_cap * 2 : 8;
		struct alias_problem *p = realloc(l->problems, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		l->problems = p;
		l->problems_cap = cap;
	}
	struct alias_problem *p = &l->problems[l->nproblems++];
	p->line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->text, sizeof(p->text), fmt, ap);
	va_end(ap);
	return 0;
}

static void entry_free(struct alias_entry *e)
{
	for (size_t i = 0; i < e->ntargets; i++)
		free(e->targets[i].value);
	free(e->targets);
	free(e->key);
}

void alias_list_free(struct alias_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		entry_free(&l->entries[i]);
	free(l->entries);
	free(l->problems);
	memset(l, 0, sizeof(*l));
}

const struct alias_entry *alias_list_find(const struct alias_list *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->entries[i].key, key) == 0)
			return &l->entries[i];
	return NULL;
}

static uint64_t key_hash(const char *s)
{
	uint64_t h = 14695981039346656037u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* Index of an entry with key among l's entries, or (size_t)-1. */
static size_t keyset_find(const struct keyset *ks, const struct alias_list *l, const char *key)
{
	if (ks->cap == 0)
		return (size_t)-1;
	for (size_t i = key_hash(key) & (ks->cap - 1);; i = (i + 1) & (ks->cap - 1)) {
		if (ks->slot[i] == 0)
			return (size_t)-1;
		if (strcmp(l->entries[ks->slot[i] - 1].key, key) == 0)
			return ks->slot[i] - 1;
	}
}

static int keyset_add(struct keyset *ks, const struct alias_list *l, size_t idx)
{
	if ((idx + 1) * 2 > ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 64;
		size_t *slot = calloc(cap, sizeof(*slot));
		if (slot == NULL)
			return -1;
		for (size_t i = 0; i < ks->cap; i++) {
			if (ks->slot[i] == 0)
				continue;
			size_t j = key_hash(l->entries[ks->slot[i] - 1].key) & (cap - 1);
			while (slot[j] != 0)
				j = (j + 1) & (cap - 1);
			slot[j] = ks->slot[i];
		}
		free(ks->slot);
		ks->slot = slot;
		ks->cap = cap;
	}
	size_t j = key_hash(l->entries[idx].key) & (ks->cap - 1);
	while (ks->slot[j] != 0)
		j = (j + 1) & (ks->cap - 1);
	ks->slot[j] = idx + 1;
	return 0;
}

static char *dup_lower(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		s[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] - 'A' + 'a') : p[i];
	s[n] = '\0';
	return s;
}

/* Why an address target is malformed, or NULL. */
static const char *address_problem(const char *v, size_t n)
{
	if (n == 0)
		return "empty address";
	if (n > ALIAS_TARGET_MAX)
		return "address too long";
	size_t at = n;
	for (size_t i = 0; i < n; i++) {
		if (strchr(" <>(),;:\"\\", v[i]) != NULL)
			return "character not allowed in an address";
		if (v[i] == '@') {
			if (at != n)
				return "more than one '@' in an address";
			at = i;
		}
	}
	if (at == 0)
		return "address without a local part";
	if (at + 1 == n)
		return "address without a domain";
	return NULL;
}

/* Classify one target's text v[0..n) (already unquoted) and append it to
 * *e; a problem text on refusal, NULL when added. *oom set on ENOMEM. */
static const char *add_target(struct alias_entry *e, enum alias_format fmt, const char *v, size_t n,
                              bool *oom)
{
	enum alias_kind kind = ALIAS_ADDRESS;
	size_t skip = 0;
	bool direct = n > 1 && v[0] == '\\';
	if (direct) {
		v++;
		n--;
	}
	if (direct && (v[0] == '|' || v[0] == '/' || v[0] == ':'))
		return "'\\' only goes before an address";
	if (n > 0 && v[0] == '|') {
		kind = ALIAS_PIPE;
		skip = 1;
		while (skip < n && is_blank(v[skip]))
			skip++;
		if (skip == n)
			return "empty command after '|'";
	} else if (n > 0 && v[0] == '/') {
		kind = ALIAS_FILE;
	} else if (n >= 9 && strncasecmp(v, ":include:", 9) == 0) {
		kind = ALIAS_INCLUDE;
		skip = 9;
		if (skip == n || v[skip] != '/')
			return ":include: needs an absolute path";
	}
	if (kind != ALIAS_ADDRESS && fmt == ALIAS_FORMAT_VIRTUAL)
		return "commands, files and :include: are not allowed in a virtual map";
	if (n - skip > (kind == ALIAS_PIPE ? 4096 : ALIAS_TARGET_MAX))
		return "target too long";
	if (kind == ALIAS_ADDRESS) {
		if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
			v++;
			n -= 2;
		}
		const char *why = address_problem(v, n);
		if (why != NULL)
			return why;
	}
	struct alias_target *t = realloc(e->targets, (e->ntargets + 1) * sizeof(*t));
	if (t == NULL) {
		*oom = true;
		return "out of memory";
	}
	e->targets = t;
	char *val = malloc(n - skip + 1);
	if (val == NULL) {
		*oom = true;
		return "out of memory";
	}
	memcpy(val, v + skip, n - skip);
	val[n - skip] = '\0';
	t[e->ntargets].kind = kind;
	t[e->ntargets].value = val;
	t[e->ntargets].direct = direct;
	e->ntargets++;
	return NULL;
}

/* Parse the targets in s[0..len) into *e. NULL or a problem text. */
static const char *parse_targets(struct alias_entry *e, enum alias_format fmt, const char *s,
                                 size_t len, bool *oom)
{
	char tok[4096 + 2];
	size_t i = 0;
	for (;;) {
		while (i < len && (is_blank(s[i]) || s[i] == ','))
			i++;
		if (i == len)
			return NULL;
		size_t n = 0;
		if (s[i] == '"') {
			for (i++;; i++) {
				if (i == len)
					return "unterminated quote";
				if (s[i] == '"')
					break;
				if (s[i] == '\\' && i + 1 < len)
					i++;
				if (n == sizeof(tok) - 1)
					return "target too long";
				tok[n++] = s[i];
			}
			i++;
			if (i < len && !is_blank(s[i]) && s[i] != ',')
				return "text right after a closing quote";
		} else {
			for (; i < len && !is_blank(s[i]) && s[i] != ','; i++) {
				if (n == sizeof(tok) - 1)
					return "target too long";
				tok[n++] = s[i];
			}
		}
		for (size_t k = 0; k < n; k++)
			if (is_ctl((unsigned char)tok[k]))
				return "control character in a target";
		const char *why = add_target(e, fmt, tok, n, oom);
		if (why != NULL)
			return why;
	}
}

/* Split off the key of an aliases(5) line: "name:" or "\"name\":". Sets
 * *key and *rest (index after the colon). NULL or a problem text. */
static const char *aliases_key(const char *s, size_t len, char **key, size_t *rest, bool *oom)
{
	size_t i = 0, kb, ke;
	if (s[0] == '"') {
		kb = 1;
		for (i = 1; i < len && s[i] != '"'; i++)
			;
		if (i == len)
			return "unterminated quote in the alias name";
		ke = i++;
	} else {
		kb = 0;
		while (i < len && s[i] != ':' && !is_blank(s[i]))
			i++;
		ke = i;
	}
	while (i < len && is_blank(s[i]))
		i++;
	if (i == len || s[i] != ':')
		return "missing ':' after the alias name";
	if (ke == kb)
		return "empty alias name";
	if (ke - kb > ALIAS_TARGET_MAX)
		return "alias name too long";
	for (size_t k = kb; k < ke; k++) {
		if (is_ctl((unsigned char)s[k]))
			return "control character in the alias name";
		if (s[k] == '@')
			return "an alias name has no '@' (use virtual_alias_maps for addresses)";
	}
	*key = dup_lower(s + kb, ke - kb);
	if (*key == NULL) {
		*oom = true;
		return "out of memory";
	}
	*rest = i + 1;
	return NULL;
}

/* The key of a virtual(5) line: the first blank-separated word. */
static const char *virtual_key(const char *s, size_t len, char **key, size_t *rest, bool *oom)
{
	size_t i = 0;
	while (i < len && !is_blank(s[i]))
		i++;
	if (i > ALIAS_TARGET_MAX)
		return "address too long";
	for (size_t k = 0; k < i; k++)
		if (is_ctl((unsigned char)s[k]))
			return "control character in the address";
	const char *at = memchr(s, '@', i);
	if (at != NULL) {
		/* "@domain" is a catch-all; otherwise a whole address */
		const char *why = at == s ? (i == 1 ? "catch-all without a domain" : NULL)
		                          : address_problem(s, i);
		if (why == NULL && memchr(at + 1, '@', i - (size_t)(at - s) - 1) != NULL)
			why = "more than one '@' in an address";
		if (why != NULL)
			return why;
	}
	*key = dup_lower(s, i);
	if (*key == NULL) {
		*oom = true;
		return "out of memory";
	}
	*rest = i;
	return NULL;
}

static int add_entry(struct alias_list *l, struct keyset *ks, struct alias_entry *e)
{
	size_t first = keyset_find(ks, l, e->key);
	if (first != (size_t)-1) {
		int r = problem(l, e->line, "duplicate entry '%.64s' (first at line %u): ignored",
		                e->key, l->entries[first].line);
		entry_free(e);
		return r;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct alias_entry *v = realloc(l->entries, cap * sizeof(*v));
		if (v == NULL) {
			entry_free(e);
			return -1;
		}
		l->entries = v;
		l->cap = cap;
	}
	l->entries[l->n++] = *e; /* owned by the list from here */
	return keyset_add(ks, l, l->n - 1);
}

/* One logical line of an aliases or virtual file. 0 or -1 (ENOMEM). */
static int parse_entry(struct alias_list *l, struct keyset *ks, enum alias_format fmt,
                       const struct logical *lg)
{
	struct alias_entry e = {NULL, lg->line, NULL, 0};
	bool oom = false;
	size_t rest = 0;
	const char *why = fmt == ALIAS_FORMAT_ALIASES
	                      ? aliases_key(lg->text, lg->len, &e.key, &rest, &oom)
	                      : virtual_key(lg->text, lg->len, &e.key, &rest, &oom);
	if (why == NULL)
		why = parse_targets(&e, fmt, lg->text + rest, lg->len - rest, &oom);
	bool domain_only = fmt == ALIAS_FORMAT_VIRTUAL && why == NULL && strchr(e.key, '@') == NULL;
	if (domain_only) {
		/* Postfix's "example.com anything": the value only declares the
		 * domain; keep no targets */
		for (size_t i = 0; i < e.ntargets; i++)
			free(e.targets[i].value);
		free(e.targets);
		e.targets = NULL;
		e.ntargets = 0;
	} else if (why == NULL && e.ntargets == 0) {
		why = "no targets";
	}
	if (oom) {
		entry_free(&e);
		return -1;
	}
	if (why != NULL) {
		int r = e.key != NULL ? problem(l, lg->line, "'%.64s': %s", e.key, why)
		                      : problem(l, lg->line, "%s", why);
		entry_free(&e);
		return r;
	}
	return add_entry(l, ks, &e);
}

static int logical_append(struct logical *lg, const char *p, size_t n)
{
	if (lg->len + n + 2 > lg->cap) {
		size_t cap = (lg->len + n + 2) * 2;
		char *t = realloc(lg->text, cap);
		if (t == NULL)
			return -1;
		lg->text = t;
		lg->cap = cap;
	}
	if (lg->len > 0)
		lg->text[lg->len++] = ' ';
	memcpy(lg->text + lg->len, p, n);
	lg->len += n;
	lg->text[lg->len] = '\0';
	return 0;
}

int alias_parse(const char *buf, size_t len, enum alias_format fmt, struct alias_list *out)
{
	struct logical lg = {NULL, 0, 0, 0};
	struct keyset ks = {NULL, 0};
	struct alias_entry targets = {NULL, 0, NULL, 0};
	int rc = 0;
	unsigned line = 0;
	size_t pos = 0;
	while (rc == 0 && pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - buf) : len;
		const char *p = buf + pos;
		size_t n = end - pos;
		pos = end + 1;
		line++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		size_t lead = 0;
		while (lead < n && is_blank(p[lead]))
			lead++;
		if (lead == n || p[lead] == '#')
			continue;
		if (fmt == ALIAS_FORMAT_TARGETS) {
			bool oom = false;
			if (targets.line == 0)
				targets.line = line;
			const char *why = parse_targets(&targets, fmt, p, n, &oom);
			if (oom)
				rc = -1;
			else if (why != NULL)
				rc = problem(out, line, "%s", why);
			continue;
		}
		if (lead > 0) {
			if (lg.line == 0)
				rc = problem(out, line,
				             "continuation line without an entry before it");
			else
				rc = logical_append(&lg, p + lead, n - lead);
			continue;
		}
		if (lg.line != 0)
			rc = parse_entry(out, &ks, fmt, &lg);
		lg.len = 0;
		lg.line = line;
		if (rc == 0)
			rc = logical_append(&lg, p, n);
	}
	if (rc == 0 && lg.line != 0)
		rc = parse_entry(out, &ks, fmt, &lg);
	if (rc == 0 && fmt == ALIAS_FORMAT_TARGETS && targets.ntargets > 0) {
		/* a target list with any problem delivers to nobody (see top) */
		if (out->nproblems == 0) {
			targets.key = strdup("");
			rc = targets.key != NULL ? add_entry(out, &ks, &targets) : -1;
			targets = (struct alias_entry){NULL, 0, NULL, 0};
		}
	}
	entry_free(&targets);
	free(lg.text);
	free(ks.slot);
	if (rc < 0) {
		alias_list_free(out);
		return -1;
	}
	return out->nproblems > 0 ? 1 : 0;
}
