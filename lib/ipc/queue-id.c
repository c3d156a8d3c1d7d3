/* queue-id.c: making and checking queue ids (see queue-id.h). Used by the
 * spool store when it creates a message and by every reader of a spool
 * directory, which ignores names that are not ids. */
#include "queue-id.h"

#include <errno.h>
#include <sys/random.h>
#include <time.h>

static const char hexdig[] = "0123456789abcdef";

static void put_hex(char *out, uint64_t v, int digits)
{
	for (int i = digits - 1; i >= 0; i--) {
		out[i] = hexdig[v & 0xf];
		v >>= 4;
	}
}

void queue_id_format(char out[QUEUE_ID_LEN + 1], uint64_t usec, uint16_t counter, uint32_t rnd)
{
	put_hex(out, usec, 14);
	put_hex(out + 14, counter, 4);
	put_hex(out + 18, rnd & 0xffffff, 6);
	out[QUEUE_ID_LEN] = '\0';
}

int queue_id_new(char out[QUEUE_ID_LEN + 1], uint16_t *counter)
{
	struct timespec ts;
	uint32_t rnd;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -1;
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	uint64_t usec = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	queue_id_format(out, usec, (*counter)++, rnd);
	return 0;
}

int queue_id_valid(const char *p, size_t len)
{
	if (len != QUEUE_ID_LEN)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	}
	return 1;
}

uint64_t queue_id_usec(const char *id)
{
	uint64_t v = 0;
	for (int i = 0; i < 14; i++) {
		char c = id[i];
		v = (v << 4) | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	return v;
}
