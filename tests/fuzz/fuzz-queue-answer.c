/* fuzz-queue-answer.c: libFuzzer target for the QUEUE answer parser
 * (lib/ipc/queue-answer.c). The input is split at LF; each line is parsed
 * raw. An accepted FAIL must be temp or perm, its status a valid code of
 * the FAIL's class (or empty) and its text printable ASCII within
 * QUEUE_ANSWER_TEXT_MAX: that text goes into SMTP replies as it is. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue-answer.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static void one_line(char *line, size_t len)
{
	struct queue_answer a;
	const char *err = NULL;
	if (queue_answer_parse(line, len, &a, &err) < 0) {
		check(err != NULL);
		return;
	}
	switch (a.kind) {
	case QUEUE_ANSWER_OK:
	case QUEUE_ANSWER_LIST:
		check(a.value.len <= len);
		check(a.value.len == 0 ||
		      (a.value.p >= line && a.value.p + a.value.len <= line + len));
		break;
	case QUEUE_ANSWER_FAIL: {
		check(a.fail == QUEUE_TEMPFAIL || a.fail == QUEUE_PERMFAIL);
		size_t sl = strnlen(a.status, sizeof(a.status));
		check(sl < sizeof(a.status));
		check(sl == 0 || (queue_status_valid(a.status, sl) &&
		                  a.status[0] == (a.fail == QUEUE_PERMFAIL ? '5' : '4')));
		size_t tl = strnlen(a.text, sizeof(a.text));
		check(tl < sizeof(a.text));
		for (size_t i = 0; i < tl; i++)
			check((unsigned char)a.text[i] >= 0x20 && (unsigned char)a.text[i] < 0x7f);
		break;
	}
	default:
		check(0);
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
