/* fuzz-queue-record.c: libFuzzer target for the spool record decoders
 * (smtpd/spool/queue-record.c). The first byte picks spool file or state file.
 * Any input must be refused cleanly or decode; a decoded input must encode
 * back to exactly the same bytes (the decoders accept only the canonical
 * form), with envelope text free of CR, LF and NUL. The envelope-only
 * decoder must agree: what it accepts re-encodes to exactly the bytes
 * before body_off, and a whole file it accepts as an envelope is either
 * refused by the whole-file decoder or decodes to the same envelope. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue-record.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_text(const char *s)
{
	if (s != NULL)
		check(queue_text_ok(
		    s, strlen(s), QUEUE_DSN_MAX > QUEUE_ADDR_MAX ? QUEUE_DSN_MAX : QUEUE_ADDR_MAX));
}

static void head(const char *p, size_t len)
{
	struct queue_msg m, whole;
	struct buf out;
	const char *e;
	if (queue_msg_decode_head(p, len, &m, &e) != 0)
		return;
	check(m.nrcpt >= 1 && m.body_off <= len && m.version == 2);
	buf_init(&out, 0);
	check(queue_msg_encode_head(&m, &out, 0, &e) == 0);
	check(out.len == m.body_off && memcmp(out.data, p, out.len) == 0);
	buf_free(&out);
	if (queue_msg_decode(p, len, &whole, &e) == 0) {
		check(whole.nrcpt == m.nrcpt && whole.body_off == m.body_off);
		check(strcmp(whole.sender, m.sender) == 0);
		queue_msg_free(&whole);
	}
	queue_msg_free(&m);
}

static void spool(const char *p, size_t len)
{
	struct queue_msg m;
	struct buf out;
	const char *e, *c;
	size_t pos, n, got = 0;
	if (queue_msg_decode(p, len, &m, &e) < 0)
		return;
	check(m.nrcpt >= 1 && m.file_len == len);
	check_text(m.sender);
	check_text(m.helo);
	for (size_t i = 0; i < m.nrcpt; i++)
		check_text(m.rcpts[i].addr);
	char *body = malloc(m.body_len + 1);
	check(body != NULL);
	pos = m.body_off;
	while (queue_body_next(p, len, &pos, &c, &n)) {
		check(got + n <= m.body_len);
		memcpy(body + got, c, n);
		got += n;
	}
	check(got == m.body_len);
	buf_init(&out, 0);
	check(queue_msg_encode(&m, body, got, &out, &e) == 0);
	check(out.len == len && memcmp(out.data, p, len) == 0);
	buf_free(&out);
	free(body);
	queue_msg_free(&m);
}

static void state(const char *p, size_t len)
{
	struct queue_rcpt r[4];
	struct buf out;
	const char *e;
	char id[QUEUE_ID_LEN + 1];
	memset(r, 0, sizeof(r));
	/* The id is checked against the file's own: take it from where a
	 * valid file keeps it, and try every recipient count up to 4. */
	if (len < 2 * QUEUE_REC_HDR + 4 + QUEUE_ID_LEN)
		return;
	memcpy(id, p + 2 * QUEUE_REC_HDR + 4, QUEUE_ID_LEN);
	id[QUEUE_ID_LEN] = '\0';
	for (size_t n = 1; n <= 4; n++) {
		if (queue_state_decode(p, len, id, r, n, &e) < 0)
			continue;
		buf_init(&out, 0);
		check(queue_state_encode(id, r, n, &out, &e) == 0);
		check(out.len == len && memcmp(out.data, p, len) == 0);
		buf_free(&out);
		for (size_t i = 0; i < n; i++) {
			free(r[i].error);
			r[i].error = NULL;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		state((const char *)data + 1, size - 1);
	else if (data[0] & 2)
		head((const char *)data + 1, size - 1);
	else
		spool((const char *)data + 1, size - 1);
	return 0;
}
