/* maildir-uidvalidity.c: the UIDVALIDITY of every new uidlist in one Maildir
 * (INBOX and all folders). The last value handed out is kept in the root's
 * loft-uidvalidity and the next one is max(now, last + 1), so a folder that
 * is deleted and created again, even within one second, never gets its old
 * value back (Dovecot keeps dovecot-uidvalidity for the same reason). The
 * file is read and rewritten (tmp, fsync, rename) under an OFD lock on
 * loft-uidvalidity.lock; a missing or damaged file counts as "last = 0". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maildir-private.h"

#define UIDVALIDITY_FILE_MAX 64

int maildir_uidvalidity_parse(const char *p, size_t len, uint32_t *v_r)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(p[i] - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	if (i == 0 || v == 0 || i + 1 != len || p[i] != '\n')
		return -1;
	*v_r = (uint32_t)v;
	return 0;
}

uint32_t maildir_uidvalidity_pick(uint32_t last, uint32_t above, time_t now)
{
	uint64_t v = now > 0 ? (uint64_t)now : 1;
	if (v > UINT32_MAX) /* past 2106: the clock no longer helps */
		v = 1;
	if ((uint64_t)last + 1 > v)
		v = (uint64_t)last + 1;
	if ((uint64_t)above + 1 > v)
		v = (uint64_t)above + 1;
	/* wrapped: start again low, clients only compare for equality */
	return v > UINT32_MAX ? 1 : (uint32_t)v;
}

/* The value recorded in the root into *last_r: 0 when there is none or
 * the file holds junk (it is replaced). 0, or -1 when it cannot be read. */
static int read_last(struct maildir_store *st, uint32_t *last_r, const char **error_r)
{
	*last_r = 0;
	char *path = maildir_path_join(st->root, MAILDIR_UIDVALIDITY);
	if (path == NULL)
		return maildir_fail(st, error_r, "out of memory");
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int ret = errno == ENOENT ? 0 : maildir_fail_errno(st, error_r, "open(%s)", path);
		free(path);
		return ret;
	}
	char text[UIDVALIDITY_FILE_MAX];
	ssize_t n;
	while ((n = read(fd, text, sizeof(text))) < 0 && errno == EINTR)
		;
	int ret = n < 0 ? maildir_fail_errno(st, error_r, "read(%s)", path) : 0;
	close(fd);
	free(path);
	if (n > 0 && maildir_uidvalidity_parse(text, (size_t)n, last_r) < 0)
		*last_r = 0;
	return ret;
}

int maildir_uidvalidity_next(struct maildir_store *st, uint32_t above, uint32_t *v_r,
                             const char **error_r)
{
	char *lock = maildir_path_join(st->root, MAILDIR_UIDVALIDITY_LOCK);
	if (lock == NULL)
		return maildir_fail(st, error_r, "out of memory");
	int fd;
	int r = maildir_lock_file(st, lock, &fd, error_r);
	free(lock);
	if (r < 0)
		return -1;
	uint32_t last;
	char text[16];
	r = read_last(st, &last, error_r);
	if (r == 0) {
		*v_r = maildir_uidvalidity_pick(last, above, time(NULL));
		int n = snprintf(text, sizeof(text), "%u\n", (unsigned)*v_r);
		/* durable: after a crash the value must not come back */
		r = maildir_file_replace(st, st->root, MAILDIR_UIDVALIDITY, text, (size_t)n, 1,
		                         error_r);
	}
	close(fd); /* releases the lock */
	return r;
}
