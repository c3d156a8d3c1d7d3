/* imap-session.c: the IMAP session a mailstore worker runs after the
 * handoff: opens the Maildir store (creating the autocreate folders on first
 * login), answers the login command's tag, then parses commands (the login
 * daemon's pre-read bytes first) until LOGOUT, EOF or the idle timeout. */
#include "imap-session.h"
#include "imap-private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

void imap_log(struct imap_session *s, int prio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	session_vlog(s->env, prio, fmt, ap);
	va_end(ap);
}

int imap_flush(struct imap_session *s)
{
	if (s->dead) {
		buf_reset(&s->out);
		return -1;
	}
	if (s->out.len > 0)
		s->nflush++;
	if (session_flush(s->fd, &s->out, s->idle_ms, &s->fd_not_socket) < 0)
		s->dead = true;
	return s->dead ? -1 : 0;
}

int imap_flush_if_full(struct imap_session *s)
{
	return s->out.len >= IMAP_OUT_FLUSH ? imap_flush(s) : (s->dead ? -1 : 0);
}

static void reply_end(struct imap_session *s, int r)
{
	if (r < 0 || buf_append(&s->out, "\r\n", 2) < 0) {
		s->dead = true;
		return;
	}
	if (s->out.len >= IMAP_OUT_FLUSH)
		(void)imap_flush(s);
}

void imap_stream_end(struct imap_session *s)
{
	if (!s->dead)
		reply_end(s, 0);
}

void imap_reply(struct imap_session *s, const char *fmt, ...)
{
	if (s->dead)
		return;
	va_list ap;
	va_start(ap, fmt);
	int r = buf_vprintf(&s->out, fmt, ap);
	va_end(ap);
	reply_end(s, r);
}

void imap_reply_buf(struct imap_session *s, const struct buf *line)
{
	if (!s->dead)
		reply_end(s, buf_append(&s->out, line->data, line->len));
}

/* Read more input into s->in within the idle timeout: 1 got bytes, 0 end. */
static int read_more(struct imap_session *s)
{
	char chunk[8192];
	ssize_t n = session_read(s->fd, chunk, sizeof(chunk), s->idle_ms);
	if (n < 0) {
		imap_reply(s, "* BYE Disconnected for inactivity.");
		(void)imap_flush(s);
		imap_log(s, LOG_INFO, "Disconnected for inactivity");
		return 0;
	}
	return n > 0 && buf_append(&s->in, chunk, (size_t)n) == 0 ? 1 : 0;
}

static void count_bad(struct imap_session *s)
{
	if (++s->bad >= IMAP_MAX_BAD) {
		imap_reply(s, "* BYE Too many invalid IMAP commands.");
		s->closing = true;
	}
}

/* Feed s->in to the parser and run every complete command. */
static void run_input(struct imap_session *s)
{
	while (s->in.len > 0 && !s->logout && !s->dead && !s->closing) {
		size_t used = 0;
		enum imap_parse_result r = imap_parser_feed(s->ps, s->in.data, s->in.len, &used);
		buf_consume(&s->in, used);
		if (r == IMAP_PARSE_MORE)
			return;
		if (r == IMAP_PARSE_COMMAND) {
			imap_command_run(s, imap_parser_command(s->ps));
		} else if (r == IMAP_PARSE_LITERAL) {
			if (imap_parser_literal_size(s->ps) > s->max_literal) {
				const char *tag = imap_parser_tag(s->ps);
				imap_reply(s, "%s NO [TOOBIG] Literal too large.",
				           *tag ? tag : "*");
				imap_parser_literal_refuse(s->ps);
				count_bad(s);
			} else {
				imap_parser_literal_accept(s->ps);
				imap_reply(s, "+ OK");
				/* the client waits for this before sending the data */
				(void)imap_flush(s);
			}
		} else {
			const char *tag = imap_parser_error_tag(s->ps);
			imap_reply(s, "%s BAD %s", *tag ? tag : "*", imap_parser_error(s->ps));
			count_bad(s);
		}
	}
}

static void serve(struct imap_session *s)
{
	if (s->env->preread_len > 0 &&
	    buf_append(&s->in, s->env->preread, s->env->preread_len) < 0) {
		s->dead = true;
		return;
	}
	for (;;) {
		run_input(s);
		if (s->logout || s->dead || s->closing)
			return;
		/* replies to a pipelined batch go out in one write */
		if (imap_flush(s) < 0)
			return;
		if (read_more(s) <= 0) {
			s->dead = true;
			return;
		}
	}
}

/* True once per Maildir: the first IMAP login creates the marker file.
 * Deliveries before that login (LMTP creates the Maildir) don't count, so
 * the folders still appear; a folder the user deletes later stays deleted. */
static bool first_login(const char *maildir)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s/loft-autocreated", maildir) >= sizeof(path))
		return false;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Open the store, create INBOX if needed and, on the first IMAP login, the
 * mailbox_autocreate folders. INBOX is not opened: its uidlist and index
 * would cost an idle session about 0.1 KB per message (issue 16); SELECT,
 * STATUS and the like load them when asked. */
static int init_store(struct imap_session *s, const char **error_r)
{
	s->sep = '/';
	if (s->env->cfg != NULL && config_str(s->env->cfg, "mail_hierarchy_separator")[0] == '.')
		s->sep = '.';
	if (maildir_store_init(&s->store, s->env->maildir, s->sep, NULL, error_r) < 0)
		return -1;
	s->store_ok = true;
	if (maildir_inbox_ensure(&s->store, error_r) < 0)
		return -1;
	size_t n = 0;
	const char *const *names = s->env->cfg != NULL && first_login(s->env->maildir)
	                               ? config_list(s->env->cfg, "mailbox_autocreate", &n)
	                               : NULL;
	for (size_t i = 0; i < n; i++) {
		const char *err;
		if (maildir_folder_create(&s->store, names[i], &err) < 0)
			imap_log(s, LOG_WARNING, "Couldn't create %s: %s", names[i], err);
	}
	return 0;
}

static void session_init(struct imap_session *s, const struct session_env *env)
{
	s->env = env;
	s->fd = env->fd;
	s->state = IMAP_STATE_AUTH;
	s->idle_ms = IMAP_DEFAULT_IDLE;
	struct imap_limits lim = {.max_line = 65536, .max_literal = 50u << 20};
	if (env->cfg != NULL) {
		uint64_t ms = config_time_ms(env->cfg, "imap_idle_timeout");
		s->idle_ms = ms == 0 || ms > 86400000 ? IMAP_DEFAULT_IDLE : (int)ms;
		uint64_t v = config_size(env->cfg, "imap_max_line_length");
		if (v >= 1024 && v <= (64u << 20))
			lim.max_line = (size_t)v;
		v = config_size(env->cfg, "message_size_limit");
		if (v > 0 && v <= UINT32_MAX)
			lim.max_literal = (size_t)v;
		/* literals are held until the command runs: bound them together */
		v = config_size(env->cfg, "imap_max_command_size");
		lim.max_command = lim.max_literal + lim.max_line;
		if (v > lim.max_command && v <= SIZE_MAX / 2)
			lim.max_command = (size_t)v;
	}
	s->max_literal = lim.max_literal;
	s->ps = imap_parser_new(&lim);
	buf_init(&s->in, 0);
	buf_init(&s->out, 0);
}

static void session_free(struct imap_session *s)
{
	imap_unselect(s);
	if (s->store_ok)
		maildir_store_deinit(&s->store);
	if (s->ps != NULL)
		imap_parser_free(s->ps);
	buf_free(&s->in);
	buf_free(&s->out);
}

int imap_session_run(const struct session_env *env)
{
	struct imap_session s = {0};
	session_init(&s, env);
	const char *tag =
	    env->login_tag != NULL && env->login_tag[0] != '\0' ? env->login_tag : "*";
	const char *error = "out of memory";
	if (s.ps == NULL || init_store(&s, &error) < 0) {
		imap_reply(&s,
		           "%s NO [UNAVAILABLE] Internal error occurred. "
		           "Refer to server log for more information.",
		           tag);
		imap_log(&s, LOG_ERR, "Couldn't open mail store %s: %s", env->maildir, error);
		(void)imap_flush(&s);
		session_free(&s);
		return 1;
	}
	if (strcmp(tag, "*") == 0)
		imap_reply(&s, "* PREAUTH [CAPABILITY " IMAP_CAPABILITY "] Logged in");
	else
		imap_reply(&s, "%s OK [CAPABILITY " IMAP_CAPABILITY "] Logged in", tag);
	serve(&s);
	(void)imap_flush(&s);
	imap_log(&s, LOG_INFO, "Disconnected: %s",
	         s.logout    ? "Logged out"
	         : s.closing ? "Too many invalid commands"
	                     : "Connection closed");
	session_free(&s);
	return 0;
}
