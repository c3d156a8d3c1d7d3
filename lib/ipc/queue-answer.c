/* queue-answer.c: parser of QUEUE answers (queue-answer.h). Strict about
 * the shape of a line (a line that is no answer is a protocol error, never
 * guessed at), lenient only where the server may leave a FAIL text out. */
#include "queue-answer.h"

#include <string.h>

/* One to three digits, no leading zero. */
static size_t status_part(const char *p, size_t len)
{
	size_t n = 0;
	while (n < len && n < 4 && p[n] >= '0' && p[n] <= '9')
		n++;
	if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
		return 0;
	return n;
}

int queue_status_valid(const char *p, size_t len)
{
	if (len < 5 || (p[0] != '2' && p[0] != '4' && p[0] != '5') || p[1] != '.')
		return 0;
	size_t i = 2;
	size_t k = status_part(p + i, len - i);
	if (k == 0 || i + k >= len || p[i + k] != '.')
		return 0;
	i += k + 1;
	k = status_part(p + i, len - i);
	return k != 0 && i + k == len;
}

/* Split "5.3.4 message too big" into status and text (the code only when
 * its class is the FAIL's own). */
static void split_text(const struct wire_field *t, char cls, struct queue_answer *a)
{
	const char *p = t->p;
	size_t len = t->len;
	size_t sp = 0;
	while (sp < len && p[sp] != ' ')
		sp++;
	if (sp < QUEUE_ANSWER_STATUS_MAX && p[0] == cls && queue_status_valid(p, sp)) {
		memcpy(a->status, p, sp);
		a->status[sp] = '\0';
		while (sp < len && p[sp] == ' ')
			sp++;
		p += sp;
		len -= sp;
	}
	size_t n = 0;
	for (; n < len && n + 1 < sizeof(a->text); n++) {
		unsigned char c = (unsigned char)p[n];
		a->text[n] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	a->text[n] = '\0';
}

int queue_answer_parse_fields(const struct wire_field *f, int n, struct queue_answer *a,
                              const char **error_r)
{
	memset(a, 0, sizeof(*a));
	if (n < 1) {
		*error_r = "empty answer";
		return -1;
	}
	if (wire_field_eq(&f[0], "OK")) {
		if (n > 2) {
			*error_r = "OK with too many fields";
			return -1;
		}
		a->kind = QUEUE_ANSWER_OK;
		if (n == 2)
			a->value = f[1];
		return 0;
	}
	if (wire_field_eq(&f[0], "LIST")) {
		if (n != 2) {
			*error_r = "LIST needs exactly one field";
			return -1;
		}
		a->kind = QUEUE_ANSWER_LIST;
		a->value = f[1];
		return 0;
	}
	if (!wire_field_eq(&f[0], "FAIL")) {
		*error_r = "unknown answer";
		return -1;
	}
	if (n < 2 || n > 3) {
		*error_r = "FAIL needs temp|perm and a text";
		return -1;
	}
	a->kind = QUEUE_ANSWER_FAIL;
	if (wire_field_eq(&f[1], "temp"))
		a->fail = QUEUE_TEMPFAIL;
	else if (wire_field_eq(&f[1], "perm"))
		a->fail = QUEUE_PERMFAIL;
	else {
		*error_r = "FAIL is neither temp nor perm";
		return -1;
	}
	if (n == 3 && f[2].len > 0)
		split_text(&f[2], a->fail == QUEUE_PERMFAIL ? '5' : '4', a);
	return 0;
}

int queue_answer_parse(char *line, size_t len, struct queue_answer *a, const char **error_r)
{
	struct wire_field f[WIRE_MAX_FIELDS];
	int n = wire_decode(line, len, f, WIRE_MAX_FIELDS);
	if (n < 0) {
		memset(a, 0, sizeof(*a));
		*error_r = "malformed line";
		return -1;
	}
	return queue_answer_parse_fields(f, n, a, error_r);
}
