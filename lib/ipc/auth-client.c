/* auth-client.c: the client side of loft-auth's line protocol (docs/auth.md).
 * One reply parser serves a blocking form (mailstore and LMTP on auth-master:
 * one request at a time, poll() with a deadline) and an asynchronous form on
 * libevent (login daemons and smtpd: many AUTH exchanges on one connection). */
#include "auth-client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base64.h"
#include "buf.h"
#include "evloop.h"
#include "wire.h"

#define AC_MAX_MECHS   16
#define AC_MAX_PENDING 1024 /* the server's own limit on requests in flight */

/* ---- the reply parser (pure over decoded fields) ---- */

/* A key=value field: the value when the key matches, else NULL. */
static const char *ac_field_value(const struct wire_field *f, const char *key)
{
	size_t kl = strlen(key);
	if (f->len > kl && memcmp(f->p, key, kl) == 0 && f->p[kl] == '=')
		return f->p + kl + 1;
	return NULL;
}

/* The user record of USER / OK-after-REDEEM: all five fields required. */
static int ac_parse_userrec(const struct wire_field *f, int n, struct auth_client_reply *rep)
{
	const char *uid = NULL, *gid = NULL;
	for (int i = 2; i < n; i++) {
		const char *v;
		if ((v = ac_field_value(&f[i], "user")) != NULL)
			rep->user = v;
		else if ((v = ac_field_value(&f[i], "uid")) != NULL)
			uid = v;
		else if ((v = ac_field_value(&f[i], "gid")) != NULL)
			gid = v;
		else if ((v = ac_field_value(&f[i], "home")) != NULL)
			rep->home = v;
		else if ((v = ac_field_value(&f[i], "mail")) != NULL)
			rep->mail = v;
		else if (wire_field_eq(&f[i], "home="))
			rep->home = "";
		else if (wire_field_eq(&f[i], "mail="))
			rep->mail = "";
	}
	uint32_t u, g;
	if (rep->user == NULL || rep->user[0] == '\0' || uid == NULL || gid == NULL ||
	    wire_parse_u32(uid, strlen(uid), UINT32_MAX, &u) < 0 ||
	    wire_parse_u32(gid, strlen(gid), UINT32_MAX, &g) < 0)
		return -1;
	rep->uid = (uid_t)u;
	rep->gid = (gid_t)g;
	if (rep->home == NULL)
		rep->home = "";
	if (rep->mail == NULL)
		rep->mail = "";
	return 0;
}

/* Parse one reply line f[0..n) (fields NUL-terminated, as wire_decode leaves
 * them). String members of rep point into the fields; a CONT challenge is
 * decoded into chal (room for BASE64_DECODED_MAX of the field). Returns 0 with
 * *id_r, or -1 for a line that is not a valid reply. */
static int ac_parse_reply(const struct wire_field *f, int n, uint32_t *id_r,
                          struct auth_client_reply *rep, unsigned char *chal)
{
	memset(rep, 0, sizeof(*rep));
	if (n < 2 || wire_parse_u32(f[1].p, f[1].len, UINT32_MAX, id_r) < 0 || *id_r == 0)
		return -1;
	if (wire_field_eq(&f[0], "CONT")) {
		rep->result = AUTH_CLIENT_CONTINUE;
		rep->challenge = chal;
		if (n == 2)
			return 0;
		if (n != 3 || base64_decode(f[2].p, f[2].len, chal, &rep->challenge_len) < 0)
			return -1;
		return 0;
	}
	if (wire_field_eq(&f[0], "NOTFOUND")) {
		rep->result = AUTH_CLIENT_NOTFOUND;
		return n == 2 ? 0 : -1;
	}
	if (wire_field_eq(&f[0], "FAIL")) {
		rep->result = AUTH_CLIENT_FAIL;
		rep->reason = "";
		for (int i = 2; i < n; i++) {
			const char *v = ac_field_value(&f[i], "reason");
			const char *d = ac_field_value(&f[i], "delay");
			uint32_t ms;
			if (v != NULL)
				rep->reason = v;
			else if (wire_field_eq(&f[i], "temp"))
				rep->result = AUTH_CLIENT_TEMPFAIL;
			else if (d != NULL &&
			         wire_parse_u32(d, strlen(d), AUTH_CLIENT_DELAY_MAX, &ms) == 0)
				rep->delay_ms = ms;
		}
		return 0;
	}
	if (wire_field_eq(&f[0], "USER")) {
		rep->result = AUTH_CLIENT_OK;
		return ac_parse_userrec(f, n, rep);
	}
	if (wire_field_eq(&f[0], "OK")) {
		rep->result = AUTH_CLIENT_OK;
		for (int i = 2; i < n; i++)
			if ((rep->token = ac_field_value(&f[i], "token")) != NULL)
				break;
		if (rep->token != NULL) { /* after AUTH */
			for (int i = 2; i < n; i++)
				if ((rep->user = ac_field_value(&f[i], "user")) != NULL)
					break;
			return rep->user != NULL && rep->user[0] != '\0' ? 0 : -1;
		}
		return ac_parse_userrec(f, n, rep); /* after REDEEM */
	}
	return -1;
}

/* ---- blocking ---- */

static long long ac_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline; 1 ready, 0 timeout, -1 error. */
static int ac_wait(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - ac_now_ms();
		if (left <= 0)
			return 0;
		struct pollfd pfd = {.fd = fd, .events = events};
		int r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r > 0)
			return 1;
	}
}

/* Next line on c before the deadline: field count, or -1 (EOF, timeout,
 * malformed line) with *err_r. */
static int ac_read_line(struct wire_conn *c, struct wire_field *f, long long deadline,
                        const char **err_r)
{
	for (;;) {
		int n = wire_conn_next(c, f, WIRE_MAX_FIELDS);
		if (n < 0) {
			*err_r = "malformed line from auth";
			return -1;
		}
		if (n > 0)
			return n;
		int w = ac_wait(c->fd, POLLIN, deadline);
		if (w <= 0) {
			*err_r = w == 0 ? "timeout waiting for auth" : "poll failed";
			return -1;
		}
		ssize_t r = wire_conn_read(c);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (r <= 0) {
			*err_r = r == 0 ? "auth closed the connection" : "read from auth failed";
			return -1;
		}
	}
}

static int ac_unix_connect(const char *path, int timeout_ms, const char **err_r)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*err_r = "auth socket path too long";
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		*err_r = "socket() failed";
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		/* A full backlog on a UNIX socket gives EAGAIN: wait for room. */
		if (errno != EAGAIN && errno != EINPROGRESS) {
			*err_r = "cannot connect to auth";
			close(fd);
			return -1;
		}
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (ac_wait(fd, POLLOUT, ac_now_ms() + timeout_ms) <= 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
			*err_r = "cannot connect to auth";
			close(fd);
			return -1;
		}
	}
	return fd;
}

int auth_client_connect(const char *socket_path, int timeout_ms, const char **err_r)
{
	long long deadline = ac_now_ms() + timeout_ms;
	int fd = ac_unix_connect(socket_path, timeout_ms, err_r);
	if (fd < 0)
		return -1;
	struct buf out;
	buf_init(&out, 256);
	if (wire_encode_version(&out, "auth", 1, 0) < 0 ||
	    wire_send(fd, out.data, out.len, NULL, 0) < 0) {
		buf_free(&out);
		*err_r = "cannot write to auth";
		close(fd);
		return -1;
	}
	buf_free(&out);
	/* VERSION, then MECH lines (ignored here), then DONE. */
	struct wire_conn c;
	wire_conn_init(&c, fd);
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = ac_read_line(&c, f, deadline, err_r);
	if (n > 0 && wire_check_version(f, n, "auth", 1) < 0) {
		*err_r = "auth speaks another protocol version";
		n = -1;
	}
	while (n > 0) {
		n = ac_read_line(&c, f, deadline, err_r);
		if (n > 0 && wire_field_eq(&f[0], "DONE"))
			break;
		if (n > 0 && !wire_field_eq(&f[0], "MECH")) {
			*err_r = "unexpected line in auth handshake";
			n = -1;
		}
	}
	wire_conn_clear(&c);
	if (n < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Copy the reply's strings into one malloc'd block so they outlive the line. */
static int ac_copy_reply(struct auth_client_reply *rep, char **store)
{
	const char **strs[] = {&rep->reason, &rep->user, &rep->token, &rep->home, &rep->mail};
	size_t total = 1;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (*strs[i] != NULL)
			total += strlen(*strs[i]) + 1;
	char *blk = malloc(total), *w = blk;
	if (blk == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (*strs[i] == NULL)
			continue;
		size_t l = strlen(*strs[i]) + 1;
		memcpy(w, *strs[i], l);
		*strs[i] = w;
		w += l;
	}
	rep->challenge = NULL;
	rep->challenge_len = 0;
	*store = blk;
	return 0;
}

/* One request line (built from strs), then wait for the reply with id 1. */
static int ac_blocking_request(int fd, const char *const *strs, int timeout_ms,
                               struct auth_client_reply *rep, char **store)
{
	*store = NULL;
	long long deadline = ac_now_ms() + timeout_ms;
	struct buf out;
	buf_init(&out, WIRE_MAX_LINE);
	int r = wire_encode_strs(&out, strs);
	if (r == 0)
		r = wire_send(fd, out.data, out.len, NULL, 0);
	buf_free(&out);
	if (r < 0)
		return -1;
	struct wire_conn c;
	wire_conn_init(&c, fd);
	struct wire_field f[WIRE_MAX_FIELDS];
	const char *err;
	int ret = -1;
	int n = ac_read_line(&c, f, deadline, &err);
	uint32_t id;
	/* A blocking connection has only this request in flight (id 1). */
	if (n > 0 && !wire_field_eq(&f[0], "CONT") && ac_parse_reply(f, n, &id, rep, NULL) == 0 &&
	    id == 1)
		ret = ac_copy_reply(rep, store);
	wire_conn_clear(&c);
	if (ret < 0)
		memset(rep, 0, sizeof(*rep));
	return ret;
}

int auth_client_user(int fd, const char *name, int timeout_ms, struct auth_client_reply *rep,
                     char **store)
{
	const char *strs[] = {"USER", "1", name, NULL};
	return ac_blocking_request(fd, strs, timeout_ms, rep, store);
}

int auth_client_redeem(int fd, const char *token, const char *service, int timeout_ms,
                       struct auth_client_reply *rep, char **store)
{
	struct buf svc;
	buf_init(&svc, 512);
	if (buf_printf(&svc, "service=%s", service) < 0) {
		buf_free(&svc);
		return -1;
	}
	const char *strs[] = {"REDEEM", "1", token, svc.data, NULL};
	int r = ac_blocking_request(fd, strs, timeout_ms, rep, store);
	buf_free(&svc);
	return r;
}

/* ---- asynchronous ---- */

struct ac_req {
	uint32_t id; /* 0 = free slot */
	bool dead;   /* the connection went away: answer TEMPFAIL */
	auth_client_cb *cb;
	void *ctx;
};

struct auth_client {
	struct event_base *base;
	char *path;
	int fd;
	struct wire_conn conn;
	struct event *ev_read;
	struct event *ev_fail; /* deferred TEMPFAIL answers, never from inside a call */
	char *mech_names[AC_MAX_MECHS];
	const char *mech_ptrs[AC_MAX_MECHS];
	bool mech_plain[AC_MAX_MECHS];
	size_t nmechs;
	struct ac_req *reqs;
	size_t nreqs;
	uint32_t next_id;
	unsigned char *chal;
	int busy; /* callbacks running: a free() in one is deferred */
	bool dying;
};

static void ac_read_cb(evutil_socket_t fd, short what, void *arg);
static void ac_destroy(struct auth_client *ac);

static void ac_mechs_clear(struct auth_client *ac)
{
	for (size_t i = 0; i < ac->nmechs; i++)
		free(ac->mech_names[i]);
	ac->nmechs = 0;
}

/* Connect and read the handshake synchronously: auth is local and sends it at
 * once, so this costs a few microseconds and gives the mechanism list before
 * the first client asks for it. 0 or -1. */
static int ac_connect(struct auth_client *ac)
{
	const char *err;
	long long deadline = ac_now_ms() + 2000;
	int fd = ac_unix_connect(ac->path, 2000, &err);
	if (fd < 0)
		return -1;
	struct buf out;
	buf_init(&out, 256);
	int r = wire_encode_version(&out, "auth", 1, 0);
	if (r == 0)
		r = wire_send(fd, out.data, out.len, NULL, 0);
	buf_free(&out);
	wire_conn_init(&ac->conn, fd);
	ac_mechs_clear(ac);
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = r < 0 ? -1 : ac_read_line(&ac->conn, f, deadline, &err);
	if (n > 0 && wire_check_version(f, n, "auth", 1) < 0)
		n = -1;
	while (n > 0) {
		n = ac_read_line(&ac->conn, f, deadline, &err);
		if (n <= 0 || wire_field_eq(&f[0], "DONE"))
			break;
		if (!wire_field_eq(&f[0], "MECH") || n < 2) {
			n = -1;
			break;
		}
		if (ac->nmechs < AC_MAX_MECHS) {
			char *name = strdup(f[1].p);
			if (name == NULL) {
				n = -1;
				break;
			}
			ac->mech_names[ac->nmechs] = name;
			ac->mech_ptrs[ac->nmechs] = name;
			ac->mech_plain[ac->nmechs] = n >= 3 && wire_field_eq(&f[2], "plaintext");
			ac->nmechs++;
		}
	}
	if (n <= 0 || (ac->ev_read = evloop_add_read(ac->base, fd, ac_read_cb, ac)) == NULL) {
		wire_conn_clear(&ac->conn);
		close(fd);
		return -1;
	}
	ac->fd = fd;
	return 0;
}

static void ac_schedule_fail(struct auth_client *ac)
{
	if (!evtimer_pending(ac->ev_fail, NULL)) {
		struct timeval tv = {0, 0};
		evtimer_add(ac->ev_fail, &tv);
	}
}

/* The connection is gone: every request in flight gets TEMPFAIL (deferred). */
static void ac_disconnect(struct auth_client *ac)
{
	if (ac->fd >= 0) {
		event_free(ac->ev_read);
		ac->ev_read = NULL;
		wire_conn_clear(&ac->conn);
		close(ac->fd);
		ac->fd = -1;
	}
	bool any = false;
	for (size_t i = 0; i < ac->nreqs; i++)
		if (ac->reqs[i].id != 0) {
			ac->reqs[i].dead = true;
			any = true;
		}
	if (any)
		ac_schedule_fail(ac);
}

static struct ac_req *ac_find(struct auth_client *ac, uint32_t id)
{
	for (size_t i = 0; i < ac->nreqs; i++)
		if (ac->reqs[i].id == id)
			return &ac->reqs[i];
	return NULL;
}

/* Call a request's callback; final replies free its slot first, so the
 * callback may start new requests. */
static void ac_deliver(struct auth_client *ac, struct ac_req *rq,
                       const struct auth_client_reply *rep)
{
	auth_client_cb *cb = rq->cb;
	void *ctx = rq->ctx;
	if (rep->result != AUTH_CLIENT_CONTINUE)
		rq->id = 0;
	ac->busy++;
	cb(rep, ctx);
	ac->busy--;
}

static void ac_fail_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct auth_client *ac = arg;
	struct auth_client_reply rep = {.result = AUTH_CLIENT_TEMPFAIL,
	                                .reason = "auth unavailable"};
	for (size_t i = 0; i < ac->nreqs && !ac->dying; i++)
		if (ac->reqs[i].id != 0 && ac->reqs[i].dead)
			ac_deliver(ac, &ac->reqs[i], &rep);
	if (ac->dying)
		ac_destroy(ac);
}

static void ac_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct auth_client *ac = arg;
	ssize_t r = wire_conn_read(&ac->conn);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (r <= 0) {
		ac_disconnect(ac);
		return;
	}
	struct wire_field f[WIRE_MAX_FIELDS];
	int n;
	while (!ac->dying && ac->fd >= 0 &&
	       (n = wire_conn_next(&ac->conn, f, WIRE_MAX_FIELDS)) != 0) {
		uint32_t id;
		struct auth_client_reply rep;
		if (n < 0 || ac_parse_reply(f, n, &id, &rep, ac->chal) < 0) {
			ac_disconnect(ac); /* a broken server: nothing it says can be trusted */
			break;
		}
		struct ac_req *rq = ac_find(ac, id);
		if (rq != NULL && !rq->dead)
			ac_deliver(ac, rq, &rep);
	}
	if (ac->dying)
		ac_destroy(ac);
}

struct auth_client *auth_client_new(struct event_base *base, const char *socket_path)
{
	struct auth_client *ac = calloc(1, sizeof(*ac));
	if (ac == NULL)
		return NULL;
	ac->base = base;
	ac->fd = -1;
	ac->next_id = 1;
	ac->path = strdup(socket_path);
	ac->chal = malloc(BASE64_DECODED_MAX(WIRE_MAX_LINE) + 1);
	ac->reqs = calloc(AC_MAX_PENDING, sizeof(*ac->reqs));
	ac->ev_fail = evtimer_new(base, ac_fail_cb, ac);
	if (ac->path == NULL || ac->chal == NULL || ac->reqs == NULL || ac->ev_fail == NULL) {
		ac_destroy(ac);
		return NULL;
	}
	/* Not reachable now is fine: the first request tries again. */
	(void)ac_connect(ac);
	return ac;
}

static void ac_destroy(struct auth_client *ac)
{
	if (ac->fd >= 0) {
		event_free(ac->ev_read);
		wire_conn_clear(&ac->conn);
		close(ac->fd);
	}
	if (ac->ev_fail != NULL)
		event_free(ac->ev_fail);
	ac_mechs_clear(ac);
	free(ac->path);
	free(ac->chal);
	free(ac->reqs);
	free(ac);
}

void auth_client_free(struct auth_client *ac)
{
	if (ac == NULL || ac->dying)
		return;
	ac->dying = true;
	struct auth_client_reply rep = {.result = AUTH_CLIENT_TEMPFAIL,
	                                .reason = "auth client closed"};
	for (size_t i = 0; i < ac->nreqs; i++)
		if (ac->reqs[i].id != 0)
			ac_deliver(ac, &ac->reqs[i], &rep);
	if (ac->busy == 0)
		ac_destroy(ac);
}

size_t auth_client_mechs(const struct auth_client *ac, const char *const **names_r,
                         const bool **plaintext_r)
{
	*names_r = ac->mech_ptrs;
	*plaintext_r = ac->mech_plain;
	return ac->nmechs;
}

/* A free slot and a fresh id; NULL when AC_MAX_PENDING are in flight. */
static struct ac_req *ac_new_req(struct auth_client *ac)
{
	struct ac_req *slot = NULL;
	for (size_t i = 0; i < ac->nreqs && slot == NULL; i++)
		if (ac->reqs[i].id == 0)
			slot = &ac->reqs[i];
	if (slot == NULL && ac->nreqs < AC_MAX_PENDING)
		slot = &ac->reqs[ac->nreqs++];
	if (slot == NULL)
		return NULL;
	do {
		slot->id = ac->next_id++;
		if (ac->next_id == 0)
			ac->next_id = 1;
	} while (slot->id == 0 || ac_find(ac, slot->id) != slot);
	slot->dead = false;
	return slot;
}

/* Send one line; on failure the connection is dropped (requests TEMPFAIL). */
static void ac_send(struct auth_client *ac, struct buf *line)
{
	if (ac->fd >= 0 && wire_send(ac->fd, line->data, line->len, NULL, 0) < 0)
		ac_disconnect(ac);
}

uint32_t auth_client_auth(struct auth_client *ac, const char *mech, const char *service,
                          const char *rip, const char *lip, bool secured, const unsigned char *resp,
                          size_t resp_len, bool has_resp, auth_client_cb *cb, void *ctx)
{
	if (ac->dying || cb == NULL)
		return 0;
	struct ac_req *rq = ac_new_req(ac);
	if (rq == NULL)
		return 0;
	rq->cb = cb;
	rq->ctx = ctx;
	uint32_t id = rq->id;
	struct buf line, b64;
	buf_init(&line, WIRE_MAX_LINE);
	buf_init(&b64, WIRE_MAX_LINE);
	char idstr[16];
	snprintf(idstr, sizeof(idstr), "%u", (unsigned)id);
	struct wire_field f[9];
	size_t n = 0;
	f[n++] = (struct wire_field){"AUTH", 4};
	f[n++] = (struct wire_field){idstr, strlen(idstr)};
	f[n++] = (struct wire_field){mech, strlen(mech)};
	size_t mark = b64.len;
	int r = buf_printf(&b64, "service=%s", service);
	f[n++] = (struct wire_field){b64.data + mark, b64.len - mark};
	/* Offsets, not pointers: b64 may move while it grows. */
	size_t off[3], len[3], k = 0;
	if (rip != NULL && rip[0] != '\0') {
		off[k] = b64.len;
		r |= buf_printf(&b64, "rip=%s", rip);
		len[k] = b64.len - off[k], k++;
	}
	if (lip != NULL && lip[0] != '\0') {
		off[k] = b64.len;
		r |= buf_printf(&b64, "lip=%s", lip);
		len[k] = b64.len - off[k], k++;
	}
	if (has_resp) {
		off[k] = b64.len;
		r |= buf_append_str(&b64, "resp=");
		r |= base64_encode(&b64, resp, resp_len);
		len[k] = b64.len - off[k], k++;
	}
	size_t first = n;
	for (size_t i = 0; i < k; i++)
		f[n++] = (struct wire_field){NULL, len[i]};
	if (secured)
		f[n++] = (struct wire_field){"secured", 7};
	/* Failures come back at once with delay=: the caller waits them out,
	 * so no request sits in auth's table for the throttle delay. */
	f[n++] = (struct wire_field){"client-delay", 12};
	if (r == 0) {
		f[3].p = b64.data;
		for (size_t i = 0; i < k; i++)
			f[first + i].p = b64.data + off[i];
		r = wire_encode(&line, f, n);
	}
	if (r < 0) {
		rq->id = 0;
		id = 0;
	} else if (ac->fd < 0 && ac_connect(ac) < 0) {
		rq->dead = true;
		ac_schedule_fail(ac);
	} else {
		ac_send(ac, &line);
	}
	buf_free(&line);
	buf_free(&b64);
	return id;
}

int auth_client_cont(struct auth_client *ac, uint32_t id, const unsigned char *resp,
                     size_t resp_len)
{
	struct ac_req *rq = id != 0 ? ac_find(ac, id) : NULL;
	if (rq == NULL || rq->dead || ac->fd < 0)
		return -1;
	struct buf b64, line;
	buf_init(&b64, WIRE_MAX_LINE);
	buf_init(&line, WIRE_MAX_LINE);
	char idstr[16];
	snprintf(idstr, sizeof(idstr), "%u", (unsigned)id);
	int r = base64_encode(&b64, resp, resp_len);
	if (r == 0) {
		struct wire_field f[3] = {
		    {"CONT", 4}, {idstr, strlen(idstr)}, {b64.len ? b64.data : "", b64.len}};
		r = wire_encode(&line, f, 3);
	}
	if (r == 0)
		ac_send(ac, &line);
	buf_free(&b64);
	buf_free(&line);
	return r;
}

void auth_client_cancel(struct auth_client *ac, uint32_t id)
{
	struct ac_req *rq = id != 0 ? ac_find(ac, id) : NULL;
	if (rq == NULL)
		return;
	bool dead = rq->dead;
	rq->id = 0;
	if (dead || ac->fd < 0)
		return;
	char idstr[16];
	snprintf(idstr, sizeof(idstr), "%u", (unsigned)id);
	const char *strs[] = {"CANCEL", idstr, NULL};
	struct buf line;
	buf_init(&line, 64);
	if (wire_encode_strs(&line, strs) == 0)
		ac_send(ac, &line);
	buf_free(&line);
}
