/* evloop.h: small libevent glue shared by every daemon: an event base with
 * SIGPIPE ignored, signal callbacks, persistent read events, one-shot timers,
 * and the two fd flags daemons keep setting (non-blocking, close-on-exec). */
#ifndef LOFT_EVLOOP_H
#define LOFT_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

/* A new event base; SIGPIPE is ignored so a closed peer is an EPIPE error,
 * not a death. NULL with err on failure. */
struct event_base *evloop_new(char *err, size_t errlen);

/* Call cb(sig, EV_SIGNAL, arg) on every delivery of sig (persistent). */
struct event *evloop_add_signal(struct event_base *base, int sig, event_callback_fn cb, void *arg);

/* Call cb(fd, EV_READ, arg) whenever fd is readable (persistent). */
struct event *evloop_add_read(struct event_base *base, int fd, event_callback_fn cb, void *arg);

/* Call cb(-1, EV_TIMEOUT, arg) once after ms milliseconds. The returned event
 * may be freed (event_free) to cancel it, and must be freed after it fired. */
struct event *evloop_add_timer(struct event_base *base, uint64_t ms, event_callback_fn cb,
                               void *arg);

/* 0 or -1 (errno). */
int evloop_set_nonblock(int fd);
int evloop_set_cloexec(int fd, bool on);

#endif
