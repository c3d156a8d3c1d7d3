/* fuzz-wire.c: libFuzzer target for the internal line protocol. The input is
 * decoded as one line with wire_decode and as a stream through a wire_conn;
 * every accepted line must re-encode to exactly its original bytes (the
 * encoding is canonical) and that re-encoding must decode to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

/* Inputs are capped so the whole input fits in the socket at once. */
#define FUZZ_MAX_INPUT 32768

static void check(int cond)
{
	if (!cond)
		abort();
}

/* raw[0..len) decoded to f[0..n): the encoding must give raw + LF back, and
 * decoding that must give the same fields. */
static void check_canonical(const char *raw, size_t len, const struct wire_field *f, int n)
{
	struct buf b;
	buf_init(&b, 0);
	check(wire_encode(&b, f, (size_t)n) == 0);
	check(b.len == len + 1 && b.data[len] == '\n');
	check(memcmp(b.data, raw, len) == 0);
	struct wire_field g[WIRE_MAX_FIELDS];
	check(wire_decode(b.data, len, g, WIRE_MAX_FIELDS) == n);
	for (int i = 0; i < n; i++)
		check(g[i].len == f[i].len && memcmp(g[i].p, f[i].p, f[i].len) == 0);
	buf_free(&b);
}

/* Decode a copy of raw[0..len); returns the field count and checks it. */
static int decode_copy(const char *raw, size_t len)
{
	char *line = malloc(len + 1);
	check(line != NULL);
	memcpy(line, raw, len);
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = wire_decode(line, len, f, WIRE_MAX_FIELDS);
	if (n > 0)
		check_canonical(raw, len, f, n);
	else
		check(n == -1);
	free(line);
	return n;
}

static void fuzz_conn(const char *in, size_t size)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	check(write(sv[0], in, size) == (ssize_t)size);
	shutdown(sv[0], SHUT_WR);
	struct wire_conn c;
	wire_conn_init(&c, sv[1]);
	struct wire_field f[WIRE_MAX_FIELDS];
	size_t pos = 0; /* where the next line starts in the input */
	for (;;) {
		int n = wire_conn_next(&c, f, WIRE_MAX_FIELDS);
		if (n == 0) {
			if (wire_conn_read(&c) <= 0)
				break;
			continue;
		}
		const char *lf = memchr(in + pos, '\n', size - pos);
		check(lf != NULL);
		size_t len = (size_t)(lf - (in + pos));
		/* The stream and the one-line decoder must agree on every line. */
		int m = decode_copy(in + pos, len);
		check(m == n);
		if (n < 0)
			break;
		check_canonical(in + pos, len, f, n);
		for (int i = 0; i < n; i++)
			check(f[i].p[f[i].len] == '\0');
		pos += len + 1;
	}
	check(wire_conn_take_fd(&c) == -1);
	wire_conn_clear(&c);
	close(sv[0]);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	const char *in = (const char *)data;
	decode_copy(in, size);
	fuzz_conn(in, size);
	return 0;
}
