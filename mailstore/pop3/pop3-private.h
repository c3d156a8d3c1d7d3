/* pop3-private.h: the POP3 session's context and the pieces its files share
 * (pop3-session.c: I/O, lock, loop; pop3-commands.c: the command table;
 * pop3-stream.c: message output). Not for use outside mailstore/pop3-*.c. */
#ifndef LOFT_POP3_PRIVATE_H
#define LOFT_POP3_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "maildir.h"
#include "pop3-parse.h"
#include "session.h"

#define POP3_LOCK_FILE    "loft-pop3.lock"
#define POP3_MAX_BAD      20     /* bad commands before we disconnect (Dovecot: 20) */
#define POP3_OUT_FLUSH    65536  /* flush output once this much is queued */
#define POP3_IN_MAX       65536  /* input held: pre-read burst, or a partial line */
#define POP3_DEFAULT_IDLE 600000 /* ms, when no config is given */

enum pop3_state {
	POP3_STATE_AUTHORIZATION = 1 << 0, /* never inside mailstore; pop3-login's */
	POP3_STATE_TRANSACTION = 1 << 1,
	POP3_STATE_UPDATE = 1 << 2,
};

/* One message of the maildrop as it was when the session started. */
struct pop3_msg {
	uint32_t uid;
	uint64_t vsize; /* octets as sent: CRLF line ends, no dot-stuffing */
	bool deleted;   /* DELE'd in this session (RSET clears) */
	bool retrieved; /* RETR'd: gets \Seen when the session ends */
};

struct pop3_session {
	const struct session_env *env;
	int fd;
	bool fd_not_socket; /* write() instead of send() */
	int idle_ms;
	enum pop3_state state;
	struct maildir_store store;
	bool store_ok;
	struct maildir_mailbox *box;
	int lock_fd;
	struct pop3_msg *msgs;
	size_t count;
	struct buf in, out;
	bool skip_line; /* discarding the rest of a too-long input line */
	bool quit;      /* QUIT seen: stop after flushing */
	bool dead;      /* write failed or client gone */
	bool closing;   /* we end the session: flush the replies, then stop */
	unsigned bad;
	/* counters for the logout log line */
	unsigned retr_count, dele_count;
	uint64_t retr_bytes;
	unsigned expunged;
};

/* pop3-session.c */
void pop3_reply(struct pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pop3_flush(struct pop3_session *s);
/* Queue raw bytes; flushes when the queue is large. 0 or -1 (client gone). */
int pop3_send_raw(struct pop3_session *s, const void *p, size_t n);
void pop3_log(struct pop3_session *s, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* pop3-commands.c: run one parsed line in the current state. */
void pop3_command_run(struct pop3_session *s, const char *line, size_t len);
/* QUIT/disconnect bookkeeping: \Seen for retrieved, expunge when expunge. */
int pop3_session_update(struct pop3_session *s, bool expunge, const char **error_r);

/* pop3-stream.c: message text as POP3 sends it (LF -> CRLF, dot-stuffing,
 * TOP's header + n body lines). Pure over the bytes fed in. */
struct pop3_stream {
	bool top;            /* stop after the headers + lines body lines */
	uint64_t lines_left; /* body lines still to send (top only) */
	bool in_headers;
	bool line_start;
	bool prev_cr;
	size_t line_bytes; /* bytes of the current line so far */
	bool done;         /* TOP reached its last line: ignore further input */
	uint64_t sent;     /* bytes produced, not counting stuffing dots */
};

void pop3_stream_init(struct pop3_stream *st, bool top, uint64_t lines);
/* Convert p[0..len) and append it to out. 0, or -1 when out is full. */
int pop3_stream_feed(struct pop3_stream *st, const char *p, size_t len, struct buf *out);
/* Close the last line if it had no LF and add the ".\r\n" terminator. */
int pop3_stream_finish(struct pop3_stream *st, struct buf *out);

#endif
