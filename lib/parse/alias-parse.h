/* alias-parse.h: pure parsers of the address tables administrators bring
 * from Sendmail and Postfix: /etc/aliases (aliases(5): "name: target,
 * target"), virtual alias maps (virtual(5): "address target, target") and a
 * user's ~/.forward (a bare target list). Each parser reads a whole buffer,
 * keeps every well-formed entry and collects every problem with its line
 * number, so `newaliases` can report them all at once. Nothing here touches
 * the file system: :include: and .forward files are read by the caller. */
#ifndef LOFT_ALIAS_PARSE_H
#define LOFT_ALIAS_PARSE_H

#include <stdbool.h>
#include <stddef.h>

enum alias_format {
	ALIAS_FORMAT_ALIASES, /* name: target, ... (aliases(5)) */
	ALIAS_FORMAT_VIRTUAL, /* user@domain|@domain|domain  target, ... */
	ALIAS_FORMAT_TARGETS, /* only targets: ~/.forward and :include: files */
};

enum alias_kind {
	ALIAS_ADDRESS, /* local name or local@domain */
	ALIAS_PIPE,    /* "|command": value is the command without the bar */
	ALIAS_FILE,    /* /absolute/path: append the message to it */
	ALIAS_INCLUDE, /* :include:/absolute/path: more targets from that file */
};

struct alias_target {
	enum alias_kind kind;
	char *value; /* NUL-terminated, no control characters */
	/* "\\name": deliver to that address as it is, with no further alias or
	 * .forward expansion (how a .forward keeps a copy: "\\alice, alice@x") */
	bool direct;
};

struct alias_entry {
	/* Lower-cased key: an alias name (aliases), user@domain, @domain or a
	 * bare domain that only declares a virtual alias domain (virtual); ""
	 * for ALIAS_FORMAT_TARGETS. */
	char *key;
	unsigned line; /* where the entry starts, from 1 */
	struct alias_target *targets;
	size_t ntargets; /* 0 only for a virtual domain declaration */
};

#define ALIAS_PROBLEM_TEXT 160

struct alias_problem {
	unsigned line;
	char text[ALIAS_PROBLEM_TEXT];
};

/* What a parse produced; owned by the caller, freed with alias_list_free. */
struct alias_list {
	struct alias_entry *entries;
	size_t n, cap;
	struct alias_problem *problems;
	size_t nproblems, problems_cap;
};

/* Longest address or path a target may hold (RFC 5321's path limit). */
#define ALIAS_TARGET_MAX 256

/* Parse buf[0..len) in the given format into *out (which must be zeroed or
 * freshly freed). A later duplicate key is reported and dropped (the first
 * wins, as Postfix does). Returns 0 when there was no problem, 1 when
 * problems were recorded (the good entries are still in *out), -1 when out
 * of memory (*out is then freed). */
int alias_parse(const char *buf, size_t len, enum alias_format fmt, struct alias_list *out);

void alias_list_free(struct alias_list *l);

/* The entry with this key (exact, keys are lower-cased) or NULL: a linear
 * search, for tests and small tables; alias-table indexes big ones. */
const struct alias_entry *alias_list_find(const struct alias_list *l, const char *key);

#endif
