/* imap-cmd-idle.c: IDLE (RFC 2177) of the IMAP session. After "+ idling"
 * the session waits on the client socket and, when a mailbox is selected,
 * on inotify watches of its new/ and cur/ directories and its uidlist and
 * keyword files (or polls the mailbox every few seconds when inotify is
 * unavailable). A burst of changes is coalesced briefly, then synced and
 * reported at once. "DONE" ends it; any other line gets BAD. Bytes the
 * client pipelined after DONE stay in s->in for the command parser. */
#include "imap-private.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "maildir-private.h"

#define IDLE_COALESCE_MS 60     /* let a burst of renames settle */
#define IDLE_POLL_MS     3000   /* mailbox check interval without inotify */
#define IDLE_NOTIFY_MS   120000 /* "* OK Still here" (Dovecot's default) */
#define IDLE_LINE_MAX    1024   /* longest line we wait for in IDLE */

/* Changes to the selected mailbox: an inotify fd, or polling. */
struct idle_watch {
	int fd; /* -1: poll the mailbox every IDLE_POLL_MS */
	int wd_folder;
	bool lost; /* a watch went away (folder deleted?): switch to polling */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int watch_dir(int fd, const char *dir, const char *sub, uint32_t mask)
{
	char *path = sub != NULL ? maildir_path_join(dir, sub) : NULL;
	int wd = sub == NULL || path != NULL
	             ? inotify_add_watch(fd, path != NULL ? path : dir, mask | IN_ONLYDIR)
	             : -1;
	free(path);
	return wd;
}

static void watch_open(struct imap_session *s, struct idle_watch *w)
{
	w->fd = -1;
	w->wd_folder = -1;
	w->lost = false;
	if (s->state != IMAP_STATE_SELECTED)
		return;
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0) {
		imap_log(s, LOG_INFO, "IDLE: inotify unavailable (%s), polling", strerror(errno));
		return;
	}
	/* a delivery renames into new/; a flag change renames within cur/;
	 * an expunge unlinks in cur/ (or new/) */
	const uint32_t msgs = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE;
	/* the uidlist and keyword files are replaced by rename */
	const uint32_t files = IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE;
	w->wd_folder = watch_dir(fd, s->box->path, NULL, files);
	if (w->wd_folder < 0 || watch_dir(fd, s->box->path, "new", msgs) < 0 ||
	    watch_dir(fd, s->box->path, "cur", msgs) < 0) {
		imap_log(s, LOG_INFO, "IDLE: inotify watch failed (%s), polling", strerror(errno));
		close(fd);
		return;
	}
	w->fd = fd;
}

static void watch_close(struct idle_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

/* Read the queued events: 1 when one is about the mailbox's messages. The
 * folder directory also holds loft-index, the lock file and (for INBOX)
 * the other folders: only the uidlist and keyword files count there. */
static int watch_drain(struct idle_watch *w)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int relevant = 0;
	for (;;) {
		ssize_t n = read(w->fd, ev, sizeof(ev));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *e = (const struct inotify_event *)(ev + off);
			off += (ssize_t)(sizeof(*e) + e->len);
			if (e->mask & (IN_Q_OVERFLOW | IN_IGNORED)) {
				relevant = 1;
				w->lost |= (e->mask & IN_IGNORED) != 0;
			} else if (e->wd != w->wd_folder) {
				relevant = 1;
			} else if (e->len > 0 && (strcmp(e->name, MAILDIR_UIDLIST) == 0 ||
			                          strcmp(e->name, MAILDIR_KEYWORDS) == 0)) {
				relevant = 1;
			}
		}
	}
	return relevant;
}

/* Sync and send the updates now, not at the next command. */
static void idle_report(struct imap_session *s)
{
	if (s->state != IMAP_STATE_SELECTED)
		return;
	imap_view_sync(s, IMAP_SYNC_FULL); /* RFC 2177: EXPUNGE is allowed */
	(void)imap_flush(s);
}

/* A complete line in s->in ends IDLE: 1 answered, 0 wait for more. Only
 * that line is taken; what follows is the next command. */
static int idle_line(struct imap_session *s, const struct imap_command *c)
{
	ssize_t n = s->in.len > 0 ? line_find(s->in.data, s->in.len, IDLE_LINE_MAX) : 0;
	if (n == 0)
		return 0;
	bool done = false;
	if (n > 0) {
		size_t len = (size_t)n - 1;
		if (len > 0 && s->in.data[len - 1] == '\r')
			len--;
		done = len == 4 && strncasecmp(s->in.data, "DONE", 4) == 0;
		buf_consume(&s->in, (size_t)n);
	} else {
		/* too long for DONE: drop what we have; the parser resyncs
		 * on the rest of that line */
		buf_consume(&s->in, s->in.len);
	}
	/* changes since the last report go out before the tagged line, in
	 * the sync imap_cmd_done runs */
	if (done)
		imap_cmd_done(s, c, IMAP_OK, "Idle completed.");
	else
		imap_cmd_done(s, c, IMAP_BAD, "Expected DONE.");
	return 1;
}

/* Read what the client sent into s->in: 0, or -1 at EOF or error. */
static int idle_read(struct imap_session *s)
{
	char chunk[4096];
	for (;;) {
		ssize_t n = read(s->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0 || buf_append(&s->in, chunk, (size_t)n) < 0)
			return -1;
		return 0;
	}
}

static int64_t earliest(int64_t a, int64_t b)
{
	return b >= 0 && (a < 0 || b < a) ? b : a;
}

static int notify_interval(const struct imap_session *s)
{
	if (s->env->cfg != NULL) {
		uint64_t ms = config_time_ms(s->env->cfg, "imap_idle_notify_interval");
		if (ms > 0 && ms <= 86400000)
			return (int)ms;
	}
	return IDLE_NOTIFY_MS;
}

/* The wait loop: returns when the client ended IDLE, left, or timed out. */
static void idle_wait(struct imap_session *s, const struct imap_command *c, struct idle_watch *w)
{
	int64_t now = now_ms(), notify_ms = notify_interval(s);
	int64_t last_input = now, next_notify = now + notify_ms;
	int64_t pending = -1; /* when a coalesced sync is due */
	int64_t next_poll = w->fd < 0 && s->state == IMAP_STATE_SELECTED ? now + IDLE_POLL_MS : -1;
	while (!s->dead && idle_line(s, c) == 0) {
		int64_t due = earliest(earliest(next_notify, last_input + s->idle_ms),
		                       earliest(pending, next_poll));
		struct pollfd pfd[2] = {{.fd = s->fd, .events = POLLIN},
		                        {.fd = w->fd >= 0 ? w->fd : -1, .events = POLLIN}};
		int r = poll(pfd, 2, due > now ? (int)(due - now) : 0);
		if (r < 0 && errno != EINTR) {
			s->dead = true;
			break;
		}
		now = now_ms();
		if (r > 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (idle_read(s) < 0) {
				s->dead = true;
				break;
			}
			last_input = now;
		}
		if (r > 0 && (pfd[1].revents & POLLIN) && watch_drain(w) && pending < 0)
			pending = now + IDLE_COALESCE_MS;
		if (w->lost) {
			w->lost = false;
			watch_close(w);
			next_poll = now + IDLE_POLL_MS;
		}
		if (pending >= 0 && now >= pending) {
			pending = -1;
			idle_report(s);
		}
		if (next_poll >= 0 && now >= next_poll) {
			next_poll = now + IDLE_POLL_MS;
			idle_report(s);
		}
		if (now >= next_notify) {
			next_notify = now + notify_ms;
			imap_reply(s, "* OK Still here");
			(void)imap_flush(s);
		}
		if (now - last_input >= s->idle_ms) {
			imap_reply(s, "* BYE Disconnected for inactivity.");
			(void)imap_flush(s);
			imap_log(s, LOG_INFO, "Disconnected for inactivity in IDLE");
			s->dead = true;
		}
	}
}

void imap_cmd_idle(struct imap_session *s, const struct imap_command *c)
{
	/* watch first: a change after the sync below wakes us, one before it
	 * is in that sync (RFC 2177 3: pending updates are sent at once) */
	struct idle_watch w;
	watch_open(s, &w);
	imap_reply(s, "+ idling");
	imap_view_sync(s, IMAP_SYNC_FULL);
	if (imap_flush(s) == 0) {
		s->idling = true;
		idle_wait(s, c, &w);
		s->idling = false;
	}
	watch_close(&w);
}
