/* auth-proto.c: strict parsing of auth protocol requests. A request that
 * does not parse is a protocol error and the server drops the connection:
 * clients are Loft's own daemons, so a malformed line means a bug or an
 * attack, never a typo worth recovering from. */
#include "auth-proto.h"

#include <string.h>

/* Copy field f into dst (size dstlen) as a C string; -1 when too long or
 * holding a NUL. */
static int field_copy(char *dst, size_t dstlen, const struct wire_field *f)
{
	if (f->len >= dstlen || memchr(f->p, '\0', f->len) != NULL)
		return -1;
	memcpy(dst, f->p, f->len);
	dst[f->len] = '\0';
	return 0;
}

static int parse_uint(const struct wire_field *f, unsigned *out)
{
	uint32_t v;
	if (wire_parse_u32(f->p, f->len, UINT32_MAX, &v) < 0)
		return -1;
	*out = v;
	return 0;
}

/* "key=value" field: value into v when the key matches. 1 match, 0 not. */
static int field_kv(const struct wire_field *f, const char *key, struct wire_field *v)
{
	size_t kl = strlen(key);
	if (f->len <= kl || memcmp(f->p, key, kl) != 0 || f->p[kl] != '=')
		return 0;
	v->p = f->p + kl + 1;
	v->len = f->len - kl - 1;
	return 1;
}

static int base64_chars_ok(const struct wire_field *f)
{
	for (size_t i = 0; i < f->len; i++) {
		char c = f->p[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || c == '='))
			return 0;
	}
	return 1;
}

/* AUTH <id> <mech> params: service= rip= lip= resp= and the bare words
 * "secured" and "client-delay"; unknown parameters are ignored for forward
 * compatibility. */
static int parse_auth(const struct wire_field *f, int n, struct auth_cmd *cmd, const char **err_r)
{
	if (n < 3 || sasl_mech_parse(f[2].p, f[2].len, &cmd->mech) < 0) {
		*err_r = "AUTH without a known mechanism";
		return -1;
	}
	for (int i = 3; i < n; i++) {
		struct wire_field v;
		int bad = 0;
		if (wire_field_eq(&f[i], "secured"))
			cmd->secured = true;
		else if (wire_field_eq(&f[i], "client-delay"))
			cmd->client_delay = true;
		else if (field_kv(&f[i], "service", &v))
			bad = field_copy(cmd->service, sizeof(cmd->service), &v);
		else if (field_kv(&f[i], "rip", &v))
			bad = field_copy(cmd->rip, sizeof(cmd->rip), &v);
		else if (field_kv(&f[i], "lip", &v))
			bad = field_copy(cmd->lip, sizeof(cmd->lip), &v);
		else if (f[i].len == 5 && memcmp(f[i].p, "resp=", 5) == 0)
			cmd->has_resp = true; /* empty initial response */
		else if (field_kv(&f[i], "resp", &v)) {
			cmd->has_resp = true;
			cmd->resp = v.p;
			cmd->resp_len = v.len;
			bad = base64_chars_ok(&v) ? 0 : -1;
		}
		if (bad) {
			*err_r = "AUTH parameter malformed or too long";
			return -1;
		}
	}
	if (cmd->service[0] == '\0') {
		*err_r = "AUTH without service=";
		return -1;
	}
	return 0;
}

static int parse_verb(const struct wire_field *f, enum auth_verb *v)
{
	static const struct {
		const char *name;
		enum auth_verb verb;
	} verbs[] = {
	    {"VERSION", AUTH_VERB_VERSION}, {"AUTH", AUTH_VERB_AUTH}, {"CONT", AUTH_VERB_CONT},
	    {"CANCEL", AUTH_VERB_CANCEL},   {"USER", AUTH_VERB_USER}, {"REDEEM", AUTH_VERB_REDEEM},
	    {"LOOKUP", AUTH_VERB_LOOKUP},
	};
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (wire_field_eq(f, verbs[i].name)) {
			*v = verbs[i].verb;
			return 0;
		}
	}
	return -1;
}

static int parse_version(const struct wire_field *f, int n, struct auth_cmd *cmd,
                         const char **err_r)
{
	if (n != 4 || !wire_field_eq(&f[1], "auth") || parse_uint(&f[2], &cmd->major) < 0 ||
	    parse_uint(&f[3], &cmd->minor) < 0) {
		*err_r = "malformed VERSION";
		return -1;
	}
	return 0;
}

static int parse_redeem(const struct wire_field *f, int n, struct auth_cmd *cmd, const char **err_r)
{
	struct wire_field v;
	if (n != 4 || field_copy(cmd->token, sizeof(cmd->token), &f[2]) < 0 ||
	    !field_kv(&f[3], "service", &v) ||
	    field_copy(cmd->service, sizeof(cmd->service), &v) < 0) {
		*err_r = "malformed REDEEM";
		return -1;
	}
	return 0;
}

int auth_proto_parse(const struct wire_field *f, int n, struct auth_cmd *cmd, const char **err_r)
{
	memset(cmd, 0, sizeof(*cmd));
	if (n < 1 || parse_verb(&f[0], &cmd->verb) < 0) {
		*err_r = "unknown command";
		return -1;
	}
	if (cmd->verb == AUTH_VERB_VERSION)
		return parse_version(f, n, cmd, err_r);
	if (n < 2 || parse_uint(&f[1], &cmd->id) < 0 || cmd->id == 0) {
		*err_r = "missing or invalid request id";
		return -1;
	}
	switch (cmd->verb) {
	case AUTH_VERB_AUTH:
		return parse_auth(f, n, cmd, err_r);
	case AUTH_VERB_CONT:
		if (n != 3 || !base64_chars_ok(&f[2])) {
			*err_r = "malformed CONT";
			return -1;
		}
		cmd->has_resp = true;
		cmd->resp = f[2].p;
		cmd->resp_len = f[2].len;
		return 0;
	case AUTH_VERB_CANCEL:
		if (n != 2) {
			*err_r = "malformed CANCEL";
			return -1;
		}
		return 0;
	case AUTH_VERB_USER:
	case AUTH_VERB_LOOKUP:
		if (n != 3 || f[2].len == 0 ||
		    field_copy(cmd->name, sizeof(cmd->name), &f[2]) < 0) {
			*err_r =
			    cmd->verb == AUTH_VERB_USER ? "malformed USER" : "malformed LOOKUP";
			return -1;
		}
		return 0;
	case AUTH_VERB_REDEEM:
		return parse_redeem(f, n, cmd, err_r);
	default:
		*err_r = "unknown command";
		return -1;
	}
}

bool auth_proto_allowed(enum auth_listener l, enum auth_verb verb)
{
	if (verb == AUTH_VERB_USER || verb == AUTH_VERB_REDEEM)
		return l == AUTH_LISTENER_MASTER;
	/* smtpd's recipient check: existence only, never uid/home/password */
	if (verb == AUTH_VERB_LOOKUP)
		return l == AUTH_LISTENER_SMTP || l == AUTH_LISTENER_MASTER;
	return true;
}

int auth_listener_parse(const char *name, enum auth_listener *l_r)
{
	if (strcmp(name, "auth-login") == 0)
		*l_r = AUTH_LISTENER_LOGIN;
	else if (strcmp(name, "auth-smtp") == 0)
		*l_r = AUTH_LISTENER_SMTP;
	else if (strcmp(name, "auth-master") == 0)
		*l_r = AUTH_LISTENER_MASTER;
	else
		return -1;
	return 0;
}
