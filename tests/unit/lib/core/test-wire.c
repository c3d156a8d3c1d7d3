/* test-wire.c: the internal line protocol's escaping, encoding and decoding
 * round-trip every byte, refuse every malformed or oversized line exactly at
 * the limits, and struct wire_conn reassembles lines fed in any split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire.h"

#define MAXF WIRE_MAX_FIELDS

/* Decode a copy of s[0..len) into line (kept by the caller for the fields). */
static int decode(char *line, const char *s, size_t len, struct wire_field *f, size_t max)
{
	memcpy(line, s, len);
	return wire_decode(line, len, f, max);
}

static void assert_field(const struct wire_field *f, const char *s, size_t len)
{
	assert_int_equal(f->len, len);
	assert_memory_equal(f->p, s, len);
}

static void test_escape_each(void **state)
{
	(void)state;
	static const struct {
		const char *raw, *esc;
	} cases[] = {{"\t", "\\t"}, {"\n", "\\n"}, {"\r", "\\r"}, {"\\", "\\\\"}, {"a", "a"}};
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		assert_int_equal(wire_escape(&b, cases[i].raw, 1), 0);
		assert_string_equal(b.data, cases[i].esc);
	}
	buf_reset(&b);
	assert_int_equal(wire_escape(&b, "\0", 1), 0);
	assert_string_equal(b.data, "\\0");

	/* All five in one field, then back. */
	const char raw[] = "a\tb\nc\rd\0e\\f\x01\xff";
	size_t rawlen = sizeof(raw) - 1;
	buf_reset(&b);
	struct wire_field in = {raw, rawlen};
	assert_int_equal(wire_encode(&b, &in, 1), 0);
	assert_string_equal(b.data, "a\\tb\\nc\\rd\\0e\\\\f\x01\xff\n");
	struct wire_field f[MAXF];
	char line[64];
	assert_int_equal(decode(line, b.data, b.len - 1, f, MAXF), 1);
	assert_field(&f[0], raw, rawlen);
	buf_free(&b);
}

static void test_encode_strs(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	const char *strs[] = {"HELLO", "1", "x y", "", NULL};
	assert_int_equal(wire_encode_strs(&b, strs), 0);
	assert_string_equal(b.data, "HELLO\t1\tx y\t\n");
	const char *none[] = {NULL};
	assert_int_equal(wire_encode_strs(&b, none), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(b.data, "HELLO\t1\tx y\t\n");
	buf_free(&b);
}

/* A small deterministic generator: tests must repeat exactly. */
struct rng {
	uint64_t s;
};

static uint32_t rng_next(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (uint32_t)(r->s >> 16);
}

/* Random fields biased towards the bytes that need escaping. Data lives in
 * store, which must hold MAXF * 48 bytes. */
static size_t random_fields(struct rng *r, struct wire_field *f, char *store)
{
	static const char special[] = "\t\n\r\0\\";
	size_t n = rng_next(r) % 16 == 0 ? MAXF : 1 + rng_next(r) % 8;
	for (size_t i = 0; i < n; i++) {
		size_t len = rng_next(r) % 48;
		char *p = store + i * 48;
		for (size_t j = 0; j < len; j++) {
			uint32_t x = rng_next(r);
			p[j] = (x & 1) ? special[(x >> 1) % 5] : (char)(x >> 8);
		}
		f[i].p = p;
		f[i].len = len;
	}
	return n;
}

static void test_random_roundtrip(void **state)
{
	(void)state;
	struct rng r = {0x10f7c0ffee1234ULL};
	static char store[MAXF * 48];
	static char line[MAXF * 100];
	struct wire_field in[MAXF], out[MAXF];
	struct buf b;
	buf_init(&b, 0);
	for (int iter = 0; iter < 4000; iter++) {
		size_t n = random_fields(&r, in, store);
		buf_reset(&b);
		assert_int_equal(wire_encode(&b, in, n), 0);
		/* Exactly one LF, at the end, and no raw CR or NUL. */
		assert_ptr_equal(memchr(b.data, '\n', b.len), b.data + b.len - 1);
		assert_null(memchr(b.data, '\r', b.len));
		assert_null(memchr(b.data, '\0', b.len));
		int k = decode(line, b.data, b.len - 1, out, MAXF);
		assert_int_equal(k, (int)n);
		for (size_t i = 0; i < n; i++)
			assert_field(&out[i], in[i].p, in[i].len);
	}
	buf_free(&b);
}

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {
	    {"\\", 1},  {"a\\", 2},  {"\\x", 2},        {"a\\q\tb", 5}, {"\\T", 2}, {"\\N", 2},
	    {"\\1", 2}, {"\\ ", 2},  {"a\rb", 3},       {"a\r", 2},     {"\r", 1},  {"a\0b", 3},
	    {"\0", 1},  {"a\nb", 3}, {"ok\t\\\\\\", 6}, {"x\t\\\t", 4},
	};
	struct wire_field f[MAXF];
	char line[16];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_int_equal(decode(line, bad[i].s, bad[i].len, f, MAXF), -1);
		assert_int_equal(errno, EBADMSG);
	}
	/* The same lines minus the offending byte are fine. */
	assert_int_equal(decode(line, "ok\t\\\\", 5, f, MAXF), 2);
	assert_field(&f[1], "\\", 1);
	assert_int_equal(decode(line, "a", 1, f, 0), -1);
}

static void test_empty_fields(void **state)
{
	(void)state;
	struct wire_field f[MAXF];
	char line[16];
	assert_int_equal(decode(line, "", 0, f, MAXF), 1);
	assert_int_equal(f[0].len, 0);
	assert_int_equal(decode(line, "\t", 1, f, MAXF), 2);
	assert_int_equal(f[0].len, 0);
	assert_int_equal(f[1].len, 0);
	assert_int_equal(decode(line, "a\t\tb", 4, f, MAXF), 3);
	assert_field(&f[0], "a", 1);
	assert_int_equal(f[1].len, 0);
	assert_field(&f[2], "b", 1);
	assert_int_equal(decode(line, "a\t", 2, f, MAXF), 2);
	assert_field(&f[0], "a", 1);
	assert_int_equal(f[1].len, 0);

	struct buf b;
	buf_init(&b, 0);
	struct wire_field e[3] = {{"", 0}, {NULL, 0}, {"", 0}};
	assert_int_equal(wire_encode(&b, e, 3), 0);
	assert_string_equal(b.data, "\t\t\n");
	/* A zero-length line needs no storage. */
	assert_int_equal(wire_decode(NULL, 0, f, MAXF), 1);
	assert_int_equal(f[0].len, 0);
	assert_int_equal(wire_decode(NULL, 0, f, 0), -1);
	buf_free(&b);
}

static void test_field_count(void **state)
{
	(void)state;
	char src[2 * (MAXF + 1)];
	char line[sizeof(src)];
	struct wire_field f[MAXF + 1];
	for (size_t i = 0; i < MAXF + 1; i++) {
		src[2 * i] = 'x';
		src[2 * i + 1] = '\t';
	}
	/* MAXF fields: "x\tx\t...x" */
	assert_int_equal(decode(line, src, 2 * MAXF - 1, f, MAXF), MAXF);
	/* one more */
	assert_int_equal(decode(line, src, 2 * MAXF + 1, f, MAXF), -1);
	assert_int_equal(decode(line, src, 2 * MAXF + 1, f, MAXF + 1), MAXF + 1);
	assert_int_equal(decode(line, "a\tb\tc", 5, f, 2), -1);
	assert_int_equal(decode(line, "a\tb", 3, f, 2), 2);
	assert_int_equal(decode(line, "a", 1, f, 1), 1);

	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < MAXF + 1; i++) {
		f[i].p = "y";
		f[i].len = 1;
	}
	assert_int_equal(wire_encode(&b, f, MAXF), 0);
	buf_reset(&b);
	assert_int_equal(wire_encode(&b, f, MAXF + 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(wire_encode(&b, f, 0), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_line_limits(void **state)
{
	(void)state;
	char *src = malloc(WIRE_MAX_LINE + 2);
	char *line = malloc(WIRE_MAX_LINE + 2);
	assert_non_null(src);
	assert_non_null(line);
	memset(src, 'a', WIRE_MAX_LINE + 1);
	struct wire_field f[MAXF];
	assert_int_equal(decode(line, src, WIRE_MAX_LINE, f, MAXF), 1);
	assert_int_equal(f[0].len, WIRE_MAX_LINE);
	errno = 0;
	assert_int_equal(decode(line, src, WIRE_MAX_LINE + 1, f, MAXF), -1);
	assert_int_equal(errno, EMSGSIZE);

	/* The encoder refuses what the decoder would, counting escapes. */
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_append_str(&b, "keep"), 0);
	struct wire_field in = {src, WIRE_MAX_LINE + 1};
	assert_int_equal(wire_encode(&b, &in, 1), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_string_equal(b.data, "keep");
	memset(src, '\t', WIRE_MAX_LINE / 2);
	in.len = WIRE_MAX_LINE / 2;
	buf_reset(&b);
	assert_int_equal(wire_encode(&b, &in, 1), 0);
	assert_int_equal(b.len, WIRE_MAX_LINE + 1);
	struct wire_field two[2] = {{src, WIRE_MAX_LINE / 2}, {"", 0}};
	assert_int_equal(wire_encode(&b, two, 2), -1);
	assert_int_equal(b.len, WIRE_MAX_LINE + 1);

	/* A buffer's own max: refused, buffer unchanged. */
	struct buf small;
	buf_init(&small, 8);
	assert_int_equal(buf_append_str(&small, "ab"), 0);
	struct wire_field big = {"\t\t\t\t", 4};
	assert_int_equal(wire_encode(&small, &big, 1), -1);
	assert_string_equal(small.data, "ab");
	assert_int_equal(wire_escape(&small, "\t\t\t\t", 4), -1);
	assert_string_equal(small.data, "ab");
	assert_int_equal(wire_escape(&small, "\t\t\t", 3), 0);
	assert_string_equal(small.data, "ab\\t\\t\\t");
	buf_free(&small);
	buf_free(&b);
	free(src);
	free(line);
}

static void test_version(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(wire_encode_version(&b, "auth", 1, 7), 0);
	assert_string_equal(b.data, "VERSION\tauth\t1\t7\n");
	struct wire_field f[MAXF];
	char line[64];
	int n = decode(line, b.data, b.len - 1, f, MAXF);
	assert_int_equal(n, 4);
	assert_int_equal(wire_check_version(f, n, "auth", 1), 0);
	assert_int_equal(wire_check_version(f, n, "auth", 2), -1);
	assert_int_equal(wire_check_version(f, n, "handoff", 1), -1);
	assert_int_equal(wire_check_version(f, 3, "auth", 1), -1);

	static const char *const bad[] = {
	    "VERSION\tauth\t1",
	    "VERSION\tauth\t1\t2\tx",
	    "VERSIONX\tauth\t1\t2",
	    "version\tauth\t1\t2",
	    "VERSION\tauth\t+1\t2",
	    "VERSION\tauth\t1a\t2",
	    "VERSION\tauth\t\t2",
	    "VERSION\tauth\t1\t",
	    "VERSION\tauth\t1\t-2",
	    "VERSION\tauth\t01x\t2",
	    "VERSION\tauthx\t1\t2",
	    "VERSION\tauth\t1234567891\t0",
	    "VERSION\tauth\t4294967297\t0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = decode(line, bad[i], strlen(bad[i]), f, MAXF);
		assert_true(n >= 1);
		assert_int_equal(wire_check_version(f, n, "auth", 1), -1);
	}
	/* Any minor is accepted; leading zeros are still decimal. */
	n = decode(line, "VERSION\tauth\t001\t999", 20, f, MAXF);
	assert_int_equal(wire_check_version(f, n, "auth", 1), 0);
	buf_free(&b);
}

static void test_field_eq(void **state)
{
	(void)state;
	struct wire_field f = {"LOGIN", 5};
	assert_true(wire_field_eq(&f, "LOGIN"));
	assert_false(wire_field_eq(&f, "LOGI"));
	assert_false(wire_field_eq(&f, "LOGINX"));
	assert_false(wire_field_eq(&f, "login"));
	struct wire_field e = {"", 0};
	assert_true(wire_field_eq(&e, ""));
	assert_false(wire_field_eq(&e, "a"));
	struct wire_field nul = {"a\0b", 3};
	assert_false(wire_field_eq(&nul, "a"));
}

static void make_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

static void test_conn_byte_by_byte(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	const char data[] = "HELLO\t1\tw\\to\\\\rld\n\nX\t\\0\t\n";
	struct wire_conn c;
	wire_conn_init(&c, sv[1]);
	struct wire_field f[MAXF];
	int lines = 0;
	for (size_t i = 0; i < sizeof(data) - 1; i++) {
		assert_int_equal(write(sv[0], data + i, 1), 1);
		assert_int_equal(wire_conn_read(&c), 1);
		int n = wire_conn_next(&c, f, MAXF);
		if (data[i] != '\n') {
			assert_int_equal(n, 0);
			continue;
		}
		lines++;
		if (lines == 1) {
			assert_int_equal(n, 3);
			assert_field(&f[0], "HELLO", 5);
			assert_field(&f[1], "1", 1);
			assert_field(&f[2], "w\to\\rld", 7);
			assert_string_equal(f[2].p, "w\to\\rld");
		} else if (lines == 2) {
			assert_int_equal(n, 1);
			assert_int_equal(f[0].len, 0);
		} else {
			assert_int_equal(n, 3);
			assert_field(&f[0], "X", 1);
			assert_field(&f[1], "\0", 1);
			assert_int_equal(f[2].len, 0);
		}
		assert_int_equal(wire_conn_next(&c, f, MAXF), 0);
	}
	assert_int_equal(lines, 3);
	close(sv[0]);
	assert_int_equal(wire_conn_read(&c), 0);
	wire_conn_clear(&c);
	close(sv[1]);
}

static void test_conn_lines_in_one_read(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	const char data[] = "A\t1\nBB\t22\tx\nC\nPART";
	assert_int_equal(write(sv[0], data, sizeof(data) - 1), (ssize_t)sizeof(data) - 1);
	struct wire_conn c;
	wire_conn_init(&c, sv[1]);
	assert_int_equal(wire_conn_read(&c), (ssize_t)sizeof(data) - 1);
	struct wire_field f[MAXF];
	assert_int_equal(wire_conn_next(&c, f, MAXF), 2);
	assert_string_equal(f[0].p, "A");
	assert_string_equal(f[1].p, "1");
	assert_int_equal(wire_conn_next(&c, f, MAXF), 3);
	assert_string_equal(f[0].p, "BB");
	assert_string_equal(f[1].p, "22");
	assert_string_equal(f[2].p, "x");
	assert_int_equal(wire_conn_next(&c, f, MAXF), 1);
	assert_string_equal(f[0].p, "C");
	assert_int_equal(wire_conn_next(&c, f, MAXF), 0);
	assert_int_equal(wire_conn_next(&c, f, MAXF), 0);
	/* The partial line survives compaction and completes later. */
	assert_int_equal(write(sv[0], "IAL\tend\n", 8), 8);
	assert_int_equal(wire_conn_read(&c), 8);
	assert_int_equal(wire_conn_next(&c, f, MAXF), 2);
	assert_string_equal(f[0].p, "PARTIAL");
	assert_string_equal(f[1].p, "end");
	/* too many fields for the caller's array */
	assert_int_equal(write(sv[0], "a\tb\tc\n", 6), 6);
	assert_int_equal(wire_conn_read(&c), 6);
	assert_int_equal(wire_conn_next(&c, f, 2), -1);
	wire_conn_clear(&c);
	close(sv[0]);
	close(sv[1]);
}

static void test_conn_cr_and_eof(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	struct wire_conn c;
	wire_conn_init(&c, sv[1]);
	struct wire_field f[MAXF];
	assert_int_equal(write(sv[0], "abc\r\n", 5), 5);
	assert_int_equal(wire_conn_read(&c), 5);
	errno = 0;
	assert_int_equal(wire_conn_next(&c, f, MAXF), -1);
	assert_int_equal(errno, EBADMSG);
	wire_conn_clear(&c);

	/* A partial line then EOF: no line, then 0 from read. */
	wire_conn_init(&c, sv[1]);
	assert_int_equal(write(sv[0], "abc", 3), 3);
	close(sv[0]);
	assert_int_equal(wire_conn_read(&c), 3);
	assert_int_equal(wire_conn_next(&c, f, MAXF), 0);
	assert_int_equal(wire_conn_read(&c), 0);
	wire_conn_clear(&c);
	close(sv[1]);
}

static void test_conn_nonblocking(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	set_nonblock(sv[1]);
	struct wire_conn c;
	wire_conn_init(&c, sv[1]);
	errno = 0;
	assert_int_equal(wire_conn_read(&c), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	wire_conn_clear(&c);
	close(sv[0]);
	close(sv[1]);
}

/* Write p[0..len) into w while reading c until the socket is empty; both ends
 * non-blocking. 0 when all arrived, or -1 with errno from wire_conn_read. */
static int feed(struct wire_conn *c, int w, const char *p, size_t len)
{
	size_t done = 0;
	for (;;) {
		if (done < len) {
			ssize_t r = write(w, p + done, len - done);
			if (r > 0)
				done += (size_t)r;
			else
				assert_int_equal(errno, EAGAIN);
		}
		ssize_t n;
		while ((n = wire_conn_read(c)) > 0)
			;
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (done == len)
			return 0;
	}
}

static void test_conn_line_limits(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	set_nonblock(sv[0]);
	set_nonblock(sv[1]);
	char *data = malloc(WIRE_MAX_LINE + 2);
	assert_non_null(data);
	memset(data, 'z', WIRE_MAX_LINE);
	data[WIRE_MAX_LINE] = '\n';
	struct wire_conn c;
	wire_conn_init(&c, sv[1]);
	struct wire_field f[MAXF];

	/* Exactly at the limit: one field of WIRE_MAX_LINE bytes, twice. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(feed(&c, sv[0], data, WIRE_MAX_LINE + 1), 0);
		assert_int_equal(wire_conn_next(&c, f, MAXF), 1);
		assert_int_equal(f[0].len, WIRE_MAX_LINE);
		assert_int_equal(f[0].p[WIRE_MAX_LINE - 1], 'z');
		assert_int_equal(wire_conn_next(&c, f, MAXF), 0);
	}

	/* One byte over: refused with EMSGSIZE by read or by next. */
	data[WIRE_MAX_LINE] = 'z';
	data[WIRE_MAX_LINE + 1] = '\n';
	int r = feed(&c, sv[0], data, WIRE_MAX_LINE + 2);
	if (r == 0)
		r = wire_conn_next(&c, f, MAXF);
	assert_int_equal(r, -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(wire_conn_next(&c, f, MAXF), -1);
	wire_conn_clear(&c);
	free(data);
	close(sv[0]);
	close(sv[1]);
}

/* Many random lines written in random-sized pieces come out whole, in order. */
static void test_conn_random_chunks(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	struct buf all;
	buf_init(&all, 0);
	static char store[MAXF * 48];
	struct wire_field in[MAXF], out[MAXF];
	struct rng gen = {0xabcdef12345ULL}, check = gen, cut = {99};
	for (int i = 0; i < 500; i++) {
		size_t n = random_fields(&gen, in, store);
		assert_int_equal(wire_encode(&all, in, n), 0);
	}
	struct wire_conn c;
	wire_conn_init(&c, sv[1]);
	int lines = 0;
	for (size_t off = 0; off < all.len;) {
		size_t piece = 1 + rng_next(&cut) % 700;
		if (piece > all.len - off)
			piece = all.len - off;
		assert_int_equal(write(sv[0], all.data + off, piece), (ssize_t)piece);
		off += piece;
		assert_int_equal(wire_conn_read(&c), (ssize_t)piece);
		int k;
		while ((k = wire_conn_next(&c, out, MAXF)) > 0) {
			size_t n = random_fields(&check, in, store);
			assert_int_equal(k, (int)n);
			for (size_t i = 0; i < n; i++)
				assert_field(&out[i], in[i].p, in[i].len);
			lines++;
		}
		assert_int_equal(k, 0);
	}
	assert_int_equal(lines, 500);
	wire_conn_clear(&c);
	buf_free(&all);
	close(sv[0]);
	close(sv[1]);
}

static void test_send_errors(void **state)
{
	(void)state;
	int sv[2];
	make_pair(sv);
	int fds[WIRE_MAX_FDS + 1];
	for (size_t i = 0; i < WIRE_MAX_FDS + 1; i++)
		fds[i] = 0;
	assert_int_equal(wire_send(sv[0], "x\n", 2, fds, WIRE_MAX_FDS + 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(wire_send(sv[0], "", 0, fds, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(wire_send(sv[0], "", 0, NULL, 0), 0);
	/* A closed peer is an error, not a SIGPIPE. */
	close(sv[1]);
	assert_int_equal(wire_send(sv[0], "x\n", 2, NULL, 0), -1);
	assert_int_equal(errno, EPIPE);
	close(sv[0]);
}

/* A non-blocking sender still delivers everything: wire_send waits for room. */
static void test_send_nonblocking_large(void **state)
{
	(void)state;
	enum { TOTAL = 2 * 1024 * 1024 };
	int sv[2];
	make_pair(sv);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		usleep(100 * 1000); /* let the sender fill the socket first */
		static char rb[65536];
		size_t got = 0;
		uint32_t sum = 0;
		ssize_t r;
		while ((r = read(sv[1], rb, sizeof(rb))) > 0) {
			for (ssize_t i = 0; i < r; i++)
				sum = sum * 31 + (unsigned char)rb[i];
			got += (size_t)r;
		}
		uint32_t want = 0;
		for (size_t i = 0; i < TOTAL; i++)
			want = want * 31 + (unsigned char)(i % 251);
		_exit(got == TOTAL && sum == want ? 0 : 1);
	}
	close(sv[1]);
	char *data = malloc(TOTAL);
	assert_non_null(data);
	for (size_t i = 0; i < TOTAL; i++)
		data[i] = (char)(i % 251);
	set_nonblock(sv[0]);
	assert_int_equal(wire_send(sv[0], data, TOTAL, NULL, 0), 0);
	close(sv[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(data);
}

static void test_parse_u32(void **state)
{
	(void)state;
	uint32_t v = 7;
	assert_int_equal(wire_parse_u32("0", 1, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(wire_parse_u32("4294967295", 10, UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(wire_parse_u32("4294967296", 10, UINT32_MAX, &v), -1);
	assert_int_equal(wire_parse_u32("65536", 5, 65535, &v), -1);
	assert_int_equal(wire_parse_u32("65535", 5, 65535, &v), 0);
	assert_int_equal(wire_parse_u32("012", 3, 100, &v), -1); /* not canonical */
	assert_int_equal(wire_parse_u32("", 0, 100, &v), -1);
	assert_int_equal(wire_parse_u32("1a", 2, 100, &v), -1);
	assert_int_equal(wire_parse_u32("-1", 2, 100, &v), -1);
	assert_int_equal(wire_parse_u32("12345678901", 11, UINT32_MAX, &v), -1);
	assert_int_equal(v, 65535); /* failures leave *out alone */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_u32),         cmocka_unit_test(test_escape_each),
	    cmocka_unit_test(test_encode_strs),       cmocka_unit_test(test_random_roundtrip),
	    cmocka_unit_test(test_malformed),         cmocka_unit_test(test_empty_fields),
	    cmocka_unit_test(test_field_count),       cmocka_unit_test(test_line_limits),
	    cmocka_unit_test(test_version),           cmocka_unit_test(test_field_eq),
	    cmocka_unit_test(test_conn_byte_by_byte), cmocka_unit_test(test_conn_lines_in_one_read),
	    cmocka_unit_test(test_conn_cr_and_eof),   cmocka_unit_test(test_conn_nonblocking),
	    cmocka_unit_test(test_conn_line_limits),  cmocka_unit_test(test_conn_random_chunks),
	    cmocka_unit_test(test_send_errors),       cmocka_unit_test(test_send_nonblocking_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
