/* login-private.h: the structures the lib/login-*.c files share; protocols
 * see only login-common.h. One struct login_ctx per daemon holds all state
 * (no globals); clients and proxies hang off it in lists. */
#ifndef LOFT_LOGIN_PRIVATE_H
#define LOFT_LOGIN_PRIVATE_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <time.h>

#include "addr-key.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "login-common.h"
#include "netmask.h"
#include "service.h"
#include "wire.h"

#define LOGIN_MAX_BAD_COMMANDS 10
#define LOGIN_MAX_MECHS        8
#define LOGIN_PROXY_HIGH       (256 * 1024) /* bytes queued before a proxy side pauses */

struct login_listener {
	struct login_ctx *ctx;
	struct service_listener sl;
	struct event *ev;
	bool tls;
};

struct login_ipcount {
	char ip[ADDR_KEY_MAX]; /* addr_key(): IPv6 by login_ipv6_prefix */
	unsigned n;
};

enum login_client_state {
	LC_HANDSHAKE, /* implicit TLS handshake running */
	LC_ACTIVE,    /* reading commands */
	LC_STARTTLS,  /* flushing the STLS reply before the handshake */
	LC_AUTH,      /* SASL exchange running; input paused */
	LC_HANDOFF,   /* SESSION sent to mailstore; waiting for OK/FAIL */
	LC_CLOSING,   /* flushing output, then freed */
};

struct login_client {
	struct login_ctx *ctx;
	struct login_client *next;
	struct bufferevent *bev;
	enum login_client_state state;
	bool tls;
	bool greeted;
	bool in_input; /* inside the line loop: resume needs no extra kick */
	char rip[64], lip[64];
	unsigned rport, lport;
	bool ip_counted;           /* holds a per-address slot (not in mynetworks) */
	struct event *hs_timer;    /* ssl_handshake_timeout while a handshake runs */
	struct event *delay_timer; /* a failed login held for auth's failure delay */
	char delay_reason[96];     /* the held failure's reason */
	char session[24];
	time_t created;
	unsigned bad_commands;
	unsigned auth_attempts;
	uint32_t auth_id; /* 0 = no exchange running */
	login_auth_cb *auth_cb;
	char method[32];
	char user[256];
	char handoff_tag[65]; /* IMAP login command's tag, "" for POP3 */
	uint32_t handoff_id;
	int pair_fd;   /* TLS: our end of the socketpair during the handoff */
	int pair_peer; /* TLS: mailstore's end, closed once the handoff is answered */
	struct buf fail_line;
	const char *close_reason;
	void *proto_state;
};

struct login_proxy {
	struct login_ctx *ctx;
	struct login_proxy *next;
	struct bufferevent *client; /* TLS side */
	struct bufferevent *store;  /* socketpair side, to the mailstore worker */
	bool closing;
	char session[24];
};

struct login_ctx {
	const struct login_proto *proto;
	struct config *cfg;
	struct loft_log log;
	struct event_base *base;
	SSL_CTX *ssl_ctx; /* NULL when ssl = no */
	bool ssl_required;
	bool disable_plaintext;
	bool loopback_secure;
	size_t max_per_ip;
	unsigned ipv6_prefix;
	struct netmask *exempt; /* mynetworks: no per-address limit */
	size_t nexempt;
	size_t max_clients, nclients; /* login_max_clients: all pre-login clients */
	uint64_t handshake_ms;
	uint64_t idle_ms;
	size_t max_line;
	char *mechs[LOGIN_MAX_MECHS]; /* copies: auth's list is replaced on reconnect */
	bool mech_plain[LOGIN_MAX_MECHS];
	size_t nmechs;
	struct auth_client *auth;
	int handoff_fd;
	struct wire_conn hconn;
	struct event *hev;
	bool handoff_ready;
	uint32_t next_handoff_id;
	struct login_listener ls[SERVICE_MAX_LISTENERS];
	size_t nls;
	struct login_ipcount *ips;
	size_t nips, capips;
	struct login_client *clients;
	struct login_proxy *proxies;
	bool handoff_dead;
	struct event *lost_timer; /* armed when auth or handoff went away */
	bool draining;
	bool chrooted;
};

/* login-listen.c */
int login_listen_start(struct login_ctx *ctx, char *err, size_t errlen);
void login_listen_stop(struct login_ctx *ctx);
/* Per-address accounting, by addr_key() of ip: take a slot (false when the
 * limit is reached) / give it back. */
bool login_ip_take(struct login_ctx *ctx, const char *ip);
void login_ip_release(struct login_ctx *ctx, const char *ip);
/* Is ip exempt from the per-address limit (inside mynetworks)? */
bool login_ip_exempt(const struct login_ctx *ctx, const char *ip);

/* login-client.c */
void login_client_new(struct login_ctx *ctx, int fd, bool tls);
/* Free now (from the daemon's own code paths only). */
void login_client_free(struct login_client *c);
/* After an asynchronous callback: deliver buffered lines, settle. May free c. */
void login_client_kick(struct login_client *c);
/* Handoff answered: ok or not. */
void login_client_handoff_done(struct login_client *c, bool ok, const char *reason);
/* The client waiting for handoff answer id (0: any waiting client). */
struct login_client *login_client_find_handoff(struct login_ctx *ctx, uint32_t id);

/* login-handoff.c */
int login_handoff_connect(struct login_ctx *ctx, char *err, size_t errlen);
/* The connection failed: close it, fail waiting clients, login_ctx_lost(). */
void login_handoff_lost(struct login_ctx *ctx, const char *why);
/* Send a SESSION for c with fd attached; 0 or -1 (then the daemon exits). */
int login_handoff_send(struct login_ctx *ctx, struct login_client *c, const char *token, int fd,
                       const char *data, size_t data_len);

/* login-proxy.c */
int login_proxy_start(struct login_ctx *ctx, struct bufferevent *client, int store_fd,
                      const char *session);
void login_proxy_free_all(struct login_ctx *ctx);
/* auth or mailstore went away (what names it). Unless a SIGQUIT (reload)
 * arrives within LOGIN_LOST_GRACE_MS, the daemon exits for a restart. */
#define LOGIN_LOST_GRACE_MS 2000
void login_ctx_lost(struct login_ctx *ctx, const char *what);
/* The daemon ends when draining and nothing is left. */
void login_ctx_check_drained(struct login_ctx *ctx);
/* Leave the process (chrooted: without atexit handlers, see login-main.c). */
__attribute__((noreturn)) void login_ctx_exit(const struct login_ctx *ctx, int status);

#endif
