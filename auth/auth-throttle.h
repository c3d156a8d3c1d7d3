/* auth-throttle.h: failure delays per client address. Each failure from an
 * address is answered after base * 2^(n-1) (n = recent failures, capped at
 * max); successes are never delayed, so an attacker cannot lock a real user
 * out. The clock is passed in (milliseconds). */
#ifndef LOFT_AUTH_THROTTLE_H
#define LOFT_AUTH_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_THROTTLE_ADDR_MAX  64
#define AUTH_THROTTLE_FORGET_MS (15u * 60 * 1000) /* quiet time that resets an address */

struct auth_throttle_entry {
	char addr[AUTH_THROTTLE_ADDR_MAX];
	unsigned failures;
	uint64_t last_ms;
};

struct auth_throttle {
	struct auth_throttle_entry *v;
	size_t n, max;
	uint64_t base_ms, max_ms;
};

/* max entries: when full, the address quiet for longest is forgotten. */
int auth_throttle_init(struct auth_throttle *t, uint64_t base_ms, uint64_t max_ms, size_t max);
void auth_throttle_free(struct auth_throttle *t);
/* Record a failure from addr (may be "" when unknown) and return the delay
 * to wait before answering it. */
uint64_t auth_throttle_fail(struct auth_throttle *t, const char *addr, uint64_t now_ms);

#endif
