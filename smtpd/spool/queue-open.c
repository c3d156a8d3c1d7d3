/* queue-open.c: open a spool file read-only for handing it to another
 * process (see queue-open.h). The id is validated before it becomes a path. */
#include "queue-open.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int queue_store_open_msg(struct queue_store *qs, const char *id, const char **error_r)
{
	enum queue_dir d;
	*error_r = qs->error;
	if (queue_store_find(qs, id, &d) < 0 || d == QUEUE_DIR_CORRUPT) {
		snprintf(qs->error, sizeof(qs->error), "no such message: %.*s", QUEUE_ID_LEN, id);
		return -1;
	}
	int fd = openat(qs->dfd[d], id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
		errno = EINVAL;
	}
	if (fd < 0)
		snprintf(qs->error, sizeof(qs->error), "open %s/%s: %s", queue_dir_name(d), id,
		         strerror(errno));
	return fd;
}
