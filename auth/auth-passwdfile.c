/* auth-passwdfile.c: passwd-file parsing, lookup and change detection.
 * A malformed line is reported with its number and skipped, so one typo
 * never takes every other user down; the first of duplicate users wins. */
#include "auth-passwdfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "auth-hash.h"
#include "buf.h"

#define PWF_FIELDS   8
#define PWF_MAX_FILE (64u * 1024 * 1024)

static char *dup_range(const char *p, size_t len)
{
	char *s = malloc(len + 1);
	if (s != NULL) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

static void entry_free(struct pwf_entry *e)
{
	free(e->user);
	if (e->password != NULL)
		memset(e->password, 0, strlen(e->password));
	free(e->password);
	free(e->home);
	free(e->extra);
}

/* Decimal id, no sign, fits in 32 bits and is not (id_t)-1. */
static int parse_id(const char *p, size_t len, unsigned long *out)
{
	if (len == 0 || len > 10)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v >= UINT32_MAX)
		return -1;
	*out = (unsigned long)v;
	return 0;
}

static int user_name_ok(const char *p, size_t len)
{
	if (len == 0 || len > 256)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= ' ' || c == 0x7f)
			return 0;
	}
	return 1;
}

/* Split line into up to PWF_FIELDS fields at ':' (the last one keeps any
 * further colons: extra fields may hold them). Returns the field count. */
static size_t split_fields(const char *p, size_t len, const char **f, size_t *fl)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || (p[i] == ':' && n < PWF_FIELDS - 1)) {
			f[n] = p + start;
			fl[n] = i - start;
			n++;
			start = i + 1;
		}
	}
	return n;
}

/* Parse one line into e. 0 ok, 1 blank/comment, -1 bad (msg set). */
static int parse_line(const char *p, size_t len, struct pwf_entry *e, const char **msg,
                      pwf_report_fn *report, void *ctx, unsigned lineno)
{
	memset(e, 0, sizeof(*e));
	size_t i = 0;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == len || p[i] == '#')
		return 1;
	if (memchr(p, '\0', len) != NULL) {
		*msg = "NUL byte in line";
		return -1;
	}
	const char *f[PWF_FIELDS];
	size_t fl[PWF_FIELDS];
	size_t n = split_fields(p, len, f, fl);
	if (n < 2) {
		*msg = "missing ':' after the user name";
		return -1;
	}
	if (!user_name_ok(f[0], fl[0])) {
		*msg = "empty or invalid user name";
		return -1;
	}
	unsigned long id;
	if (n > 2 && fl[2] > 0) {
		if (parse_id(f[2], fl[2], &id) < 0) {
			*msg = "uid is not a number";
			return -1;
		}
		e->has_uid = true;
		e->uid = (uid_t)id;
	}
	if (n > 3 && fl[3] > 0) {
		if (parse_id(f[3], fl[3], &id) < 0) {
			*msg = "gid is not a number";
			return -1;
		}
		e->has_gid = true;
		e->gid = (gid_t)id;
	}
	if (n > 5 && fl[5] > 0 && f[5][0] != '/') {
		*msg = "home is not an absolute path";
		return -1;
	}
	e->password = dup_range(f[1], fl[1]);
	if (e->password == NULL) {
		*msg = "out of memory";
		return -1;
	}
	if (fl[1] > 0) {
		enum auth_scheme scheme;
		const char *hash, *err;
		if (auth_hash_parse(e->password, &scheme, &hash, &err) < 0) {
			*msg = err;
			entry_free(e);
			return -1;
		}
		if (scheme == AUTH_SCHEME_PLAIN && report != NULL)
			report(ctx, LOG_WARNING, lineno,
			       "{PLAIN} password stored in clear text; use `loft pw`");
	}
	e->user = dup_range(f[0], fl[0]);
	e->home = n > 5 ? dup_range(f[5], fl[5]) : dup_range("", 0);
	e->extra = n > 7 ? dup_range(f[7], fl[7]) : dup_range("", 0);
	e->line = lineno;
	if (e->user == NULL || e->home == NULL || e->extra == NULL) {
		entry_free(e);
		*msg = "out of memory";
		return -1;
	}
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct pwf_entry *x = a, *y = b;
	int c = strcmp(x->user, y->user);
	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Sort and drop later duplicates of a user (reported). */
static void table_finish(struct pwf_table *t, pwf_report_fn *report, void *ctx)
{
	if (t->n == 0)
		return;
	qsort(t->v, t->n, sizeof(t->v[0]), entry_cmp);
	size_t o = 1;
	for (size_t i = 1; i < t->n; i++) {
		if (strcmp(t->v[i].user, t->v[o - 1].user) == 0) {
			if (report != NULL)
				report(ctx, LOG_ERR, t->v[i].line,
				       "duplicate user; the first line wins");
			entry_free(&t->v[i]);
			continue;
		}
		t->v[o++] = t->v[i];
	}
	t->n = o;
}

int pwf_parse(const char *p, size_t len, struct pwf_table *t, pwf_report_fn *report, void *ctx)
{
	struct pwf_table nt = {NULL, 0};
	size_t cap = 0, pos = 0;
	unsigned lineno = 0;
	while (pos < len) {
		const char *nl = memchr(p + pos, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - (p + pos)) : len - pos;
		const char *line = p + pos;
		pos += ll + (nl != NULL);
		lineno++;
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		struct pwf_entry e;
		const char *msg = NULL;
		int rc = parse_line(line, ll, &e, &msg, report, ctx, lineno);
		if (rc < 0) {
			if (report != NULL)
				report(ctx, LOG_ERR, lineno, msg);
			continue;
		}
		if (rc > 0)
			continue;
		if (nt.n == cap) {
			size_t ncap = cap == 0 ? 16 : cap * 2;
			struct pwf_entry *v = realloc(nt.v, ncap * sizeof(*v));
			if (v == NULL) {
				entry_free(&e);
				pwf_table_free(&nt);
				return -1;
			}
			nt.v = v;
			cap = ncap;
		}
		nt.v[nt.n++] = e;
	}
	table_finish(&nt, report, ctx);
	pwf_table_free(t);
	*t = nt;
	return 0;
}

void pwf_table_free(struct pwf_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		entry_free(&t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

const struct pwf_entry *pwf_find(const struct pwf_table *t, const char *user)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(user, t->v[mid].user);
		if (c == 0)
			return &t->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *pwf_extra_get(const struct pwf_entry *e, const char *key, size_t *len_r)
{
	size_t klen = strlen(key);
	const char *p = e->extra;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		size_t wl = strcspn(p, " ");
		if (wl > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			*len_r = wl - klen - 1;
			return p + klen + 1;
		}
		p += wl;
	}
	return NULL;
}

void pwf_file_init(struct pwf_file *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
}

void pwf_file_free(struct pwf_file *f)
{
	pwf_table_free(&f->t);
	free(f->path);
	f->path = NULL;
}

static int same_stat(const struct pwf_file *f, const struct stat *st)
{
	return f->loaded && f->dev == st->st_dev && f->ino == st->st_ino &&
	       f->size == st->st_size && f->mtime.tv_sec == st->st_mtim.tv_sec &&
	       f->mtime.tv_nsec == st->st_mtim.tv_nsec && f->ctime.tv_sec == st->st_ctim.tv_sec &&
	       f->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* Read the whole open file into b. 0 or -1 (errno). */
static int read_all(int fd, struct buf *b)
{
	char chunk[8192];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (buf_append(b, chunk, (size_t)n) < 0) {
			errno = EFBIG;
			return -1;
		}
	}
}

int pwf_file_refresh(struct pwf_file *f, pwf_report_fn *report, void *ctx, char *err, size_t errlen)
{
	struct stat st;
	if (f->path == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (stat(f->path, &st) < 0) {
		snprintf(err, errlen, "stat %s: %s", f->path, strerror(errno));
		return -1;
	}
	if (same_stat(f, &st))
		return 0;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "open %s: %s", f->path, strerror(errno));
		return -1;
	}
	/* Stat the open file: what we read is what we remember. */
	struct buf b;
	buf_init(&b, PWF_MAX_FILE);
	int rc = fstat(fd, &st) < 0 ? -1 : read_all(fd, &b);
	int saved = errno;
	close(fd);
	if (rc < 0) {
		snprintf(err, errlen, "read %s: %s", f->path, strerror(saved));
		buf_free(&b);
		return -1;
	}
	rc = pwf_parse(b.data != NULL ? b.data : "", b.len, &f->t, report, ctx);
	if (b.data != NULL)
		memset(b.data, 0, b.len);
	buf_free(&b);
	if (rc < 0) {
		snprintf(err, errlen, "%s: out of memory", f->path);
		return -1;
	}
	f->loaded = true;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
	f->ctime = st.st_ctim;
	return 1;
}
