/* auth-server.h: loft-auth's main process: accepts clients on the three
 * listeners (auth-login, auth-smtp, auth-master), speaks the auth protocol
 * of docs/auth.md with many requests in flight per connection, runs SASL,
 * checks passwords (passwd-file here, PAM through the worker pool), delays
 * failures, issues and redeems one-time tokens. */
#ifndef LOFT_AUTH_SERVER_H
#define LOFT_AUTH_SERVER_H

#include <stddef.h>

#include <event2/event.h>

#include "auth-proto.h"
#include "auth-settings.h"
#include "auth-worker.h"
#include "log.h"

#define AUTH_MAX_REQS_PER_CONN 1024
#define AUTH_OUT_MAX           (1024 * 1024) /* unsent reply bytes before a client is dropped */

struct auth_server;

/* pool may be NULL when passdb is not pam. NULL with err on failure. */
struct auth_server *auth_server_new(struct event_base *base, const struct auth_settings *set,
                                    const struct loft_log *lg, struct auth_pool *pool, char *err,
                                    size_t errlen);
/* Serve a listening socket of the given kind. 0 or -1 with err. */
int auth_server_listen(struct auth_server *srv, int fd, enum auth_listener kind, char *err,
                       size_t errlen);
/* Graceful stop (SIGQUIT): close the listeners, answer what is in flight,
 * then leave the event loop. */
void auth_server_drain(struct auth_server *srv);
void auth_server_free(struct auth_server *srv);

#endif
