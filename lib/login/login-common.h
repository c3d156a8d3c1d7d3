/* login-common.h: the machinery shared by the pre-login daemons (pop3-login,
 * later imap-login): inherited listeners with per-IP limits, a client object
 * with a bounded line buffer and idle timeout, implicit TLS and STLS/STARTTLS
 * upgrade, SASL relay to loft-auth, and the handoff to mailstore (with a TLS
 * proxy kept running afterwards). A protocol supplies a struct login_proto;
 * docs/login.md describes the life of a client and the crash-only rules. */
#ifndef LOFT_LOGIN_COMMON_H
#define LOFT_LOGIN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth-client.h"

struct login_ctx;
struct login_client;

/* What a protocol plugs into the shared daemon. */
struct login_proto {
	const char *name;           /* process name for logs: "pop3-login" */
	const char *service;        /* auth service= and handoff proto=: "pop3" */
	const char *plain_listener; /* LOFT_LISTEN_FDS name: "pop3" */
	const char *tls_listener;   /* implicit TLS: "pop3s" */
	/* Written to a plaintext client refused for a limit, before the reason
	 * and CRLF: "* BYE [UNAVAILABLE] ", "-ERR [SYS/TEMP] ". */
	const char *refuse_prefix;
	/* A new client is ready (after the implicit TLS handshake): greet it. */
	void (*greet)(struct login_client *c);
	/* One complete input line, without its CRLF (NUL-free is not promised). */
	void (*line)(struct login_client *c, const char *p, size_t len);
	/* The idle timeout fired; write a goodbye line (the client is closed after). */
	void (*idle)(struct login_client *c);
	/* The line was longer than login_max_line_length (client closed after). */
	void (*too_long)(struct login_client *c);
	/* Free proto_state (may be NULL). */
	void (*free_state)(struct login_client *c);
};

/* Run a login daemon: `prog -c CONF`, listeners per lib/service.h. Loads the
 * config and TLS certificate, connects to auth-login and handoff, drops
 * privileges, then serves until SIGTERM or the end of a SIGQUIT drain.
 * Returns the process exit status. */
int login_daemon_main(const struct login_proto *proto, int argc, char **argv);

/* ---- for the protocol's command handlers ---- */

void *login_client_state(struct login_client *c);
void login_client_set_state(struct login_client *c, void *state);
/* Queue bytes / a formatted line for the client. */
void login_client_send(struct login_client *c, const char *p, size_t len);
void login_client_printf(struct login_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Close after the queued output is written; no more lines are delivered.
 * reason goes into the "Disconnected" log line. */
void login_client_close(struct login_client *c, const char *reason);

bool login_client_is_tls(const struct login_client *c);
/* STLS/STARTTLS could be offered: TLS configured and not yet on. */
bool login_client_tls_available(const struct login_client *c);
/* TLS on, or loopback while auth_loopback_secure. */
bool login_client_secured(const struct login_client *c);
/* Plaintext mechanisms (and USER/PASS, LOGIN) are allowed on this connection. */
bool login_client_plaintext_allowed(const struct login_client *c);
/* SASL mechanisms to advertise on this connection (plaintext ones only when
 * allowed): fills names[] (up to max) and returns the count. */
size_t login_client_mechs(const struct login_client *c, const char **names, size_t max);
/* Is mech (any case) one the daemon may use at all? *plaintext_r: its kind. */
bool login_mech_known(const struct login_ctx *ctx, const char *mech, bool *plaintext_r);
const struct login_ctx *login_client_ctx(const struct login_client *c);
/* The user name the client gave (USER, or the SASL authcid), for logs. */
void login_client_set_user(struct login_client *c, const char *p, size_t len);

/* Counting bad commands: returns true when the client hit the limit (10) and
 * was closed (the caller has queued its -ERR already). */
bool login_client_bad_command(struct login_client *c);

/* After the reply to STLS/STARTTLS was queued: flush it, throw away every
 * byte already received (STARTTLS injection), then run the TLS handshake.
 * No lines are delivered until the handshake is done. */
void login_client_start_tls(struct login_client *c);

/* SASL: one exchange at a time. cb gets auth's reply. While an exchange is
 * running no input lines are delivered except through login_client_resume. */
typedef void login_auth_cb(struct login_client *c, const struct auth_client_reply *rep);
int login_client_auth_start(struct login_client *c, const char *mech, const unsigned char *resp,
                            size_t resp_len, bool has_resp, login_auth_cb *cb);
int login_client_auth_cont(struct login_client *c, const unsigned char *resp, size_t len);
void login_client_auth_abort(struct login_client *c);
/* Let input lines flow again (after the protocol answered a CONTINUE or a
 * failure); lines pipelined meanwhile are delivered now. */
void login_client_resume(struct login_client *c);

/* Auth said OK: hand the client over to mailstore with every byte still
 * buffered. On success the client is gone from the login daemon's view (a
 * TLS client becomes a proxy) and nothing more is written to it; on failure
 * fail_line (a complete protocol line with CRLF) is written and the client
 * is closed (mailstore may have seen part of its input). */
void login_client_handoff(struct login_client *c, const char *user, const char *token,
                          const char *method, const char *fail_line);
/* IMAP: the tag of the LOGIN/AUTHENTICATE command, sent as the handoff's tag=
 * so the session answers it (at most 64 bytes; "" = none, the default). */
void login_client_set_handoff_tag(struct login_client *c, const char *tag);

#endif
