/* maildir-util.c: small file helpers for loftmaildir: error messages kept in
 * the store, path joining, directory fsync, lock files and the atomic "write
 * tmp, fsync, rename" rewrite every metadata file of a folder goes through. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maildir-private.h"
#include "write-all.h"

__attribute__((format(printf, 4, 0))) static int
fail_v(struct maildir_store *st, const char **error_r, int err, const char *fmt, va_list ap)
{
	int n = vsnprintf(st->error, sizeof(st->error), fmt, ap);
	if (err != 0 && n >= 0 && (size_t)n < sizeof(st->error))
		snprintf(st->error + n, sizeof(st->error) - (size_t)n, ": %s", strerror(err));
	if (error_r != NULL)
		*error_r = st->error;
	return -1;
}

int maildir_fail(struct maildir_store *st, const char **error_r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail_v(st, error_r, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int maildir_fail_errno(struct maildir_store *st, const char **error_r, const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	fail_v(st, error_r, err, fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

char *maildir_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 2);
	if (p == NULL)
		return NULL;
	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

int maildir_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int ret = fsync(fd);
	int err = errno;
	close(fd);
	errno = err;
	return ret;
}

int maildir_file_replace(struct maildir_store *st, const char *dir, const char *name,
                         const char *data, size_t len, int durable, const char **error_r)
{
	struct buf tmp, dst;
	buf_init(&tmp, 0);
	buf_init(&dst, 0);
	int ret = -1, fd = -1;
	/* pid in the tmp name: a cache written without the lock must not
	 * collide with another writer's half-written file */
	if (buf_printf(&dst, "%s/%s", dir, name) < 0 ||
	    buf_printf(&tmp, "%s/%s.tmp.%ld", dir, name, (long)getpid()) < 0) {
		maildir_fail(st, error_r, "out of memory");
		goto out;
	}
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		maildir_fail_errno(st, error_r, "open(%s)", tmp.data);
		goto out;
	}
	if (write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
		maildir_fail_errno(st, error_r, "write(%s)", tmp.data);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		maildir_fail_errno(st, error_r, "close(%s)", tmp.data);
		goto out;
	}
	fd = -1;
	if (rename(tmp.data, dst.data) < 0) {
		maildir_fail_errno(st, error_r, "rename(%s)", dst.data);
		goto out;
	}
	if (durable && maildir_fsync_dir(dir) < 0) {
		maildir_fail_errno(st, error_r, "fsync(%s)", dir);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret < 0 && tmp.data != NULL)
		unlink(tmp.data);
	buf_free(&tmp);
	buf_free(&dst);
	return ret;
}

int maildir_file_read(struct maildir_store *st, const char *path, struct buf *b, size_t max,
                      struct stat *st_r, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return maildir_fail_errno(st, error_r, "open(%s)", path);
	}
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return maildir_fail(st, error_r, "%s: not a regular file", path);
	}
	if (st_r != NULL)
		*st_r = sb;
	if ((uint64_t)sb.st_size > max) {
		close(fd);
		return maildir_fail(st, error_r, "%s: too large", path);
	}
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			maildir_fail_errno(st, error_r, "read(%s)", path);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		if (buf_append(b, chunk, (size_t)n) < 0) {
			close(fd);
			return maildir_fail(st, error_r, "%s: too large", path);
		}
	}
	close(fd);
	return 1;
}

int64_t maildir_stat_mtime_ns(const struct stat *s)
{
	return (int64_t)s->st_mtim.tv_sec * 1000000000LL + s->st_mtim.tv_nsec;
}

int maildir_lock_file(struct maildir_store *st, const char *path, int *fd_r, const char **error_r)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return maildir_fail_errno(st, error_r, "open(%s)", path);
	/* OFD locks: also exclusive between two opens in one process */
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int r;
	while ((r = fcntl(fd, F_OFD_SETLKW, &fl)) < 0 && errno == EINTR)
		;
	if (r < 0 && errno == EINVAL) {
		while ((r = fcntl(fd, F_SETLKW, &fl)) < 0 && errno == EINTR)
			;
	}
	if (r < 0) {
		maildir_fail_errno(st, error_r, "lock(%s)", path);
		close(fd);
		return -1;
	}
	*fd_r = fd;
	return 0;
}
