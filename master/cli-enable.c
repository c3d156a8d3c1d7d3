/* cli-enable.c: `loft enable|disable`, boot-time enablement like chkconfig.
 * Under systemd (PID 1 is systemd: /run/systemd/system exists) it runs
 * `systemctl enable|disable loft.service`; otherwise it manages the SysV rc
 * links itself from the chkconfig/LSB header of /etc/init.d/loft. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli-main.h"

#define INITSCRIPT_MAX     (256 * 1024)
#define DEFAULT_START_PRIO 80
#define DEFAULT_STOP_PRIO  30
#define RC_DIRS            "0123456S" /* the rc?.d folders disable cleans */

enum boot_mode { BOOT_AUTO, BOOT_SYSV, BOOT_SYSTEMD };

struct enable_opts {
	const char *root;
	enum boot_mode mode;
};

/* Runlevels and priorities from an init script's header. */
struct rc_spec {
	unsigned start_levels; /* bit N: runlevel N gets S<prio>loft */
	unsigned stop_levels;  /* bit N: runlevel N gets K<prio>loft */
	unsigned start_prio, stop_prio;
};

static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/* "2345" or "2 3 4 5" (or "-" for none) -> bitmask of runlevels 0-6. */
static int parse_levels(const char *s, const char *end, unsigned *out)
{
	*out = 0;
	for (; s < end; s++) {
		if (*s >= '0' && *s <= '6')
			*out |= 1u << (*s - '0');
		else if (*s != ' ' && *s != '\t' && *s != '-' && *s != 'S' && *s != 's')
			return -1;
	}
	return 0;
}

static int parse_prio(const char **s, const char *end, unsigned *out)
{
	const char *p = skip_ws(*s, end);
	unsigned v = 0;
	size_t digits = 0;
	for (; p < end && *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
		v = v * 10 + (unsigned)(*p - '0');
	if (digits == 0 || v > 99)
		return -1;
	*out = v;
	*s = p;
	return 0;
}

/* "# chkconfig: 2345 80 30" */
static int parse_chkconfig(const char *s, const char *end, struct rc_spec *out)
{
	s = skip_ws(s, end);
	const char *lv = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	unsigned levels;
	if (parse_levels(lv, s, &levels) < 0 || parse_prio(&s, end, &out->start_prio) < 0 ||
	    parse_prio(&s, end, &out->stop_prio) < 0)
		return -1;
	out->start_levels = levels;
	out->stop_levels = 0x7fu & ~levels;
	return 0;
}

static bool has_prefix(const char *s, const char *end, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);
	if ((size_t)(end - s) < n || strncasecmp(s, prefix, n) != 0)
		return false;
	*rest = s + n;
	return true;
}

/* Pure: read the header comment block of an init script. The chkconfig line
 * wins; without one the LSB Default-Start/Default-Stop lines and the default
 * priorities apply. 0, or -1 with *err_r when neither is usable. */
static int rc_spec_parse(const char *p, size_t len, struct rc_spec *out, const char **err_r)
{
	struct rc_spec lsb = {0, 0, DEFAULT_START_PRIO, DEFAULT_STOP_PRIO};
	bool have_chk = false, have_lsb = false;
	const char *end = p + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		const char *s = skip_ws(p, le), *rest;
		if (s < le && *s != '#')
			break; /* the header ends with the first command */
		if (s < le) {
			s = skip_ws(s + 1, le);
			if (has_prefix(s, le, "chkconfig:", &rest)) {
				if (parse_chkconfig(rest, le, out) < 0) {
					*err_r = "malformed chkconfig line";
					return -1;
				}
				have_chk = true;
			} else if (has_prefix(s, le, "Default-Start:", &rest)) {
				have_lsb = parse_levels(rest, le, &lsb.start_levels) == 0;
			} else if (has_prefix(s, le, "Default-Stop:", &rest)) {
				if (parse_levels(rest, le, &lsb.stop_levels) < 0)
					have_lsb = false;
			}
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (have_chk)
		return 0;
	if (have_lsb && lsb.start_levels != 0) {
		*out = lsb;
		return 0;
	}
	*err_r = "no chkconfig or LSB Default-Start line";
	return -1;
}

static int read_file(const char *path, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char chunk[4096];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(out, chunk, (size_t)n) < 0)
			break; /* the header is at the top; the rest may go */
	int saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 0;
}

/* An rc link of ours: [SK]NNloft. */
static bool is_our_link(const char *name)
{
	return strlen(name) == 7 && (name[0] == 'S' || name[0] == 'K') && name[1] >= '0' &&
	       name[1] <= '9' && name[2] >= '0' && name[2] <= '9' && strcmp(name + 3, "loft") == 0;
}

/* Remove our links in dir except keep (may be NULL). Counts into *removed. */
static int remove_links(const char *dir, const char *keep, unsigned *removed)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	int rc = 0;
	struct dirent *de;
	struct buf path;
	buf_init(&path, 0);
	while ((de = readdir(d)) != NULL) {
		if (!is_our_link(de->d_name) || (keep != NULL && strcmp(de->d_name, keep) == 0))
			continue;
		buf_reset(&path);
		struct stat sb;
		if (buf_printf(&path, "%s/%s", dir, de->d_name) < 0 || lstat(path.data, &sb) < 0 ||
		    !S_ISLNK(sb.st_mode))
			continue; /* only links are ours to remove */
		if (unlink(path.data) < 0) {
			fprintf(stderr, "loft: cannot remove %s: %s\n", path.data, strerror(errno));
			rc = -1;
		} else {
			(*removed)++;
		}
	}
	buf_free(&path);
	closedir(d);
	return rc;
}

/* Make dir/name a symlink to target (idempotent). */
static int put_link(const char *dir, const char *name, const char *target)
{
	struct buf path;
	buf_init(&path, 0);
	int rc = -1;
	if (buf_printf(&path, "%s/%s", dir, name) < 0)
		goto out;
	char cur[256];
	ssize_t n = readlink(path.data, cur, sizeof(cur) - 1);
	if (n >= 0) {
		cur[n] = '\0';
		if (strcmp(cur, target) == 0) {
			rc = 0;
			goto out;
		}
		unlink(path.data);
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		fprintf(stderr, "loft: cannot create %s: %s\n", dir, strerror(errno));
	else if (symlink(target, path.data) < 0)
		fprintf(stderr, "loft: cannot link %s: %s\n", path.data, strerror(errno));
	else
		rc = 0;
out:
	buf_free(&path);
	return rc;
}

static int sysv_enable(const char *root)
{
	struct buf path, text, done, dir;
	buf_init(&path, 0);
	buf_init(&text, INITSCRIPT_MAX);
	buf_init(&done, 0);
	buf_init(&dir, 0);
	int rc = CLI_EXIT_FAIL;
	struct rc_spec spec;
	const char *err = NULL;
	buf_printf(&path, "%s/etc/init.d/loft", root);
	if (read_file(path.data, &text) < 0) {
		fprintf(stderr, "loft: cannot read %s: %s\n", path.data, strerror(errno));
		goto out;
	}
	if (rc_spec_parse(text.data ? text.data : "", text.len, &spec, &err) < 0) {
		fprintf(stderr, "loft: %s: %s\n", path.data, err);
		goto out;
	}
	rc = CLI_EXIT_OK;
	for (unsigned lv = 0; lv <= 6; lv++) {
		char name[8];
		bool start = (spec.start_levels >> lv) & 1;
		if (!start && !((spec.stop_levels >> lv) & 1))
			continue;
		snprintf(name, sizeof(name), "%c%02uloft", start ? 'S' : 'K',
		         start ? spec.start_prio : spec.stop_prio);
		buf_reset(&dir);
		buf_printf(&dir, "%s/etc/rc%u.d", root, lv);
		unsigned removed = 0;
		if (remove_links(dir.data, name, &removed) < 0 ||
		    put_link(dir.data, name, "../init.d/loft") < 0) {
			rc = CLI_EXIT_FAIL;
			continue;
		}
		buf_printf(&done, " rc%u.d/%s", lv, name);
	}
	if (rc == CLI_EXIT_OK)
		printf("enabled via SysV rc links:%s\n", done.data ? done.data : "");
out:
	buf_free(&path);
	buf_free(&text);
	buf_free(&done);
	buf_free(&dir);
	return rc;
}

static int sysv_disable(const char *root)
{
	struct buf dir;
	buf_init(&dir, 0);
	unsigned removed = 0;
	int rc = CLI_EXIT_OK;
	for (const char *r = RC_DIRS; *r != '\0'; r++) {
		buf_reset(&dir);
		buf_printf(&dir, "%s/etc/rc%c.d", root, *r);
		if (remove_links(dir.data, NULL, &removed) < 0)
			rc = CLI_EXIT_FAIL;
	}
	buf_free(&dir);
	if (rc == CLI_EXIT_OK)
		printf("disabled via SysV rc links: %u removed\n", removed);
	return rc;
}

static int systemd_run(const char *root, const char *verb)
{
	const char *ctl =
	    access("/bin/systemctl", X_OK) == 0 ? "/bin/systemctl" : "/usr/bin/systemctl";
	struct buf rootopt;
	buf_init(&rootopt, 0);
	buf_printf(&rootopt, "--root=%s", root);
	char *argv[5];
	int n = 0;
	argv[n++] = (char *)ctl;
	if (strcmp(root, "/") != 0)
		argv[n++] = rootopt.data;
	argv[n++] = (char *)verb;
	argv[n++] = "loft.service";
	argv[n] = NULL;
	int st = cli_run(argv);
	buf_free(&rootopt);
	if (st != 0) {
		if (st > 0)
			fprintf(stderr, "loft: systemctl %s loft.service failed (exit %d)\n", verb,
			        st);
		return CLI_EXIT_FAIL;
	}
	printf("%sd via systemd\n", verb);
	return CLI_EXIT_OK;
}

static int parse_opts(int argc, char **argv, struct enable_opts *o)
{
	o->root = "/";
	o->mode = BOOT_AUTO;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
			o->root = argv[++i];
		else if (strncmp(argv[i], "--root=", 7) == 0)
			o->root = argv[i] + 7;
		else if (strcmp(argv[i], "--sysv") == 0)
			o->mode = BOOT_SYSV;
		else if (strcmp(argv[i], "--systemd") == 0)
			o->mode = BOOT_SYSTEMD;
		else {
			fprintf(stderr, "usage: loft %s [--root DIR] [--sysv | --systemd]\n",
			        argv[0]);
			return -1;
		}
	}
	if (o->mode == BOOT_AUTO) {
		struct buf p;
		buf_init(&p, 0);
		struct stat sb;
		buf_printf(&p, "%s/run/systemd/system", o->root);
		o->mode = stat(p.data, &sb) == 0 && S_ISDIR(sb.st_mode) ? BOOT_SYSTEMD : BOOT_SYSV;
		buf_free(&p);
	}
	return 0;
}

int cli_cmd_enable(struct cli *c, int argc, char **argv)
{
	(void)c;
	struct enable_opts o;
	if (parse_opts(argc, argv, &o) < 0)
		return CLI_EXIT_USAGE;
	return o.mode == BOOT_SYSTEMD ? systemd_run(o.root, "enable") : sysv_enable(o.root);
}

int cli_cmd_disable(struct cli *c, int argc, char **argv)
{
	(void)c;
	struct enable_opts o;
	if (parse_opts(argc, argv, &o) < 0)
		return CLI_EXIT_USAGE;
	return o.mode == BOOT_SYSTEMD ? systemd_run(o.root, "disable") : sysv_disable(o.root);
}
