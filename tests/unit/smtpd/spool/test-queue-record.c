/* test-queue-record.c: the spool record format (smtpd/spool/queue-record.c) and
 * queue ids: round trips of every field and of bodies with every byte value
 * and SMTP-looking lines; rejection of every truncation, every flipped byte,
 * oversized lengths, unknown types, trailing bytes, non-canonical order; a
 * forged END record inside the body; recipient state files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "queue-record.h"

static const char *test_id(void)
{
	return "0005f1a2b3c4d5e6000abcde"; /* 24 hex digits */
}

static void fill_msg(struct queue_msg *m, struct queue_rcpt *r, size_t n)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->id, test_id(), QUEUE_ID_LEN + 1);
	m->arrival = 1764168000;
	m->sender = "alice@example.org";
	m->rcpts = r;
	m->nrcpt = n;
}

/* Concatenate the decoded body of m (decoded from p/len). */
static char *body_of(const char *p, size_t len, const struct queue_msg *m, size_t *n_r)
{
	char *out = malloc(m->body_len + 1);
	size_t pos = m->body_off, got = 0, n;
	const char *c;
	assert_non_null(out);
	while (queue_body_next(p, len, &pos, &c, &n)) {
		assert_true(got + n <= m->body_len);
		memcpy(out + got, c, n);
		got += n;
	}
	assert_int_equal(got, m->body_len);
	*n_r = got;
	return out;
}

static void test_crc32(void **state)
{
	(void)state;
	assert_int_equal(queue_crc32(0, "123456789", 9), 0xcbf43926u);
	/* streaming gives the same result as one call */
	uint32_t c = queue_crc32(0, "1234", 4);
	assert_int_equal(queue_crc32(c, "56789", 5), 0xcbf43926u);
}

static void test_ids(void **state)
{
	(void)state;
	char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1];
	uint16_t counter = 0;
	queue_id_format(a, 0x5f1a2b3c4d5e6ull, 7, 0xabcdef);
	assert_string_equal(a, "05f1a2b3c4d5e60007abcdef");
	assert_true(queue_id_valid(a, strlen(a)));
	assert_int_equal(queue_id_usec(a), 0x5f1a2b3c4d5e6ull);
	assert_false(queue_id_valid(a, QUEUE_ID_LEN - 1));
	assert_false(queue_id_valid("0005F1A2B3C4D5E6000abcde", 24)); /* upper case */
	assert_false(queue_id_valid("../../etc/passwd/xxxxxxxx", 24));
	assert_false(queue_id_valid("0005f1a2b3c4d5e6000abcd\n", 24));
	assert_int_equal(queue_id_new(a, &counter), 0);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(queue_id_new(b, &counter), 0);
		assert_true(queue_id_valid(b, strlen(b)));
		assert_true(strcmp(a, b) < 0); /* unique and sorted by creation */
		memcpy(a, b, sizeof(a));
	}
}

static void test_round_trip_full(void **state)
{
	(void)state;
	struct queue_rcpt r[3] = {{.addr = "bob@example.org", .dsn = "NOTIFY=FAILURE"},
	                          {.addr = "carol@example.net"},
	                          {.addr = "postmaster", .dsn = ""}};
	struct queue_msg m, d;
	struct buf b;
	const char *e = NULL;
	static const char *const lines[] = {".\r\n", "\r\n.\r\n", "\n.\r\n", "\r.\r", "\n", "\r"};
	/* every byte value, lines that end DATA on the wire, and more than
	 * two chunks' worth */
	size_t blen = 0, cap = 3 * QUEUE_BODY_CHUNK + 4096;
	char *body = malloc(cap);
	assert_non_null(body);
	for (size_t i = 0; blen < cap - 16; i++) {
		const char *l = lines[i % 6];
		memcpy(body + blen, l, strlen(l));
		blen += strlen(l);
		for (int k = 0; k < 256 && blen < cap - 16; k++)
			body[blen++] = (char)((k + i) & 0xff);
	}
	fill_msg(&m, r, 3);
	m.helo = "client.example.net";
	m.client_addr = "[192.0.2.1]";
	m.auth_user = "alice";
	m.dsn_env = "RET=HDRS ENVID=x";
	buf_init(&b, 0);
	assert_int_equal(queue_msg_encode(&m, body, blen, &b, &e), 0);
	assert_int_equal(queue_msg_decode(b.data, b.len, &d, &e), 0);
	assert_string_equal(d.id, m.id);
	assert_int_equal(d.arrival, m.arrival);
	assert_string_equal(d.sender, m.sender);
	assert_string_equal(d.helo, m.helo);
	assert_string_equal(d.client_addr, m.client_addr);
	assert_string_equal(d.auth_user, m.auth_user);
	assert_string_equal(d.dsn_env, m.dsn_env);
	assert_int_equal(d.nrcpt, 3);
	assert_string_equal(d.rcpts[0].addr, "bob@example.org");
	assert_string_equal(d.rcpts[0].dsn, "NOTIFY=FAILURE");
	assert_null(d.rcpts[1].dsn);
	assert_string_equal(d.rcpts[2].dsn, "");
	assert_int_equal(d.rcpts[2].state, QUEUE_RCPT_PENDING);
	assert_int_equal(d.file_len, b.len);
	size_t n;
	char *got = body_of(b.data, b.len, &d, &n);
	assert_int_equal(n, blen);
	assert_memory_equal(got, body, blen);
	/* canonical: decode then encode gives the same bytes */
	struct buf b2;
	buf_init(&b2, 0);
	assert_int_equal(queue_msg_encode(&d, got, n, &b2, &e), 0);
	assert_int_equal(b2.len, b.len);
	assert_memory_equal(b2.data, b.data, b.len);
	buf_free(&b2);
	free(got);
	queue_msg_free(&d);
	buf_free(&b);
	free(body);
}

static void test_round_trip_minimal(void **state)
{
	(void)state;
	struct queue_rcpt r = {.addr = "bob@example.org"};
	struct queue_msg m, d;
	struct buf b;
	const char *e;
	fill_msg(&m, &r, 1);
	m.sender = ""; /* null sender, as on a bounce */
	m.arrival = -1;
	buf_init(&b, 0);
	assert_int_equal(queue_msg_encode(&m, NULL, 0, &b, &e), 0);
	assert_int_equal(queue_msg_decode(b.data, b.len, &d, &e), 0);
	assert_string_equal(d.sender, "");
	assert_int_equal(d.arrival, -1);
	assert_null(d.helo);
	assert_null(d.auth_user);
	assert_int_equal(d.body_len, 0);
	queue_msg_free(&d);
	/* a body of exactly one chunk */
	char *body = calloc(1, QUEUE_BODY_CHUNK);
	buf_reset(&b);
	assert_int_equal(queue_msg_encode(&m, body, QUEUE_BODY_CHUNK, &b, &e), 0);
	assert_int_equal(queue_msg_decode(b.data, b.len, &d, &e), 0);
	assert_int_equal(d.body_len, QUEUE_BODY_CHUNK);
	queue_msg_free(&d);
	free(body);
	buf_free(&b);
}

static void encode_small(struct buf *b)
{
	struct queue_rcpt r[2] = {{.addr = "bob@example.org", .dsn = "NOTIFY=NEVER"},
	                          {.addr = "x@y"}};
	struct queue_msg m;
	const char *e;
	const char body[] = "Subject: hi\r\n\r\n.\r\n\r\n.\r\nbye\n.\r\x00\xff\r\n";
	fill_msg(&m, r, 2);
	m.helo = "h";
	buf_init(b, 0);
	assert_int_equal(queue_msg_encode(&m, body, sizeof(body) - 1, b, &e), 0);
}

static void test_every_truncation_rejected(void **state)
{
	(void)state;
	struct buf b;
	struct queue_msg d;
	const char *e;
	encode_small(&b);
	for (size_t cut = 0; cut < b.len; cut++) {
		char *copy = malloc(cut + 1); /* exact size: ASan sees any overread */
		memcpy(copy, b.data, cut);
		assert_int_equal(queue_msg_decode(copy, cut, &d, &e), -1);
		free(copy);
	}
	assert_int_equal(queue_msg_decode(b.data, b.len, &d, &e), 0);
	queue_msg_free(&d);
	buf_free(&b);
}

static void test_every_flip_rejected(void **state)
{
	(void)state;
	struct buf b;
	struct queue_msg d;
	const char *e;
	encode_small(&b);
	for (size_t i = 0; i < b.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b.data[i] ^= (char)(1 << bit);
			assert_int_equal(queue_msg_decode(b.data, b.len, &d, &e), -1);
			b.data[i] ^= (char)(1 << bit);
		}
	}
	buf_free(&b);
}

/* Append a raw record header + payload. */
static void raw_rec(struct buf *b, uint8_t type, uint32_t len, const void *p, size_t n)
{
	unsigned char h[5] = {type, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
	                      (unsigned char)(len >> 8), (unsigned char)len};
	assert_int_equal(buf_append(b, h, 5), 0);
	if (n > 0)
		assert_int_equal(buf_append(b, p, n), 0);
}

static void raw_end(struct buf *b)
{
	assert_int_equal(queue_encode_end(queue_crc32(0, b->data, b->len), b), 0);
}

/* VERSION, ID, ARRIVAL: the start of every valid spool file. */
static void raw_prologue(struct buf *b)
{
	buf_init(b, 0);
	raw_rec(b, QREC_VERSION, 4, "\0\0\0\1", 4);
	raw_rec(b, QREC_ID, QUEUE_ID_LEN, test_id(), QUEUE_ID_LEN);
	raw_rec(b, QREC_ARRIVAL, 8, "\0\0\0\0\0\0\0\1", 8);
}

static int decodes(struct buf *b, const char *want_error)
{
	struct queue_msg d;
	const char *e = NULL;
	int rc = queue_msg_decode(b->data, b->len, &d, &e);
	if (rc == 0)
		queue_msg_free(&d);
	else if (want_error != NULL)
		assert_string_equal(e, want_error);
	return rc;
}

static void test_handmade(void **state)
{
	(void)state;
	struct buf b;
	/* the hand-made baseline is valid */
	raw_prologue(&b);
	raw_rec(&b, QREC_SENDER, 1, "a", 1);
	raw_rec(&b, QREC_RCPT, 1, "b", 1);
	raw_end(&b);
	assert_int_equal(decodes(&b, NULL), 0);
	/* trailing bytes after END */
	assert_int_equal(buf_append(&b, "\0", 1), 0);
	assert_int_equal(decodes(&b, "bytes after the end record"), -1);
	buf_free(&b);
	/* no recipient */
	raw_prologue(&b);
	raw_rec(&b, QREC_SENDER, 0, NULL, 0);
	raw_end(&b);
	assert_int_equal(decodes(&b, "record out of order"), -1);
	buf_free(&b);
	/* unknown type, even with a good checksum */
	raw_prologue(&b);
	raw_rec(&b, QREC_SENDER, 0, NULL, 0);
	raw_rec(&b, QREC_RCPT, 1, "b", 1);
	raw_rec(&b, 99, 0, NULL, 0);
	raw_end(&b);
	assert_int_equal(decodes(&b, "unknown record type"), -1);
	buf_free(&b);
	/* optional records out of canonical order */
	raw_prologue(&b);
	raw_rec(&b, QREC_SENDER, 0, NULL, 0);
	raw_rec(&b, QREC_AUTH_USER, 1, "u", 1);
	raw_rec(&b, QREC_HELO, 1, "h", 1);
	raw_rec(&b, QREC_RCPT, 1, "b", 1);
	raw_end(&b);
	assert_int_equal(decodes(&b, "record out of order"), -1);
	buf_free(&b);
	/* a body split into a short chunk then another: not canonical */
	raw_prologue(&b);
	raw_rec(&b, QREC_SENDER, 0, NULL, 0);
	raw_rec(&b, QREC_RCPT, 1, "b", 1);
	raw_rec(&b, QREC_BODY, 2, "ab", 2);
	raw_rec(&b, QREC_BODY, 2, "cd", 2);
	raw_end(&b);
	assert_int_equal(decodes(&b, "record out of order"), -1);
	buf_free(&b);
	/* CR, LF or NUL in envelope text */
	static const char *const bad[] = {"a\rb", "a\nb", "a\0b"};
	for (int i = 0; i < 3; i++) {
		raw_prologue(&b);
		raw_rec(&b, QREC_SENDER, 3, bad[i], 3);
		raw_rec(&b, QREC_RCPT, 1, "b", 1);
		raw_end(&b);
		assert_int_equal(decodes(&b, "envelope text has CR, LF or NUL"), -1);
		buf_free(&b);
	}
	/* a second version record */
	raw_prologue(&b);
	raw_rec(&b, QREC_VERSION, 4, "\0\0\0\1", 4);
	raw_end(&b);
	assert_int_equal(decodes(&b, "record out of order"), -1);
	buf_free(&b);
	/* an unsupported version */
	buf_init(&b, 0);
	raw_rec(&b, QREC_VERSION, 4, "\0\0\0\3", 4);
	assert_int_equal(decodes(&b, "unsupported spool format version"), -1);
	buf_free(&b);
}

static void test_oversized(void **state)
{
	(void)state;
	struct buf b;
	/* a body record claiming 4 GiB, with nothing behind it: refused from
	 * the header alone (the decoder never allocates by a length field) */
	raw_prologue(&b);
	raw_rec(&b, QREC_SENDER, 0, NULL, 0);
	raw_rec(&b, QREC_RCPT, 1, "b", 1);
	raw_rec(&b, QREC_BODY, 0xffffffffu, NULL, 0);
	assert_int_equal(decodes(&b, "oversized record"), -1);
	buf_free(&b);
	/* one byte over the chunk size */
	raw_prologue(&b);
	raw_rec(&b, QREC_SENDER, 0, NULL, 0);
	raw_rec(&b, QREC_RCPT, 1, "b", 1);
	raw_rec(&b, QREC_BODY, QUEUE_BODY_CHUNK + 1, NULL, 0);
	assert_int_equal(decodes(&b, "oversized record"), -1);
	buf_free(&b);
	/* an address over its cap, complete and checksummed */
	char addr[QUEUE_ADDR_MAX + 1];
	memset(addr, 'a', sizeof(addr));
	raw_prologue(&b);
	raw_rec(&b, QREC_SENDER, sizeof(addr), addr, sizeof(addr));
	raw_rec(&b, QREC_RCPT, 1, "b", 1);
	raw_end(&b);
	assert_int_equal(decodes(&b, "oversized record"), -1);
	buf_free(&b);
	/* the encoder refuses the same */
	struct queue_rcpt r = {.addr = "b"};
	struct queue_msg m;
	const char *e;
	addr[QUEUE_ADDR_MAX] = '\0';
	fill_msg(&m, &r, 1);
	buf_init(&b, 0);
	m.sender = addr; /* exactly the cap: fine */
	assert_int_equal(queue_msg_encode(&m, NULL, 0, &b, &e), 0);
	char big[QUEUE_TEXT_MAX + 2];
	memset(big, 'h', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	m.helo = big;
	assert_int_equal(queue_msg_encode(&m, NULL, 0, &b, &e), -1);
	m.helo = "evil\r\nRCPT";
	assert_int_equal(queue_msg_encode(&m, NULL, 0, &b, &e), -1);
	buf_free(&b);
}

/* A body holding a byte-perfect END record (with the right CRC for the bytes
 * before it) does not end the file: the length prefix of the BODY record
 * carries the reader past it. */
static void test_forged_end(void **state)
{
	(void)state;
	struct queue_rcpt r = {.addr = "bob@example.org"};
	struct queue_msg m, d;
	struct buf head, body, file;
	const char *e;
	fill_msg(&m, &r, 1);
	buf_init(&head, 0);
	assert_int_equal(queue_msg_encode_head(&m, &head, 0, &e), 0);
	/* The forged END sits right after the BODY header, i.e. at offset
	 * head.len + 5; in version 2 END covers what follows HEAD_END, so it
	 * checks just that header. */
	buf_init(&body, 0);
	size_t flen = QUEUE_REC_HDR + 4;
	unsigned char bh[5] = {QREC_BODY, 0, 0, 0, (unsigned char)(flen + 6)};
	uint32_t crc = queue_crc32(0, bh, 5);
	assert_int_equal(queue_encode_end(crc, &body), 0);
	assert_int_equal(buf_append(&body, "after\n", 6), 0);
	buf_init(&file, 0);
	assert_int_equal(queue_msg_encode(&m, body.data, body.len, &file, &e), 0);
	assert_memory_equal(file.data + head.len, bh, 5);
	assert_int_equal(queue_msg_decode(file.data, file.len, &d, &e), 0);
	size_t n;
	char *got = body_of(file.data, file.len, &d, &n);
	assert_int_equal(n, body.len);
	assert_memory_equal(got, body.data, body.len);
	free(got);
	queue_msg_free(&d);
	/* Cut right after the forged END: a reader that trusted it would see a
	 * complete file; this one sees a truncated BODY record. */
	assert_int_equal(queue_msg_decode(file.data, head.len + 5 + flen, &d, &e), -1);
	assert_string_equal(e, "truncated record");
	buf_free(&head);
	buf_free(&body);
	buf_free(&file);
}

/* Version 2: HEAD_END right after the recipients checks the envelope
 * alone, so any prefix holding it decodes as the envelope; damage in the
 * body is invisible to the envelope decoder and caught by the whole-file
 * one; damage in the envelope is caught by both. */
static void test_envelope_only(void **state)
{
	(void)state;
	struct queue_rcpt r[2] = {{.addr = "bob@example.org"}, {.addr = "carol@example.net"}};
	struct queue_msg m, d, h;
	struct buf b;
	const char *e;
	char body[3000];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (char)('a' + i % 26);
	fill_msg(&m, r, 2);
	buf_init(&b, 0);
	assert_int_equal(queue_msg_encode(&m, body, sizeof(body), &b, &e), 0);
	assert_int_equal(queue_msg_decode(b.data, b.len, &d, &e), 0);
	assert_int_equal(d.version, 2);
	/* HEAD_END is the record just before the first BODY record */
	size_t head_end = d.body_off - QUEUE_REC_HDR - 4;
	assert_int_equal((unsigned char)b.data[head_end], QREC_HEAD_END);
	for (size_t cut = 0; cut <= b.len; cut++) {
		int rc = queue_msg_decode_head(b.data, cut, &h, &e);
		if (cut < d.body_off) {
			assert_int_equal(rc, 1);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(h.body_off, d.body_off);
		assert_int_equal(h.nrcpt, 2);
		assert_string_equal(h.rcpts[1].addr, "carol@example.net");
		assert_string_equal(h.sender, "alice@example.org");
		assert_string_equal(h.id, test_id());
		queue_msg_free(&h);
	}
	queue_msg_free(&d);
	/* a flipped body byte: the envelope is fine, the file is not */
	b.data[b.len - 100] ^= 1;
	assert_int_equal(queue_msg_decode_head(b.data, b.len, &h, &e), 0);
	queue_msg_free(&h);
	assert_int_equal(queue_msg_decode(b.data, b.len, &d, &e), -1);
	assert_string_equal(e, "checksum mismatch");
	b.data[b.len - 100] ^= 1;
	/* a flipped envelope byte (in the sender): both refuse */
	char *at = memmem(b.data, b.len, "alice", 5);
	assert_non_null(at);
	*at ^= 2;
	assert_int_equal(queue_msg_decode_head(b.data, b.len, &h, &e), -1);
	assert_string_equal(e, "envelope checksum mismatch");
	assert_int_equal(queue_msg_decode(b.data, b.len, &d, &e), -1);
	buf_free(&b);
}

/* Version 1 files (written before HEAD_END existed) still decode, whole,
 * and re-encode to the same bytes; the envelope decoder sends the caller to
 * the whole-file decoder for them. HEAD_END is refused in a version 1 file,
 * and a version 2 file without it is refused. */
static void test_version1(void **state)
{
	(void)state;
	struct queue_rcpt r = {.addr = "bob@example.org"};
	struct queue_msg m, d, h;
	struct buf b, again;
	const char *e;
	fill_msg(&m, &r, 1);
	m.version = 1;
	buf_init(&b, 0);
	assert_int_equal(queue_msg_encode(&m, "hello\r\n", 7, &b, &e), 0);
	assert_int_equal(queue_msg_decode(b.data, b.len, &d, &e), 0);
	assert_int_equal(d.version, 1);
	assert_int_equal(d.body_len, 7);
	buf_init(&again, 0);
	assert_int_equal(queue_msg_encode(&d, "hello\r\n", 7, &again, &e), 0);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.data, b.data, b.len);
	queue_msg_free(&d);
	assert_int_equal(queue_msg_decode_head(b.data, b.len, &h, &e), 1);
	buf_free(&again);
	buf_free(&b);
	/* HEAD_END in version 1 */
	raw_prologue(&b);
	raw_rec(&b, QREC_SENDER, 1, "a", 1);
	raw_rec(&b, QREC_RCPT, 1, "b", 1);
	raw_rec(&b, QREC_HEAD_END, 4, "\0\0\0\0", 4);
	raw_end(&b);
	assert_int_equal(decodes(&b, "record out of order"), -1);
	buf_free(&b);
	/* version 2 without HEAD_END */
	buf_init(&b, 0);
	raw_rec(&b, QREC_VERSION, 4, "\0\0\0\2", 4);
	raw_rec(&b, QREC_ID, QUEUE_ID_LEN, test_id(), QUEUE_ID_LEN);
	raw_rec(&b, QREC_ARRIVAL, 8, "\0\0\0\0\0\0\0\1", 8);
	raw_rec(&b, QREC_SENDER, 1, "a", 1);
	raw_rec(&b, QREC_RCPT, 1, "b", 1);
	raw_rec(&b, QREC_BODY, 1, "x", 1);
	raw_end(&b);
	assert_int_equal(decodes(&b, "record out of order"), -1);
	assert_int_equal(queue_msg_decode_head(b.data, b.len, &h, &e), -1);
	buf_free(&b);
}

static void test_state_round_trip(void **state)
{
	(void)state;
	struct queue_rcpt r[2] = {
	    {.addr = "a", .state = QUEUE_RCPT_DELIVERED, .attempts = 1, .last_attempt = 100},
	    {.addr = "b",
	     .state = QUEUE_RCPT_DEFERRED,
	     .attempts = 3,
	     .last_attempt = 200,
	     .next_attempt = 900,
	     .error = "451 4.3.0 try later"}};
	struct queue_rcpt back[2] = {{.addr = "a"}, {.addr = "b"}};
	struct buf b;
	const char *e;
	buf_init(&b, 0);
	assert_int_equal(queue_state_encode(test_id(), r, 2, &b, &e), 0);
	assert_int_equal(queue_state_decode(b.data, b.len, test_id(), back, 2, &e), 0);
	assert_int_equal(back[0].state, QUEUE_RCPT_DELIVERED);
	assert_int_equal(back[0].attempts, 1);
	assert_int_equal(back[0].last_attempt, 100);
	assert_null(back[0].error);
	assert_int_equal(back[1].state, QUEUE_RCPT_DEFERRED);
	assert_int_equal(back[1].next_attempt, 900);
	assert_string_equal(back[1].error, "451 4.3.0 try later");
	/* wrong id, wrong count, truncation: all refused, rcpts untouched */
	assert_int_equal(queue_state_decode(b.data, b.len, "0000000000000000000000ff", back, 2, &e),
	                 -1);
	assert_int_equal(queue_state_decode(b.data, b.len, test_id(), back, 1, &e), -1);
	for (size_t cut = 0; cut < b.len; cut++)
		assert_int_equal(queue_state_decode(b.data, cut, test_id(), back, 2, &e), -1);
	for (size_t i = 0; i < b.len; i++) {
		b.data[i] ^= 0x20;
		assert_int_equal(queue_state_decode(b.data, b.len, test_id(), back, 2, &e), -1);
		b.data[i] ^= 0x20;
	}
	assert_string_equal(back[1].error, "451 4.3.0 try later");
	/* a state file is not a spool file, nor the reverse */
	struct queue_msg d;
	assert_int_equal(queue_msg_decode(b.data, b.len, &d, &e), -1);
	free(back[1].error);
	/* error text with a newline is refused */
	r[1].error = "451 a\r\nb";
	buf_reset(&b);
	assert_int_equal(queue_state_encode(test_id(), r, 2, &b, &e), -1);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32),
	    cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_round_trip_full),
	    cmocka_unit_test(test_round_trip_minimal),
	    cmocka_unit_test(test_every_truncation_rejected),
	    cmocka_unit_test(test_every_flip_rejected),
	    cmocka_unit_test(test_handmade),
	    cmocka_unit_test(test_oversized),
	    cmocka_unit_test(test_forged_end),
	    cmocka_unit_test(test_envelope_only),
	    cmocka_unit_test(test_version1),
	    cmocka_unit_test(test_state_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
