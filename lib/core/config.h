/* config.h: loft.conf parsing. Dovecot-style `key = value` lines, `#` comments,
 * `!include` / `!include_try`, typed values checked against one schema table.
 * Every error names file:line; loading collects all of them, not just the first. */
#ifndef LOFT_CONFIG_H
#define LOFT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cfg_type {
	CFG_STRING, /* free text */
	CFG_PATH,   /* a path; may hold %u %n %d %h and ~ (expanded by config_expand) */
	CFG_BOOL,   /* yes/no, true/false, on/off, 1/0 */
	CFG_UINT,   /* decimal integer */
	CFG_SIZE,   /* bytes with optional unit: 512, 10k, 50M, 1G (binary multiples) */
	CFG_TIME,   /* duration with unit: 500ms, 30s, 5m, 2h, 5d, 1w; plain number = seconds */
	CFG_LIST,   /* whitespace-separated words */
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	const char *def; /* default, as text, parsed like a config value */
	const char *help;
	/* Optional extra check after the type parse (word lists, listen syntax):
	 * 0 when value is fine, else -1 with a message in err (errlen bytes). */
	int (*check)(const char *value, char *err, size_t errlen);
};

/* The schema: every key loft.conf may hold. Terminated by a NULL name. */
extern const struct cfg_key cfg_schema[];
const struct cfg_key *cfg_schema_find(const char *name);

struct cfg_error {
	char *file;
	unsigned line; /* 0 when the error is not tied to a line */
	char *msg;
};

struct cfg_errors {
	struct cfg_error *v;
	size_t n;
};
void cfg_errors_free(struct cfg_errors *e);

struct config; /* opaque; immutable once loaded */

/* Load path and its includes. On any error returns NULL and errs (if not NULL)
 * holds every error found; otherwise errs is empty. */
struct config *config_load(const char *path, struct cfg_errors *errs);
/* Parse from memory (name is used in error messages; includes are relative to
 * the current directory). For tests and fuzzing. */
struct config *config_load_buf(const char *name, const char *text, size_t len,
                               struct cfg_errors *errs);
/* A config holding only defaults (cannot fail except out of memory). */
struct config *config_defaults(void);
void config_free(struct config *cfg);
/* The file the config was loaded from ("" for defaults / buffers). */
const char *config_path(const struct config *cfg);

/* Typed getters. Asking for an unknown key or the wrong type aborts: that is a
 * programming error, not bad input. */
const char *config_str(const struct config *cfg, const char *key);
bool config_bool(const struct config *cfg, const char *key);
uint64_t config_uint(const struct config *cfg, const char *key);
uint64_t config_size(const struct config *cfg, const char *key);
uint64_t config_time_ms(const struct config *cfg, const char *key);
/* List items; *n_r gets the count. The array lives as long as cfg. */
const char *const *config_list(const struct config *cfg, const char *key, size_t *n_r);
bool config_list_has(const struct config *cfg, const char *key, const char *word);

/* The value as text, exactly as set (or the default). For `loft config`. */
const char *config_raw(const struct config *cfg, const char *key);

/* Where a key was set: returns false when it has its default. */
bool config_source(const struct config *cfg, const char *key, const char **file_r,
                   unsigned *line_r);

/* Pure value parsers (also used by the loader). Return 0 or -1. */
int config_parse_bool(const char *s, bool *out);
int config_parse_uint(const char *s, uint64_t *out);
int config_parse_size(const char *s, uint64_t *out);
int config_parse_time_ms(const char *s, uint64_t *out);

/* Expand %u (user), %n (local part), %d (domain), %h (home), %% and a leading
 * ~/ (home) in tmpl. Returns a malloc'd string, or NULL with *err_r set to a
 * static message (unknown %-sequence, or a variable needed but NULL/empty). */
struct expand_vars {
	const char *user;
	const char *home;
};
char *config_expand(const char *tmpl, const struct expand_vars *v, const char **err_r);

#endif
