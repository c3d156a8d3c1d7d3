/* auth-throttle.c: a bounded table of recent failures per client address,
 * giving an exponentially growing, capped answer delay for failed logins.
 * Lookups are linear: the table is small and only touched on failures. */
#include "auth-throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int auth_throttle_init(struct auth_throttle *t, uint64_t base_ms, uint64_t max_ms, size_t max)
{
	t->v = calloc(max, sizeof(*t->v));
	t->n = 0;
	t->max = t->v != NULL ? max : 0;
	t->base_ms = base_ms;
	t->max_ms = max_ms < base_ms ? base_ms : max_ms;
	return t->v != NULL ? 0 : -1;
}

void auth_throttle_free(struct auth_throttle *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->max = 0;
}

static struct auth_throttle_entry *throttle_slot(struct auth_throttle *t, const char *addr,
                                                 uint64_t now_ms)
{
	size_t oldest = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].addr, addr) == 0)
			return &t->v[i];
		if (t->v[i].last_ms < t->v[oldest].last_ms)
			oldest = i;
	}
	struct auth_throttle_entry *e;
	if (t->n < t->max)
		e = &t->v[t->n++];
	else if (t->max > 0)
		e = &t->v[oldest];
	else
		return NULL;
	memset(e, 0, sizeof(*e));
	/* Longer addresses are truncated: still a stable key per client. */
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	e->last_ms = now_ms;
	return e;
}

uint64_t auth_throttle_fail(struct auth_throttle *t, const char *addr, uint64_t now_ms)
{
	char key[AUTH_THROTTLE_ADDR_MAX];
	snprintf(key, sizeof(key), "%s", addr);
	struct auth_throttle_entry *e = throttle_slot(t, key, now_ms);
	if (e == NULL)
		return t->max_ms;
	if (now_ms - e->last_ms > AUTH_THROTTLE_FORGET_MS)
		e->failures = 0;
	e->last_ms = now_ms;
	if (e->failures < 64)
		e->failures++;
	uint64_t d = t->base_ms;
	for (unsigned i = 1; i < e->failures && d < t->max_ms; i++)
		d *= 2;
	return d < t->max_ms ? d : t->max_ms;
}
