/* master-ctx.h: the loft-master's one context struct and what its files
 * (services, listen, spawn, supervise, reload, status, dirs) offer each
 * other. Nothing here is used outside master/. */
#ifndef LOFT_MASTER_CTX_H
#define LOFT_MASTER_CTX_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <event2/event.h>

#include "buf.h"
#include "config.h"
#include "listen-addr.h"
#include "log.h"
#include "master-services.h"

#define MASTER_ERR_MAX              512
#define MASTER_LISTEN_BACKLOG       128
#define MASTER_RESTART_DELAY_MIN_MS 1000
/* A child that dies sooner failed to start (back off); one that lived this
 * long was serving, and is restarted at once with the back-off reset. */
#define MASTER_STARTUP_WINDOW_MS 2000

/* A bound listening socket, inet or unix. */
struct listener {
	const struct svc_def *svc;
	char name[16];  /* protocol or unix socket name */
	char addr[160]; /* "127.0.0.1:143", "[::1]:143" or "unix:/run/loft/auth-login" */
	bool is_unix;
	int fd;
};

struct lset {
	struct listener *v;
	size_t n;
};

struct master;
/* Bind every listener the enabled services of cfg need. A listener that is
 * the same (name and address) as one in old (may be NULL) reuses its socket
 * (dup), so clients are never refused across a reload. 0 or -1 with err. */
int lset_build(const struct master *m, const struct config *cfg, const struct lset *old,
               struct lset *out, char *err, size_t errlen);
/* Close every socket of s and unlink its unix socket files, except files
 * that keep (may be NULL) also holds. */
void lset_close(struct lset *s, const struct lset *keep);

/* Resolve a socket owner for cfg: in unprivileged mode always the master's
 * own uid/gid. 0 or -1 with err. */
int master_owner(const struct master *m, const struct config *cfg, enum sock_owner o, uid_t *uid_r,
                 gid_t *gid_r, char *err, size_t errlen);

enum child_state { CHILD_RUNNING, CHILD_RESTARTING, CHILD_DRAINING };

struct child {
	struct master *m;
	const struct svc_def *svc;
	unsigned generation;
	pid_t pid;
	enum child_state state;
	unsigned restarts;
	uint64_t delay_ms; /* next back-off */
	struct timespec started;
	struct event *timer; /* pending restart */
	struct child *next;
};

/* The read side of a child's stderr pipe; lives until EOF, independent of
 * the child (a restarted child gets a new one). */
struct logpipe {
	struct master *m;
	int fd;
	struct event *ev;
	struct buf line;
	struct logpipe *next;
};

struct master {
	struct event_base *base;
	struct loft_log log;
	struct config *cfg;
	char conf[PATH_MAX]; /* absolute config path */
	char base_dir[PATH_MAX];
	bool root;
	uid_t uid;
	gid_t gid;
	unsigned generation;
	struct lset ls;
	struct child *children;
	struct logpipe *pipes;
	int pid_fd;
	bool stopping;
	struct event *sig_ev[5];
	struct event *kill_timer;
};

/* master-dirs.c */
int master_prepare_dirs(struct master *m, char *err, size_t errlen);
/* 0 locked; -1 with err; 1 when another master holds it (err says so). */
int master_pidfile_lock(struct master *m, char *err, size_t errlen);
void master_pidfile_remove(struct master *m);

/* master-status.c */
void master_status_write(struct master *m);
void master_status_remove(struct master *m);

/* master-snapshot.c: base_dir/config.<gen>, what that generation's
 * children get as -c and LOFT_CONF. */
void master_snapshot_path(const struct master *m, unsigned gen, char *path, size_t len);
int master_snapshot_write(struct master *m, const struct config *cfg, unsigned gen, char *err,
                          size_t errlen);
void master_snapshot_remove(struct master *m, unsigned gen);
/* Remove gen's snapshot once no child of it is left (never the current). */
void master_snapshot_release(struct master *m, unsigned gen);

/* master-spawn.c */
int master_spawn(struct child *c);
void master_logpipes_drain(struct master *m);

/* master-supervise.c */
struct child *master_child_new(struct master *m, const struct svc_def *svc);
/* Start a child of every enabled service. retry: a failed spawn is retried
 * with back-off (reload); else it is an error (start-up). */
int master_spawn_all(struct master *m, bool retry, char *err, size_t errlen);
void master_on_sigchld(evutil_socket_t fd, short what, void *arg);
void master_on_stop(evutil_socket_t fd, short what, void *arg);
void master_children_free(struct master *m);

/* master-reload.c */
void master_on_sighup(evutil_socket_t fd, short what, void *arg);

#endif
