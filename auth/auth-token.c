/* auth-token.c: the in-memory one-time token table. Tokens come from
 * RAND_bytes; lookups compare every live token with CRYPTO_memcmp so timing
 * says nothing about how much of a guessed token was right. */
#include "auth-token.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

static char *dup_or_empty(const char *s)
{
	return strdup(s != NULL ? s : "");
}

int auth_user_info_copy(struct auth_user_info *dst, const struct auth_user_info *src)
{
	dst->uid = src->uid;
	dst->gid = src->gid;
	dst->user = dup_or_empty(src->user);
	dst->home = dup_or_empty(src->home);
	dst->mail = dup_or_empty(src->mail);
	if (dst->user == NULL || dst->home == NULL || dst->mail == NULL) {
		auth_user_info_free(dst);
		return -1;
	}
	return 0;
}

void auth_user_info_free(struct auth_user_info *info)
{
	free(info->user);
	free(info->home);
	free(info->mail);
	info->user = info->home = info->mail = NULL;
}

void auth_tokens_init(struct auth_tokens *t, uint64_t lifetime_ms, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->lifetime_ms = lifetime_ms;
	t->max = max;
}

static void token_drop(struct auth_tokens *t, size_t i)
{
	struct auth_token *tok = &t->v[i];
	OPENSSL_cleanse(tok->hex, sizeof(tok->hex));
	free(tok->service);
	auth_user_info_free(&tok->info);
	t->v[i] = t->v[--t->n];
}

void auth_tokens_free(struct auth_tokens *t)
{
	while (t->n > 0)
		token_drop(t, t->n - 1);
	free(t->v);
	t->v = NULL;
	t->cap = 0;
}

void auth_tokens_expire(struct auth_tokens *t, uint64_t now_ms)
{
	for (size_t i = t->n; i > 0; i--)
		if (t->v[i - 1].expires_ms <= now_ms)
			token_drop(t, i - 1);
}

int auth_tokens_issue(struct auth_tokens *t, const char *service, const struct auth_user_info *info,
                      uint64_t now_ms, char hex_r[AUTH_TOKEN_HEX + 1])
{
	auth_tokens_expire(t, now_ms);
	if (t->n >= t->max)
		return -1;
	if (t->n == t->cap) {
		size_t ncap = t->cap == 0 ? 16 : t->cap * 2;
		struct auth_token *v = realloc(t->v, ncap * sizeof(*v));
		if (v == NULL)
			return -1;
		t->v = v;
		t->cap = ncap;
	}
	unsigned char raw[AUTH_TOKEN_BYTES];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	struct auth_token *tok = &t->v[t->n];
	static const char hexdig[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof(raw); i++) {
		tok->hex[2 * i] = hexdig[raw[i] >> 4];
		tok->hex[2 * i + 1] = hexdig[raw[i] & 15];
	}
	tok->hex[AUTH_TOKEN_HEX] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	tok->service = strdup(service);
	if (tok->service == NULL || auth_user_info_copy(&tok->info, info) < 0) {
		free(tok->service);
		return -1;
	}
	tok->expires_ms = now_ms + t->lifetime_ms;
	memcpy(hex_r, tok->hex, sizeof(tok->hex));
	t->n++;
	return 0;
}

int auth_tokens_redeem(struct auth_tokens *t, const char *p, size_t len, const char *service,
                       uint64_t now_ms, struct auth_user_info *info_r)
{
	memset(info_r, 0, sizeof(*info_r));
	auth_tokens_expire(t, now_ms);
	if (len != AUTH_TOKEN_HEX)
		return -1;
	size_t found = SIZE_MAX;
	for (size_t i = 0; i < t->n; i++)
		if (CRYPTO_memcmp(t->v[i].hex, p, AUTH_TOKEN_HEX) == 0)
			found = i;
	if (found == SIZE_MAX)
		return -1;
	int rc = -1;
	if (strcmp(t->v[found].service, service) == 0) {
		*info_r = t->v[found].info;
		/* Ownership moved to the caller. */
		memset(&t->v[found].info, 0, sizeof(t->v[found].info));
		rc = 0;
	}
	token_drop(t, found);
	return rc;
}
