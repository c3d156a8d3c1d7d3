/* master-status.c: base_dir/status, the file `loft status` reads. Rewritten
 * atomically (tmp + rename) after every change; TAB-separated lines: one
 * `master` line, then one `service` line per child (docs/architecture.md). */
#include "master-ctx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const state_names[] = {"running", "restarting", "draining"};

static void status_path(const struct master *m, char *path, size_t len, const char *suffix)
{
	snprintf(path, len, "%s/status%s", m->base_dir, suffix);
}

static int status_format(const struct master *m, struct buf *b)
{
	int rc = buf_printf(b, "master\t%ld\t%u\t%s\t%s\n", (long)getpid(), m->generation, m->conf,
	                    m->root ? "root" : "unprivileged");
	for (const struct child *c = m->children; c != NULL; c = c->next) {
		rc |= buf_printf(b, "service\t%s\t%ld\t%s\t%u\t", c->svc->name, (long)c->pid,
		                 state_names[c->state], c->restarts);
		/* A draining child still holds the listeners of its generation,
		 * but the table lists only the ones of the current one. */
		bool first = true;
		for (size_t i = 0; c->state != CHILD_DRAINING && i < m->ls.n; i++) {
			const struct listener *l = &m->ls.v[i];
			if (l->svc != c->svc)
				continue;
			rc |= buf_printf(b, "%s%s=%s", first ? "" : " ", l->name, l->addr);
			first = false;
		}
		rc |= buf_append_str(b, "\n");
	}
	return rc;
}

void master_status_write(struct master *m)
{
	char path[PATH_MAX + 16], tmp[PATH_MAX + 16];
	struct buf b;
	buf_init(&b, 1 << 20);
	status_path(m, path, sizeof(path), "");
	status_path(m, tmp, sizeof(tmp), ".tmp");
	if (status_format(m, &b) < 0) {
		log_error(&m->log, "status file too large");
		buf_free(&b);
		return;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	bool ok = fd >= 0 && write(fd, b.data, b.len) == (ssize_t)b.len;
	if (fd >= 0 && close(fd) < 0)
		ok = false;
	if (!ok || rename(tmp, path) < 0) {
		log_error(&m->log, "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	}
	buf_free(&b);
}

void master_status_remove(struct master *m)
{
	char path[PATH_MAX + 16];
	status_path(m, path, sizeof(path), "");
	unlink(path);
}
