/* imap-private.h: the IMAP session's context and what its files share
 * (imap-session.c: I/O, loop, start; imap-cmd-basic.c: the command table and
 * the any-state commands; imap-cmd-mailbox.c: mailbox commands;
 * imap-cmd-select.c: SELECT and the selected state). Not for other users. */
#ifndef LOFT_IMAP_PRIVATE_H
#define LOFT_IMAP_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imap-parse.h"
#include "maildir.h"
#include "session.h"

#define IMAP_MAX_BAD      20      /* bad commands before we disconnect (Dovecot: 20) */
#define IMAP_OUT_FLUSH    65536   /* flush output once this much is queued */
#define IMAP_DEFAULT_IDLE 1800000 /* ms (30 min), when no config is given */
#define IMAP_CAPABILITY                                                                            \
	"IMAP4rev1 LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT CHILDREN SPECIAL-USE UIDPLUS MOVE"

enum imap_state {
	IMAP_STATE_AUTH = 1 << 0,
	IMAP_STATE_SELECTED = 1 << 1,
	IMAP_STATE_ANY = IMAP_STATE_AUTH | IMAP_STATE_SELECTED,
};

struct imap_session {
	const struct session_env *env;
	int fd;
	bool fd_not_socket; /* write() instead of send() */
	int idle_ms;
	enum imap_state state;
	struct maildir_store store;
	bool store_ok;
	char sep;
	struct maildir_mailbox *box; /* the selected mailbox */
	bool readonly;               /* selected with EXAMINE */
	/* The client's view of the selected mailbox, by sequence number - 1:
	 * UIDs and the flags/keywords it was last told (for untagged FETCH
	 * updates when another session changes them). Kept by
	 * imap-cmd-select.c (snapshot, sync) and imap_view_note(). */
	uint32_t *uids;
	unsigned *vflags;
	uint32_t *vkeywords;
	size_t nuids;
	size_t vcap;             /* entries allocated in uids/vflags/vkeywords */
	uint32_t vmax_uid;       /* highest UID the client has heard of */
	uint32_t vuidvalidity;   /* UIDVALIDITY the view belongs to */
	unsigned vkeyword_count; /* keywords the client was told in "* FLAGS" */
	/* The table row of the command being run (imap_command_run): its
	 * sync mode is what imap_cmd_done runs before the tagged line. */
	const struct imap_cmd *cmd;
	bool cmd_done;            /* the running command sent its tagged line */
	unsigned long nsync;      /* view syncs run (tests: none hide in a reply) */
	unsigned long ndone_sync; /* of those, run by imap_cmd_done */
	int last_sync;            /* enum imap_sync of the last imap_cmd_done sync */
	bool idling;              /* inside IDLE */
	unsigned enabled;         /* ENABLE'd extensions (IMAP_ENABLED_* bits) */
	struct imap_parser *ps;
	size_t max_literal;
	struct buf in, out;
	bool logout;  /* LOGOUT seen: stop after flushing */
	bool dead;    /* write failed or client gone */
	bool closing; /* we end the session: flush the replies, then stop */
	unsigned bad;
	unsigned long nflush; /* imap_flush calls that wrote: a line begun
	                       * before the last one is partly out */
};

/* What a command needs and does to the client's view (cf. Dovecot's
 * COMMAND_FLAG_*), in its row of the command table (imap-cmd-basic.c). */
enum {
	IMAP_CMD_NEEDS_SELECTED = 1 << 0, /* valid only in the selected state */
	IMAP_CMD_USES_SEQS = 1 << 1,      /* its arguments are sequence numbers */
	IMAP_CMD_BREAKS_SEQS = 1 << 2,    /* expunges itself, or replaces the view */
	IMAP_CMD_UID = 1 << 3,            /* UID form: untagged FETCH carries UID */
};

/* The sync imap_cmd_done runs right before a command's tagged OK or NO
 * (BAD never syncs). */
enum imap_sync {
	IMAP_SYNC_NONE,       /* nothing to tell (LOGOUT, a new or no view) */
	IMAP_SYNC_NO_EXPUNGE, /* all updates but EXPUNGE (RFC 3501 7.4.1) */
	IMAP_SYNC_FULL,       /* EXPUNGE, FLAGS, FETCH FLAGS, EXISTS, RECENT */
};

typedef void imap_cmd_fn(struct imap_session *s, const struct imap_command *c);
/* The selected-state commands with a UID form share one signature: args
 * and argc are the arguments after the command name (after "UID FETCH" for
 * the UID form), uid says which form it is. */
typedef void imap_seq_cmd_fn(struct imap_session *s, const struct imap_command *c,
                             const struct imap_arg *args, unsigned argc, bool uid);

/* One row of the command table. */
struct imap_cmd {
	const char *name;     /* "FETCH", "UID FETCH" */
	unsigned flags;       /* IMAP_CMD_* */
	enum imap_sync sync;  /* run by imap_cmd_done */
	int nargs;            /* exact argument count, or -1 when the handler checks */
	imap_cmd_fn *fn;      /* either this */
	imap_seq_cmd_fn *seq; /* or this (the commands with a UID form) */
};

enum imap_status { IMAP_OK, IMAP_NO, IMAP_BAD };

/* imap-session.c */
/* The one reply function: formats a line and adds CRLF. Only queues (and
 * flushes a full buffer): never syncs, whatever the line looks like. */
void imap_reply(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Queue a prepared line (no CRLF yet) and add CRLF. */
void imap_reply_buf(struct imap_session *s, const struct buf *line);
int imap_flush(struct imap_session *s);
/* Streamed replies (FETCH bodies): the caller appends a line's pieces to
 * s->out itself, calling imap_flush_if_full between them, so no reply is
 * held whole in memory; imap_stream_end adds the CRLF. */
int imap_flush_if_full(struct imap_session *s);
void imap_stream_end(struct imap_session *s);
void imap_log(struct imap_session *s, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* imap-cmd-basic.c: run one parsed command in the current state. */
void imap_command_run(struct imap_session *s, const struct imap_command *c);
/* The one way a handler ends: for OK and NO first the sync of the running
 * command's table row, then "tag OK|NO|BAD <text>". */
void imap_cmd_done(struct imap_session *s, const struct imap_command *c, enum imap_status st,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The table row for c ("UID FETCH" for UID FETCH ...), or NULL. */
const struct imap_cmd *imap_command_find(const struct imap_command *c);
/* The whole table, for tests: *n rows. */
const struct imap_cmd *imap_command_table(size_t *n);
/* "tag BAD Error in IMAP command NAME: Invalid arguments." */
void imap_reply_bad_args(struct imap_session *s, const struct imap_command *c);

/* imap-cmd-mailbox.c */
void imap_cmd_list(struct imap_session *s, const struct imap_command *c);
void imap_cmd_lsub(struct imap_session *s, const struct imap_command *c);
void imap_cmd_create(struct imap_session *s, const struct imap_command *c);
void imap_cmd_delete(struct imap_session *s, const struct imap_command *c);
void imap_cmd_rename(struct imap_session *s, const struct imap_command *c);
void imap_cmd_subscribe(struct imap_session *s, const struct imap_command *c);
void imap_cmd_unsubscribe(struct imap_session *s, const struct imap_command *c);
void imap_cmd_status(struct imap_session *s, const struct imap_command *c);
/* A mailbox-name argument as a NUL-terminated malloc'd string ("INBOX" for
 * any case of inbox), or NULL after a tagged answer was sent. */
char *imap_mailbox_arg(struct imap_session *s, const struct imap_command *c,
                       const struct imap_arg *a);

/* imap-cmd-select.c */
void imap_cmd_select(struct imap_session *s, const struct imap_command *c);
void imap_cmd_examine(struct imap_session *s, const struct imap_command *c);
void imap_cmd_close(struct imap_session *s, const struct imap_command *c);
void imap_cmd_unselect(struct imap_session *s, const struct imap_command *c);
void imap_cmd_check(struct imap_session *s, const struct imap_command *c);
/* The commands with a UID form (imap_seq_cmd_fn, above). */
imap_seq_cmd_fn imap_do_fetch;   /* imap-cmd-fetch.c */
imap_seq_cmd_fn imap_do_store;   /* imap-cmd-store.c */
imap_seq_cmd_fn imap_do_copy;    /* imap-cmd-copy.c: COPY */
imap_seq_cmd_fn imap_do_move;    /* imap-cmd-copy.c: MOVE */
imap_seq_cmd_fn imap_do_search;  /* imap-cmd-search.c */
imap_seq_cmd_fn imap_do_expunge; /* imap-cmd-expunge.c (UID EXPUNGE takes a set) */

/* imap-cmd-append.c */
void imap_cmd_append(struct imap_session *s, const struct imap_command *c);
/* imap-cmd-idle.c */
void imap_cmd_idle(struct imap_session *s, const struct imap_command *c);
/* imap-cmd-enable.c */
#define IMAP_ENABLED_UTF8 (1u << 0)
void imap_cmd_enable(struct imap_session *s, const struct imap_command *c);

/* Sync the selected mailbox and tell the client in mode m: EXPUNGE,
 * FLAGS, FETCH FLAGS, EXISTS, RECENT. imap_cmd_done calls it with the
 * table's mode; IDLE also while it waits. */
void imap_view_sync(struct imap_session *s, enum imap_sync m);
/* Leave the selected state (no expunge). */
void imap_unselect(struct imap_session *s);
/* Record that the client was just told the current flags of sequence
 * number idx + 1 (e.g. by STORE's FETCH), so no later sync repeats them. */
void imap_view_note(struct imap_session *s, size_t idx);

#endif
