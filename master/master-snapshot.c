/* master-snapshot.c: the config a generation's children read. The master
 * writes every key it loaded (quoted, includes flattened) to
 * base_dir/config.<generation> and hands that path to its children, so a
 * child started or restarted later sees exactly the config the master
 * validated -- not a file an admin is halfway through editing. */
#include "master-ctx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void master_snapshot_path(const struct master *m, unsigned gen, char *path, size_t len)
{
	snprintf(path, len, "%s/config.%u", m->base_dir, gen);
}

static int snapshot_format(const struct config *cfg, struct buf *b)
{
	int rc = buf_printf(b, "# loft-master: effective config from %s\n", config_path(cfg));
	for (size_t i = 0; cfg_schema[i].name != NULL; i++) {
		const char *k = cfg_schema[i].name;
		if (!config_source(cfg, k, NULL, NULL))
			continue;
		rc |= buf_printf(b, "%s = \"", k);
		for (const char *p = config_raw(cfg, k); *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				rc |= buf_append(b, "\\", 1);
			rc |= buf_append(b, p, 1);
		}
		rc |= buf_append_str(b, "\"\n");
	}
	return rc;
}

/* The snapshot must load back to the same values, key by key. */
static bool snapshot_same(const struct config *cfg, const char *path)
{
	struct cfg_errors errs = {NULL, 0};
	struct config *back = config_load(path, &errs);
	bool same = back != NULL;
	for (size_t i = 0; same && cfg_schema[i].name != NULL; i++) {
		const char *k = cfg_schema[i].name;
		same = strcmp(config_raw(cfg, k), config_raw(back, k)) == 0;
	}
	cfg_errors_free(&errs);
	if (back != NULL)
		config_free(back);
	return same;
}

int master_snapshot_write(struct master *m, const struct config *cfg, unsigned gen, char *err,
                          size_t errlen)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
	struct buf b;
	buf_init(&b, 4u << 20);
	master_snapshot_path(m, gen, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int rc = snapshot_format(cfg, &b);
	int fd =
	    rc < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	bool ok = fd >= 0 && write(fd, b.data, b.len) == (ssize_t)b.len;
	int e = errno;
	if (fd >= 0 && close(fd) < 0 && ok) {
		ok = false;
		e = errno;
	}
	buf_free(&b);
	if (!ok || rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot write config snapshot %s: %s", path,
		         strerror(ok ? errno : e));
		unlink(tmp);
		return -1;
	}
	if (!snapshot_same(cfg, path)) {
		snprintf(err, errlen, "config snapshot %s does not read back the same", path);
		unlink(path);
		return -1;
	}
	return 0;
}

void master_snapshot_remove(struct master *m, unsigned gen)
{
	char path[PATH_MAX + 32];
	master_snapshot_path(m, gen, path, sizeof(path));
	unlink(path);
}

void master_snapshot_release(struct master *m, unsigned gen)
{
	if (gen == m->generation)
		return;
	for (const struct child *c = m->children; c != NULL; c = c->next) {
		if (c->generation == gen)
			return;
	}
	master_snapshot_remove(m, gen);
}
