/* maildir-mailbox.c: an open folder for IMAP/POP3 sessions and LMTP: open
 * and close, message lookup and expunge (unlink + uidlist rewrite; flag
 * changes are maildir-flags.c's). Every change happens under the uidlist
 * lock; a file another process renamed meanwhile is found again by a resync. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "maildir-cache.h"
#include "maildir-private.h"

void maildir_msgs_clear(struct maildir_mailbox *box)
{
	for (size_t i = 0; i < box->count; i++) {
		free(box->msgs[i].base);
		free(box->msgs[i].fname);
	}
	free(box->msgs);
	box->msgs = NULL;
	box->count = box->cap = 0;
}

int maildir_msgs_push(struct maildir_mailbox *box, const struct maildir_msg *m)
{
	if (box->count == box->cap) {
		size_t cap = box->cap ? box->cap * 2 : 64;
		struct maildir_msg *n = realloc(box->msgs, cap * sizeof(*n));
		if (n == NULL)
			return -1;
		box->msgs = n;
		box->cap = cap;
	}
	box->msgs[box->count++] = *m;
	return 0;
}

/* Remove tmp/ files left by crashed deliveries once they are old enough
 * that no delivery can still be writing them. */
static void clean_tmp(struct maildir_mailbox *box)
{
	char *path = maildir_path_join(box->path, "tmp");
	DIR *d = path != NULL ? opendir(path) : NULL;
	free(path);
	if (d == NULL)
		return;
	time_t limit = time(NULL) - MAILDIR_TMP_MAX_AGE;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    S_ISDIR(sb.st_mode))
			continue;
		/* mtime and atime: a writer touches both (ctime would be
		 * safer still but cannot be set, so tests could not age it) */
		if (sb.st_mtime < limit && sb.st_atime < limit &&
		    unlinkat(dirfd(d), de->d_name, 0) == 0)
			box->stats.tmp_cleaned++;
	}
	closedir(d);
}

int maildir_mailbox_open(struct maildir_store *st, const char *name, unsigned open_flags,
                         struct maildir_mailbox **box_r, const char **error_r)
{
	char *path = maildir_folder_path(st, name, error_r);
	if (path == NULL)
		return -1;
	struct stat sb;
	if (stat(path, &sb) < 0 && errno == ENOENT && strcasecmp(name, "INBOX") == 0) {
		const char *err;
		maildir_folder_create(st, "INBOX", &err);
	}
	if (stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		maildir_fail(st, error_r, "no such folder: %s", name);
		free(path);
		return -1;
	}
	struct maildir_mailbox *box = calloc(1, sizeof(*box));
	if (box == NULL || (box->name = strdup(name)) == NULL) {
		free(box);
		free(path);
		return maildir_fail(st, error_r, "out of memory");
	}
	box->store = st;
	box->path = path;
	box->open_flags = open_flags;
	box->lock_fd = -1;
	clean_tmp(box);
	maildir_index_load(box);
	if (maildir_mailbox_sync(box, error_r) < 0) {
		maildir_mailbox_close(box);
		return -1;
	}
	*box_r = box;
	return 0;
}

void maildir_mailbox_close(struct maildir_mailbox *box)
{
	if (box == NULL)
		return;
	while (box->lock_depth > 0)
		maildir_uidlist_unlock(box);
	maildir_msgs_clear(box);
	maildir_keywords_clear(box);
	maildir_cache_free(box->cache);
	free(box->name);
	free(box->path);
	free(box);
}

struct maildir_cache *maildir_mailbox_cache(struct maildir_mailbox *box)
{
	if (box->cache == NULL)
		box->cache = maildir_cache_open(box);
	return box->cache;
}

struct maildir_msg *maildir_mailbox_find_uid(struct maildir_mailbox *box, uint32_t uid)
{
	size_t lo = 0, hi = box->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (box->msgs[mid].uid == uid)
			return &box->msgs[mid];
		if (box->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct maildir_msg *maildir_mailbox_find_base(struct maildir_mailbox *box, const char *base)
{
	size_t len = maildir_filename_base_len(base);
	for (size_t i = 0; i < box->count; i++)
		if (strncmp(box->msgs[i].base, base, len) == 0 && box->msgs[i].base[len] == '\0')
			return &box->msgs[i];
	return NULL;
}

char *maildir_msg_path(const struct maildir_mailbox *box, const struct maildir_msg *msg)
{
	struct buf b;
	buf_init(&b, 0);
	if (buf_printf(&b, "%s/%s/%s", box->path, msg->in_new ? "new" : "cur", msg->fname) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

int maildir_msg_open(struct maildir_mailbox *box, uint32_t uid, int *fd_r, const char **error_r)
{
	for (int i = 0; i < MAILDIR_RETRIES; i++) {
		struct maildir_msg *m = maildir_mailbox_find_uid(box, uid);
		if (m == NULL)
			return 1;
		char *path = maildir_msg_path(box, m);
		if (path == NULL)
			return maildir_fail(box->store, error_r, "out of memory");
		*fd_r = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		int err = errno;
		free(path);
		if (*fd_r >= 0)
			return 0;
		if (err != ENOENT) {
			errno = err;
			return maildir_fail_errno(box->store, error_r, "open uid %u", uid);
		}
		/* renamed (flags) or expunged by someone else */
		box->have_table = 0;
		if (maildir_mailbox_sync(box, error_r) < 0)
			return -1;
	}
	return maildir_fail(box->store, error_r, "message %u keeps moving", uid);
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Unlink one message file, finding it again if it was renamed. 0 removed,
 * 1 already gone, -1 error. *gone may be reset by the resync. */
static int unlink_msg(struct maildir_mailbox *box, uint32_t uid, char **gone, const char **error_r)
{
	for (int i = 0; i < MAILDIR_RETRIES; i++) {
		struct maildir_msg *m = maildir_mailbox_find_uid(box, uid);
		if (m == NULL || (*gone)[m - box->msgs])
			return 1;
		char *path = maildir_msg_path(box, m);
		if (path == NULL)
			return maildir_fail(box->store, error_r, "out of memory");
		int r = unlink(path);
		int err = errno;
		free(path);
		if (r == 0) {
			(*gone)[m - box->msgs] = 1;
			return 0;
		}
		if (err != ENOENT) {
			errno = err;
			return maildir_fail_errno(box->store, error_r, "unlink uid %u", uid);
		}
		box->have_table = 0;
		if (maildir_mailbox_sync(box, error_r) < 0)
			return -1;
		/* the table was rebuilt without the files we already removed */
		free(*gone);
		if ((*gone = calloc(box->count + 1, 1)) == NULL)
			return maildir_fail(box->store, error_r, "out of memory");
	}
	return maildir_fail(box->store, error_r, "message %u keeps moving", uid);
}

/* Drop removed UIDs from the uidlist file. */
static int uidlist_drop(struct maildir_mailbox *box, uint32_t *removed, size_t nremoved,
                        const char **error_r)
{
	int64_t ino, mt, sz;
	maildir_uidlist_stamp(box, &ino, &mt, &sz);
	int was_current =
	    ino == box->uidlist_ino && mt == box->uidlist_mtime_ns && sz == box->uidlist_size;
	struct maildir_uidlist ul;
	int r = maildir_uidlist_read(box, &ul, error_r);
	if (r <= 0) {
		maildir_uidlist_free(&ul);
		return r < 0 ? -1 : maildir_fail(box->store, error_r, "uidlist lost");
	}
	qsort(removed, nremoved, sizeof(*removed), uid_cmp);
	size_t j = 0;
	for (size_t i = 0; i < ul.count; i++) {
		if (bsearch(&ul.ents[i].uid, removed, nremoved, sizeof(*removed), uid_cmp)) {
			free(ul.ents[i].base);
			continue;
		}
		ul.ents[j++] = ul.ents[i];
	}
	int changed = j != ul.count, ret = 0;
	ul.count = j;
	if (changed)
		ret = maildir_uidlist_write(box, &ul, error_r);
	/* nobody else wrote it since our sync: table and file agree again */
	if (ret == 0 && was_current)
		maildir_uidlist_stamp(box, &box->uidlist_ino, &box->uidlist_mtime_ns,
		                      &box->uidlist_size);
	maildir_uidlist_free(&ul);
	return ret;
}

static void table_compact(struct maildir_mailbox *box, const char *gone)
{
	size_t j = 0;
	for (size_t i = 0; i < box->count; i++) {
		if (gone[i]) {
			free(box->msgs[i].base);
			free(box->msgs[i].fname);
			continue;
		}
		box->msgs[j++] = box->msgs[i];
	}
	box->count = j;
}

int maildir_mailbox_expunge(struct maildir_mailbox *box, const uint32_t *uids, size_t n,
                            const char **error_r)
{
	if (maildir_uidlist_lock(box, error_r) < 0)
		return -1;
	char *gone = calloc(box->count + 1, 1);
	uint32_t *removed = calloc(n + 1, sizeof(*removed));
	size_t nremoved = 0;
	int ret = 0;
	if (gone == NULL || removed == NULL)
		ret = maildir_fail(box->store, error_r, "out of memory");
	for (size_t i = 0; i < n && ret == 0; i++) {
		int r = unlink_msg(box, uids[i], &gone, error_r);
		if (r < 0)
			ret = -1;
		else if (r == 0)
			removed[nremoved++] = uids[i];
	}
	if (nremoved > 0) {
		char *cur = maildir_path_join(box->path, "cur");
		char *nw = maildir_path_join(box->path, "new");
		if (cur == NULL || nw == NULL || maildir_fsync_dir(cur) < 0 ||
		    maildir_fsync_dir(nw) < 0)
			ret = maildir_fail_errno(box->store, error_r, "fsync(%s)", box->path);
		free(cur);
		free(nw);
		if (gone != NULL)
			table_compact(box, gone);
		if (uidlist_drop(box, removed, nremoved, error_r) < 0)
			ret = -1;
		maildir_index_write(box, error_r);
	}
	free(gone);
	free(removed);
	maildir_uidlist_unlock(box);
	return ret < 0 ? -1 : (int)nremoved;
}

int maildir_msg_expunge(struct maildir_mailbox *box, uint32_t uid, const char **error_r)
{
	int r = maildir_mailbox_expunge(box, &uid, 1, error_r);
	return r < 0 ? -1 : r == 0 ? 1 : 0;
}
