/* qmgr-refuse.c: loft-queue's answer to a connection over a limit. The
 * client has usually written its VERSION line already; the FAIL line goes
 * out once that line is in (at most a second later), so the client reads
 * the reason instead of failing to write to a closed socket. At most
 * REFUSE_PENDING such connections wait; beyond that they are closed at
 * once. Refusals are logged at most once a second, with the number that
 * were not, so a flood cannot flood the log. */
#include "qmgr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "wire.h"

#define REFUSE_PENDING  32
#define REFUSE_WAIT_SEC 1

struct refusal {
	struct qmgr_refuser *r;
	struct refusal *prev, *next;
	int fd;
	struct event *ev;
	char text[QMGR_REFUSE_TEXT];
};

struct qmgr_refuser {
	struct event_base *base;
	struct loft_log *lg;
	struct refusal *pending;
	size_t npending;
	time_t last_log;
	unsigned long unlogged;
};

struct qmgr_refuser *qmgr_refuser_new(struct event_base *base, struct loft_log *lg)
{
	struct qmgr_refuser *r = calloc(1, sizeof(*r));
	if (r != NULL) {
		r->base = base;
		r->lg = lg;
	}
	return r;
}

static void refusal_free(struct refusal *f)
{
	struct qmgr_refuser *r = f->r;
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		r->pending = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	r->npending--;
	event_free(f->ev);
	close(f->fd);
	free(f);
}

/* Best effort: one short line into an empty socket buffer never blocks. */
static void send_fail(int fd, const char *text)
{
	struct buf b;
	buf_init(&b, 0);
	const char *fields[] = {"FAIL", "temp", text, NULL};
	if (wire_encode_strs(&b, fields) == 0)
		(void)send(fd, b.data, b.len, MSG_DONTWAIT | MSG_NOSIGNAL);
	buf_free(&b);
}

static void refusal_ready(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct refusal *f = arg;
	char sink[512];
	/* read what the client sent so far, so nothing waits unread */
	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	send_fail(fd, f->text);
	refusal_free(f);
}

static void log_refusal(struct qmgr_refuser *r, const char *who, const char *text)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (r->last_log != 0 && now.tv_sec - r->last_log < 1) {
		r->unlogged++;
		return;
	}
	if (r->unlogged > 0)
		log_warning(r->lg, "refused %s: %s (and %lu more since the last report)", who, text,
		            r->unlogged);
	else
		log_warning(r->lg, "refused %s: %s", who, text);
	r->last_log = now.tv_sec > 0 ? now.tv_sec : 1;
	r->unlogged = 0;
}

void qmgr_refuse(struct qmgr_refuser *r, int fd, const char *who, const char *text)
{
	log_refusal(r, who, text);
	struct refusal *f = NULL;
	if (r->npending < REFUSE_PENDING)
		f = calloc(1, sizeof(*f));
	if (f != NULL)
		f->ev = event_new(r->base, fd, EV_READ, refusal_ready, f);
	struct timeval tv = {REFUSE_WAIT_SEC, 0};
	if (f == NULL || f->ev == NULL || event_add(f->ev, &tv) < 0) {
		/* too many waiting already: the reason, if it fits, and close */
		send_fail(fd, text);
		if (f != NULL && f->ev != NULL)
			event_free(f->ev);
		free(f);
		close(fd);
		return;
	}
	f->r = r;
	f->fd = fd;
	snprintf(f->text, sizeof(f->text), "%s", text);
	f->next = r->pending;
	if (r->pending != NULL)
		r->pending->prev = f;
	r->pending = f;
	r->npending++;
}

void qmgr_refuser_free(struct qmgr_refuser *r)
{
	if (r == NULL)
		return;
	while (r->pending != NULL)
		refusal_free(r->pending);
	free(r);
}
