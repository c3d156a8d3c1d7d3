/* pop3-session.c: the POP3 session a mailstore worker runs after the
 * handoff: locks and opens the maildrop, answers the authenticating command
 * ("+OK Logged in." or "-ERR [IN-USE] ..."), then reads command lines (the
 * login daemon's pre-read bytes first) until QUIT, EOF or the idle timeout. */
#include "pop3.h"
#include "pop3-private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

void pop3_log(struct pop3_session *s, int prio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	session_vlog(s->env, prio, fmt, ap);
	va_end(ap);
}

int pop3_flush(struct pop3_session *s)
{
	if (s->dead) {
		buf_reset(&s->out);
		return -1;
	}
	if (session_flush(s->fd, &s->out, s->idle_ms, &s->fd_not_socket) < 0)
		s->dead = true;
	return s->dead ? -1 : 0;
}

int pop3_send_raw(struct pop3_session *s, const void *p, size_t n)
{
	if (s->dead)
		return -1;
	if (buf_append(&s->out, p, n) < 0) {
		if (pop3_flush(s) < 0 || buf_append(&s->out, p, n) < 0)
			return -1;
	}
	if (s->out.len >= POP3_OUT_FLUSH)
		return pop3_flush(s);
	return 0;
}

/* The one reply function: formats a status line and adds CRLF. */
void pop3_reply(struct pop3_session *s, const char *fmt, ...)
{
	if (s->dead)
		return;
	va_list ap;
	va_start(ap, fmt);
	int r = buf_vprintf(&s->out, fmt, ap);
	va_end(ap);
	if (r < 0 || buf_append(&s->out, "\r\n", 2) < 0) {
		s->dead = true;
		return;
	}
	if (s->out.len >= POP3_OUT_FLUSH)
		(void)pop3_flush(s);
}

/* Take the session lock: 0 held, 1 another session holds it, -1 error. */
static int lock_maildrop(struct pop3_session *s, const char **error_r)
{
	struct buf path;
	buf_init(&path, 0);
	if (buf_printf(&path, "%s/%s", s->env->maildir, POP3_LOCK_FILE) < 0) {
		buf_free(&path);
		*error_r = "out of memory";
		return -1;
	}
	s->lock_fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	buf_free(&path);
	if (s->lock_fd < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	/* An OFD lock belongs to this open file, so it is not shared with or
	 * released by other fds of the process, and dies with the worker. */
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(s->lock_fd, F_OFD_SETLK, &fl) < 0) {
		if (errno == EAGAIN || errno == EACCES)
			return 1;
		*error_r = strerror(errno);
		return -1;
	}
	return 0;
}

/* The store, and INBOX's tmp/ new/ cur/ (with the root) when missing. */
static int init_store(struct pop3_session *s, const char **error_r)
{
	char sep = '/';
	if (s->env->cfg != NULL) {
		const char *v = config_str(s->env->cfg, "mail_hierarchy_separator");
		if (v[0] == '.')
			sep = '.';
	}
	if (maildir_store_init(&s->store, s->env->maildir, sep, NULL, error_r) < 0)
		return -1;
	s->store_ok = true;
	/* Fails with "exists" for a ready INBOX; the open below tells. */
	(void)maildir_folder_create(&s->store, "INBOX", error_r);
	return 0;
}

/* Snapshot the INBOX: message numbers are fixed for the whole session. */
static int open_maildrop(struct pop3_session *s, const char **error_r)
{
	/* No MOVE_NEW / TAKE_RECENT: POP3 leaves \Recent to IMAP sessions. */
	if (maildir_mailbox_open(&s->store, "INBOX", 0, &s->box, error_r) < 0)
		return -1;
	s->count = s->box->count;
	s->msgs = calloc(s->count > 0 ? s->count : 1, sizeof(*s->msgs));
	if (s->msgs == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < s->count; i++) {
		s->msgs[i].uid = s->box->msgs[i].uid;
		s->msgs[i].vsize = s->box->msgs[i].vsize;
	}
	return 0;
}

/* Bytes of one message file with every bare LF counted as CRLF, for files
 * whose name carries no ,W= size. */
static int compute_vsize(struct pop3_session *s, struct pop3_msg *m, const char **error_r)
{
	int fd;
	int r = maildir_msg_open(s->box, m->uid, &fd, error_r);
	if (r != 0)
		return r < 0 ? -1 : 0; /* expunged meanwhile: RETR will say so */
	char chunk[65536];
	uint64_t vsize = 0;
	char prev = 0;
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] == '\n' && prev != '\r')
				vsize++;
			prev = chunk[i];
		}
		vsize += (uint64_t)n;
	}
	close(fd);
	if (n < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	m->vsize = vsize;
	return 0;
}

static int fill_vsizes(struct pop3_session *s, const char **error_r)
{
	for (size_t i = 0; i < s->count; i++) {
		const struct maildir_msg *bm = maildir_mailbox_find_uid(s->box, s->msgs[i].uid);
		bool known = bm != NULL && (bm->vsize > 0 || bm->size == 0);
		if (!known && compute_vsize(s, &s->msgs[i], error_r) < 0)
			return -1;
	}
	return 0;
}

/* Read more input into s->in, waiting at most the idle timeout: 1 got
 * bytes, 0 EOF/timeout/error. */
static int read_more(struct pop3_session *s)
{
	char chunk[4096];
	for (;;) {
		ssize_t n = session_read(s->fd, chunk, sizeof(chunk), s->idle_ms);
		if (n < 0) {
			pop3_reply(s, "-ERR Disconnected for inactivity.");
			(void)pop3_flush(s);
			pop3_log(s, LOG_INFO, "Disconnected for inactivity");
			return 0;
		}
		if (n == 0)
			return 0;
		size_t used = 0;
		if (s->skip_line) {
			/* Drop the rest of a too-long line up to its LF. */
			const char *lf = memchr(chunk, '\n', (size_t)n);
			if (lf == NULL)
				continue;
			s->skip_line = false;
			used = (size_t)(lf + 1 - chunk);
		}
		return buf_append(&s->in, chunk + used, (size_t)n - used) < 0 ? 0 : 1;
	}
}

/* Run every complete line in s->in; returns when more input is needed. */
static void run_lines(struct pop3_session *s)
{
	while (!s->quit && !s->dead && !s->closing) {
		ssize_t l = line_find(s->in.data, s->in.len, POP3_LINE_MAX);
		if (l == 0)
			return;
		if (l < 0) {
			pop3_reply(s, "-ERR Input line too long.");
			if (++s->bad >= POP3_MAX_BAD) {
				pop3_reply(s, "-ERR Too many bad commands.");
				s->closing = true;
				return;
			}
			/* Drop the long line; what follows its LF is still ours. */
			const char *lf = memchr(s->in.data, '\n', s->in.len);
			if (lf != NULL) {
				buf_consume(&s->in, (size_t)(lf + 1 - s->in.data));
				continue;
			}
			buf_reset(&s->in);
			s->skip_line = true;
			return;
		}
		pop3_command_run(s, s->in.data, (size_t)l);
		buf_consume(&s->in, (size_t)l);
	}
}

static void serve(struct pop3_session *s)
{
	if (s->env->preread_len > 0 &&
	    buf_append(&s->in, s->env->preread, s->env->preread_len) < 0) {
		/* More pre-read bytes than a pipelined burst can hold. */
		pop3_reply(s, "-ERR Input line too long.");
		return;
	}
	for (;;) {
		run_lines(s);
		if (s->quit || s->dead || s->closing)
			return;
		/* No complete line left: the replies to a pipelined batch go out
		 * in one write before we block for more input. */
		if (pop3_flush(s) < 0)
			return;
		if (read_more(s) <= 0) {
			s->dead = true;
			return;
		}
	}
}

static void session_free(struct pop3_session *s)
{
	if (s->box != NULL)
		maildir_mailbox_close(s->box);
	if (s->store_ok)
		maildir_store_deinit(&s->store);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->msgs);
	buf_free(&s->in);
	buf_free(&s->out);
}

/* Lock and open the maildrop, then answer the authenticating command. */
static int session_start(struct pop3_session *s)
{
	const char *error = "";
	int r = init_store(s, &error);
	if (r == 0)
		r = lock_maildrop(s, &error);
	if (r == 1) {
		pop3_reply(s, "-ERR [IN-USE] Mailbox is locked by another POP3 session");
		pop3_log(s, LOG_INFO, "Disconnected: mailbox in use by another POP3 session");
		return 1;
	}
	if (r < 0 || open_maildrop(s, &error) < 0 || fill_vsizes(s, &error) < 0) {
		pop3_reply(s, "-ERR [SYS/TEMP] Couldn't open INBOX: temporary failure.");
		pop3_log(s, LOG_ERR, "Couldn't open maildrop %s: %s", s->env->maildir, error);
		return -1;
	}
	s->state = POP3_STATE_TRANSACTION;
	pop3_reply(s, "+OK Logged in.");
	return 0;
}

int pop3_session_run(const struct session_env *env)
{
	struct pop3_session s = {.env = env, .fd = env->fd, .lock_fd = -1};
	s.state = POP3_STATE_AUTHORIZATION;
	s.idle_ms = POP3_DEFAULT_IDLE;
	if (env->cfg != NULL) {
		uint64_t ms = config_time_ms(env->cfg, "pop3_idle_timeout");
		s.idle_ms = ms == 0 || ms > 86400000 ? POP3_DEFAULT_IDLE : (int)ms;
	}
	buf_init(&s.in, POP3_IN_MAX);
	buf_init(&s.out, 0);

	int status = session_start(&s);
	if (status != 0) {
		(void)pop3_flush(&s);
		session_free(&s);
		return status < 0 ? 1 : 0;
	}
	serve(&s);

	const char *error = "";
	/* QUIT enters UPDATE and expunges; a drop only records \Seen. */
	if (pop3_session_update(&s, s.quit, &error) < 0) {
		pop3_log(&s, LOG_ERR, "Couldn't update maildrop: %s", error);
		if (s.quit)
			pop3_reply(&s, "-ERR [SYS/TEMP] Couldn't delete all messages.");
		status = 1;
	} else if (s.quit) {
		pop3_reply(&s, s.dele_count > 0 ? "+OK Logging out, messages deleted."
		                                : "+OK Logging out.");
	}
	/* UPDATE is over: free the maildrop before the client hears the reply,
	 * so a client reconnecting at once never meets [IN-USE]. */
	if (s.lock_fd >= 0) {
		close(s.lock_fd);
		s.lock_fd = -1;
	}
	(void)pop3_flush(&s);
	pop3_log(&s, LOG_INFO, "Disconnected: %s retr=%u/%llu, del=%u/%u, size=%zu",
	         s.quit ? "Logged out" : "Connection closed", s.retr_count,
	         (unsigned long long)s.retr_bytes, s.expunged, s.dele_count, s.count);
	session_free(&s);
	return status;
}
