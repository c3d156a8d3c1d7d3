/* auth-sasl.c: PLAIN and LOGIN server mechanisms and user name formatting.
 * Everything here is pure: bytes in, credentials or a challenge out. The
 * caller checks the credentials; this file only decodes them strictly. */
#include "auth-sasl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "base64.h"

int sasl_mech_parse(const char *p, size_t len, enum sasl_mech *mech_r)
{
	if (len == 5 && strncasecmp(p, "PLAIN", 5) == 0)
		*mech_r = SASL_MECH_PLAIN;
	else if (len == 5 && strncasecmp(p, "LOGIN", 5) == 0)
		*mech_r = SASL_MECH_LOGIN;
	else
		return -1;
	return 0;
}

const char *sasl_mech_name(enum sasl_mech mech)
{
	return mech == SASL_MECH_PLAIN ? "PLAIN" : "LOGIN";
}

bool sasl_mech_plaintext(enum sasl_mech mech)
{
	(void)mech;
	return true;
}

int sasl_plain_decode(const char *p, size_t len, struct sasl_plain *out, const char **err_r)
{
	const char *nul1 = memchr(p, '\0', len);
	if (nul1 == NULL) {
		*err_r = "PLAIN message without NUL separators";
		return -1;
	}
	size_t rest = len - (size_t)(nul1 + 1 - p);
	const char *nul2 = memchr(nul1 + 1, '\0', rest);
	if (nul2 == NULL) {
		*err_r = "PLAIN message with one NUL separator";
		return -1;
	}
	out->authzid = p;
	out->authzid_len = (size_t)(nul1 - p);
	out->authcid = nul1 + 1;
	out->authcid_len = (size_t)(nul2 - out->authcid);
	out->passwd = nul2 + 1;
	out->passwd_len = len - (size_t)(out->passwd - p);
	if (memchr(out->passwd, '\0', out->passwd_len) != NULL) {
		*err_r = "PLAIN message with more than two NULs";
		return -1;
	}
	if (out->authcid_len == 0 || out->passwd_len == 0) {
		*err_r = "PLAIN message with empty user or password";
		return -1;
	}
	if (out->authcid_len > SASL_MAX_USER || out->authzid_len > SASL_MAX_USER ||
	    out->passwd_len > SASL_MAX_PASS) {
		*err_r = "PLAIN message field too long";
		return -1;
	}
	return 0;
}

void sasl_init(struct sasl_state *s, enum sasl_mech mech)
{
	s->mech = mech;
	s->step = 0;
	buf_init(&s->authzid, SASL_MAX_USER);
	buf_init(&s->user, SASL_MAX_USER);
	buf_init(&s->pass, SASL_MAX_PASS);
}

void sasl_clear(struct sasl_state *s)
{
	if (s->pass.data != NULL)
		OPENSSL_cleanse(s->pass.data, s->pass.cap);
	buf_free(&s->authzid);
	buf_free(&s->user);
	buf_free(&s->pass);
}

/* Decode a base64 response into a fresh heap block (wiped by the caller). */
static unsigned char *decode_resp(const char *p, size_t len, size_t *outlen, const char **err_r)
{
	if (BASE64_DECODED_MAX(len) > SASL_MAX_RESPONSE) {
		*err_r = "SASL response too long";
		return NULL;
	}
	unsigned char *d = malloc(BASE64_DECODED_MAX(len) + 1);
	if (d == NULL) {
		*err_r = "out of memory";
		return NULL;
	}
	if (base64_decode(p, len, d, outlen) < 0) {
		free(d);
		*err_r = "invalid base64 in SASL response";
		return NULL;
	}
	return d;
}

static void wipe_free(unsigned char *d, size_t len)
{
	OPENSSL_cleanse(d, len);
	free(d);
}

static enum sasl_status plain_take(struct sasl_state *s, const char *d, size_t len,
                                   const char **err_r)
{
	struct sasl_plain pl;
	if (sasl_plain_decode(d, len, &pl, err_r) < 0)
		return SASL_ERROR;
	if (buf_append(&s->authzid, pl.authzid, pl.authzid_len) < 0 ||
	    buf_append(&s->user, pl.authcid, pl.authcid_len) < 0 ||
	    buf_append(&s->pass, pl.passwd, pl.passwd_len) < 0) {
		*err_r = "out of memory";
		return SASL_ERROR;
	}
	s->step = 3;
	return SASL_DONE;
}

static enum sasl_status challenge_text(struct sasl_state *s, int next_step, const char *text,
                                       struct buf *challenge, const char **err_r)
{
	s->step = next_step;
	if (base64_encode(challenge, text, strlen(text)) < 0) {
		*err_r = "out of memory";
		return SASL_ERROR;
	}
	return SASL_CONTINUE;
}

/* Handle one decoded response d for the current step. */
static enum sasl_status sasl_feed(struct sasl_state *s, const char *d, size_t len,
                                  struct buf *challenge, const char **err_r)
{
	if (s->mech == SASL_MECH_PLAIN)
		return plain_take(s, d, len, err_r);
	/* LOGIN: step 1 expects the user name, step 2 the password. */
	struct buf *dst = s->step == 1 ? &s->user : &s->pass;
	if (len == 0 || memchr(d, '\0', len) != NULL) {
		*err_r = "LOGIN response empty or with NUL";
		return SASL_ERROR;
	}
	if (buf_append(dst, d, len) < 0) {
		*err_r = "LOGIN response too long";
		return SASL_ERROR;
	}
	if (s->step == 1)
		return challenge_text(s, 2, "Password:", challenge, err_r);
	s->step = 3;
	return SASL_DONE;
}

enum sasl_status sasl_start(struct sasl_state *s, const char *ir, size_t irlen,
                            struct buf *challenge, const char **err_r)
{
	if (s->step != 0) {
		*err_r = "SASL exchange already started";
		return SASL_ERROR;
	}
	s->step = 1;
	if (ir == NULL) {
		if (s->mech == SASL_MECH_PLAIN)
			return challenge_text(s, 1, "", challenge, err_r);
		return challenge_text(s, 1, "Username:", challenge, err_r);
	}
	return sasl_continue(s, ir, irlen, challenge, err_r);
}

enum sasl_status sasl_continue(struct sasl_state *s, const char *resp, size_t resplen,
                               struct buf *challenge, const char **err_r)
{
	if (s->step != 1 && s->step != 2) {
		*err_r = "unexpected SASL response";
		return SASL_ERROR;
	}
	size_t len;
	unsigned char *d = decode_resp(resp, resplen, &len, err_r);
	if (d == NULL)
		return SASL_ERROR;
	enum sasl_status st = sasl_feed(s, (const char *)d, len, challenge, err_r);
	wipe_free(d, len);
	return st;
}

/* Append p[0..len), lowercased when lower is set. */
static int append_case(struct buf *out, const char *p, size_t len, bool lower)
{
	for (size_t i = 0; i < len; i++) {
		char c = lower ? (char)tolower((unsigned char)p[i]) : p[i];
		if (buf_append(out, &c, 1) < 0)
			return -1;
	}
	return 0;
}

static int name_ok(const char *p, size_t len)
{
	if (len == 0 || len > SASL_MAX_USER)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

int auth_username_format(const char *fmt, const char *name, size_t len, const char *default_domain,
                         struct buf *out, const char **err_r)
{
	if (!name_ok(name, len)) {
		*err_r = "invalid user name";
		return -1;
	}
	const char *at = NULL;
	for (size_t i = len; i > 0; i--)
		if (name[i - 1] == '@') {
			at = name + i - 1;
			break;
		}
	bool add_domain = at == NULL && default_domain != NULL && default_domain[0] != '\0';
	const char *local = name, *domain = at != NULL ? at + 1 : "";
	size_t local_len = at != NULL ? (size_t)(at - name) : len;
	size_t domain_len = at != NULL ? len - local_len - 1 : 0;
	if (add_domain) {
		domain = default_domain;
		domain_len = strlen(default_domain);
	}
	size_t start = out->len;
	for (const char *f = fmt; *f != '\0'; f++) {
		int rc = 0;
		if (*f != '%') {
			if (buf_append(out, f, 1) < 0)
				goto too_long;
			continue;
		}
		bool lower = *++f == 'L';
		if (lower)
			f++;
		if (*f == 'u') {
			rc = append_case(out, local, local_len, lower);
			if (rc == 0 && (at != NULL || add_domain))
				rc = buf_append(out, "@", 1) < 0
				         ? -1
				         : append_case(out, domain, domain_len, lower);
		} else if (*f == 'n') {
			rc = append_case(out, local, local_len, lower);
		} else if (*f == 'd') {
			rc = append_case(out, domain, domain_len, lower);
		} else if (*f == '%' && !lower) {
			rc = buf_append(out, "%", 1);
		} else {
			*err_r = "unknown %-sequence in auth_username_format";
			return -1;
		}
		if (rc < 0)
			goto too_long;
	}
	if (out->len == start) {
		*err_r = "user name formats to nothing";
		return -1;
	}
	return 0;
too_long:
	*err_r = "user name too long";
	return -1;
}
