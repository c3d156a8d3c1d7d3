/* maildir-private.h: helpers shared by the maildir-*.c files of loftmaildir
 * (error formatting, atomic file rewrite, the uidlist and the index cache).
 * Not for callers of the library: they use maildir.h. */
#ifndef LOFT_MAILDIR_PRIVATE_H
#define LOFT_MAILDIR_PRIVATE_H

#include <stdarg.h>
#include <sys/stat.h>

#include "buf.h"
#include "maildir.h"

#define MAILDIR_UIDLIST      "loft-uidlist"
#define MAILDIR_UIDLIST_LOCK "loft-uidlist.lock"
#define MAILDIR_INDEX        "loft-index"
#define MAILDIR_KEYWORDS     "loft-keywords"
/* Records of deliveries stored at most once (maildir-deliver-once.c). */
#define MAILDIR_DELIVERED     "loft-delivered"
#define MAILDIR_SUBSCRIPTIONS "subscriptions"
/* In the Maildir root: the last UIDVALIDITY handed out, and its lock. */
#define MAILDIR_UIDVALIDITY      "loft-uidvalidity"
#define MAILDIR_UIDVALIDITY_LOCK "loft-uidvalidity.lock"
/* A file another process renamed under us: resync and try this often. */
#define MAILDIR_RETRIES 3
/* Longest file name or line we accept from our own files. */
#define MAILDIR_NAME_MAX 255

/* Format a message into st->error and point *error_r at it; returns -1. */
int maildir_fail(struct maildir_store *st, const char **error_r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, appending ": strerror(errno)". */
int maildir_fail_errno(struct maildir_store *st, const char **error_r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "a/b" (malloc'd) or NULL. */
char *maildir_path_join(const char *a, const char *b);
int maildir_fsync_dir(const char *path);
/* Replace dir/name with data: write name.tmp, fsync, rename, fsync dir. */
int maildir_file_replace(struct maildir_store *st, const char *dir, const char *name,
                         const char *data, size_t len, int durable, const char **error_r);
/* Read a whole file into b. Returns 1 read, 0 missing, -1 error. */
int maildir_file_read(struct maildir_store *st, const char *path, struct buf *b, size_t max,
                      struct stat *st_r, const char **error_r);
int64_t maildir_stat_mtime_ns(const struct stat *s);
/* Open (creating) path and wait for an exclusive OFD write lock on it (a
 * process lock where OFD locks are missing). 0 with *fd_r (close() to
 * unlock), or -1. */
int maildir_lock_file(struct maildir_store *st, const char *path, int *fd_r, const char **error_r);

/* ---- uidlist (maildir-uidlist.c) ---- */
struct maildir_uid_entry {
	uint32_t uid;
	char *base;
};

struct maildir_uidlist {
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint32_t recent_uid;            /* UIDs >= this are not yet recent for anyone */
	struct maildir_uid_entry *ents; /* sorted by UID */
	size_t count, cap;
};

/* Pure parser of a loft-uidlist file. 0 or -1. */
int maildir_uidlist_parse(const char *p, size_t len, struct maildir_uidlist *ul,
                          const char **error_r);
int maildir_uidlist_append(struct maildir_uidlist *ul, uint32_t uid, const char *base, size_t len);
void maildir_uidlist_free(struct maildir_uidlist *ul);
int maildir_uidlist_lock(struct maildir_mailbox *box, const char **error_r);
void maildir_uidlist_unlock(struct maildir_mailbox *box);
/* Read the list: 1, or 0 when it is missing or corrupt (then ul is empty,
 * UIDNEXT 1 and UIDVALIDITY 0: the caller picks one), or -1. */
int maildir_uidlist_read(struct maildir_mailbox *box, struct maildir_uidlist *ul,
                         const char **error_r);
int maildir_uidlist_write(struct maildir_mailbox *box, const struct maildir_uidlist *ul,
                          const char **error_r);
/* Record the current uidlist file identity in box (after read or write). */
int maildir_uidlist_stamp(struct maildir_mailbox *box, int64_t *ino_r, int64_t *mtime_r,
                          int64_t *size_r);

/* Order of Maildir base names with digit runs compared as numbers, so new
 * messages get UIDs in delivery order. */
int maildir_fname_cmp(const char *a, const char *b);

/* ---- UIDVALIDITY of new uidlists (maildir-uidvalidity.c) ---- */
/* Pure: the contents of loft-uidvalidity ("<decimal>\n"). 0 or -1. */
int maildir_uidvalidity_parse(const char *p, size_t len, uint32_t *v_r);
/* Pure: the value after last: max(now, last + 1, above + 1), never 0. */
uint32_t maildir_uidvalidity_pick(uint32_t last, uint32_t above, time_t now);
/* Hand out the store's next UIDVALIDITY (recording it in the root, under
 * its lock), greater than above. 0 or -1. */
int maildir_uidvalidity_next(struct maildir_store *st, uint32_t above, uint32_t *v_r,
                             const char **error_r);

/* ---- index cache (maildir-index.c) ---- */
/* Pure parser: fills box->msgs/count, stamps, uidvalidity/uidnext. 0 / -1. */
int maildir_index_parse(const char *p, size_t len, struct maildir_mailbox *box);
/* Load loft-index into box when valid; 1 loaded, 0 not usable. */
int maildir_index_load(struct maildir_mailbox *box);
int maildir_index_write(struct maildir_mailbox *box, const char **error_r);

/* ---- messages ---- */
void maildir_msgs_clear(struct maildir_mailbox *box);
int maildir_msgs_push(struct maildir_mailbox *box, const struct maildir_msg *m);

/* ---- keywords ---- */
int maildir_keywords_load(struct maildir_mailbox *box, const char **error_r);
void maildir_keywords_clear(struct maildir_mailbox *box);

#endif
