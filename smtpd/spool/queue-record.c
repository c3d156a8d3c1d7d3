/* queue-record.c: encoding and strict decoding of spool and state files
 * (format in queue-record.h and docs/queue.md). Pure functions over buffers,
 * used by the spool store, the queue manager and the fuzzer. */
#include "queue-record.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

uint32_t queue_crc32(uint32_t crc, const void *p, size_t n)
{
	/* zlib's crc32 takes a uInt length: feed it in pieces that fit. */
	const unsigned char *s = p;
	while (n > 0) {
		uInt take = n > 0x40000000u ? 0x40000000u : (uInt)n;
		crc = (uint32_t)crc32(crc, s, take);
		s += take;
		n -= take;
	}
	return crc;
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
	case QREC_HEAD_END:
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

static uint32_t msg_version(const struct queue_msg *m)
{
	return m->version == 0 ? QUEUE_FORMAT_VERSION : m->version;
}

static int put_head_fixed(const struct queue_msg *m, struct buf *out, const char **error_r)
{
	unsigned char v[8];
	if (!queue_id_valid(m->id, strlen(m->id))) {
		*error_r = "invalid queue id";
		return -1;
	}
	if (msg_version(m) != 1 && msg_version(m) != 2) {
		*error_r = "unsupported spool format version";
		return -1;
	}
	put_u32(v, msg_version(m));
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

int queue_msg_encode_head(const struct queue_msg *m, struct buf *out, size_t crc_start,
                          const char **error_r)
{
	unsigned char v[4];
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
	if (msg_version(m) == 1)
		return 0;
	put_u32(v, queue_crc32(0, out->data + crc_start, out->len - crc_start));
	if (put_rec(out, QREC_HEAD_END, v, 4) < 0) {
		*error_r = "spool record buffer full";
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
	if (queue_msg_encode_head(m, out, start, error_r) < 0)
		return -1;
	/* Version 2's END covers only the body records. */
	size_t crc_from = msg_version(m) == 1 ? start : out->len;
	for (size_t off = 0; off < body_len; off += QUEUE_BODY_CHUNK) {
		size_t n = body_len - off < QUEUE_BODY_CHUNK ? body_len - off : QUEUE_BODY_CHUNK;
		if (queue_encode_body_chunk(body + off, n, out) < 0) {
			*error_r = "spool record buffer full";
			return -1;
		}
	}
	if (queue_encode_end(queue_crc32(0, out->data + crc_from, out->len - crc_from), out) < 0) {
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

/* The fixed records every file starts with: VERSION (max_version or one
 * below it down to 1) then ID. */
static int dec_prologue(const char *p, size_t len, size_t *pos, uint32_t max_version,
                        uint32_t *version_r, char id_r[QUEUE_ID_LEN + 1], const char **error_r)
{
	struct queue_rec r;
	if (queue_rec_next(p, len, pos, &r, error_r) <= 0 || r.type != QREC_VERSION) {
		*error_r = *pos == 0 && len == 0 ? "empty file" : "no version record first";
		return -1;
	}
	*version_r = get_u32(r.p);
	if (*version_r < 1 || *version_r > max_version) {
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

/* The END record at end_pos must check the bytes p[from..end_pos) and be
 * the last. */
static int dec_end(const char *p, size_t len, size_t from, size_t end_pos,
                   const struct queue_rec *r, const char **error_r)
{
	if (get_u32(r->p) != queue_crc32(0, p + from, end_pos - from)) {
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

/* Whether a record of type t may follow one of type last in a file of
 * format version v (canonical order: see queue-record.h); last_len is the
 * previous record's length. */
static int dec_order_ok(uint32_t v, uint8_t last, uint32_t last_len, uint8_t t)
{
	bool rcpts_done = last == QREC_RCPT || last == QREC_RCPT_DSN;
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
	case QREC_HEAD_END:
		return v >= 2 && rcpts_done;
	case QREC_BODY:
		return (v == 1 ? rcpts_done : last == QREC_HEAD_END) ||
		       (last == QREC_BODY && last_len == QUEUE_BODY_CHUNK);
	case QREC_END:
		return (v == 1 ? rcpts_done : last == QREC_HEAD_END) || last == QREC_BODY;
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

/* Whether the record at pos runs past the end of p[0..len) while its header
 * (as far as there is one) is fine: in a prefix, "read more". */
static bool rec_cut_short(const char *p, size_t len, size_t pos)
{
	int exact;
	size_t left = len - pos;
	if (left < QUEUE_REC_HDR)
		return true;
	uint32_t n = get_u32(p + pos + 1);
	size_t max = rec_max((uint8_t)p[pos], &exact);
	return max != 0 && n <= max && (!exact || n == max) && n > left - QUEUE_REC_HDR;
}

/* The records from *pos (after the prologue, or after HEAD_END with last =
 * QREC_HEAD_END) up to and including the next HEAD_END or END. 0 with *r
 * the record that stopped the walk and *rec_pos its offset; 1 when the input
 * ends first (*error_r says how); -1 refused. */
static int dec_records(const char *p, size_t len, size_t *pos, uint8_t last, struct queue_msg *m,
                       struct queue_rec *r, size_t *rec_pos, const char **error_r)
{
	size_t cap = m->nrcpt;
	uint32_t last_len = last == QREC_HEAD_END ? 4 : 0;
	for (;;) {
		*rec_pos = *pos;
		int rc = queue_rec_next(p, len, pos, r, error_r);
		if (rc == 0)
			*error_r = "no end record (incomplete file)";
		if (rc == 0 || (rc < 0 && rec_cut_short(p, len, *rec_pos)))
			return 1;
		if (rc < 0)
			return -1;
		if (!dec_order_ok(m->version, last, last_len, r->type)) {
			*error_r = "record out of order";
			return -1;
		}
		if (r->type == QREC_END || r->type == QREC_HEAD_END)
			return 0;
		if (dec_one(p, m, r, &cap, error_r) < 0)
			return -1;
		last = r->type;
		last_len = r->len;
	}
}

/* HEAD_END at rec_pos must check every byte before it. */
static int dec_head_end(const char *p, size_t rec_pos, const struct queue_rec *r,
                        const char **error_r)
{
	if (get_u32(r->p) != queue_crc32(0, p, rec_pos)) {
		*error_r = "envelope checksum mismatch";
		return -1;
	}
	return 0;
}

int queue_msg_decode_head(const char *p, size_t len, struct queue_msg *m, const char **error_r)
{
	struct queue_rec r;
	size_t pos = 0, rec_pos;
	memset(m, 0, sizeof(*m));
	/* A prefix too short for the prologue is "read more", not damage. */
	if (len < 2 * QUEUE_REC_HDR + 4 + QUEUE_ID_LEN)
		return 1;
	if (dec_prologue(p, len, &pos, QUEUE_FORMAT_VERSION, &m->version, m->id, error_r) < 0)
		return -1;
	if (m->version == 1)
		return 1;
	int rc = dec_records(p, len, &pos, QREC_ID, m, &r, &rec_pos, error_r);
	if (rc == 0 && r.type != QREC_HEAD_END) {
		*error_r = "no envelope end record";
		rc = -1;
	}
	if (rc == 0 && dec_head_end(p, rec_pos, &r, error_r) < 0)
		rc = -1;
	if (rc != 0) {
		queue_msg_free(m);
		return rc;
	}
	m->body_off = pos;
	return 0;
}

int queue_msg_decode(const char *p, size_t len, struct queue_msg *m, const char **error_r)
{
	struct queue_rec r;
	size_t pos = 0, rec_pos, body_from = 0;
	memset(m, 0, sizeof(*m));
	if (dec_prologue(p, len, &pos, QUEUE_FORMAT_VERSION, &m->version, m->id, error_r) < 0)
		return -1;
	int rc = dec_records(p, len, &pos, QREC_ID, m, &r, &rec_pos, error_r);
	if (rc == 0 && r.type == QREC_HEAD_END) {
		if (dec_head_end(p, rec_pos, &r, error_r) < 0)
			goto fail;
		body_from = pos;
		rc = dec_records(p, len, &pos, QREC_HEAD_END, m, &r, &rec_pos, error_r);
		if (rc == 0 && r.type != QREC_END) {
			*error_r = "record out of order";
			goto fail;
		}
	}
	if (rc != 0)
		goto fail;
	if (dec_end(p, len, body_from, rec_pos, &r, error_r) < 0)
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
	put_u32(v, QUEUE_STATE_VERSION);
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
	uint32_t version;
	if (dec_prologue(p, len, &pos, QUEUE_STATE_VERSION, &version, fid, error_r) < 0)
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
	if (dec_end(p, len, 0, rec_pos, &r, error_r) < 0)
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
