/* lmtp-spool.c: where a message waits between DATA and its deliveries. An
 * LMTP session spools to an unnamed file in a private directory on disk
 * (<state_dir>/lmtp-spool): lmtp_max_sessions concurrent messages of up to
 * message_size_limit each would otherwise all sit in memory. */
#include "lmtp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int lmtp_spool_open(const char *dir)
{
	if (dir == NULL)
		return memfd_create("loft-lmtp-spool", MFD_CLOEXEC);
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC | O_EXCL, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	/* A file system without O_TMPFILE: a named file, unlinked at once, so
	 * nothing is left behind even when the session dies. */
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/spool.XXXXXX", dir) >= (int)sizeof(path))
		return errno = ENAMETOOLONG, -1;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

int lmtp_spool_prepare(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int r = 0;
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, not %u", dir, (unsigned)st.st_uid,
		         (unsigned)geteuid());
		r = -1;
	} else if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0) {
		snprintf(err, errlen, "chmod %s: %s", dir, strerror(errno));
		r = -1;
	}
	close(fd);
	return r;
}
