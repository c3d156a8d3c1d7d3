/* maildir-flags.c: changing a message's flags and keywords, i.e. renaming
 * its file within cur/ (or from new/), for IMAP STORE, FETCH's implicit
 * \Seen and POP3. A change is computed from the flags the file has at that
 * moment, under the folder's uidlist lock, so two sessions' +FLAGS/-FLAGS
 * on one message both survive. Inside the lock only a non-Loft process can
 * rename a file: the rename then fails with ENOENT and we resync, recompute
 * and retry. A batch (STORE 1:*) holds one lock for all its messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "maildir-private.h"

int maildir_mailbox_lock(struct maildir_mailbox *box, const char **error_r)
{
	if (maildir_uidlist_lock(box, error_r) < 0)
		return -1;
	int r = maildir_mailbox_sync(box, error_r);
	if (r < 0) {
		maildir_uidlist_unlock(box);
		return -1;
	}
	box->lock_synced = 1;
	return r;
}

void maildir_mailbox_unlock(struct maildir_mailbox *box)
{
	maildir_uidlist_unlock(box);
	if (box->lock_depth == 0)
		box->lock_synced = 0;
}

/* One rename attempt: 0 done, 1 file not where the table says, -1 error. */
static int flags_rename(struct maildir_mailbox *box, struct maildir_msg *m, unsigned flags,
                        uint32_t keywords, const char **error_r)
{
	char *dst = maildir_filename_make(m->base, flags, keywords);
	char *src = maildir_msg_path(box, m);
	struct buf to;
	buf_init(&to, 0);
	int ret = 0;
	if (dst == NULL || src == NULL || buf_printf(&to, "%s/cur/%s", box->path, dst) < 0)
		ret = maildir_fail(box->store, error_r, "out of memory");
	else if (strcmp(src, to.data) != 0 && rename(src, to.data) < 0)
		ret = errno == ENOENT ? 1
		                      : maildir_fail_errno(box->store, error_r, "rename(%s)", src);
	if (ret == 0) {
		free(m->fname);
		m->fname = dst;
		dst = NULL;
		m->in_new = 0;
		m->flags = flags;
		m->keywords = keywords;
	}
	free(dst);
	free(src);
	buf_free(&to);
	return ret;
}

/* Nothing to rename: is the file still under the name the table has (so
 * the flags we compared with are its real ones)? 0 yes, 1 no, -1 error. */
static int flags_current(struct maildir_mailbox *box, const struct maildir_msg *m,
                         const char **error_r)
{
	/* a sync under the lock we still hold: no Loft process renamed it */
	if (box->lock_synced)
		return 0;
	char *path = maildir_msg_path(box, m);
	if (path == NULL)
		return maildir_fail(box->store, error_r, "out of memory");
	struct stat sb;
	box->stats.file_stats++;
	int r = lstat(path, &sb);
	int ret = r == 0            ? 0
	          : errno == ENOENT ? 1
	                            : maildir_fail_errno(box->store, error_r, "stat(%s)", path);
	free(path);
	return ret;
}

int maildir_msg_update_flags(struct maildir_mailbox *box, uint32_t uid,
                             const struct maildir_flag_update *u, const char **error_r)
{
	if (maildir_uidlist_lock(box, error_r) < 0)
		return -1;
	int ret = 1;
	for (int i = 0; i < MAILDIR_RETRIES; i++) {
		struct maildir_msg *m = maildir_mailbox_find_uid(box, uid);
		if (m == NULL) {
			ret = 1;
			break;
		}
		unsigned flags = ((m->flags & ~u->remove) | u->add) & MAILDIR_FLAG_ALL;
		uint32_t kw = (m->keywords & ~u->kw_remove) | u->kw_add;
		if (flags == m->flags && kw == m->keywords && !m->in_new)
			ret = flags_current(box, m, error_r);
		else
			ret = flags_rename(box, m, flags, kw, error_r);
		if (ret <= 0)
			break;
		/* renamed or expunged by someone else: learn its new name and
		 * apply the change to the flags it has now */
		box->have_table = 0;
		if (maildir_mailbox_sync(box, error_r) < 0) {
			ret = -1;
			break;
		}
	}
	if (ret > 0 && maildir_mailbox_find_uid(box, uid) != NULL)
		ret = maildir_fail(box->store, error_r, "message %u keeps moving", uid);
	maildir_uidlist_unlock(box);
	return ret;
}

int maildir_msg_set_flags(struct maildir_mailbox *box, uint32_t uid, unsigned flags,
                          uint32_t keywords, const char **error_r)
{
	struct maildir_flag_update u = {
	    .add = flags & MAILDIR_FLAG_ALL,
	    .remove = MAILDIR_FLAG_ALL,
	    .kw_add = keywords,
	    .kw_remove = UINT32_MAX,
	};
	return maildir_msg_update_flags(box, uid, &u, error_r);
}
