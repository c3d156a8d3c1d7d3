/* config-parse.c: reads loft.conf text: the pure line parser (key = value,
 * quotes, inline comments, !include directives) and the loader that follows
 * includes and collects every error with its file:line instead of stopping. */
#include "config-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CFG_ERRORS_MAX 200 /* past this, one more line says so and the rest are dropped */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* '#' starts a comment at the start of the line or after whitespace only, so
 * `a#b` keeps its '#'. */
static bool comment_at(const char *p, size_t i)
{
	return p[i] == '#' && (i == 0 || is_blank(p[i - 1]));
}

/* Parse the value that starts at p[i]: quoted ("..." with \" and \\) or bare
 * up to an inline comment, surrounding whitespace dropped. */
static int parse_value(const char *p, size_t len, size_t i, struct buf *out, char *err,
                       size_t errlen)
{
	while (i < len && is_blank(p[i]))
		i++;
	if (i < len && p[i] == '"') {
		for (i++; i < len && p[i] != '"'; i++) {
			if (p[i] == '\\' && i + 1 < len && (p[i + 1] == '"' || p[i + 1] == '\\'))
				i++;
			if (buf_append(out, &p[i], 1) < 0)
				goto nomem;
		}
		if (i >= len) {
			snprintf(err, errlen, "unterminated quote");
			return -1;
		}
		for (i++; i < len && is_blank(p[i]); i++)
			;
		if (i < len && p[i] != '#') {
			snprintf(err, errlen, "unexpected text after closing quote");
			return -1;
		}
		return buf_append(out, "", 0) < 0 ? -1 : 0;
	}
	size_t start = i, end = i;
	for (; i < len && !comment_at(p, i); i++) {
		if (!is_blank(p[i]))
			end = i + 1;
	}
	if (buf_append(out, p + start, end - start) < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int parse_directive(const char *p, size_t len, size_t i, struct cfg_line *out, char *err,
                           size_t errlen)
{
	size_t w = i;
	while (i < len && !is_blank(p[i]))
		i++;
	size_t wl = i - w;
	if (wl == 8 && memcmp(p + w, "!include", 8) == 0) {
		out->kind = CFG_LINE_INCLUDE;
	} else if (wl == 12 && memcmp(p + w, "!include_try", 12) == 0) {
		out->kind = CFG_LINE_INCLUDE_TRY;
	} else {
		snprintf(err, errlen, "unknown directive '%.*s'", (int)(wl > 64 ? 64 : wl), p + w);
		return -1;
	}
	if (parse_value(p, len, i, &out->value, err, errlen) < 0)
		return -1;
	if (out->value.len == 0) {
		snprintf(err, errlen, "missing path after %.*s", (int)wl, p + w);
		return -1;
	}
	return 0;
}

int cfg_parse_line(const char *p, size_t len, struct cfg_line *out, char *err, size_t errlen)
{
	size_t i = 0;
	out->kind = CFG_LINE_EMPTY;
	out->key = NULL;
	out->key_len = 0;
	buf_init(&out->value, CFG_LINE_MAX);
	while (i < len && is_blank(p[i]))
		i++;
	if (i == len || comment_at(p, i))
		return 0;
	if (p[i] == '!')
		return parse_directive(p, len, i, out, err, errlen);
	size_t kstart = i, kend = i;
	for (; i < len && p[i] != '=' && !comment_at(p, i); i++) {
		if (!is_blank(p[i]))
			kend = i + 1;
	}
	if (i == len || p[i] != '=') {
		snprintf(err, errlen, "missing '=' after '%.*s'",
		         (int)(kend - kstart > 64 ? 64 : kend - kstart), p + kstart);
		return -1;
	}
	if (kend == kstart) {
		snprintf(err, errlen, "missing setting name before '='");
		return -1;
	}
	out->kind = CFG_LINE_SET;
	out->key = p + kstart;
	out->key_len = kend - kstart;
	return parse_value(p, len, i + 1, &out->value, err, errlen);
}

void cfg_error_add(struct cfg_errors *e, const char *file, unsigned line, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	if (e->n > CFG_ERRORS_MAX)
		return;
	struct cfg_error *nv = realloc(e->v, (e->n + 1) * sizeof(*nv));
	if (nv == NULL)
		return;
	e->v = nv;
	buf_init(&b, 16384);
	if (e->n == CFG_ERRORS_MAX) {
		buf_append_str(&b, "too many errors; the rest are not shown");
	} else {
		va_start(ap, fmt);
		buf_vprintf(&b, fmt, ap);
		va_end(ap);
	}
	char *msg = buf_steal(&b);
	char *f = strdup(file);
	if (msg == NULL || f == NULL) {
		free(msg);
		free(f);
		return;
	}
	nv[e->n].file = f;
	nv[e->n].line = line;
	nv[e->n].msg = msg;
	e->n++;
}

void cfg_errors_free(struct cfg_errors *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].file);
		free(e->v[i].msg);
	}
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

struct file_id {
	dev_t dev;
	ino_t ino;
};

struct loader {
	struct config *cfg;
	struct cfg_errors errs;
	int flags;
	unsigned depth;                                 /* include level of the text being read */
	struct file_id open[CFG_INCLUDE_DEPTH_MAX + 2]; /* files being read, for loops */
	size_t n_open;
};

static void parse_text(struct loader *ld, const char *name, const char *text, size_t len);

/* Read a regular file of bounded size into *text_r. 0, or -1 with errno set
 * (EFBIG when too large, EINVAL when not a regular file). */
static int read_file(int fd, const struct stat *st, char **text_r, size_t *len_r)
{
	if (!S_ISREG(st->st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if (st->st_size > (off_t)CFG_FILE_MAX) {
		errno = EFBIG;
		return -1;
	}
	struct buf b;
	buf_init(&b, CFG_FILE_MAX);
	char chunk[8192];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n > 0 && buf_append(&b, chunk, (size_t)n) < 0)) {
			if (n > 0)
				errno = EFBIG;
			buf_free(&b);
			return -1;
		}
		if (n == 0)
			break;
	}
	*len_r = b.len;
	*text_r = b.data != NULL ? buf_steal(&b) : strdup("");
	return *text_r == NULL ? -1 : 0;
}

/* Load one file. from/from_line name the !include line (NULL for the top). */
static void load_file(struct loader *ld, const char *path, bool must_exist, const char *from,
                      unsigned from_line)
{
	const char *ef = from != NULL ? from : path;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	if (fd < 0) {
		if (errno != ENOENT || must_exist)
			cfg_error_add(&ld->errs, ef, from_line, "cannot open '%s': %s", path,
			              strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || read_file(fd, &st, &text, &len) < 0) {
		const char *why = errno == EINVAL  ? "not a regular file"
		                  : errno == EFBIG ? "file too large"
		                                   : strerror(errno);
		cfg_error_add(&ld->errs, ef, from_line, "cannot read '%s': %s", path, why);
		close(fd);
		return;
	}
	close(fd);
	for (size_t i = 0; i < ld->n_open; i++) {
		if (ld->open[i].dev == st.st_dev && ld->open[i].ino == st.st_ino) {
			cfg_error_add(&ld->errs, ef, from_line,
			              "include loop: '%s' is already being read", path);
			free(text);
			return;
		}
	}
	ld->open[ld->n_open].dev = st.st_dev;
	ld->open[ld->n_open].ino = st.st_ino;
	ld->n_open++;
	parse_text(ld, path, text, len);
	ld->n_open--;
	free(text);
}

static void do_include(struct loader *ld, const char *file, unsigned line, const char *pattern,
                       bool try)
{
	if (ld->flags & CFG_LOAD_NO_INCLUDES) {
		cfg_error_add(&ld->errs, file, line, "!include is not allowed here");
		return;
	}
	if (ld->depth >= CFG_INCLUDE_DEPTH_MAX) {
		cfg_error_add(&ld->errs, file, line, "!include nested deeper than %d levels",
		              CFG_INCLUDE_DEPTH_MAX);
		return;
	}
	struct buf full;
	buf_init(&full, 0);
	if (pattern[0] != '/') {
		/* relative to the including file's directory ("." for buffers) */
		const char *slash = strrchr(file, '/');
		if (slash == NULL || ld->n_open == 0)
			buf_append_str(&full, "./");
		else
			buf_append(&full, file, (size_t)(slash - file) + 1);
	}
	if (buf_append_str(&full, pattern) < 0) {
		cfg_error_add(&ld->errs, file, line, "out of memory");
		buf_free(&full);
		return;
	}
	ld->depth++;
	if (strpbrk(full.data, "*?[") == NULL) {
		load_file(ld, full.data, !try, file, line);
	} else {
		glob_t g;
		int r = glob(full.data, 0, NULL, &g);
		if (r == 0) {
			for (size_t i = 0; i < g.gl_pathc; i++)
				load_file(ld, g.gl_pathv[i], true, file, line);
		} else if (r != GLOB_NOMATCH || !try) {
			cfg_error_add(&ld->errs, file, line, "%s '%s'",
			              r == GLOB_NOMATCH ? "no files match" : "cannot expand",
			              full.data);
		}
		globfree(&g);
	}
	ld->depth--;
	buf_free(&full);
}

static void handle_line(struct loader *ld, const char *name, unsigned lineno, const char *p,
                        size_t len)
{
	char err[CFG_ERR_MAX];
	struct cfg_line cl;
	if (len > CFG_LINE_MAX) {
		cfg_error_add(&ld->errs, name, lineno, "line too long (more than %d bytes)",
		              CFG_LINE_MAX);
		return;
	}
	if (memchr(p, '\0', len) != NULL) {
		cfg_error_add(&ld->errs, name, lineno, "NUL byte in line");
		return;
	}
	if (cfg_parse_line(p, len, &cl, err, sizeof(err)) < 0) {
		cfg_error_add(&ld->errs, name, lineno, "%s", err);
	} else if (cl.kind == CFG_LINE_SET) {
		char *key = strndup(cl.key, cl.key_len);
		int idx = key != NULL ? cfg_schema_index(key) : -1;
		const char *val = cl.value.data != NULL ? cl.value.data : "";
		if (key == NULL)
			cfg_error_add(&ld->errs, name, lineno, "out of memory");
		else if (idx < 0)
			cfg_error_add(&ld->errs, name, lineno, "unknown setting '%.100s'", key);
		else if (cfg_set(ld->cfg, (size_t)idx, val, name, lineno, err, sizeof(err)) < 0)
			cfg_error_add(&ld->errs, name, lineno, "%s", err);
		free(key);
	} else if (cl.kind != CFG_LINE_EMPTY) {
		do_include(ld, name, lineno, cl.value.data, cl.kind == CFG_LINE_INCLUDE_TRY);
	}
	buf_free(&cl.value);
}

static void parse_text(struct loader *ld, const char *name, const char *text, size_t len)
{
	size_t pos = 0;
	unsigned lineno = 0;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3; /* a UTF-8 byte order mark some editors add */
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		lineno++;
		handle_line(ld, name, lineno, text + pos, ll);
		pos += ll + (nl != NULL ? 1 : 0);
	}
}

/* Hand the collected errors to the caller; NULL config when there were any. */
static struct config *finish(struct loader *ld, struct cfg_errors *errs)
{
	if (ld->errs.n > 0) {
		config_free(ld->cfg);
		ld->cfg = NULL;
	}
	if (errs != NULL)
		*errs = ld->errs;
	else
		cfg_errors_free(&ld->errs);
	return ld->cfg;
}

static struct config *start(struct loader *ld, int flags, struct cfg_errors *errs)
{
	memset(ld, 0, sizeof(*ld));
	ld->flags = flags;
	if (errs != NULL) {
		errs->v = NULL;
		errs->n = 0;
	}
	ld->cfg = cfg_new();
	return ld->cfg;
}

struct config *config_load(const char *path, struct cfg_errors *errs)
{
	struct loader ld;
	if (start(&ld, 0, errs) == NULL)
		return NULL;
	char *p = strdup(path);
	if (p == NULL) {
		config_free(ld.cfg);
		return NULL;
	}
	free(ld.cfg->path);
	ld.cfg->path = p;
	load_file(&ld, path, true, NULL, 0);
	return finish(&ld, errs);
}

struct config *config_load_buf_flags(const char *name, const char *text, size_t len, int flags,
                                     struct cfg_errors *errs)
{
	struct loader ld;
	if (start(&ld, flags, errs) == NULL)
		return NULL;
	parse_text(&ld, name, text, len);
	return finish(&ld, errs);
}

struct config *config_load_buf(const char *name, const char *text, size_t len,
                               struct cfg_errors *errs)
{
	return config_load_buf_flags(name, text, len, 0, errs);
}
