/* auth-passwdfile.h: Dovecot-format passwd-file passdb/userdb,
 * `user:{SCHEME}hash:uid:gid:gecos:home:shell:extra`. Parsing is pure and
 * reports each bad line by number (the line is skipped); the file wrapper
 * re-reads the file when it changes on disk and keeps the old table on error. */
#ifndef LOFT_AUTH_PASSWDFILE_H
#define LOFT_AUTH_PASSWDFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct pwf_entry {
	char *user;
	char *password; /* "{SCHEME}hash" as written; may be empty (userdb only) */
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
	char *home;  /* "" when not set */
	char *extra; /* space-separated key=value fields; "" when none */
	unsigned line;
};

struct pwf_table {
	struct pwf_entry *v; /* sorted by user */
	size_t n;
};

/* Called for every bad line (skipped) and warning (line kept). severity is
 * a syslog priority: LOG_ERR for skipped lines, LOG_WARNING otherwise. */
typedef void pwf_report_fn(void *ctx, int severity, unsigned line, const char *msg);

/* Parse a whole file's text. Returns 0 (bad lines skipped and reported), or
 * -1 when out of memory. t is replaced. Pure apart from the callback. */
int pwf_parse(const char *p, size_t len, struct pwf_table *t, pwf_report_fn *report, void *ctx);
void pwf_table_free(struct pwf_table *t);
const struct pwf_entry *pwf_find(const struct pwf_table *t, const char *user);
/* Value of key in an entry's extra fields (e.g. "userdb_mail"), as a pointer
 * into extra with its length; NULL when absent. */
const char *pwf_extra_get(const struct pwf_entry *e, const char *key, size_t *len_r);

struct pwf_file {
	char *path;
	struct pwf_table t;
	bool loaded;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

void pwf_file_init(struct pwf_file *f, const char *path);
void pwf_file_free(struct pwf_file *f);
/* Load the file if it is not loaded or changed since the last load. Returns
 * 1 when (re)loaded, 0 when unchanged, -1 with err when it cannot be read
 * (the previous table, if any, stays in use). */
int pwf_file_refresh(struct pwf_file *f, pwf_report_fn *report, void *ctx, char *err,
                     size_t errlen);

#endif
