/* auth-sasl.h: the SASL server side of auth: mechanisms PLAIN (RFC 4616) and
 * LOGIN as small pure state machines over base64 responses, plus the user
 * name normalisation (auth_default_domain, auth_username_format). */
#ifndef LOFT_AUTH_SASL_H
#define LOFT_AUTH_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define SASL_MAX_RESPONSE 8192 /* decoded bytes in one response */
#define SASL_MAX_USER     255
#define SASL_MAX_PASS     1024

enum sasl_mech {
	SASL_MECH_PLAIN,
	SASL_MECH_LOGIN,
};

/* Name (case-insensitive) to mechanism. 0 or -1. */
int sasl_mech_parse(const char *p, size_t len, enum sasl_mech *mech_r);
const char *sasl_mech_name(enum sasl_mech mech);
/* Whether the mechanism sends the password in the clear (both do). */
bool sasl_mech_plaintext(enum sasl_mech mech);

/* PLAIN message: [authzid] NUL authcid NUL passwd. Pointers go into p. */
struct sasl_plain {
	const char *authzid, *authcid, *passwd;
	size_t authzid_len, authcid_len, passwd_len;
};
/* Pure. 0, or -1 with *err_r for a malformed message (not exactly two NULs,
 * empty authcid or password, over the size limits). */
int sasl_plain_decode(const char *p, size_t len, struct sasl_plain *out, const char **err_r);

enum sasl_status {
	SASL_CONTINUE, /* send the challenge in *challenge (base64) and wait */
	SASL_DONE,     /* credentials are in the state */
	SASL_ERROR,    /* malformed exchange; *err_r says why */
};

struct sasl_state {
	enum sasl_mech mech;
	int step;
	struct buf authzid, user, pass;
};

void sasl_init(struct sasl_state *s, enum sasl_mech mech);
/* Wipes the password and frees everything. */
void sasl_clear(struct sasl_state *s);
/* Begin; ir is the base64 initial response or NULL when there is none.
 * Appends the base64 challenge to challenge on SASL_CONTINUE. */
enum sasl_status sasl_start(struct sasl_state *s, const char *ir, size_t irlen,
                            struct buf *challenge, const char **err_r);
/* Feed the client's base64 response to the last challenge. */
enum sasl_status sasl_continue(struct sasl_state *s, const char *resp, size_t resplen,
                               struct buf *challenge, const char **err_r);

/* Normalise a login name: append "@default_domain" when it has no '@' and a
 * default domain is set, then expand fmt (%u user, %n local part, %d domain,
 * %L lowercases the next expansion, %% a percent). Refuses empty names, names
 * over SASL_MAX_USER and control characters. Appends to out. 0, or -1 with
 * *err_r. Pure. */
int auth_username_format(const char *fmt, const char *name, size_t len, const char *default_domain,
                         struct buf *out, const char **err_r);

#endif
