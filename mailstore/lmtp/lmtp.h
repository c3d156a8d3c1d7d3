/* lmtp.h: LMTP delivery (RFC 2033) inside loft-mailstore. The dispatcher
 * hands its `lmtp-local` (UNIX) and `lmtp` (TCP) listeners to an lmtp_server;
 * each accepted connection is served by a forked child running a blocking
 * session, so the dispatcher never blocks. See docs/lmtp.md. */
#ifndef LOFT_LMTP_H
#define LOFT_LMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct config;
struct loft_log;
struct buf;

struct lmtp_server;

/* A server that accepts on listeners added to base. cfg and log must outlive
 * it. NULL on allocation failure. */
struct lmtp_server *lmtp_server_new(struct event_base *base, const struct config *cfg,
                                    const struct loft_log *log);
/* Accept LMTP connections on fd (a listening socket; made non-blocking and
 * owned by the server from now on). is_tcp: loopback TCP rather than UNIX
 * (for log lines only). 0 or -1. */
int lmtp_server_listen(struct lmtp_server *s, int fd, bool is_tcp);
/* Stop accepting (SIGQUIT): the listeners are closed; running sessions go on. */
void lmtp_server_close_listeners(struct lmtp_server *s);
/* Sessions (child processes) still running. */
size_t lmtp_server_active(const struct lmtp_server *s);
/* The dispatcher's SIGCHLD handler passes every reaped pid here; returns true
 * when it was one of this server's session children (and forgets it). */
bool lmtp_server_child_exited(struct lmtp_server *s, pid_t pid, int status);
/* Closes the listeners; sessions still running are left alone. */
void lmtp_server_free(struct lmtp_server *s);

/* ---- the session itself, also used by tests over a socketpair ---- */

/* Where a recipient's mail goes, filled in by a lookup function. */
struct lmtp_user {
	char *user; /* canonical user name (Delivered-To keeps the RCPT address) */
	uid_t uid;
	gid_t gid;
	char *home;
	char *maildir; /* absolute Maildir root, "maildir:" stripped */
	bool seccomp;  /* confine the delivery child (loft.conf seccomp) */
};

enum lmtp_lookup_result {
	LMTP_LOOKUP_OK,
	LMTP_LOOKUP_NOTFOUND,
	LMTP_LOOKUP_TEMPFAIL,
	LMTP_LOOKUP_REFUSED, /* a user mail may not be delivered to (system uid, gid 0) */
};

/* Look a recipient up; fills *u (strings malloc'd) on OK. addr is the full
 * address without brackets; local is its local part. */
typedef enum lmtp_lookup_result lmtp_lookup_fn(void *ctx, const char *addr, const char *local,
                                               struct lmtp_user *u);

struct lmtp_session_opts {
	const char *hostname;    /* in the greeting and LHLO reply */
	uint64_t size_limit;     /* message_size_limit; 0 = none */
	unsigned max_recipients; /* per transaction; 0 = 1000 */
	int timeout_ms;          /* idle timeout per read */
	bool drop_privs;         /* fork + privdrop_apply per recipient (root) */
	lmtp_lookup_fn *lookup;
	void *lookup_ctx;
	const char *session_id; /* for log lines */
	const char *spool_dir;  /* DATA is spooled to a file here; NULL = memfd */
	const struct loft_log *log;
};

/* Serve one LMTP connection on fd until QUIT, EOF, timeout or a fatal error.
 * Returns 0 on a normal end, -1 on an I/O error. Does not close fd. */
int lmtp_session_run(int fd, const struct lmtp_session_opts *opts);

/* The default lookup: USER on <base_dir>/auth-master (full address first,
 * then the local part), mail location checked. ctx is a struct
 * lmtp_auth_lookup, whose connection is opened on first use and kept. */
struct lmtp_auth_lookup {
	const struct config *cfg;
	const struct loft_log *log;
	int fd; /* -1 until connected */
};
void lmtp_auth_lookup_init(struct lmtp_auth_lookup *al, const struct config *cfg,
                           const struct loft_log *log);
void lmtp_auth_lookup_deinit(struct lmtp_auth_lookup *al);
enum lmtp_lookup_result lmtp_lookup_auth(void *ctx, const char *addr, const char *local,
                                         struct lmtp_user *u);
void lmtp_user_clear(struct lmtp_user *u);
/* "maildir:PATH" (or a bare absolute PATH) -> malloc'd absolute PATH; a
 * location from config (from_config) is expanded with user/home first.
 * NULL with *err_r on anything else. */
char *lmtp_maildir_path(const char *location, bool from_config, const char *user, const char *home,
                        const char **err_r);

/* ---- delivery (lmtp-deliver.c), shared with loft-deliver ---- */

/* Deliver the spooled message (LF line endings, whole of spool_fd) into the
 * user's INBOX with "Return-Path: <sender>" and "Delivered-To: <rcpt>"
 * prepended; file and directory are fsync'd before this returns 0. Runs in a
 * child that drops to u->uid/gid first when drop_privs. -1 with err on any
 * failure (the message is then not in the mailbox). */
int lmtp_deliver_user(int spool_fd, const char *sender, const char *rcpt, const struct lmtp_user *u,
                      bool drop_privs, const struct loft_log *log, char *err, size_t errlen);
/* The same with duplicate suppression when qid (a valid queue id from
 * X-LOFT-QID) is not NULL: the file is named by lmtp_dedup_base over the
 * bytes it would hold, and nothing is stored when the INBOX already has a
 * message of that name. 0 stored, 1 already there (nothing stored), -1. */
int lmtp_deliver_once(int spool_fd, const char *qid, const char *sender, const char *rcpt,
                      const struct lmtp_user *u, bool drop_privs, const struct loft_log *log,
                      char *err, size_t errlen);
/* ---- the DATA spool (lmtp-spool.c) ---- */

/* An anonymous spool file: with dir, an unnamed file on disk in dir
 * (O_TMPFILE, else a created and at once unlinked one), so a message never
 * sits in memory; without dir (NULL, loft-deliver's one message) a memfd.
 * -1 with errno. */
int lmtp_spool_open(const char *dir);
/* Make dir the private spool directory: created mode 0700 when missing; it
 * must be a real directory (no symlink) owned by the effective uid, and is
 * set to 0700. 0, or -1 with err. */
int lmtp_spool_prepare(const char *dir, char *err, size_t errlen);

/* ---- duplicate suppression (lmtp-dedup.c), pure ---- */

#define LMTP_QID_LEN         24 /* lib/ipc/queue-id.h: 24 lowercase hex digits */
#define LMTP_DEDUP_TAG_BYTES 16 /* of the SHA-256 of the stored bytes */

/* p[0..len) is a queue id: exactly 24 of [0-9a-f]. */
bool lmtp_qid_valid(const char *p, size_t len);
/* MAIL's arguments p[0..len) with an X-LOFT-QID=<id> parameter (after the
 * path, case-insensitive key) removed, into out (len + 1 bytes, NUL-ended,
 * *out_len set); qid_r gets the id, or "" when there was none. -1 when the
 * parameter is repeated, has no value or a value that is not a queue id.
 * Everything else is left for smtp_mail_parse to judge. */
int lmtp_mail_take_qid(const char *p, size_t len, char *out, size_t *out_len,
                       char qid_r[LMTP_QID_LEN + 1]);
/* The Maildir base name of a delivery with queue id qid whose file content
 * has the SHA-256 digest (at least LMTP_DEDUP_TAG_BYTES bytes):
 * "<sec>.M<usec>L<qid>H<32 hex>.<host>", the time being the arrival time the
 * id encodes. -1 when qid is not valid or out is too small. */
int lmtp_dedup_base(const char *qid, const unsigned char *digest, size_t digest_len,
                    const char *host, char *out, size_t outlen);

/* ---- DATA decoding (lmtp-data.c), pure ---- */

/* Streaming DATA decoder: dot-unstuffing, CRLF -> LF, end only at
 * CRLF "." CRLF (the CRLF ending the DATA command line counts as the first). */
struct lmtp_data {
	int state;
	bool done;
	bool over;      /* vsize went past limit: output stopped */
	uint64_t limit; /* 0 = none */
	uint64_t vsize; /* decoded size with every line end counted as CRLF */
};
void lmtp_data_init(struct lmtp_data *d, uint64_t limit);
/* Decode p[0..len) appending to out; stops right after the terminator.
 * Returns the bytes consumed, or (size_t)-1 when out cannot grow. */
size_t lmtp_data_feed(struct lmtp_data *d, const char *p, size_t len, struct buf *out);

#endif
