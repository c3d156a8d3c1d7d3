/* sandbox.h: the seccomp allow-list each unprivileged process installs once
 * its set-up is done (after the privilege drop). A system call outside its
 * list kills the process with SIGSYS after one log line naming the call; the
 * master then logs the death and restarts it. The lists are in sandbox.c and
 * docs/security.md; `seccomp = no` in loft.conf turns them off. */
#ifndef LOFT_SANDBOX_H
#define LOFT_SANDBOX_H

#include <stdbool.h>

/* What the process is; each kind has its own list (docs/security.md). */
enum sandbox_kind {
	SANDBOX_NONE = 0, /* install nothing */
	SANDBOX_LOGIN,    /* imap-login, pop3-login: sockets and memory, no files changed */
	SANDBOX_AUTH,     /* loft-auth: forks PAM workers, PAM helpers may exec */
	SANDBOX_MAILBOX,  /* a mailstore worker or LMTP delivery child: Maildir files */
	SANDBOX_SMTPD,    /* loft-smtpd: a child per connection */
	SANDBOX_QUEUE,    /* loft-queue: the spool, delivery jobs */
	SANDBOX_RELAY,    /* loft-relay: DNS and SMTP clients, a child per delivery */
};

/* The kind to install, or SANDBOX_NONE when `seccomp = no`. */
struct config;
enum sandbox_kind sandbox_kind_for(const struct config *cfg, enum sandbox_kind kind);

/* Install the filter for kind (a no-op for SANDBOX_NONE). name is the
 * process's log name for the line written on a violation, log_fd where that
 * line goes (the master's log pipe is stderr). 0, or -1 with *error_r set:
 * the caller must then exit. */
int sandbox_enter(enum sandbox_kind kind, const char *name, int log_fd, const char **error_r);

/* A kind's filter compiled to BPF once, for a process that forks many
 * children which each install it: building it with libseccomp costs each
 * child ~2,500 allocations (and an idle IMAP session ~30 KB, issue 16). */
struct sock_filter;
struct sandbox_filter {
	enum sandbox_kind kind;    /* SANDBOX_NONE: install nothing */
	unsigned short len;        /* instructions in insns */
	struct sock_filter *insns; /* malloc'd */
};
/* Compile kind's filter into *f (nothing for SANDBOX_NONE). 0, or -1 with
 * *error_r. Free with sandbox_filter_free. */
int sandbox_prepare(enum sandbox_kind kind, struct sandbox_filter *f, const char **error_r);
/* What sandbox_enter does, with the filter f (NULL: nothing) compiled
 * before; allocates nothing. */
int sandbox_enter_prepared(const struct sandbox_filter *f, const char *name, int log_fd,
                           const char **error_r);
void sandbox_filter_free(struct sandbox_filter *f);

/* The kind's name as docs/security.md lists it ("login", ...). */
const char *sandbox_kind_name(enum sandbox_kind kind);

#endif
