/* smtpd-private.h: what the files of loft-smtpd share (smtpd-main.c and
 * smtpd-*.c). One struct smtpd_ctx per process holds the settings, the TLS
 * context, the listeners and the table of connection children; a forked
 * child adds one struct smtpd_conn for its client. No globals. */
#ifndef LOFT_SMTPD_PRIVATE_H
#define LOFT_SMTPD_PRIVATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "netmask.h"
#include "queue-client.h"
#include "service.h"
#include "smtp-session.h"
#include "wire.h"

#define SMTPD_AUTH_TIMEOUT_MS 45000 /* over auth's longest failure delay (15 s) */

struct smtpd_settings {
	char hostname[256];
	char **mydomains; /* lowercase copies */
	size_t n_mydomains;
	struct netmask *mynetworks;
	size_t n_mynetworks;
	uint64_t size_limit;
	unsigned max_recipients, max_hops;
	int timeout_ms;       /* smtpd_timeout, per read or write */
	unsigned max_per_ip;  /* per addr_key(); mynetworks exempt */
	unsigned max_clients; /* children in all */
	unsigned ipv6_prefix;
	int handshake_ms; /* ssl_handshake_timeout */
	const char *postmaster_user;
	bool loopback_secure; /* auth_loopback_secure */
	/* Paths as seen after the chroot ("/queue") or without it. */
	char queue_path[PATH_MAX], auth_path[PATH_MAX];
};

struct smtpd_listener {
	struct service_listener sl;
	enum smtp_mode mode;
};

/* One connection child, for the per-address limit: ip is its addr_key(),
 * "" for a client in mynetworks (counted only towards smtpd_max_clients). */
struct smtpd_child {
	pid_t pid;
	char ip[64];
};

struct smtpd_clients {
	struct smtpd_child *v;
	size_t n, cap;
};

struct smtpd_ctx {
	struct config *cfg;
	struct loft_log log;
	struct smtpd_settings set;
	SSL_CTX *ssl_ctx; /* NULL when ssl = no */
	struct smtpd_listener ls[SERVICE_MAX_LISTENERS];
	size_t nls;
	struct smtpd_clients clients;
	int sigfd;
	bool chrooted, draining;
	unsigned long next_conn; /* for session ids in logs */
};

/* ---- smtpd-clients.c: the per-address table (pure) ---- */
/* Connections from ip now. */
size_t smtpd_clients_count(const struct smtpd_clients *t, const char *ip);
/* Record a child; 0 or -1 (out of memory). */
int smtpd_clients_add(struct smtpd_clients *t, pid_t pid, const char *ip);
/* Forget a child; 1 when it was known, 0 when not. */
int smtpd_clients_remove(struct smtpd_clients *t, pid_t pid);
void smtpd_clients_free(struct smtpd_clients *t);

/* ---- smtpd-settings.c ---- */
/* Fill ctx->set from ctx->cfg. 0 or -1 with err. */
int smtpd_settings_load(struct smtpd_ctx *ctx, char *err, size_t errlen);
void smtpd_settings_free(struct smtpd_settings *set);
/* Pure: is ip inside mynetworks? */
bool smtpd_addr_in_networks(const struct smtpd_settings *set, const char *ip);

/* ---- smtpd-listen.c ---- */
int smtpd_listen_setup(struct smtpd_ctx *ctx, char *err, size_t errlen);
/* The accept loop of the parent; returns the exit status. */
int smtpd_listen_run(struct smtpd_ctx *ctx);

/* ---- smtpd-io.c + smtpd-tls.c: one client's blocking transport ---- */
struct smtpd_io {
	int fd;
	SSL *ssl; /* NULL before/without TLS */
	int timeout_ms;
	char proto[32], cipher[128];
	int bits;
};
enum { SMTPD_IO_EOF = 0, SMTPD_IO_ERROR = -1, SMTPD_IO_TIMEOUT = -2 };
/* > 0 bytes, or SMTPD_IO_EOF / _ERROR / _TIMEOUT. */
ssize_t smtpd_io_read(struct smtpd_io *io, char *p, size_t len);
/* 0, or SMTPD_IO_ERROR / _TIMEOUT. */
int smtpd_io_write(struct smtpd_io *io, const char *p, size_t len);
int smtpd_tls_load(struct smtpd_ctx *ctx, char *err, size_t errlen);
/* Server handshake on io->fd, done within handshake_ms in all (not per
 * read); fills proto/cipher/bits. 0 or -1 with err. */
int smtpd_tls_accept(struct smtpd_io *io, SSL_CTX *sctx, int handshake_ms, char *err,
                     size_t errlen);
void smtpd_io_close(struct smtpd_io *io);

/* ---- smtpd-auth.c: blocking client of loft-auth on auth-smtp ---- */
struct smtpd_auth {
	const char *path;
	int fd;
	struct wire_conn wc;
	uint32_t next_id, cur_id;
};
enum smtpd_auth_result {
	SMTPD_AUTH_CONTINUE, /* challenge (base64) in chal */
	SMTPD_AUTH_OK,       /* canonical user in user */
	SMTPD_AUTH_FAIL,
	SMTPD_AUTH_TEMP,
};
struct smtpd_auth_reply {
	enum smtpd_auth_result result;
	unsigned delay_ms; /* FAIL: auth's failure delay, already waited out */
	char chal[4096];
	char user[256];
};
void smtpd_auth_init(struct smtpd_auth *a, const char *path);
void smtpd_auth_close(struct smtpd_auth *a);
/* Does the (not yet normalised) user name exist? 1, 0, -1 temporary. */
int smtpd_auth_lookup(struct smtpd_auth *a, const char *name);
/* initial: the client's base64 initial response, "=" for an empty one, NULL
 * for none. */
void smtpd_auth_start(struct smtpd_auth *a, const char *mech, const char *initial, const char *rip,
                      const char *lip, bool secured, struct smtpd_auth_reply *rep);
void smtpd_auth_continue(struct smtpd_auth *a, const char *b64, size_t len,
                         struct smtpd_auth_reply *rep);
/* The client gave up ("*"): abandon the exchange. */
void smtpd_auth_cancel(struct smtpd_auth *a);
/* Pure: is p[0..len) canonical base64 (what auth's parser accepts)? */
bool smtpd_auth_b64_ok(const char *p, size_t len);

/* ---- smtpd-queue.c: the QUEUE protocol over /queue (lib/ipc) ---- */
struct smtpd_queue {
	const char *path;
	int timeout_ms;
	struct queue_client qc;
	char qid[64]; /* the open message's id, for STATUS after a lost answer */
};
struct smtpd_queue_msg {
	const char *sender; /* "" = <> */
	const char *const *rcpts;
	size_t n_rcpts;
	const char *addr; /* client address, may be NULL */
	const char *auth; /* authenticated user, may be NULL */
	const char *helo; /* may be NULL */
};
void smtpd_queue_init(struct smtpd_queue *q, const char *path, int timeout_ms);
void smtpd_queue_close(struct smtpd_queue *q);
enum smtp_queue_result smtpd_queue_begin(struct smtpd_queue *q, const struct smtpd_queue_msg *m,
                                         char *qid, size_t qid_size);
enum smtp_queue_result smtpd_queue_write(struct smtpd_queue *q, const char *p, size_t len);
enum smtp_queue_result smtpd_queue_commit(struct smtpd_queue *q);
void smtpd_queue_abort(struct smtpd_queue *q);
/* Why the last call failed, for the log. */
const char *smtpd_queue_error(const struct smtpd_queue *q);
/* The queue's status code and text of the last FAIL ("" when none). */
void smtpd_queue_reason(const struct smtpd_queue *q, const char **status_r, const char **text_r);

/* ---- smtpd-conn.c: one client, in a forked child ---- */
enum smtpd_pending {
	SMTPD_P_NONE,
	SMTPD_P_STARTTLS,   /* the 220 is queued: flush, then handshake */
	SMTPD_P_AUTH_START, /* relay AUTH to loft-auth */
	SMTPD_P_AUTH_CONT,  /* relay the client's answer to a 334 */
};

struct smtpd_conn {
	struct smtpd_ctx *ctx;
	struct smtpd_io io;
	enum smtp_mode mode;
	char ip[64], lip[64];
	bool loopback;
	struct smtp_session_opts opts;
	struct smtp_session_callbacks cb;
	struct smtp_session *sess;
	struct smtpd_auth auth;
	struct smtpd_queue queue;
	enum smtpd_pending pending;
	char mech[8];
	char auth_data[SMTP_LINE_MAX + 1]; /* initial response or 334 answer */
	bool auth_has_data;
	/* the message being received, for the log */
	char qid[64];
	char from[SMTP_PATH_MAX * 2 + 1];
	size_t nrcpt;
	uint64_t size;
	size_t scanned; /* output bytes already checked for rejections */
};

/* smtpd-callbacks.c: the session's callbacks (rcpt_check, AUTH, STARTTLS,
 * queue_*), recorded as pending work or answered from loft-auth/the queue. */
void smtpd_callbacks_init(struct smtpd_conn *c);
/* The secured flag for auth: TLS, or loopback with auth_loopback_secure. */
bool smtpd_conn_secured(const struct smtpd_conn *c);

/* Serve the accepted socket fd to the end; returns when the client is gone. */
void smtpd_conn_run(struct smtpd_ctx *ctx, int fd, enum smtp_mode mode);

/* Leave the process (chrooted: without atexit handlers). */
__attribute__((noreturn)) void smtpd_exit(const struct smtpd_ctx *ctx, int status);

#endif
