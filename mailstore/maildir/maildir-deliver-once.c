/* maildir-deliver-once.c: maildir_delivery_commit_once, storing a delivery
 * that may be a repeat (a queue retry after a crash) at most once, at a cost
 * that does not grow with the folder. The caller's deterministic base name
 * gets a record in <folder>/loft-delivered/<day>/<base> (day = the base's
 * leading seconds / 86400, so a retry finds the same bucket and old buckets
 * go away whole):
 *
 *   record missing       -> create it (empty = "pending"), fsync its dir,
 *                           then link tmp -> new/<base>,S=..,W=.., fsync new/,
 *                           then write one byte ("done", no fsync needed)
 *   record "done"        -> already delivered
 *   record "pending"     -> a crash (or a concurrent attempt) between the
 *                           record and the done mark: the old check, a scan
 *                           of new/ then cur/ for the base, decides
 *
 * The first record of a folder also scans once: copies stored before
 * records existed (an upgrade) are still found.
 *
 * A lost "done" mark only costs the scan. link() instead of rename() into
 * new/: two concurrent attempts cannot replace each other's file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "maildir-private.h"

/* Buckets older than this are removed: far beyond any queue_lifetime, so
 * no retry can still come for a delivery recorded there. */
#define DELIVERED_KEEP_DAYS 60

/* 1 when folder/sub has a file named base followed by ',' ':' or nothing
 * (then sub is fsync'd: a copy left by an interrupted delivery is made as
 * durable as a fresh one), 0 when not, -1 on error. */
static int dir_has_base(struct maildir_delivery *d, const char *sub, const char *base,
                        const char **error_r)
{
	char *dir = maildir_path_join(d->folder_path, sub);
	if (dir == NULL)
		return maildir_fail(d->store, error_r, "out of memory");
	DIR *dh = opendir(dir);
	if (dh == NULL) {
		int ret =
		    errno == ENOENT ? 0 : maildir_fail_errno(d->store, error_r, "opendir(%s)", dir);
		free(dir);
		return ret;
	}
	size_t blen = strlen(base);
	int found = 0;
	struct dirent *de;
	while (!found && (de = readdir(dh)) != NULL) {
		const char *n = de->d_name;
		found = strncmp(n, base, blen) == 0 &&
		        (n[blen] == '\0' || n[blen] == ',' || n[blen] == ':');
	}
	closedir(dh);
	int ret = found;
	if (found && maildir_fsync_dir(dir) < 0)
		ret = maildir_fail_errno(d->store, error_r, "fsync(%s)", dir);
	free(dir);
	return ret;
}

/* The scan: new/ first, since an IMAP session only ever moves files from
 * new/ to cur/, so a file moved meanwhile is still seen in cur/. */
static int folder_has_base(struct maildir_delivery *d, const char *base, const char **error_r)
{
	int r = dir_has_base(d, "new", base, error_r);
	return r == 0 ? dir_has_base(d, "cur", base, error_r) : r;
}

/* Pure: the bucket of a base, its leading decimal seconds / 86400 (0 when
 * it has none). */
static unsigned long base_day(const char *base)
{
	unsigned long long sec = 0;
	for (const char *p = base; *p >= '0' && *p <= '9' && sec < (1ULL << 40); p++)
		sec = sec * 10 + (unsigned)(*p - '0');
	return (unsigned long)(sec / 86400);
}

/* Remove the buckets of top older than DELIVERED_KEEP_DAYS, except keep
 * (the one just made, for a delivery that waited that long). Run when a new
 * bucket was made, i.e. about once a day per folder. Failures only leave
 * old records behind. */
static void expire_buckets(const char *top, unsigned long keep)
{
	DIR *dh = opendir(top);
	if (dh == NULL)
		return;
	unsigned long today = (unsigned long)(time(NULL) / 86400);
	struct dirent *de;
	while ((de = readdir(dh)) != NULL) {
		char *end;
		unsigned long day = strtoul(de->d_name, &end, 10);
		if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end != '\0' || day == keep ||
		    day + DELIVERED_KEEP_DAYS >= today)
			continue;
		int fd =
		    openat(dirfd(dh), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *bh = fd >= 0 ? fdopendir(fd) : NULL;
		if (bh == NULL) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		struct dirent *re;
		while ((re = readdir(bh)) != NULL)
			if (re->d_name[0] != '.')
				unlinkat(dirfd(bh), re->d_name, 0);
		closedir(bh);
		unlinkat(dirfd(dh), de->d_name, AT_REMOVEDIR);
	}
	closedir(dh);
}

/* mkdir that is durable: the parent is fsync'd when the directory is new.
 * 1 made, 0 was there, -1 error (errno). */
static int mkdir_durable(const char *dir, const char *parent)
{
	if (mkdir(dir, 0700) < 0)
		return errno == EEXIST ? 0 : -1;
	return maildir_fsync_dir(parent) < 0 ? -1 : 1;
}

struct once_paths {
	struct buf top, bucket, rec, final, newdir;
	unsigned long day;
};

static void once_paths_free(struct once_paths *p)
{
	buf_free(&p->top);
	buf_free(&p->bucket);
	buf_free(&p->rec);
	buf_free(&p->final);
	buf_free(&p->newdir);
}

/* The record's state: 2 done, 1 pending, 0 missing, -1 error. */
static int record_state(const char *rec)
{
	struct stat sb;
	if (lstat(rec, &sb) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(sb.st_mode))
		return errno = EINVAL, -1;
	return sb.st_size > 0 ? 2 : 1;
}

/* Mark the record done. Not fsync'd: a lost mark reads as pending, which
 * only costs a scan. */
static void record_done(const char *rec)
{
	int fd = open(rec, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "1", 1) < 0) {
		/* stays pending: the next retry scans */
	}
	close(fd);
}

/* Create the pending record durably (its bucket too). 1 created, 2 created
 * in a folder that had no records yet (written by a version before them, or
 * new: scan once), 0 it was there already (a concurrent attempt), -1. */
static int record_create(struct maildir_delivery *d, struct once_paths *p, const char **error_r)
{
	struct maildir_store *st = d->store;
	int first = mkdir_durable(p->top.data, d->folder_path);
	if (first < 0)
		return maildir_fail_errno(st, error_r, "mkdir(%s)", p->top.data);
	int made = mkdir_durable(p->bucket.data, p->top.data);
	if (made < 0)
		return maildir_fail_errno(st, error_r, "mkdir(%s)", p->bucket.data);
	if (made == 1)
		expire_buckets(p->top.data, p->day);
	int fd = open(p->rec.data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? 0
		                       : maildir_fail_errno(st, error_r, "create(%s)", p->rec.data);
	close(fd);
	if (maildir_fsync_dir(p->bucket.data) < 0)
		return maildir_fail_errno(st, error_r, "fsync(%s)", p->bucket.data);
	return first == 1 ? 2 : 1;
}

/* fsync the tmp file and link it to new/<final>, fsync new/, drop the tmp
 * name. 0 stored, 1 the name was there (a concurrent attempt), -1. */
static int link_into_new(struct maildir_delivery *d, struct once_paths *p, const char **error_r)
{
	struct maildir_store *st = d->store;
	if (fsync(d->fd) < 0)
		return maildir_fail_errno(st, error_r, "fsync(%s)", d->tmp_path);
	if (link(d->tmp_path, p->final.data) < 0)
		return errno == EEXIST ? 1
		                       : maildir_fail_errno(st, error_r, "link(%s)", p->final.data);
	if (maildir_fsync_dir(p->newdir.data) < 0)
		return maildir_fail_errno(st, error_r, "fsync(%s)", p->newdir.data);
	/* the abort would unlink tmp_path anyway; the file now lives in new/ */
	return 0;
}

static int build_paths(struct maildir_delivery *d, const char *base, struct once_paths *p)
{
	buf_init(&p->top, 0);
	buf_init(&p->bucket, 0);
	buf_init(&p->rec, 0);
	buf_init(&p->final, 0);
	buf_init(&p->newdir, 0);
	p->day = base_day(base);
	if (buf_printf(&p->top, "%s/%s", d->folder_path, MAILDIR_DELIVERED) < 0 ||
	    buf_printf(&p->bucket, "%s/%lu", p->top.data, p->day) < 0 ||
	    buf_printf(&p->rec, "%s/%s", p->bucket.data, base) < 0 ||
	    buf_printf(&p->newdir, "%s/new", d->folder_path) < 0 ||
	    buf_printf(&p->final, "%s/%s,S=%llu,W=%llu", p->newdir.data, base,
	               (unsigned long long)d->size, (unsigned long long)d->vsize) < 0)
		return -1;
	return 0;
}

int maildir_delivery_commit_once(struct maildir_delivery *d, const char *base, char **base_r,
                                 const char **error_r)
{
	size_t blen = strlen(base);
	/* room left for ",S=<20 digits>,W=<20 digits>:2,<6 flags + 26 keywords>" */
	if (blen == 0 || blen > NAME_MAX - 96 || base[0] == '.' || strpbrk(base, "/:,") != NULL)
		return maildir_fail(d->store, error_r, "bad base name for a delivery");
	if (d->fd < 0 || d->tmp_path == NULL)
		return maildir_fail(d->store, error_r, "delivery not open");
	struct once_paths p;
	if (build_paths(d, base, &p) < 0) {
		once_paths_free(&p);
		return maildir_fail(d->store, error_r, "out of memory");
	}
	int ret = record_state(p.rec.data);
	if (ret < 0) {
		ret = maildir_fail_errno(d->store, error_r, "stat(%s)", p.rec.data);
	} else if (ret == 2) {
		ret = 1; /* done: stored before */
	} else {
		/* missing: create it; pending, created meanwhile by a
		 * concurrent attempt, or the folder's first record: the scan
		 * tells whether a file was linked */
		int created = ret == 0 ? record_create(d, &p, error_r) : 0;
		ret = created < 0 ? -1 : created == 1 ? 0 : folder_has_base(d, base, error_r);
		if (ret == 0)
			ret = link_into_new(d, &p, error_r);
		if (ret >= 0)
			record_done(p.rec.data);
	}
	/* stored: a failed copy of the name only leaves the log without it */
	if (ret == 0 && base_r != NULL)
		*base_r = strdup(p.final.data + p.newdir.len + 1);
	once_paths_free(&p);
	return ret;
}
