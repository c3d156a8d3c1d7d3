/* login-handoff.c: the login daemon's one connection to mailstore's handoff
 * socket (lib/ipc/handoff.h). Opened once before the chroot; SESSION lines go out
 * with the client's fd attached and OK/FAIL answers come back by id. The
 * socket path is unreachable after the chroot, so a lost connection ends the
 * daemon (crash-only: the master restarts it and it connects afresh) unless
 * it is draining for a reload, when the old mailstore goes away too. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "evloop.h"
#include "handoff.h"
#include "login-private.h"

#define HANDOFF_READY_TIMEOUT_MS 30000

/* Close the connection; clients waiting for an answer get the failure. */
void login_handoff_lost(struct login_ctx *ctx, const char *why)
{
	if (ctx->handoff_dead)
		return;
	ctx->handoff_dead = true;
	event_free(ctx->hev);
	ctx->hev = NULL;
	wire_conn_clear(&ctx->hconn);
	close(ctx->handoff_fd);
	ctx->handoff_fd = -1;
	char what[256];
	snprintf(what, sizeof(what), "connection to mailstore's handoff socket lost (%s)", why);
	login_ctx_lost(ctx, what);
	struct login_client *c;
	while ((c = login_client_find_handoff(ctx, 0)) != NULL)
		login_client_handoff_done(c, false, "handoff connection lost");
}

static void handoff_line(struct login_ctx *ctx, const struct wire_field *f, int n)
{
	if (!ctx->handoff_ready) {
		if (wire_check_version(f, n, "handoff", 1) < 0) {
			login_handoff_lost(ctx, "bad version line");
			return;
		}
		ctx->handoff_ready = true;
		return;
	}
	bool ok = wire_field_eq(&f[0], "OK");
	if ((!ok && !wire_field_eq(&f[0], "FAIL")) || n < 2) {
		login_handoff_lost(ctx, "unexpected reply");
		return;
	}
	char *end;
	unsigned long id = strtoul(f[1].p, &end, 10);
	if (*end != '\0' || id == 0 || id > UINT32_MAX) {
		login_handoff_lost(ctx, "bad reply id");
		return;
	}
	const char *reason = "";
	for (int i = 2; i < n; i++)
		if (f[i].len > 7 && strncmp(f[i].p, "reason=", 7) == 0)
			reason = f[i].p + 7;
	struct login_client *c = login_client_find_handoff(ctx, (uint32_t)id);
	if (c != NULL)
		login_client_handoff_done(c, ok, reason);
}

static void on_handoff_read(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct login_ctx *ctx = arg;
	ssize_t r = wire_conn_read(&ctx->hconn);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (r <= 0) {
		login_handoff_lost(ctx, r == 0 ? "closed by mailstore" : strerror(errno));
		return;
	}
	struct wire_field f[WIRE_MAX_FIELDS];
	int n;
	while (!ctx->handoff_dead && (n = wire_conn_next(&ctx->hconn, f, WIRE_MAX_FIELDS)) != 0) {
		if (n < 0) {
			login_handoff_lost(ctx, "malformed line");
			return;
		}
		handoff_line(ctx, f, n);
	}
	if (ctx->handoff_dead)
		return;
	/* Mailstore never sends descriptors; any that arrive are closed. */
	int stray;
	while ((stray = wire_conn_take_fd(&ctx->hconn)) >= 0)
		close(stray);
}

int login_handoff_connect(struct login_ctx *ctx, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	int n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/handoff",
	                 config_str(ctx->cfg, "base_dir"));
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "handoff socket path too long");
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(err, errlen, "connect %s: %s", sun.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct buf out;
	buf_init(&out, 256);
	int r = wire_encode_version(&out, "handoff", 1, 0);
	if (r == 0)
		r = wire_send(fd, out.data, out.len, NULL, 0);
	buf_free(&out);
	if (r < 0 || evloop_set_nonblock(fd) < 0) {
		snprintf(err, errlen, "handoff handshake: %s", strerror(errno));
		close(fd);
		return -1;
	}
	ctx->handoff_fd = fd;
	wire_conn_init(&ctx->hconn, fd);
	ctx->hev = evloop_add_read(ctx->base, fd, on_handoff_read, ctx);
	if (ctx->hev == NULL) {
		snprintf(err, errlen, "handoff event: %s", strerror(errno));
		return -1;
	}
	/* Wait for mailstore's version line before the listeners open: a
	 * dispatcher still starting (right after a restart, on a loaded box)
	 * answers late, and a login finished before then would have nowhere to
	 * go. Clients wait in the kernel's backlog meanwhile. */
	for (int waited = 0; !ctx->handoff_ready && !ctx->handoff_dead;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int pr = poll(&p, 1, 100);
		if (pr < 0 && errno != EINTR) {
			snprintf(err, errlen, "handoff handshake: %s", strerror(errno));
			return -1;
		}
		if (pr > 0)
			on_handoff_read(fd, EV_READ, ctx);
		else if (pr == 0 && (waited += 100) >= HANDOFF_READY_TIMEOUT_MS) {
			snprintf(err, errlen, "mailstore sent no handoff version line within %d s",
			         HANDOFF_READY_TIMEOUT_MS / 1000);
			return -1;
		}
	}
	if (ctx->handoff_dead) {
		snprintf(err, errlen, "handoff handshake failed");
		return -1;
	}
	return 0;
}

int login_handoff_send(struct login_ctx *ctx, struct login_client *c, const char *token, int fd,
                       const char *data, size_t data_len)
{
	struct handoff_req req;
	if (ctx->handoff_dead || !ctx->handoff_ready)
		return -1;
	memset(&req, 0, sizeof(req));
	if (++ctx->next_handoff_id == 0)
		ctx->next_handoff_id = 1;
	req.id = ctx->next_handoff_id;
	snprintf(req.proto, sizeof(req.proto), "%s", ctx->proto->service);
	snprintf(req.token, sizeof(req.token), "%s", token);
	snprintf(req.user, sizeof(req.user), "%s", c->user);
	snprintf(req.rip, sizeof(req.rip), "%s", c->rip);
	snprintf(req.lip, sizeof(req.lip), "%s", c->lip);
	snprintf(req.session, sizeof(req.session), "%s", c->session);
	snprintf(req.tag, sizeof(req.tag), "%s", c->handoff_tag);
	req.rport = c->rport;
	req.lport = c->lport;
	req.tls = c->tls;
	req.secured = login_client_secured(c);
	req.data = data;
	req.data_len = data_len;
	struct buf line;
	buf_init(&line, WIRE_MAX_LINE);
	int r = handoff_encode(&line, &req);
	/* wire_send waits for room on the non-blocking socket: a line is never split. */
	if (r == 0)
		r = wire_send(ctx->handoff_fd, line.data, line.len, &fd, 1);
	buf_free(&line);
	if (r < 0)
		return -1;
	c->handoff_id = req.id;
	return 0;
}
