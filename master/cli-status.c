/* cli-status.c: `loft status`. Reads the status file the master rewrites on
 * every change (<base_dir>/status: a `master` line, then one `service` line per
 * child, TAB-separated) and prints it as a summary plus a table. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli-main.h"

#define STATUS_MAX_FIELDS 8
#define STATUS_FILE_MAX   (1024 * 1024)

/* Split line[0..len) at TABs into at most max fields (NUL-terminated copies
 * made in place: line must be writable). Returns the field count. */
static size_t split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (n < max) {
		f[n++] = p;
		char *tab = strchr(p, '\t');
		if (tab == NULL)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	return n;
}

static int parse_ulong(const char *s, unsigned long *out)
{
	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int parse_master(char **f, size_t n, struct cli_status *st, const char **err_r)
{
	unsigned long pid, gen;
	if (n < 4 || parse_ulong(f[1], &pid) < 0 || parse_ulong(f[2], &gen) < 0) {
		*err_r = "malformed master line";
		return -1;
	}
	st->pid = (long)pid;
	st->generation = gen;
	free(st->config);
	free(st->mode);
	st->config = strdup(f[3]);
	st->mode = strdup(n > 4 ? f[4] : "");
	if (st->config == NULL || st->mode == NULL) {
		*err_r = "out of memory";
		return -1;
	}
	return 0;
}

static int parse_service(char **f, size_t n, struct cli_status *st, const char **err_r)
{
	unsigned long pid, restarts;
	if (n < 5 || f[1][0] == '\0' || parse_ulong(f[2], &pid) < 0 ||
	    parse_ulong(f[4], &restarts) < 0) {
		*err_r = "malformed service line";
		return -1;
	}
	struct cli_service *v = realloc(st->svc, (st->n_svc + 1) * sizeof(*v));
	if (v == NULL) {
		*err_r = "out of memory";
		return -1;
	}
	st->svc = v;
	struct cli_service *s = &v[st->n_svc++];
	s->name = strdup(f[1]);
	s->pid = (long)pid;
	s->state = strdup(f[3]);
	s->restarts = restarts;
	s->listeners = strdup(n > 5 ? f[5] : "");
	if (s->name == NULL || s->state == NULL || s->listeners == NULL) {
		*err_r = "out of memory";
		return -1;
	}
	return 0;
}

int cli_status_parse(const char *p, size_t len, struct cli_status *st, const char **err_r)
{
	memset(st, 0, sizeof(*st));
	st->pid = -1;
	if (memchr(p, '\0', len) != NULL) {
		*err_r = "NUL byte in status file";
		return -1;
	}
	char *copy = strndup(p, len);
	if (copy == NULL) {
		*err_r = "out of memory";
		return -1;
	}
	int rc = 0;
	char *line = copy;
	while (rc == 0 && line != NULL && *line != '\0') {
		char *nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		char *f[STATUS_MAX_FIELDS];
		size_t n = split_tabs(line, f, STATUS_MAX_FIELDS);
		if (strcmp(f[0], "master") == 0)
			rc = parse_master(f, n, st, err_r);
		else if (strcmp(f[0], "service") == 0)
			rc = parse_service(f, n, st, err_r);
		/* other verbs: written by a newer master; skip them */
		line = nl != NULL ? nl + 1 : NULL;
	}
	free(copy);
	if (rc == 0 && st->pid < 0) {
		*err_r = "no master line";
		rc = -1;
	}
	if (rc < 0)
		cli_status_free(st);
	return rc;
}

void cli_status_free(struct cli_status *st)
{
	for (size_t i = 0; i < st->n_svc; i++) {
		free(st->svc[i].name);
		free(st->svc[i].state);
		free(st->svc[i].listeners);
	}
	free(st->svc);
	free(st->config);
	free(st->mode);
	memset(st, 0, sizeof(*st));
}

int cli_status_read(const char *base_dir, struct cli_status *st)
{
	struct buf path, text;
	buf_init(&path, 0);
	buf_init(&text, STATUS_FILE_MAX);
	int rc = -1;
	if (buf_printf(&path, "%s/status", base_dir) < 0)
		goto out;
	int fd = open(path.data, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "loft: cannot open %s: %s\n", path.data, strerror(errno));
		goto out;
	}
	char chunk[4096];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (buf_append(&text, chunk, (size_t)n) < 0) {
			n = -1;
			errno = EFBIG;
			break;
		}
	}
	int saved = errno;
	close(fd);
	if (n < 0) {
		fprintf(stderr, "loft: cannot read %s: %s\n", path.data, strerror(saved));
		goto out;
	}
	const char *err = NULL;
	if (cli_status_parse(text.data ? text.data : "", text.len, st, &err) < 0) {
		fprintf(stderr, "loft: %s: %s\n", path.data, err);
		goto out;
	}
	rc = 0;
out:
	buf_free(&path);
	buf_free(&text);
	return rc;
}

static void print_table(const struct cli_status *st)
{
	if (st->n_svc == 0) {
		printf("no services\n");
		return;
	}
	printf("%-16s %8s %-10s %8s  %s\n", "SERVICE", "PID", "STATE", "RESTARTS", "LISTENERS");
	for (size_t i = 0; i < st->n_svc; i++) {
		const struct cli_service *s = &st->svc[i];
		char pid[24];
		if (s->pid > 0)
			snprintf(pid, sizeof(pid), "%ld", s->pid);
		else
			snprintf(pid, sizeof(pid), "-");
		printf("%-16s %8s %-10s %8lu  %s\n", s->name, pid, s->state, s->restarts,
		       s->listeners[0] != '\0' ? s->listeners : "-");
	}
}

int cli_cmd_status(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: loft status\n");
		return CLI_EXIT_USAGE;
	}
	struct config *cfg = cli_config(c);
	if (cfg == NULL)
		return 4; /* LSB: status unknown */
	const char *base_dir = cli_cfg_str(cfg, "base_dir", "/run/loft");
	pid_t pid;
	int r = cli_master_running(base_dir, &pid);
	if (r < 0)
		return 4;
	if (r == 0) {
		printf("loft is not running\n");
		return CLI_EXIT_NOT_RUNNING;
	}
	struct cli_status st;
	if (cli_status_read(base_dir, &st) < 0) {
		printf("loft is running (pid %ld), status unavailable\n", (long)pid);
		return CLI_EXIT_OK;
	}
	printf("loft is running (pid %ld, generation %lu, config %s", (long)pid, st.generation,
	       st.config);
	if (st.mode != NULL && st.mode[0] != '\0')
		printf(", %s mode", st.mode);
	printf(")\n");
	print_table(&st);
	cli_status_free(&st);
	return CLI_EXIT_OK;
}
