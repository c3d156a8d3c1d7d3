/* queue-record.c: encoding and strict decoding of spool and state files
 * (format in queue-record.h and docs/queue.md). Pure functions over buffers,
 * used by the spool store, the queue manager and the fuzzer. */
#include "queue-record.h"

#include <stdlib.h>
#include <string.h>

/* Nibble table: small enough to keep const, fast enough for spool bodies. */
static const uint32_t crc_nibble[16] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
    0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t queue_crc32(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *s = p;
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= s[i];
		crc = (crc >> 4) ^ crc_nibble[crc & 0xf];
		crc = (crc >> 4) ^ crc_nibble[crc & 0xf];
	}
	return ~crc;
}

int queue_text_ok(const char *p, size_t n, size_t max)
{
	if (n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
			return 0;
	}
	return 1;
}

static uint32_t get_u32(const char *p)
{
	const unsigned char *s = (const unsigned char *)p;
	return (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
}

static uint64_t get_u64(const char *p)
{
	return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

static void put_u32(unsigned char *s, uint32_t v)
{
	s[0] = (unsigned char)(v >> 24);
	s[1] = (unsigned char)(v >> 16);
	s[2] = (unsigned char)(v >> 8);
	s[3] = (unsigned char)v;
}

static void put_u64(unsigned char *s, uint64_t v)
{
	put_u32(s, (uint32_t)(v >> 32));
	put_u32(s + 4, (uint32_t)v);
}

/* Largest payload per type, and whether the size is exact; 0 = unknown. */
static size_t rec_max(uint8_t type, int *exact_r)
{
	*exact_r = 0;
	switch (type) {
	case QREC_VERSION:
	case QREC_END:
		*exact_r = 1;
		return 4;
	case QREC_ID:
		*exact_r = 1;
		return QUEUE_ID_LEN;
	case QREC_ARRIVAL:
		*exact_r = 1;
		return 8;
	case QREC_SENDER:
	case QREC_RCPT:
		return QUEUE_ADDR_MAX;
	case QREC_HELO:
	case QREC_CLIENT_ADDR:
	case QREC_AUTH_USER:
		return QUEUE_TEXT_MAX;
	case QREC_DSN_ENV:
	case QREC_RCPT_DSN:
		return QUEUE_DSN_MAX;
	case QREC_BODY:
		return QUEUE_BODY_CHUNK;
	case QREC_RSTATE:
		return QUEUE_RSTATE_FIXED + QUEUE_ERROR_MAX;
	default:
		return 0;
	}
}

int queue_rec_next(const char *p, size_t len, size_t *pos, struct queue_rec *r,
                   const char **error_r)
{
	size_t left = len - *pos;
	int exact;
	if (left == 0)
		return 0;
	if (left < QUEUE_REC_HDR) {
		*error_r = "truncated record header";
		return -1;
	}
	r->type = (uint8_t)p[*pos];
	r->len = get_u32(p + *pos + 1);
	size_t max = rec_max(r->type, &exact);
	if (max == 0) {
		*error_r = "unknown record type";
		return -1;
	}
	if (r->len > max) {
		*error_r = "oversized record";
		return -1;
	}
	if (exact && r->len != max) {
		*error_r = "bad record length";
		return -1;
	}
	if (r->len > left - QUEUE_REC_HDR) {
		*error_r = "truncated record";
		return -1;
	}
	r->p = p + *pos + QUEUE_REC_HDR;
	*pos += QUEUE_REC_HDR + r->len;
	return 1;
}

static int put_hdr(struct buf *out, uint8_t type, size_t n)
{
	unsigned char hdr[QUEUE_REC_HDR];
	hdr[0] = type;
	put_u32(hdr + 1, (uint32_t)n);
	return buf_append(out, hdr, sizeof(hdr));
}

static int put_rec(struct buf *out, uint8_t type, const void *p, size_t n)
{
	if (put_hdr(out, type, n) < 0)
		return -1;
	return n == 0 ? 0 : buf_append(out, p, n);
}

static int put_text(struct buf *out, uint8_t type, const char *s, size_t max, const char **error_r)
{
	size_t n = strlen(s);
	if (!queue_text_ok(s, n, max)) {
		*error_r = "envelope text too long or has CR, LF or NUL";
		return -1;
	}
	if (put_rec(out, type, s, n) < 0) {
		*error_r = "spool record buffer full";
		return -1;
	}
	return 0;
}

static int put_opt(struct buf *out, uint8_t type, const char *s, size_t max, const char **error_r)
{
	return s == NULL ? 0 : put_text(out, type, s, max, error_r);
}

static int put_head_fixed(const struct queue_msg *m, struct buf *out, const char **error_r)
{
	unsigned char v[8];
	if (!queue_id_valid(m->id, strlen(m->id))) {
		*error_r = "invalid queue id";
		return -1;
	}
	put_u32(v, QUEUE_FORMAT_VERSION);
	if (put_rec(out, QREC_VERSION, v, 4) < 0 || put_rec(out, QREC_ID, m->id, QUEUE_ID_LEN) < 0)
		goto full;
	put_u64(v, (uint64_t)m->arrival);
	if (put_rec(out, QREC_ARRIVAL, v, 8) < 0)
		goto full;
	return 0;
full:
	*error_r = "spool record buffer full";
	return -1;
}

int queue_msg_encode_head(const struct queue_msg *m, struct buf *out, const char **error_r)
{
	if (m->nrcpt == 0 || m->nrcpt > QUEUE_RCPT_MAX) {
		*error_r = "bad number of recipients";
		return -1;
	}
	if (put_head_fixed(m, out, error_r) < 0 ||
	    put_text(out, QREC_SENDER, m->sender != NULL ? m->sender : "", QUEUE_ADDR_MAX,
	             error_r) < 0 ||
	    put_opt(out, QREC_HELO, m->helo, QUEUE_TEXT_MAX, error_r) < 0 ||
	    put_opt(out, QREC_CLIENT_ADDR, m->client_addr, QUEUE_TEXT_MAX, error_r) < 0 ||
	    put_opt(out, QREC_AUTH_USER, m->auth_user, QUEUE_TEXT_MAX, error_r) < 0 ||
	    put_opt(out, QREC_DSN_ENV, m->dsn_env, QUEUE_DSN_MAX, error_r) < 0)
		return -1;
	for (size_t i = 0; i < m->nrcpt; i++) {
		if (m->rcpts[i].addr == NULL) {
			*error_r = "recipient without address";
			return -1;
		}
		if (put_text(out, QREC_RCPT, m->rcpts[i].addr, QUEUE_ADDR_MAX, error_r) < 0 ||
		    put_opt(out, QREC_RCPT_DSN, m->rcpts[i].dsn, QUEUE_DSN_MAX, error_r) < 0)
			return -1;
	}
	return 0;
}

int queue_encode_body_chunk(const char *p, size_t n, struct buf *out)
{
	if (n == 0 || n > QUEUE_BODY_CHUNK)
		return -1;
	return put_rec(out, QREC_BODY, p, n);
}

int queue_encode_end(uint32_t crc, struct buf *out)
{
	unsigned char v[4];
	put_u32(v, crc);
	return put_rec(out, QREC_END, v, 4);
}

int queue_msg_encode(const struct queue_msg *m, const char *body, size_t body_len, struct buf *out,
                     const char **error_r)
{
	size_t start = out->len;
	if (queue_msg_encode_head(m, out, error_r) < 0)
		return -1;
	for (size_t off = 0; off < body_len; off += QUEUE_BODY_CHUNK) {
		size_t n = body_len - off < QUEUE_BODY_CHUNK ? body_len - off : QUEUE_BODY_CHUNK;
		if (queue_encode_body_chunk(body + off, n, out) < 0) {
			*error_r = "spool record buffer full";
			return -1;
		}
	}
	if (queue_encode_end(queue_crc32(0, out->data + start, out->len - start), out) < 0) {
		*error_r = "spool record buffer full";
		return -1;
	}
	return 0;
}

static char *dup_text(const struct queue_rec *r, size_t max, const char **error_r)
{
	if (!queue_text_ok(r->p, r->len, max)) {
		*error_r = "envelope text has CR, LF or NUL";
		return NULL;
	}
	char *s = malloc((size_t)r->len + 1);
	if (s == NULL) {
		*error_r = "out of memory";
		return NULL;
	}
	memcpy(s, r->p, r->len);
	s[r->len] = '\0';
	return s;
}

void queue_msg_free(struct queue_msg *m)
{
	for (size_t i = 0; i < m->nrcpt; i++) {
		free(m->rcpts[i].addr);
		free(m->rcpts[i].dsn);
		free(m->rcpts[i].error);
	}
	free(m->rcpts);
	free(m->sender);
	free(m->helo);
	free(m->client_addr);
	free(m->auth_user);
	free(m->dsn_env);
	free(m->raw);
	memset(m, 0, sizeof(*m));
}

/* The fixed records every file starts with: VERSION then ID. */
static int dec_prologue(const char *p, size_t len, size_t *pos, char id_r[QUEUE_ID_LEN + 1],
                        const char **error_r)
{
	struct queue_rec r;
	if (queue_rec_next(p, len, pos, &r, error_r) <= 0 || r.type != QREC_VERSION) {
		*error_r = *pos == 0 && len == 0 ? "empty file" : "no version record first";
		return -1;
	}
	if (get_u32(r.p) != QUEUE_FORMAT_VERSION) {
		*error_r = "unsupported spool format version";
		return -1;
	}
	if (queue_rec_next(p, len, pos, &r, error_r) <= 0 || r.type != QREC_ID ||
	    !queue_id_valid(r.p, r.len)) {
		*error_r = "no valid queue id record";
		return -1;
	}
	memcpy(id_r, r.p, QUEUE_ID_LEN);
	id_r[QUEUE_ID_LEN] = '\0';
	return 0;
}

/* The END record at *pos must check the bytes before it and be the last. */
static int dec_end(const char *p, size_t len, size_t end_pos, const struct queue_rec *r,
                   const char **error_r)
{
	if (get_u32(r->p) != queue_crc32(0, p, end_pos)) {
		*error_r = "checksum mismatch";
		return -1;
	}
	if (end_pos + QUEUE_REC_HDR + 4 != len) {
		*error_r = "bytes after the end record";
		return -1;
	}
	return 0;
}

static char **client_field(struct queue_msg *m, uint8_t type)
{
	switch (type) {
	case QREC_HELO:
		return &m->helo;
	case QREC_CLIENT_ADDR:
		return &m->client_addr;
	case QREC_AUTH_USER:
		return &m->auth_user;
	default:
		return &m->dsn_env;
	}
}

static int dec_rcpt(struct queue_msg *m, const struct queue_rec *r, size_t *cap,
                    const char **error_r)
{
	if (m->nrcpt == QUEUE_RCPT_MAX) {
		*error_r = "too many recipients";
		return -1;
	}
	if (m->nrcpt == *cap) {
		size_t ncap = *cap == 0 ? 4 : *cap * 2;
		struct queue_rcpt *n = realloc(m->rcpts, ncap * sizeof(*n));
		if (n == NULL) {
			*error_r = "out of memory";
			return -1;
		}
		m->rcpts = n;
		*cap = ncap;
	}
	struct queue_rcpt *rc = &m->rcpts[m->nrcpt];
	memset(rc, 0, sizeof(*rc));
	rc->addr = dup_text(r, QUEUE_ADDR_MAX, error_r);
	if (rc->addr == NULL)
		return -1;
	m->nrcpt++;
	return 0;
}

/* Whether a record of type t may follow one of type last (canonical order:
 * see queue-record.h); last_len is the previous record's length. */
static int dec_order_ok(uint8_t last, uint32_t last_len, uint8_t t)
{
	switch (t) {
	case QREC_ARRIVAL:
		return last == QREC_ID;
	case QREC_SENDER:
		return last == QREC_ARRIVAL;
	case QREC_HELO:
	case QREC_CLIENT_ADDR:
	case QREC_AUTH_USER:
	case QREC_DSN_ENV:
		return last >= QREC_SENDER && last < t;
	case QREC_RCPT:
		return last >= QREC_SENDER && last <= QREC_RCPT_DSN;
	case QREC_RCPT_DSN:
		return last == QREC_RCPT;
	case QREC_BODY:
		return last == QREC_RCPT || last == QREC_RCPT_DSN ||
		       (last == QREC_BODY && last_len == QUEUE_BODY_CHUNK);
	case QREC_END:
		return last == QREC_RCPT || last == QREC_RCPT_DSN || last == QREC_BODY;
	default:
		return 0;
	}
}

static int dec_one(const char *p, struct queue_msg *m, const struct queue_rec *r, size_t *cap,
                   const char **error_r)
{
	switch (r->type) {
	case QREC_ARRIVAL:
		m->arrival = (int64_t)get_u64(r->p);
		return 0;
	case QREC_SENDER:
		m->sender = dup_text(r, QUEUE_ADDR_MAX, error_r);
		return m->sender == NULL ? -1 : 0;
	case QREC_HELO:
	case QREC_CLIENT_ADDR:
	case QREC_AUTH_USER:
	case QREC_DSN_ENV: {
		char **f = client_field(m, r->type);
		*f = dup_text(r, r->type == QREC_DSN_ENV ? QUEUE_DSN_MAX : QUEUE_TEXT_MAX, error_r);
		return *f == NULL ? -1 : 0;
	}
	case QREC_RCPT:
		return dec_rcpt(m, r, cap, error_r);
	case QREC_RCPT_DSN:
		m->rcpts[m->nrcpt - 1].dsn = dup_text(r, QUEUE_DSN_MAX, error_r);
		return m->rcpts[m->nrcpt - 1].dsn == NULL ? -1 : 0;
	case QREC_BODY:
		if (r->len == 0) {
			*error_r = "empty body record";
			return -1;
		}
		if (m->body_len == 0)
			m->body_off = (size_t)(r->p - QUEUE_REC_HDR - p);
		m->body_len += r->len;
		return 0;
	default:
		*error_r = "record type not allowed in a spool file";
		return -1;
	}
}

int queue_msg_decode(const char *p, size_t len, struct queue_msg *m, const char **error_r)
{
	struct queue_rec r;
	size_t pos = 0, cap = 0, rec_pos;
	uint8_t last = QREC_ID;
	uint32_t last_len = 0;
	int rc;
	memset(m, 0, sizeof(*m));
	if (dec_prologue(p, len, &pos, m->id, error_r) < 0)
		return -1;
	for (;;) {
		rec_pos = pos;
		rc = queue_rec_next(p, len, &pos, &r, error_r);
		if (rc < 0)
			goto fail;
		if (rc == 0) {
			*error_r = "no end record (incomplete file)";
			goto fail;
		}
		if (!dec_order_ok(last, last_len, r.type)) {
			*error_r = "record out of order";
			goto fail;
		}
		if (r.type == QREC_END)
			break;
		if (dec_one(p, m, &r, &cap, error_r) < 0)
			goto fail;
		last = r.type;
		last_len = r.len;
	}
	if (dec_end(p, len, rec_pos, &r, error_r) < 0)
		goto fail;
	if (m->body_len == 0)
		m->body_off = rec_pos;
	m->file_len = len;
	return 0;
fail:
	queue_msg_free(m);
	return -1;
}

int queue_body_next(const char *p, size_t len, size_t *pos, const char **chunk_r, size_t *n_r)
{
	struct queue_rec r;
	const char *err;
	size_t at = *pos;
	if (queue_rec_next(p, len, &at, &r, &err) <= 0 || r.type != QREC_BODY)
		return 0;
	*pos = at;
	*chunk_r = r.p;
	*n_r = r.len;
	return 1;
}

int queue_state_encode(const char *id, const struct queue_rcpt *rcpts, size_t n, struct buf *out,
                       const char **error_r)
{
	unsigned char v[QUEUE_RSTATE_FIXED];
	size_t start = out->len;
	if (!queue_id_valid(id, strlen(id)) || n == 0 || n > QUEUE_RCPT_MAX) {
		*error_r = "invalid queue id or recipient count";
		return -1;
	}
	put_u32(v, QUEUE_FORMAT_VERSION);
	if (put_rec(out, QREC_VERSION, v, 4) < 0 || put_rec(out, QREC_ID, id, QUEUE_ID_LEN) < 0)
		goto full;
	for (size_t i = 0; i < n; i++) {
		const char *e = rcpts[i].error != NULL ? rcpts[i].error : "";
		size_t elen = strlen(e);
		if ((unsigned)rcpts[i].state > QUEUE_RCPT_DEFERRED ||
		    !queue_text_ok(e, elen, QUEUE_ERROR_MAX)) {
			*error_r = "bad recipient state or error text";
			return -1;
		}
		put_u32(v, (uint32_t)i);
		v[4] = (unsigned char)rcpts[i].state;
		put_u32(v + 5, rcpts[i].attempts);
		put_u64(v + 9, (uint64_t)rcpts[i].last_attempt);
		put_u64(v + 17, (uint64_t)rcpts[i].next_attempt);
		if (put_hdr(out, QREC_RSTATE, sizeof(v) + elen) < 0 ||
		    buf_append(out, v, sizeof(v)) < 0 || (elen > 0 && buf_append(out, e, elen) < 0))
			goto full;
	}
	if (queue_encode_end(queue_crc32(0, out->data + start, out->len - start), out) < 0)
		goto full;
	return 0;
full:
	*error_r = "state record buffer full";
	return -1;
}

static int dec_rstate(const struct queue_rec *r, size_t idx, struct queue_rcpt *t,
                      const char **error_r)
{
	if (r->type != QREC_RSTATE || r->len < QUEUE_RSTATE_FIXED || get_u32(r->p) != idx) {
		*error_r = "bad recipient state record";
		return -1;
	}
	if ((unsigned char)r->p[4] > QUEUE_RCPT_DEFERRED) {
		*error_r = "unknown recipient state";
		return -1;
	}
	t->state = (enum queue_rcpt_state)(unsigned char)r->p[4];
	t->attempts = get_u32(r->p + 5);
	t->last_attempt = (int64_t)get_u64(r->p + 9);
	t->next_attempt = (int64_t)get_u64(r->p + 17);
	t->error = NULL;
	if (r->len > QUEUE_RSTATE_FIXED) {
		struct queue_rec e = {r->type, r->p + QUEUE_RSTATE_FIXED,
		                      r->len - QUEUE_RSTATE_FIXED};
		t->error = dup_text(&e, QUEUE_ERROR_MAX, error_r);
		if (t->error == NULL)
			return -1;
	}
	return 0;
}

int queue_state_decode(const char *p, size_t len, const char *id, struct queue_rcpt *rcpts,
                       size_t n, const char **error_r)
{
	char fid[QUEUE_ID_LEN + 1];
	struct queue_rec r;
	size_t pos = 0, i = 0, rec_pos;
	struct queue_rcpt *tmp = calloc(n == 0 ? 1 : n, sizeof(*tmp));
	if (tmp == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	if (dec_prologue(p, len, &pos, fid, error_r) < 0)
		goto fail;
	if (id != NULL && strcmp(fid, id) != 0) {
		*error_r = "state file names another queue id";
		goto fail;
	}
	for (;;) {
		rec_pos = pos;
		int rc = queue_rec_next(p, len, &pos, &r, error_r);
		if (rc <= 0) {
			if (rc == 0)
				*error_r = "no end record (incomplete file)";
			goto fail;
		}
		if (r.type == QREC_END)
			break;
		if (i == n) {
			*error_r = "more states than recipients";
			goto fail;
		}
		if (dec_rstate(&r, i, &tmp[i], error_r) < 0)
			goto fail;
		i++;
	}
	if (i != n || n == 0) {
		*error_r = "fewer states than recipients";
		goto fail;
	}
	if (dec_end(p, len, rec_pos, &r, error_r) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		free(rcpts[i].error);
		rcpts[i].state = tmp[i].state;
		rcpts[i].attempts = tmp[i].attempts;
		rcpts[i].last_attempt = tmp[i].last_attempt;
		rcpts[i].next_attempt = tmp[i].next_attempt;
		rcpts[i].error = tmp[i].error;
	}
	free(tmp);
	return 0;
fail:
	for (size_t j = 0; j < n; j++)
		free(tmp[j].error);
	free(tmp);
	return -1;
}

const char *queue_rcpt_state_name(enum queue_rcpt_state s)
{
	switch (s) {
	case QUEUE_RCPT_PENDING:
		return "pending";
	case QUEUE_RCPT_DELIVERED:
		return "delivered";
	case QUEUE_RCPT_BOUNCED:
		return "bounced";
	case QUEUE_RCPT_DEFERRED:
		return "deferred";
	}
	return "unknown";
}
