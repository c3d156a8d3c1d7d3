/* smtpd-auth.c: a minimal blocking client of loft-auth on the auth-smtp
 * socket (docs/auth.md) for a connection child: SMTP AUTH relayed as
 * AUTH/CONT/CANCEL with service=smtp, and LOOKUP for the recipient check.
 * One request at a time; the connection opens on first use and is dropped
 * on any transport or protocol error (the request then counts as a
 * temporary failure, the next one reconnects). AUTH says client-delay: a
 * failure comes back at once with delay=, and this child (it serves one
 * client) waits that long before answering, so auth keeps no slot for it. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "smtpd-private.h"

void smtpd_auth_init(struct smtpd_auth *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->path = path;
	a->fd = -1;
}

void smtpd_auth_close(struct smtpd_auth *a)
{
	if (a->fd >= 0) {
		wire_conn_clear(&a->wc);
		close(a->fd);
	}
	a->fd = -1;
	a->cur_id = 0;
}

bool smtpd_auth_b64_ok(const char *p, size_t len)
{
	unsigned char out[BASE64_DECODED_MAX(SMTP_LINE_MAX) + 4];
	size_t n;
	if (len > SMTP_LINE_MAX)
		return false;
	return base64_decode(p, len, out, &n) == 0;
}

/* Next line into f; field count, or -1 (connection dropped). */
static int next_line(struct smtpd_auth *a, struct wire_field *f, size_t max)
{
	for (;;) {
		int n = wire_conn_next(&a->wc, f, max);
		if (n > 0)
			return n;
		if (n < 0 || wire_conn_read(&a->wc) <= 0) {
			smtpd_auth_close(a);
			return -1;
		}
	}
}

static int send_strs(struct smtpd_auth *a, const char *const *strs)
{
	struct buf b;
	buf_init(&b, WIRE_MAX_LINE + 1);
	int rc = wire_encode_strs(&b, strs);
	if (rc == 0)
		rc = wire_send(a->fd, b.data, b.len, NULL, 0);
	buf_free(&b);
	if (rc < 0)
		smtpd_auth_close(a);
	return rc;
}

static int auth_connect(struct smtpd_auth *a)
{
	if (a->fd >= 0)
		return 0;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(a->path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a->fd < 0)
		return -1;
	struct timeval tv = {.tv_sec = SMTPD_AUTH_TIMEOUT_MS / 1000};
	setsockopt(a->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(a->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(a->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(a->fd);
		a->fd = -1;
		return -1;
	}
	wire_conn_init(&a->wc, a->fd);
	const char *ver[] = {"VERSION", "auth", "1", "0", NULL};
	if (send_strs(a, ver) < 0)
		return -1;
	/* the server's greeting: VERSION, MECH lines, DONE */
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = next_line(a, f, WIRE_MAX_FIELDS);
	if (n < 0 || wire_check_version(f, n, "auth", 1) < 0) {
		smtpd_auth_close(a);
		return -1;
	}
	while ((n = next_line(a, f, WIRE_MAX_FIELDS)) > 0 && !wire_field_eq(&f[0], "DONE"))
		;
	return n > 0 ? 0 : -1;
}

/* The reply to request cur_id (stale replies to a cancelled one skipped). */
static int read_reply(struct smtpd_auth *a, struct wire_field *f, size_t max)
{
	char want[16];
	snprintf(want, sizeof(want), "%u", a->cur_id);
	for (;;) {
		int n = next_line(a, f, max);
		if (n < 0)
			return -1;
		if (n >= 2 && wire_field_eq(&f[1], want))
			return n;
	}
}

static void copy_field(char *dst, size_t dstlen, const struct wire_field *f, size_t skip)
{
	size_t len = f->len > skip ? f->len - skip : 0;
	if (len >= dstlen)
		len = dstlen - 1;
	memcpy(dst, f->p + skip, len);
	dst[len] = '\0';
}

/* The throttle's failure delay, capped below the auth timeout. */
static void wait_delay(unsigned ms)
{
	long long left = ms < SMTPD_AUTH_TIMEOUT_MS ? ms : SMTPD_AUTH_TIMEOUT_MS;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (left > 0) {
		(void)poll(NULL, 0, (int)left);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long long spent =
		    (long long)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		left = (ms < SMTPD_AUTH_TIMEOUT_MS ? ms : SMTPD_AUTH_TIMEOUT_MS) - spent;
	}
}

static void parse_reply(struct smtpd_auth *a, struct smtpd_auth_reply *rep)
{
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = read_reply(a, f, WIRE_MAX_FIELDS);
	rep->result = SMTPD_AUTH_TEMP;
	if (n < 0)
		return;
	if (wire_field_eq(&f[0], "CONT")) {
		rep->result = SMTPD_AUTH_CONTINUE;
		if (n >= 3)
			copy_field(rep->chal, sizeof(rep->chal), &f[2], 0);
		return;
	}
	a->cur_id = 0; /* the exchange is over */
	if (wire_field_eq(&f[0], "OK")) {
		for (int i = 2; i < n; i++)
			if (f[i].len > 5 && memcmp(f[i].p, "user=", 5) == 0)
				copy_field(rep->user, sizeof(rep->user), &f[i], 5);
		rep->result = rep->user[0] != '\0' ? SMTPD_AUTH_OK : SMTPD_AUTH_TEMP;
		return;
	}
	rep->result = SMTPD_AUTH_FAIL;
	for (int i = 2; i < n; i++) {
		if (wire_field_eq(&f[i], "temp"))
			rep->result = SMTPD_AUTH_TEMP;
		else if (f[i].len > 6 && f[i].len < 16 && memcmp(f[i].p, "delay=", 6) == 0)
			rep->delay_ms = (unsigned)strtoul(f[i].p + 6, NULL, 10);
	}
	if (rep->result == SMTPD_AUTH_FAIL && rep->delay_ms > 0)
		wait_delay(rep->delay_ms);
}

int smtpd_auth_lookup(struct smtpd_auth *a, const char *name)
{
	if (auth_connect(a) < 0)
		return -1;
	char ids[16];
	a->cur_id = ++a->next_id;
	snprintf(ids, sizeof(ids), "%u", a->cur_id);
	const char *req[] = {"LOOKUP", ids, name, NULL};
	struct wire_field f[WIRE_MAX_FIELDS];
	int n;
	if (send_strs(a, req) < 0 || (n = read_reply(a, f, WIRE_MAX_FIELDS)) < 0)
		return -1;
	a->cur_id = 0;
	if (wire_field_eq(&f[0], "OK"))
		return 1;
	return wire_field_eq(&f[0], "NOTFOUND") ? 0 : -1;
}

void smtpd_auth_start(struct smtpd_auth *a, const char *mech, const char *initial, const char *rip,
                      const char *lip, bool secured, struct smtpd_auth_reply *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->result = SMTPD_AUTH_TEMP;
	char ids[16], ripf[80], lipf[80], resp[SMTP_LINE_MAX + 8];
	if (auth_connect(a) < 0)
		return;
	a->cur_id = ++a->next_id;
	snprintf(ids, sizeof(ids), "%u", a->cur_id);
	snprintf(ripf, sizeof(ripf), "rip=%s", rip);
	snprintf(lipf, sizeof(lipf), "lip=%s", lip);
	/* RFC 4954: "=" is an empty initial response */
	if (initial != NULL)
		snprintf(resp, sizeof(resp), "resp=%s", strcmp(initial, "=") == 0 ? "" : initial);
	const char *req[] = {"AUTH", ids,  mech, "service=smtp", ripf, lipf, "client-delay",
	                     NULL,   NULL, NULL};
	/* the optional fields go after the fixed ones, NULL-terminated */
	size_t k = 7;
	if (secured)
		req[k++] = "secured";
	req[k] = initial != NULL ? resp : NULL;
	if (send_strs(a, req) < 0)
		return;
	parse_reply(a, rep);
}

void smtpd_auth_continue(struct smtpd_auth *a, const char *b64, size_t len,
                         struct smtpd_auth_reply *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->result = SMTPD_AUTH_TEMP;
	if (a->fd < 0 || a->cur_id == 0)
		return;
	char ids[16], line[SMTP_LINE_MAX + 1];
	snprintf(ids, sizeof(ids), "%u", a->cur_id);
	if (len > SMTP_LINE_MAX)
		len = SMTP_LINE_MAX;
	memcpy(line, b64, len);
	line[len] = '\0';
	const char *req[] = {"CONT", ids, line, NULL};
	if (send_strs(a, req) < 0)
		return;
	parse_reply(a, rep);
}

void smtpd_auth_cancel(struct smtpd_auth *a)
{
	if (a->fd < 0 || a->cur_id == 0)
		return;
	char ids[16];
	snprintf(ids, sizeof(ids), "%u", a->cur_id);
	const char *req[] = {"CANCEL", ids, NULL};
	send_strs(a, req);
	a->cur_id = 0;
}
