/* handoff.c: encoding and strict decoding of the SESSION line of the login
 * handoff (lib/ipc/handoff.h), shared by the login daemons (sending) and
 * mailstore's dispatcher (receiving). Pure functions over buffers and fields. */
#include "handoff.h"

#include <stdio.h>
#include <string.h>

#include "wire.h"

/* Append "key=value" as one escaped field, with the TAB before it. */
static int ho_kv(struct buf *out, const char *key, const char *val, size_t len)
{
	if (buf_append(out, "\t", 1) < 0 || buf_append_str(out, key) < 0 ||
	    buf_append(out, "=", 1) < 0)
		return -1;
	return wire_escape(out, val, len);
}

int handoff_encode(struct buf *out, const struct handoff_req *req)
{
	if (req->id == 0 || req->proto[0] == '\0' || req->token[0] == '\0' ||
	    req->data_len > HANDOFF_MAX_DATA || (req->data_len > 0 && req->data == NULL) ||
	    req->rport > 65535 || req->lport > 65535)
		return -1;
	size_t start = out->len;
	char num[3][16];
	snprintf(num[0], sizeof(num[0]), "%u", (unsigned)req->id);
	snprintf(num[1], sizeof(num[1]), "%u", req->rport);
	snprintf(num[2], sizeof(num[2]), "%u", req->lport);
	int r = buf_append_str(out, "SESSION\t");
	r |= buf_append_str(out, num[0]);
	r |= ho_kv(out, "proto", req->proto, strnlen(req->proto, sizeof(req->proto)));
	r |= ho_kv(out, "token", req->token, strnlen(req->token, sizeof(req->token)));
	r |= ho_kv(out, "user", req->user, strnlen(req->user, sizeof(req->user)));
	r |= ho_kv(out, "rip", req->rip, strnlen(req->rip, sizeof(req->rip)));
	r |= ho_kv(out, "rport", num[1], strlen(num[1]));
	r |= ho_kv(out, "lip", req->lip, strnlen(req->lip, sizeof(req->lip)));
	r |= ho_kv(out, "lport", num[2], strlen(num[2]));
	r |= ho_kv(out, "session", req->session, strnlen(req->session, sizeof(req->session)));
	if (req->tag[0] != '\0')
		r |= ho_kv(out, "tag", req->tag, strnlen(req->tag, sizeof(req->tag)));
	if (req->tls)
		r |= buf_append_str(out, "\ttls");
	if (req->secured)
		r |= buf_append_str(out, "\tsecured");
	r |= ho_kv(out, "data", req->data_len > 0 ? req->data : "", req->data_len);
	r |= buf_append(out, "\n", 1);
	if (r != 0) {
		/* Leave out as it was: a half line must never be sent. */
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
		return -1;
	}
	return 0;
}

/* Copy a text value into dst (size cap): no NUL inside, must fit. */
static int ho_text(char *dst, size_t cap, const char *p, size_t len, bool allow_empty)
{
	if (len >= cap || (!allow_empty && len == 0) || memchr(p, '\0', len) != NULL)
		return -1;
	memcpy(dst, p, len);
	dst[len] = '\0';
	return 0;
}

static bool ho_is_hex(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return len > 0;
}

enum {
	HO_PROTO = 1 << 0,
	HO_TOKEN = 1 << 1,
	HO_USER = 1 << 2,
	HO_RIP = 1 << 3,
	HO_RPORT = 1 << 4,
	HO_LIP = 1 << 5,
	HO_LPORT = 1 << 6,
	HO_SESSION = 1 << 7,
	HO_DATA = 1 << 8,
	HO_TAG = 1 << 9, /* optional */
	HO_TLS = 1 << 10,
	HO_SECURED = 1 << 11,
	HO_REQUIRED = (1 << 9) - 1,
};

/* An IMAP tag: printable ASCII without space, quote, backslash, brackets,
 * braces, %, * or + (RFC 3501 tag = 1*<any ASTRING-CHAR except "+">). */
static bool ho_is_tag(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= ' ' || c >= 0x7f || strchr("\"\\(){%*+", c) != NULL)
			return false;
	}
	return len > 0;
}

/* One field after the id; sets its bit in *seen. 0, or -1 with *err_r. */
static int ho_field(const struct wire_field *f, struct handoff_req *req, unsigned *seen,
                    const char **err_r)
{
	static const char *const keys[] = {"proto", "token", "user",    "rip",  "rport",
	                                   "lip",   "lport", "session", "data", "tag"};
	if (wire_field_eq(f, "tls") || wire_field_eq(f, "secured")) {
		unsigned bit = f->p[0] == 't' ? HO_TLS : HO_SECURED;
		if (*seen & bit)
			return *err_r = "duplicate field", -1;
		*seen |= bit;
		*(bit == HO_TLS ? &req->tls : &req->secured) = true;
		return 0;
	}
	const char *eq = memchr(f->p, '=', f->len);
	if (eq == NULL)
		return *err_r = "field without value", -1;
	size_t kl = (size_t)(eq - f->p), vl = f->len - kl - 1;
	const char *v = eq + 1;
	size_t k = 0;
	while (k < sizeof(keys) / sizeof(keys[0]) &&
	       !(strlen(keys[k]) == kl && memcmp(keys[k], f->p, kl) == 0))
		k++;
	if (k == sizeof(keys) / sizeof(keys[0]))
		return 0; /* unknown key: ignored, for forward compatibility */
	if (*seen & (1u << k))
		return *err_r = "duplicate field", -1;
	*seen |= 1u << k;
	uint32_t port;
	int r = 0;
	switch (1u << k) {
	case HO_PROTO:
		r = ho_text(req->proto, sizeof(req->proto), v, vl, false);
		break;
	case HO_TOKEN:
		r = ho_is_hex(v, vl) ? ho_text(req->token, sizeof(req->token), v, vl, false) : -1;
		break;
	case HO_USER:
		r = ho_text(req->user, sizeof(req->user), v, vl, true);
		break;
	case HO_RIP:
		r = ho_text(req->rip, sizeof(req->rip), v, vl, true);
		break;
	case HO_LIP:
		r = ho_text(req->lip, sizeof(req->lip), v, vl, true);
		break;
	case HO_SESSION:
		r = ho_text(req->session, sizeof(req->session), v, vl, false);
		break;
	case HO_RPORT:
	case HO_LPORT:
		r = wire_parse_u32(v, vl, 65535, &port);
		if (r == 0)
			*((1u << k) == HO_RPORT ? &req->rport : &req->lport) = port;
		break;
	case HO_TAG:
		r = ho_is_tag(v, vl) ? ho_text(req->tag, sizeof(req->tag), v, vl, false) : -1;
		break;
	case HO_DATA:
		if (vl > HANDOFF_MAX_DATA)
			return *err_r = "data too long", -1;
		req->data = v;
		req->data_len = vl;
		break;
	}
	if (r < 0)
		*err_r = "invalid field value";
	return r;
}

int handoff_decode(const struct wire_field *f, int n, struct handoff_req *req, const char **err_r)
{
	memset(req, 0, sizeof(*req));
	req->data = "";
	if (n < 2 || !wire_field_eq(&f[0], "SESSION"))
		return *err_r = "not a SESSION line", -1;
	if (wire_parse_u32(f[1].p, f[1].len, UINT32_MAX, &req->id) < 0 || req->id == 0)
		return *err_r = "invalid id", -1;
	unsigned seen = 0;
	for (int i = 2; i < n; i++)
		if (ho_field(&f[i], req, &seen, err_r) < 0)
			return -1;
	if ((seen & HO_REQUIRED) != HO_REQUIRED)
		return *err_r = "missing field", -1;
	return 0;
}
