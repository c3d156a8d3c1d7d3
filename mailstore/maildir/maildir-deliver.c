/* maildir-deliver.c: putting a message into a Maildir folder, for LMTP
 * delivery (tmp/ -> new/) and IMAP APPEND/COPY (tmp/ -> cur/ with flags and an
 * internal date). Success is reported only after the file and the directory
 * it was renamed into are fsync'd; a crash before that leaves at most a tmp/
 * file, which sync removes once it is older than MAILDIR_TMP_MAX_AGE.
 * Deliveries that may be repeats are maildir-deliver-once.c's. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "maildir-private.h"

#define UNIQUE_TRIES 10

/* time.M<usec>P<pid>Q<counter>.<host>, created with O_EXCL in tmp/. */
static int open_unique(struct maildir_delivery *d, const char **error_r)
{
	struct maildir_store *st = d->store;
	for (int i = 0; i < UNIQUE_TRIES; i++) {
		struct timeval tv;
		gettimeofday(&tv, NULL);
		struct buf base, path;
		buf_init(&base, 0);
		buf_init(&path, 0);
		if (buf_printf(&base, "%lld.M%ldP%ldQ%u.%s", (long long)tv.tv_sec, (long)tv.tv_usec,
		               (long)getpid(), ++st->counter, st->host) < 0 ||
		    buf_printf(&path, "%s/tmp/%s", d->folder_path, base.data) < 0) {
			buf_free(&base);
			buf_free(&path);
			return maildir_fail(st, error_r, "out of memory");
		}
		d->fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (d->fd >= 0) {
			d->base = buf_steal(&base);
			d->tmp_path = buf_steal(&path);
			return 0;
		}
		int err = errno;
		buf_free(&base);
		buf_free(&path);
		if (err != EEXIST) {
			errno = err;
			return maildir_fail_errno(st, error_r, "open(%s/tmp)", d->folder_path);
		}
	}
	return maildir_fail(st, error_r, "no unique name in %s/tmp", d->folder_path);
}

int maildir_delivery_begin(struct maildir_store *st, const char *folder, struct maildir_delivery *d,
                           const char **error_r)
{
	memset(d, 0, sizeof(*d));
	d->store = st;
	d->fd = -1;
	d->folder_path = maildir_folder_path(st, folder, error_r);
	if (d->folder_path == NULL)
		return -1;
	char *tmp = maildir_path_join(d->folder_path, "tmp");
	struct stat sb;
	if (tmp != NULL && stat(tmp, &sb) < 0 && errno == ENOENT &&
	    strcasecmp(folder, "INBOX") == 0) {
		/* a user's first message brings the Maildir into being */
		const char *err;
		maildir_folder_create(st, "INBOX", &err);
	}
	free(tmp);
	if (open_unique(d, error_r) < 0) {
		maildir_delivery_abort(d);
		return -1;
	}
	return 0;
}

int maildir_delivery_write(struct maildir_delivery *d, const void *data, size_t n,
                           const char **error_r)
{
	const char *p = data;
	if (d->fd < 0)
		return maildir_fail(d->store, error_r, "delivery not open");
	/* W counts a bare LF as CRLF; a CR may end the previous chunk */
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && !(i == 0 ? d->last_cr : p[i - 1] == '\r'))
			d->vsize++;
	}
	if (n > 0)
		d->last_cr = p[n - 1] == '\r';
	d->size += n;
	d->vsize += n;
	while (n > 0) {
		ssize_t w = write(d->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return maildir_fail_errno(d->store, error_r, "write(%s)", d->tmp_path);
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Set the date (internal date = mtime), fsync the tmp file, rename it to
 * sub/<final>, fsync sub/. The date is set before the rename: a session
 * syncing between a rename and a later futimes would index the wrong date
 * for good (imaptest saw INTERNALDATE change). The access time stays now,
 * so the stale-file cleanup (which wants both old) leaves the file alone. */
static int finish(struct maildir_delivery *d, const char *sub, const char *final, time_t date,
                  const char **error_r)
{
	struct maildir_store *st = d->store;
	struct timeval tv[2] = {{.tv_sec = time(NULL)}, {.tv_sec = date}};
	if (date > 0 && futimes(d->fd, tv) < 0)
		return maildir_fail_errno(st, error_r, "futimes(%s)", d->tmp_path);
	if (fsync(d->fd) < 0)
		return maildir_fail_errno(st, error_r, "fsync(%s)", d->tmp_path);
	struct buf dir, dst;
	buf_init(&dir, 0);
	buf_init(&dst, 0);
	int ret = -1;
	if (buf_printf(&dir, "%s/%s", d->folder_path, sub) < 0 ||
	    buf_printf(&dst, "%s/%s", dir.data, final) < 0)
		maildir_fail(st, error_r, "out of memory");
	else if (rename(d->tmp_path, dst.data) < 0)
		maildir_fail_errno(st, error_r, "rename(%s)", dst.data);
	else if (maildir_fsync_dir(dir.data) < 0)
		maildir_fail_errno(st, error_r, "fsync(%s)", dir.data);
	else
		ret = 0;
	if (close(d->fd) < 0 && ret == 0)
		ret = maildir_fail_errno(st, error_r, "close(%s)", dst.data);
	d->fd = -1;
	buf_free(&dir);
	buf_free(&dst);
	if (ret == 0) {
		free(d->tmp_path);
		d->tmp_path = NULL;
	}
	return ret;
}

static int commit_to(struct maildir_delivery *d, const char *sub, int with_info, unsigned flags,
                     uint32_t keywords, time_t date, char **base_r, const char **error_r)
{
	if (d->fd < 0 || d->tmp_path == NULL)
		return maildir_fail(d->store, error_r, "delivery not open");
	struct buf base;
	buf_init(&base, 0);
	if (buf_printf(&base, "%s,S=%llu,W=%llu", d->base, (unsigned long long)d->size,
	               (unsigned long long)d->vsize) < 0) {
		buf_free(&base);
		return maildir_fail(d->store, error_r, "out of memory");
	}
	char *final = with_info ? maildir_filename_make(base.data, flags, keywords) : NULL;
	if (with_info && final == NULL) {
		buf_free(&base);
		return maildir_fail(d->store, error_r, "out of memory");
	}
	int ret = finish(d, sub, with_info ? final : base.data, date, error_r);
	free(final);
	if (ret == 0 && base_r != NULL)
		*base_r = buf_steal(&base);
	buf_free(&base);
	return ret;
}

int maildir_delivery_commit(struct maildir_delivery *d, char **base_r, const char **error_r)
{
	return commit_to(d, "new", 0, 0, 0, 0, base_r, error_r);
}

int maildir_delivery_save(struct maildir_delivery *d, unsigned flags, uint32_t keywords,
                          time_t date, char **base_r, const char **error_r)
{
	return commit_to(d, "cur", 1, flags & MAILDIR_FLAG_ALL, keywords, date, base_r, error_r);
}

void maildir_delivery_abort(struct maildir_delivery *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->tmp_path != NULL)
		unlink(d->tmp_path);
	free(d->tmp_path);
	free(d->base);
	free(d->folder_path);
	d->fd = -1;
	d->tmp_path = d->base = d->folder_path = NULL;
}

int maildir_deliver(struct maildir_store *st, const char *folder, const void *p, size_t len,
                    char **base_r, const char **error_r)
{
	struct maildir_delivery d;
	if (maildir_delivery_begin(st, folder, &d, error_r) < 0)
		return -1;
	int ret = maildir_delivery_write(&d, p, len, error_r);
	if (ret == 0)
		ret = maildir_delivery_commit(&d, base_r, error_r);
	maildir_delivery_abort(&d);
	return ret;
}
