/* auth-token.h: one-time login tokens. A successful login gets a random
 * token bound to the service it was issued for; mailstore redeems it once,
 * within the lifetime, for the user's uid, gid, home and mail location.
 * The clock is passed in (milliseconds) so expiry is testable. */
#ifndef LOFT_AUTH_TOKEN_H
#define LOFT_AUTH_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AUTH_TOKEN_BYTES 32 /* 256 random bits */
#define AUTH_TOKEN_HEX   (AUTH_TOKEN_BYTES * 2)

/* What a userdb says about a user; every string owned by the struct. */
struct auth_user_info {
	char *user;
	uid_t uid;
	gid_t gid;
	char *home;
	char *mail;
};
/* Deep copy; 0 or -1 (out of memory, dst left empty). */
int auth_user_info_copy(struct auth_user_info *dst, const struct auth_user_info *src);
void auth_user_info_free(struct auth_user_info *info);

struct auth_token {
	char hex[AUTH_TOKEN_HEX + 1];
	char *service;
	struct auth_user_info info;
	uint64_t expires_ms;
};

struct auth_tokens {
	struct auth_token *v;
	size_t n, cap, max;
	uint64_t lifetime_ms;
};

void auth_tokens_init(struct auth_tokens *t, uint64_t lifetime_ms, size_t max);
void auth_tokens_free(struct auth_tokens *t);
/* Drop expired tokens. */
void auth_tokens_expire(struct auth_tokens *t, uint64_t now_ms);
/* New token for info and service; hex_r gets it (NUL-terminated). 0, or -1
 * when the random generator fails, memory runs out or the table is full. */
int auth_tokens_issue(struct auth_tokens *t, const char *service, const struct auth_user_info *info,
                      uint64_t now_ms, char hex_r[AUTH_TOKEN_HEX + 1]);
/* Redeem token p[0..len) for service. 0 with info_r filled (caller frees),
 * or -1 for an unknown, expired or already used token or another service.
 * A token that is found is consumed even when the service does not match. */
int auth_tokens_redeem(struct auth_tokens *t, const char *p, size_t len, const char *service,
                       uint64_t now_ms, struct auth_user_info *info_r);

#endif
