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
#define IMAP_CAPABILITY   "IMAP4rev1 LITERAL+ ID NAMESPACE UNSELECT CHILDREN SPECIAL-USE"

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
	uint32_t *uids;              /* UIDs by sequence number as the client knows them */
	size_t nuids;
	struct imap_parser *ps;
	size_t max_literal;
	struct buf in, out;
	bool logout;  /* LOGOUT seen: stop after flushing */
	bool dead;    /* write failed or client gone */
	bool closing; /* we end the session: flush the replies, then stop */
	unsigned bad;
};

/* imap-session.c */
/* The one reply function: formats a line and adds CRLF. */
void imap_reply(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Queue a prepared line (no CRLF yet) and add CRLF. */
void imap_reply_buf(struct imap_session *s, const struct buf *line);
int imap_flush(struct imap_session *s);
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
/* imap-cmd-fetch.c */
void imap_cmd_fetch(struct imap_session *s, const struct imap_command *c);
void imap_cmd_uid(struct imap_session *s, const struct imap_command *c); /* UID FETCH */

/* Sync the selected mailbox and tell the client: EXPUNGE, EXISTS, RECENT. */
void imap_selected_sync(struct imap_session *s);
/* Leave the selected state (no expunge). */
void imap_unselect(struct imap_session *s);

#endif
