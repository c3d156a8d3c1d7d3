/* session-io.c: the byte plumbing every protocol session in a worker needs:
 * waiting on the client within the idle timeout, writing a reply buffer out
 * whole without SIGPIPE, and log lines tagged with the session id. */
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

int session_wait_fd(int fd, short events, int idle_ms)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	for (;;) {
		int r = poll(&pfd, 1, idle_ms);
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r;
	}
}

ssize_t session_read(int fd, char *chunk, size_t len, int idle_ms)
{
	for (;;) {
		int w = session_wait_fd(fd, POLLIN, idle_ms);
		if (w == 0)
			return -1;
		if (w < 0)
			return 0;
		ssize_t n = read(fd, chunk, len);
		if (n >= 0)
			return n;
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			return 0;
	}
}

/* send() with MSG_NOSIGNAL so a client that vanished mid-reply ends the
 * session with EPIPE rather than killing the worker; plain write() when the
 * fd is not a socket (tests may hand a pipe). */
static ssize_t session_write(int fd, const char *p, size_t n, bool *not_socket)
{
	if (!*not_socket) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w >= 0 || errno != ENOTSOCK)
			return w;
		*not_socket = true;
	}
	return write(fd, p, n);
}

int session_flush(int fd, struct buf *out, int idle_ms, bool *not_socket)
{
	size_t off = 0;
	int ret = 0;
	while (off < out->len) {
		ssize_t w = session_write(fd, out->data + off, out->len - off, not_socket);
		if (w > 0) {
			off += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		           session_wait_fd(fd, POLLOUT, idle_ms) > 0) {
			continue;
		} else {
			ret = -1;
			break;
		}
	}
	buf_reset(out);
	return ret;
}

void session_vlog(const struct session_env *env, int prio, const char *fmt, va_list ap)
{
	if (env->log == NULL)
		return;
	char text[LOG_LINE_MAX];
	vsnprintf(text, sizeof(text), fmt, ap);
	log_msg(env->log, prio, env->session_id, "%s", text);
}
