/* evloop.c: libevent glue for every Loft daemon (see evloop.h). Each helper
 * either returns a ready, added event or NULL, so callers handle one failure
 * shape; nothing here keeps state of its own. */
#include "evloop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

struct event_base *evloop_new(char *err, size_t errlen)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0) {
		snprintf(err, errlen, "sigaction(SIGPIPE): %s", strerror(errno));
		return NULL;
	}
	struct event_base *base = event_base_new();
	if (base == NULL)
		snprintf(err, errlen, "event_base_new failed");
	return base;
}

static struct event *evloop_added(struct event *ev, const struct timeval *tv)
{
	if (ev == NULL)
		return NULL;
	if (event_add(ev, tv) < 0) {
		event_free(ev);
		return NULL;
	}
	return ev;
}

struct event *evloop_add_signal(struct event_base *base, int sig, event_callback_fn cb, void *arg)
{
	return evloop_added(event_new(base, sig, EV_SIGNAL | EV_PERSIST, cb, arg), NULL);
}

struct event *evloop_add_read(struct event_base *base, int fd, event_callback_fn cb, void *arg)
{
	return evloop_added(event_new(base, fd, EV_READ | EV_PERSIST, cb, arg), NULL);
}

struct event *evloop_add_timer(struct event_base *base, uint64_t ms, event_callback_fn cb,
                               void *arg)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
	                     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	return evloop_added(event_new(base, -1, 0, cb, arg), &tv);
}

int evloop_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -1;
	if (fl & O_NONBLOCK)
		return 0;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int evloop_set_cloexec(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0)
		return -1;
	int nfl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
	if (nfl == fl)
		return 0;
	return fcntl(fd, F_SETFD, nfl);
}
