/* fuzz-queue-proto.c: libFuzzer target for the QUEUE protocol parser
 * (smtpd/qmgr/qmgr-proto.c). The input is split at LF; each line is decoded with
 * wire_decode and parsed. Accepted commands must respect the limits the
 * spool relies on: addresses and texts that queue_text_ok accepts, BODY at
 * most QPROTO_BODY_MAX bytes, ids that queue_id_valid accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmgr-proto.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_text(const struct wire_field *f, size_t max)
{
	if (f->p != NULL)
		check(queue_text_ok(f->p, f->len, max));
}

static void one_line(char *line, size_t len)
{
	struct wire_field f[WIRE_MAX_FIELDS];
	struct qproto_cmd c;
	const char *err = NULL;
	int n = wire_decode(line, len, f, WIRE_MAX_FIELDS);
	if (n < 0)
		return;
	if (qproto_parse(f, n, &c, &err) < 0) {
		check(err != NULL);
		return;
	}
	switch (c.verb) {
	case QPROTO_MAIL:
		check(queue_text_ok(c.addr, strlen(c.addr), QUEUE_ADDR_MAX));
		check_text(&c.helo, QUEUE_TEXT_MAX);
		check_text(&c.client_addr, QUEUE_TEXT_MAX);
		check_text(&c.auth, QUEUE_TEXT_MAX);
		check_text(&c.dsn, QUEUE_DSN_MAX);
		break;
	case QPROTO_RCPT:
		check(c.addr[0] != '\0');
		check(queue_text_ok(c.addr, strlen(c.addr), QUEUE_ADDR_MAX));
		check_text(&c.dsn, QUEUE_DSN_MAX);
		break;
	case QPROTO_BODY:
		check(c.body.len <= QPROTO_BODY_MAX);
		break;
	case QPROTO_DELETE:
	case QPROTO_HOLD:
	case QPROTO_RELEASE:
		check(queue_id_valid(c.id, strlen(c.id)));
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i == size || copy[i] == '\n') {
			one_line(copy + start, i - start);
			start = i + 1;
		}
	}
	free(copy);
	return 0;
}
