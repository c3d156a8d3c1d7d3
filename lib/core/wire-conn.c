/* wire-conn.c: the socket side of Loft's internal protocol, for every daemon
 * that talks to another over a UNIX socket: sending lines with descriptors
 * attached (SCM_RIGHTS), and a connection that buffers received bytes, splits
 * them into decoded lines and queues received descriptors in arrival order. */
#include "wire.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define WIRE_READ_CHUNK 16384
/* Room for one maximal partial line plus a read, with slack for a caller that
 * reads once more before draining its complete lines. */
#define WIRE_IN_MAX (2 * (WIRE_MAX_LINE + 1) + WIRE_READ_CHUNK)
/* Linux's SCM_MAX_FD: the most descriptors one message can carry, so a
 * buffer this big is never truncated and every received fd is seen (and the
 * ones over our limit closed) rather than silently dropped by the kernel. */
#define WIRE_SCM_MAX_FD 253

/* Wait until sock takes more data; the internal lines are small, so a
 * non-blocking socket is simply waited on rather than buffered. */
static int wire_wait_writable(int sock)
{
	struct pollfd pfd = {.fd = sock, .events = POLLOUT};
	for (;;) {
		int r = poll(&pfd, 1, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (pfd.revents & POLLNVAL) {
			errno = EBADF;
			return -1;
		}
		/* POLLERR/POLLHUP: the next sendmsg reports the error itself. */
		return 0;
	}
}

int wire_send(int sock, const void *data, size_t len, const int *fds, size_t nfds)
{
	/* A stream socket cannot carry descriptors without at least one byte. */
	if (nfds > WIRE_MAX_FDS || (nfds > 0 && len == 0)) {
		errno = EINVAL;
		return -1;
	}
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
	} cm;
	const char *p = data;
	size_t done = 0;
	while (done < len) {
		struct iovec iov = {.iov_base = (void *)(p + done), .iov_len = len - done};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
		if (done == 0 && nfds > 0) {
			memset(&cm, 0, sizeof(cm));
			m.msg_control = cm.b;
			m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			struct cmsghdr *h = CMSG_FIRSTHDR(&m);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_RIGHTS;
			h->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(h), fds, sizeof(int) * nfds);
		}
		ssize_t r = sendmsg(sock, &m, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    wire_wait_writable(sock) == 0)
				continue;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

void wire_conn_init(struct wire_conn *c, int fd)
{
	c->fd = fd;
	buf_init(&c->in, WIRE_IN_MAX);
	c->nfdq = 0;
	c->off = 0;
}

void wire_conn_clear(struct wire_conn *c)
{
	for (size_t i = 0; i < c->nfdq; i++)
		close(c->fdq[i]);
	c->nfdq = 0;
	buf_free(&c->in);
	c->off = 0;
}

/* Queue every descriptor a message carried, in order; those that do not fit
 * are closed at once. Returns -1 if any had to be closed. */
static int wire_conn_queue_fds(struct wire_conn *c, struct msghdr *m)
{
	const size_t cap = sizeof(c->fdq) / sizeof(c->fdq[0]);
	int overflow = 0;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(m); h != NULL; h = CMSG_NXTHDR(m, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *d = CMSG_DATA(h);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, d + i * sizeof(int), sizeof(int));
			if (c->nfdq < cap) {
				c->fdq[c->nfdq++] = fd;
			} else {
				close(fd);
				overflow = 1;
			}
		}
	}
	return overflow ? -1 : 0;
}

/* Drop the lines already handed out so the buffer holds only unread bytes. */
static void wire_conn_compact(struct wire_conn *c)
{
	buf_consume(&c->in, c->off);
	c->off = 0;
}

ssize_t wire_conn_read(struct wire_conn *c)
{
	wire_conn_compact(c);
	if (line_find(c->in.data, c->in.len, WIRE_MAX_LINE) < 0) {
		errno = EMSGSIZE;
		return -1;
	}
	size_t room = c->in.max - c->in.len;
	if (room == 0) {
		/* Only reachable if the caller reads without draining its lines. */
		errno = ENOBUFS;
		return -1;
	}
	char chunk[WIRE_READ_CHUNK];
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * WIRE_SCM_MAX_FD)];
	} cm;
	struct iovec iov = {.iov_base = chunk,
	                    .iov_len = room < sizeof(chunk) ? room : sizeof(chunk)};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof(cm.b)};
	ssize_t r;
	do
		r = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	/* A peer flooding descriptors is dropped; none of them stays open. */
	if (wire_conn_queue_fds(c, &m) < 0 || (m.msg_flags & MSG_CTRUNC)) {
		errno = EPROTO;
		return -1;
	}
	if (r == 0)
		return 0;
	if (buf_append(&c->in, chunk, (size_t)r) < 0) {
		errno = ENOMEM;
		return -1;
	}
	if (line_find(c->in.data, c->in.len, WIRE_MAX_LINE) < 0) {
		errno = EMSGSIZE;
		return -1;
	}
	return r;
}

int wire_conn_next(struct wire_conn *c, struct wire_field *f, size_t max)
{
	if (c->off >= c->in.len) {
		/* Everything handed out: start over without moving bytes. */
		buf_reset(&c->in);
		c->off = 0;
		return 0;
	}
	char *p = c->in.data + c->off;
	ssize_t n = line_find(p, c->in.len - c->off, WIRE_MAX_LINE);
	if (n < 0) {
		errno = EMSGSIZE;
		return -1;
	}
	if (n == 0)
		return 0;
	c->off += (size_t)n;
	int k = wire_decode(p, (size_t)n - 1, f, max);
	if (k < 0)
		return -1;
	/* The last field ends at or before the LF's slot, which is ours to reuse. */
	p[(size_t)(f[k - 1].p - p) + f[k - 1].len] = '\0';
	return k;
}

int wire_conn_take_fd(struct wire_conn *c)
{
	if (c->nfdq == 0)
		return -1;
	int fd = c->fdq[0];
	c->nfdq--;
	memmove(c->fdq, c->fdq + 1, c->nfdq * sizeof(c->fdq[0]));
	return fd;
}
