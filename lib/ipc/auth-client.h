/* auth-client.h: the client side of loft-auth's line protocol (docs/auth.md),
 * for login daemons and smtpd (AUTH/CONT on auth-login / auth-smtp) and for
 * mailstore (USER and REDEEM on auth-master).
 *
 * Two forms over one parser:
 *  - asynchronous, on a libevent base: many requests in flight on one
 *    connection, each with a callback (login daemons, smtpd);
 *  - blocking, one request at a time with a timeout (mailstore's dispatcher
 *    redeeming a token, LMTP looking a recipient up, `loft deliver`).
 * The connection is (re)opened on demand; if auth goes away every pending
 * request is answered with AUTH_CLIENT_TEMPFAIL. */
#ifndef LOFT_AUTH_CLIENT_H
#define LOFT_AUTH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;

enum auth_client_result {
	AUTH_CLIENT_OK,       /* AUTH: user + token; USER/REDEEM: user record */
	AUTH_CLIENT_CONTINUE, /* AUTH: challenge in .challenge (decoded bytes) */
	AUTH_CLIENT_FAIL,     /* refused; .reason says why (for logs, not clients) */
	AUTH_CLIENT_NOTFOUND, /* USER: no such user */
	AUTH_CLIENT_TEMPFAIL, /* auth unreachable, worker died, timeout */
};

struct auth_client_reply {
	enum auth_client_result result;
	const char *reason;
	const unsigned char *challenge; /* CONTINUE */
	size_t challenge_len;
	const char *user;  /* OK (all verbs) */
	const char *token; /* OK after AUTH */
	uid_t uid;         /* USER / REDEEM */
	gid_t gid;
	const char *home;
	const char *mail;
	uint32_t delay_ms; /* FAIL after AUTH: hold the client this long before
	                    * telling it (auth's failure throttle) */
};

/* Longest delay= taken from auth; a larger one is ignored (a broken value
 * must not park a client for hours). */
#define AUTH_CLIENT_DELAY_MAX (10u * 60 * 1000)

/* ---- blocking (auth-master) ---- */
/* Connect to socket_path, handshake; -1 on error with *err_r static text. */
int auth_client_connect(const char *socket_path, int timeout_ms, const char **err_r);
/* USER lookup / token redemption on a connected fd. The reply's strings live
 * in *store (caller frees with free()). Returns 0 with rep filled (any
 * result), -1 on a transport or protocol error. */
int auth_client_user(int fd, const char *name, int timeout_ms, struct auth_client_reply *rep,
                     char **store);
int auth_client_redeem(int fd, const char *token, const char *service, int timeout_ms,
                       struct auth_client_reply *rep, char **store);

/* ---- asynchronous (auth-login / auth-smtp) ---- */
struct auth_client; /* one connection, owned by the daemon's context */
typedef void auth_client_cb(const struct auth_client_reply *rep, void *ctx);

struct auth_client *auth_client_new(struct event_base *base, const char *socket_path);
void auth_client_free(struct auth_client *ac); /* answers pending requests TEMPFAIL */
/* Mechanisms the server offered (after the handshake), plaintext flag each. */
size_t auth_client_mechs(const struct auth_client *ac, const char *const **names_r,
                         const bool **plaintext_r);
/* Start AUTH. resp may be NULL (no initial response) or point to decoded
 * bytes (resp_len may be 0: an empty initial response). Returns a request id
 * (> 0) or 0 on error; cb is called exactly once per step. The request says
 * client-delay: a failed login is answered at once with rep->delay_ms, and
 * the caller must hold its client that long before answering it. */
uint32_t auth_client_auth(struct auth_client *ac, const char *mech, const char *service,
                          const char *rip, const char *lip, bool secured, const unsigned char *resp,
                          size_t resp_len, bool has_resp, auth_client_cb *cb, void *ctx);
/* Answer a CONTINUE with decoded bytes. 0 or -1. */
int auth_client_cont(struct auth_client *ac, uint32_t id, const unsigned char *resp,
                     size_t resp_len);
/* Abandon a request: its callback is never called afterwards. */
void auth_client_cancel(struct auth_client *ac, uint32_t id);

#endif
