/* maildir.h: the Maildir++ storage library used by mailstore's IMAP/POP3
 * sessions and LMTP delivery: folders, subscriptions, delivery, UIDs (uidlist),
 * flags and keywords in file names, expunge and a per-folder cache (loft-index).
 * Functions return 0 / -1 (or a count) and set *error_r to a message that
 * stays valid until the next call on the same store. Not thread-safe; several
 * processes may share a Maildir (all UID changes happen under a file lock). */
#ifndef LOFT_MAILDIR_H
#define LOFT_MAILDIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* System flags, stored as the letters of the Maildir info ":2,DFPRST". */
enum maildir_flag {
	MAILDIR_FLAG_DRAFT = 1 << 0,   /* D */
	MAILDIR_FLAG_FLAGGED = 1 << 1, /* F */
	MAILDIR_FLAG_PASSED = 1 << 2,  /* P (IMAP has none; kept as-is) */
	MAILDIR_FLAG_REPLIED = 1 << 3, /* R = \Answered */
	MAILDIR_FLAG_SEEN = 1 << 4,    /* S */
	MAILDIR_FLAG_TRASHED = 1 << 5, /* T = \Deleted */
	MAILDIR_FLAG_ALL = (1 << 6) - 1,
};

#define MAILDIR_KEYWORDS_MAX 26 /* letters a..z in file names */
#define MAILDIR_HOST_MAX     64
#define MAILDIR_ERROR_MAX    512
/* Stale tmp/ files older than this are removed when a folder is opened. */
#define MAILDIR_TMP_MAX_AGE (36 * 3600)

/* Counters a caller (or a test) reads to see which work a sync really did. */
struct maildir_stats {
	unsigned long readdirs;       /* new/ or cur/ directory scans */
	unsigned long file_stats;     /* stat() of a single message file */
	unsigned long index_loads;    /* loft-index read and accepted */
	unsigned long index_rebuilds; /* loft-index missing or corrupt -> rescan */
	unsigned long index_writes;
	unsigned long uidlist_reads;
	unsigned long uidlist_writes;
	unsigned long tmp_cleaned; /* stale tmp/ files removed */
};

struct maildir_cache; /* maildir-cache.h */

/* One user's Maildir: a process keeps one of these per user it serves. */
struct maildir_store {
	char *root; /* the Maildir root, i.e. INBOX */
	char sep;   /* IMAP hierarchy separator: '/' or '.' */
	char host[MAILDIR_HOST_MAX];
	unsigned counter; /* Q<n> in unique names */
	char error[MAILDIR_ERROR_MAX];
};

struct maildir_msg {
	uint32_t uid;
	unsigned flags;    /* enum maildir_flag bits */
	uint32_t keywords; /* bit i = keyword index i (letter 'a' + i) */
	int in_new;        /* file is in new/ (no info part yet) */
	int recent;        /* \Recent for this session */
	uint64_t size;     /* S: bytes on disk */
	uint64_t vsize;    /* W: bytes with every bare LF counted as CRLF */
	time_t date;       /* internal date (file mtime) */
	char *base;        /* unique base name: the part before ':' */
	char *fname;       /* current file name inside new/ or cur/ */
};

struct maildir_dirstamp {
	int64_t mtime_ns; /* 0 = unknown or too recent to trust */
	int64_t size;
};

enum maildir_open_flags {
	/* Move new/ messages to cur/ while syncing (IMAP sessions do; LMTP's
	 * post-delivery sync does not). */
	MAILDIR_OPEN_MOVE_NEW = 1 << 0,
	/* Take \Recent for messages no session has seen (IMAP sessions). */
	MAILDIR_OPEN_TAKE_RECENT = 1 << 1,
	MAILDIR_OPEN_SESSION = MAILDIR_OPEN_MOVE_NEW | MAILDIR_OPEN_TAKE_RECENT,
};

struct maildir_mailbox {
	struct maildir_store *store;
	char *name; /* IMAP name as given */
	char *path; /* folder directory */
	unsigned open_flags;
	uint32_t uidvalidity;
	uint32_t uidnext;
	struct maildir_msg *msgs; /* sorted by UID */
	size_t count;
	size_t cap;
	char *keywords[MAILDIR_KEYWORDS_MAX];
	unsigned keyword_count;
	/* What msgs[] reflects: directory stamps and the uidlist file. */
	struct maildir_dirstamp new_stamp, cur_stamp;
	int64_t uidlist_ino, uidlist_mtime_ns, uidlist_size;
	int have_table; /* msgs[] is a valid picture of the stamps above */
	int lock_fd;
	int lock_depth;
	int lock_synced;             /* maildir_mailbox_lock holds the lock: msgs[] is the truth */
	struct maildir_cache *cache; /* loft-cache (maildir-cache.h), opened on first need */
	struct maildir_stats stats;
};

/* ---- store and folders (maildir-folder.c) ---- */

/* sep is '/' or '.'. host is used in unique names (NULL: gethostname). */
int maildir_store_init(struct maildir_store *st, const char *root, char sep, const char *host,
                       const char **error_r);
void maildir_store_deinit(struct maildir_store *st);

/* Pure: check an IMAP folder name for the store's separator. 0 or -1. */
int maildir_name_validate(const char *name, char sep, const char **error_r);
/* Folder directory for an IMAP name (malloc'd), or NULL with *error_r. */
char *maildir_folder_path(struct maildir_store *st, const char *name, const char **error_r);
/* Create the folder (and the root if missing) with tmp/ new/ cur/, 0700.
 * Returns 0, or -1 (also when it already exists: "exists"; for INBOX any
 * missing tmp/ new/ cur/ are still added). */
int maildir_folder_create(struct maildir_store *st, const char *name, const char **error_r);
/* Make INBOX usable without opening it (no uidlist or index is read):
 * creates the root and tmp/ new/ cur/ when missing and checks they are
 * directories the user can list and write. 0, or -1 with *error_r. */
int maildir_inbox_ensure(struct maildir_store *st, const char **error_r);
/* Rename a folder and all its children; INBOX cannot be renamed here. */
int maildir_folder_rename(struct maildir_store *st, const char *from, const char *to,
                          const char **error_r);
/* Delete a folder and all its children; refuses INBOX. */
int maildir_folder_delete(struct maildir_store *st, const char *name, const char **error_r);
int maildir_folder_exists(struct maildir_store *st, const char *name);
/* Every folder, INBOX first then sorted, as IMAP names with the store's sep.
 * *names_r is a malloc'd array of malloc'd strings; returns the count or -1. */
int maildir_folder_list(struct maildir_store *st, char ***names_r, const char **error_r);
void maildir_names_free(char **names, size_t count);

/* ---- subscriptions (maildir-subscriptions.c) ---- */
int maildir_subscriptions_read(struct maildir_store *st, char ***names_r, const char **error_r);
/* subscribe != 0 adds name (no duplicates), 0 removes it. Atomic rewrite. */
int maildir_subscription_set(struct maildir_store *st, const char *name, int subscribe,
                             const char **error_r);

/* ---- delivery and save (maildir-deliver.c) ---- */

struct maildir_delivery {
	struct maildir_store *store;
	char *folder_path;
	char *tmp_path;
	char *base; /* unique name without ,S=,W= */
	int fd;
	uint64_t size, vsize;
	int last_cr; /* previous byte written was CR */
};

/* Pure: W size of a buffer, every LF not preceded by CR counted as 2. */
uint64_t maildir_vsize(const char *p, size_t len);

/* Start a delivery into folder (INBOX is created when missing). */
int maildir_delivery_begin(struct maildir_store *st, const char *folder, struct maildir_delivery *d,
                           const char **error_r);
int maildir_delivery_write(struct maildir_delivery *d, const void *p, size_t n,
                           const char **error_r);
/* fsync, rename into new/ as base,S=..,W=.., fsync new/. *base_r (malloc'd,
 * may be NULL) is the message's base name for maildir_mailbox_find_base. */
int maildir_delivery_commit(struct maildir_delivery *d, char **base_r, const char **error_r);
/* Like commit but into cur/ with flags/keywords and an internal date
 * (date <= 0: now), for IMAP APPEND and COPY. */
int maildir_delivery_save(struct maildir_delivery *d, unsigned flags, uint32_t keywords,
                          time_t date, char **base_r, const char **error_r);
/* Remove the tmp file; safe after a failed or successful commit. */
void maildir_delivery_abort(struct maildir_delivery *d);
/* begin + write + commit in one go. */
int maildir_deliver(struct maildir_store *st, const char *folder, const void *p, size_t len,
                    char **base_r, const char **error_r);

/* ---- file names (maildir-filename.c), all pure ---- */

/* Parse flags and keywords from a file name's ":2,..." part (none: 0). */
void maildir_filename_flags(const char *fname, unsigned *flags_r, uint32_t *keywords_r);
/* Parse ",S=" and ",W=" from the base part; a missing one gives 0 -> 0 or -1. */
int maildir_filename_sizes(const char *fname, uint64_t *size_r, uint64_t *vsize_r);
/* Length of the base name (up to ':' or the end). */
size_t maildir_filename_base_len(const char *fname);
/* "base:2,<sorted letters>" (malloc'd); NULL on allocation failure. */
char *maildir_filename_make(const char *base, unsigned flags, uint32_t keywords);

/* ---- mailbox: open, sync, expunge (maildir-mailbox.c, -sync.c) ---- */

/* Open an existing folder and sync it. */
int maildir_mailbox_open(struct maildir_store *st, const char *name, unsigned open_flags,
                         struct maildir_mailbox **box_r, const char **error_r);
void maildir_mailbox_close(struct maildir_mailbox *box);
/* Bring msgs[] up to date with the disk under the uidlist lock: assign UIDs
 * to new files, drop vanished ones, hand out \Recent. Returns the number of
 * messages that became recent for this session, or -1. */
int maildir_mailbox_sync(struct maildir_mailbox *box, const char **error_r);
struct maildir_msg *maildir_mailbox_find_uid(struct maildir_mailbox *box, uint32_t uid);
struct maildir_msg *maildir_mailbox_find_base(struct maildir_mailbox *box, const char *base);
/* Full path of a message file (malloc'd) for reading its content. */
char *maildir_msg_path(const struct maildir_mailbox *box, const struct maildir_msg *msg);

/* Open a message file read-only, following a rename by another process
 * (resync + retry). 0 with *fd_r, 1 when it was expunged meanwhile, -1. */
int maildir_msg_open(struct maildir_mailbox *box, uint32_t uid, int *fd_r, const char **error_r);

/* Remove the message file and its uidlist entry. 0, 1 (already gone), -1. */
int maildir_msg_expunge(struct maildir_mailbox *box, uint32_t uid, const char **error_r);
/* Expunge several UIDs with one uidlist rewrite; returns how many were
 * removed by this call (UIDs already gone are skipped), or -1. */
int maildir_mailbox_expunge(struct maildir_mailbox *box, const uint32_t *uids, size_t n,
                            const char **error_r);

/* ---- flag changes (maildir-flags.c) ---- */

/* Take the folder's uidlist lock and sync, so msgs[] is the truth about
 * every message's file name (hence its flags) until the unlock: no other
 * Loft process renames or removes a message meanwhile. For a batch of
 * maildir_msg_update_flags calls (one lock for STORE 1:*). Returns what
 * maildir_mailbox_sync returns; on -1 nothing is held. Don't keep it longer
 * than the batch (no network writes while holding it). */
int maildir_mailbox_lock(struct maildir_mailbox *box, const char **error_r);
void maildir_mailbox_unlock(struct maildir_mailbox *box);

/* A change relative to the flags a message has when it is applied:
 * flags = (current & ~remove) | add, and the same for keyword bits. */
struct maildir_flag_update {
	unsigned add, remove;       /* enum maildir_flag bits */
	uint32_t kw_add, kw_remove; /* keyword bits */
};

/* Apply u to the message's current flags on disk (not those msgs[] had
 * cached), atomically with respect to other Loft processes: under the
 * uidlist lock, and a file renamed meanwhile by anyone else is found again
 * (resync) and the change recomputed. Afterwards msgs[] shows the flags the
 * file really has. 0 (changed or nothing to change), 1 when the message was
 * expunged meanwhile, -1 on error. */
int maildir_msg_update_flags(struct maildir_mailbox *box, uint32_t uid,
                             const struct maildir_flag_update *u, const char **error_r);
/* Replace the flags/keywords of a message (rename within cur/). Returns 0,
 * 1 when another process expunged the message meanwhile, or -1. */
int maildir_msg_set_flags(struct maildir_mailbox *box, uint32_t uid, unsigned flags,
                          uint32_t keywords, const char **error_r);

/* ---- keywords (maildir-keywords.c) ---- */

/* Index of a keyword name (case-insensitive), creating it when create != 0
 * and a letter is free. Returns 0..25, or -1 (unknown / full / error). */
int maildir_keyword_index(struct maildir_mailbox *box, const char *name, int create,
                          const char **error_r);
const char *maildir_keyword_name(const struct maildir_mailbox *box, unsigned idx);

/* ---- delivery at most once per base name (maildir-deliver.c) ---- */

/* Commit like maildir_delivery_commit, but under the caller's deterministic
 * base name (no '/', ':' or ',', not starting with '.'), and only when no
 * delivery of that base was stored in the folder before. The check is a
 * record in loft-delivered/ (O(1), no lock, no uidlist, no listing); only a
 * record left "pending" by a crash makes it scan new/ and cur/ for the base,
 * whatever its size or flags suffix. When it was stored, 1 is returned:
 * nothing was stored now, call maildir_delivery_abort. 0 committed, -1
 * error. Two concurrent commits of the same content end in one file: the
 * file is link()ed into new/, so the second finds the name taken. */
int maildir_delivery_commit_once(struct maildir_delivery *d, const char *base, char **base_r,
                                 const char **error_r);

#endif
