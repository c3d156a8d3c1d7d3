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
	/* The command being run (imap_command_run) until its tagged OK/NO goes
	 * out; the untagged updates are inserted right before that line. */
	const struct imap_command *cmd;
	bool cmd_synced;  /* this command already sent its updates */
	bool idling;      /* inside IDLE */
	unsigned enabled; /* ENABLE'd extensions (IMAP_ENABLED_* bits) */
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

/* imap-session.c */
/* The one reply function: formats a line and adds CRLF. */
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
/* The selected-state commands with a UID form share one signature: args
 * and argc are the arguments after the command name (after "UID FETCH" for
 * the UID form), uid says which form it is. The table in imap-cmd-basic.c
 * calls them directly or through "UID <name>". */
typedef void imap_seq_cmd_fn(struct imap_session *s, const struct imap_command *c,
                             const struct imap_arg *args, unsigned argc, bool uid);
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

/* Sync the selected mailbox and tell the client: EXPUNGE, EXISTS, RECENT. */
void imap_selected_sync(struct imap_session *s);
/* Leave the selected state (no expunge). */
void imap_unselect(struct imap_session *s);
/* Record that the client was just told the current flags of sequence
 * number idx + 1 (e.g. by STORE's FETCH), so no later sync repeats them. */
void imap_view_note(struct imap_session *s, size_t idx);
/* Run right before the tagged OK/NO of every command (imap_reply notices
 * that line): the untagged updates RFC 3501 7 allows at that moment
 * (EXPUNGE not after FETCH, STORE or SEARCH without UID). */
void imap_post_command(struct imap_session *s, const struct imap_command *c);

#endif
