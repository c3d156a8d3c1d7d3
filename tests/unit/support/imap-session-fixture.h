/* imap-session-fixture.h: the server side of the IMAP session unit tests.
 * A temp directory with a Maildir (INBOX created), messages delivered into
 * it, and imap_session_run forked over a socketpair as user alice, driven
 * with session-client.h. Header-only: each test file is its own executable;
 * a test's own fixture struct embeds struct imap_fx. */
#ifndef LOFT_TEST_IMAP_SESSION_FIXTURE_H
#define LOFT_TEST_IMAP_SESSION_FIXTURE_H

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "imap-session.h"
#include "maildir.h"
#include "session-client.h"
#include "test-rmtree.h"

struct imap_fx {
	char dir[64];   /* the temp directory, removed by imap_fx_deinit */
	char root[128]; /* dir/Maildir */
	struct maildir_store st;
	struct config *cfg; /* NULL, or set by a test; freed by imap_fx_deinit */
};

/* Make /tmp/loft-<name>-XXXXXX with an empty INBOX: 0, or -1. */
static inline int imap_fx_init(struct imap_fx *fx, const char *name)
{
	const char *err = NULL;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/loft-%s-XXXXXX", name);
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->root, sizeof(fx->root), "%s/Maildir", fx->dir);
	if (maildir_store_init(&fx->st, fx->root, '/', "mx.example", &err) < 0 ||
	    maildir_folder_create(&fx->st, "INBOX", &err) < 0)
		return -1;
	return 0;
}

/* Deliver msgs[0..n) to INBOX, then open it with open_flags (which may move
 * the messages to cur/ and take their \Recent) and note which text got which
 * sequence number, in byno[seq - 1], and INBOX's UIDVALIDITY: 0, or -1. */
static inline int imap_fx_deliver_indexed(struct imap_fx *fx, const char *const *msgs, int n,
                                          unsigned open_flags, const char **byno,
                                          unsigned *uidvalidity)
{
	const char *err = NULL;
	char *bases[16] = {NULL};
	struct maildir_mailbox *box;
	int r = -1;
	if (n > 16)
		return -1;
	for (int i = 0; i < n; i++)
		if (maildir_deliver(&fx->st, "INBOX", msgs[i], strlen(msgs[i]), &bases[i], &err) <
		    0)
			goto out;
	if (maildir_mailbox_open(&fx->st, "INBOX", open_flags, &box, &err) < 0)
		goto out;
	if (box->count == (size_t)n) {
		r = 0;
		for (int i = 0; i < n; i++) {
			struct maildir_msg *m = maildir_mailbox_find_base(box, bases[i]);
			if (m == NULL)
				r = -1;
			else
				byno[m - box->msgs] = msgs[i];
		}
		*uidvalidity = box->uidvalidity;
	}
	maildir_mailbox_close(box);
out:
	for (int i = 0; i < n; i++)
		free(bases[i]);
	return r;
}

static inline void imap_fx_deinit(struct imap_fx *fx)
{
	maildir_store_deinit(&fx->st);
	if (fx->cfg != NULL)
		config_free(fx->cfg);
	test_rmtree(fx->dir);
}

/* cmocka teardown for a test fixture malloc'd in setup whose first member
 * is its struct imap_fx. */
static inline int imap_fx_teardown(void **state)
{
	struct imap_fx *fx = *state;
	imap_fx_deinit(fx);
	free(fx);
	return 0;
}

/* Fork a session on the Maildir at root (fx->cfg, login tag L1, preread
 * bytes as if they came with the login) without reading its first line. */
static inline void imap_fx_fork(const struct imap_fx *fx, struct sess *s, const char *root,
                                const char *preread)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	buf_init(&s->in, 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		close(sv[0]);
		struct session_env env = {
		    .fd = sv[1],
		    .user = "alice",
		    .home = "",
		    .maildir = root,
		    .preread = preread,
		    .preread_len = preread != NULL ? strlen(preread) : 0,
		    .login_tag = "L1",
		    .rip = "127.0.0.1",
		    .lip = "127.0.0.1",
		    .session_id = "test",
		    .cfg = fx->cfg,
		};
		_exit(imap_session_run(&env));
	}
	close(sv[1]);
	s->fd = sv[0];
}

/* LOGOUT: its two answers, then EOF and a clean exit of the session. */
static inline void logout(struct sess *s)
{
	send_str(s, "Z LOGOUT\r\n");
	expect(s, "* BYE Logging out");
	expect(s, "Z OK Logout completed.");
	assert_null(get_line(s));
	assert_int_equal(finish(s), 0);
}

__attribute__((format(printf, 2, 3))) static inline void expectf(struct sess *s, const char *fmt,
                                                                 ...)
{
	char want[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	expect(s, want);
}

#endif
