/* queue-committed.c: the journal of committed queue ids (queue-committed.h). */
#include "queue-committed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL     "committed"
#define JOURNAL_OLD "committed.old"

static int jfail(struct queue_store *qs, const char **error_r, const char *what)
{
	snprintf(qs->error, sizeof(qs->error), "%s queue/%s: %s", what, JOURNAL, strerror(errno));
	*error_r = qs->error;
	return -1;
}

static int journal_open(struct queue_store *qs, const char **error_r)
{
	qs->jfd = openat(qs->rootfd, JOURNAL,
	                 O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct stat st;
	if (qs->jfd < 0 || fstat(qs->jfd, &st) < 0)
		return jfail(qs, error_r, "open");
	qs->jsize = (uint64_t)st.st_size;
	return 0;
}

int queue_committed_note(struct queue_store *qs, const char *id, const char **error_r)
{
	if (qs->jfd < 0 && journal_open(qs, error_r) < 0)
		return -1;
	if (qs->jsize >= QUEUE_COMMITTED_ROTATE) {
		if (renameat(qs->rootfd, JOURNAL, qs->rootfd, JOURNAL_OLD) < 0)
			return jfail(qs, error_r, "rotate");
		close(qs->jfd);
		qs->jfd = -1;
		if (journal_open(qs, error_r) < 0)
			return -1;
	}
	char line[QUEUE_ID_LEN + 2];
	int n = snprintf(line, sizeof(line), "%s\n", id);
	if (n != QUEUE_ID_LEN + 1) {
		snprintf(qs->error, sizeof(qs->error), "bad queue id for the journal");
		*error_r = qs->error;
		return -1;
	}
	/* one write of one short line with O_APPEND: never interleaved */
	if (write(qs->jfd, line, (size_t)n) != n)
		return jfail(qs, error_r, "append to");
	qs->jsize += (uint64_t)n;
	return 0;
}

bool queue_committed_scan(const char *p, size_t len, const char *id)
{
	size_t idl = strlen(id);
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(p + pos, '\n', len - pos);
		if (nl == NULL)
			return false; /* a torn last line counts for nothing */
		size_t ll = (size_t)(nl - (p + pos));
		if (ll == idl && idl > 0 && memcmp(p + pos, id, idl) == 0)
			return true;
		pos += ll + 1;
	}
	return false;
}

/* 1 / 0 for one journal file, -1 on a read error; a missing file is 0. */
static int journal_has(struct queue_store *qs, const char *name, const char *id,
                       const char **error_r)
{
	char *p = NULL;
	size_t len = 0;
	/* a journal is rotated at QUEUE_COMMITTED_ROTATE; allow one line over */
	if (queue_store_read_file(qs->rootfd, name, QUEUE_COMMITTED_ROTATE + 4096, &p, &len) < 0)
		return errno == ENOENT ? 0 : jfail(qs, error_r, "read");
	int rc = queue_committed_scan(p, len, id) ? 1 : 0;
	free(p);
	return rc;
}

int queue_committed_known(struct queue_store *qs, const char *id, const char **error_r)
{
	enum queue_dir d;
	if (queue_store_find(qs, id, &d) == 0)
		return 1;
	int r = journal_has(qs, JOURNAL, id, error_r);
	if (r != 0)
		return r;
	return journal_has(qs, JOURNAL_OLD, id, error_r);
}
