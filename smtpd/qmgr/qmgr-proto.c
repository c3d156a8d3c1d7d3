/* qmgr-proto.c: the QUEUE protocol's pure line parser (see qmgr-proto.h):
 * verb table, exact field counts, addresses re-validated with the one strict
 * parser of lib/parse/smtp-parse.c, envelope texts checked against the spool's
 * limits so nothing the spool would refuse gets past DATA. */
#include "qmgr-proto.h"

#include <string.h>

struct qproto_verb_def {
	const char *name;
	enum qproto_verb verb;
	int min_fields, max_fields;
};

static const struct qproto_verb_def verbs[] = {
    {"VERSION", QPROTO_VERSION, 4, 4}, {"MAIL", QPROTO_MAIL, 2, 6},
    {"RCPT", QPROTO_RCPT, 2, 3},       {"DATA", QPROTO_DATA, 1, 1},
    {"BODY", QPROTO_BODY, 2, 2},       {"COMMIT", QPROTO_COMMIT, 1, 1},
    {"ABORT", QPROTO_ABORT, 1, 1},     {"LIST", QPROTO_LIST, 1, 1},
    {"FLUSH", QPROTO_FLUSH, 1, 1},     {"DELETE", QPROTO_DELETE, 2, 2},
    {"HOLD", QPROTO_HOLD, 2, 2},       {"RELEASE", QPROTO_RELEASE, 2, 2},
    {"STATUS", QPROTO_STATUS, 2, 2},
};

static int parse_addr(const struct wire_field *f, bool allow_null, struct qproto_cmd *cmd,
                      const char **error_r)
{
	struct smtp_addr a;
	if (f->len == 0) {
		if (!allow_null) {
			*error_r = "empty recipient";
			return -1;
		}
		cmd->addr[0] = '\0';
		return 0;
	}
	if (smtp_addr_parse(f->p, f->len, SMTP_ADDR_ALLOW_UTF8 | SMTP_ADDR_ALLOW_NODOMAIN, &a) !=
	        SMTP_PARSE_OK ||
	    a.null_path) {
		*error_r = allow_null ? "bad sender address" : "bad recipient address";
		return -1;
	}
	size_t len = strlen(a.full);
	if (len == 0 || len > QUEUE_ADDR_MAX || len >= sizeof(cmd->addr)) {
		*error_r = "address too long";
		return -1;
	}
	memcpy(cmd->addr, a.full, len + 1);
	return 0;
}

/* One MAIL key=value parameter into its slot of cmd. */
static int parse_param(const struct wire_field *f, struct qproto_cmd *cmd, const char **error_r)
{
	static const struct {
		const char *key;
		size_t off, max;
	} keys[] = {
	    {"helo=", offsetof(struct qproto_cmd, helo), QUEUE_TEXT_MAX},
	    {"addr=", offsetof(struct qproto_cmd, client_addr), QUEUE_TEXT_MAX},
	    {"auth=", offsetof(struct qproto_cmd, auth), QUEUE_TEXT_MAX},
	    {"dsn=", offsetof(struct qproto_cmd, dsn), QUEUE_DSN_MAX},
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t kl = strlen(keys[i].key);
		if (f->len < kl || memcmp(f->p, keys[i].key, kl) != 0)
			continue;
		struct wire_field *slot = (struct wire_field *)((char *)cmd + keys[i].off);
		if (slot->p != NULL) {
			*error_r = "repeated MAIL parameter";
			return -1;
		}
		slot->p = f->p + kl;
		slot->len = f->len - kl;
		if (!queue_text_ok(slot->p, slot->len, keys[i].max)) {
			*error_r = "bad MAIL parameter value";
			return -1;
		}
		return 0;
	}
	*error_r = "unknown MAIL parameter";
	return -1;
}

static int parse_args(const struct wire_field *f, int n, struct qproto_cmd *cmd,
                      const char **error_r)
{
	switch (cmd->verb) {
	case QPROTO_VERSION:
		if (wire_check_version(f, n, "QUEUE", 1) < 0) {
			*error_r = "unsupported protocol version";
			return -1;
		}
		return 0;
	case QPROTO_MAIL:
		if (parse_addr(&f[1], true, cmd, error_r) < 0)
			return -1;
		for (int i = 2; i < n; i++) {
			if (parse_param(&f[i], cmd, error_r) < 0)
				return -1;
		}
		return 0;
	case QPROTO_RCPT:
		if (parse_addr(&f[1], false, cmd, error_r) < 0)
			return -1;
		if (n == 3) {
			cmd->dsn = f[2];
			if (!queue_text_ok(f[2].p, f[2].len, QUEUE_DSN_MAX)) {
				*error_r = "bad recipient DSN parameters";
				return -1;
			}
		}
		return 0;
	case QPROTO_BODY:
		if (f[1].len > QPROTO_BODY_MAX) {
			*error_r = "BODY line too long";
			return -1;
		}
		cmd->body = f[1];
		return 0;
	case QPROTO_DELETE:
	case QPROTO_HOLD:
	case QPROTO_RELEASE:
	case QPROTO_STATUS:
		if (f[1].len != QUEUE_ID_LEN || !queue_id_valid(f[1].p, f[1].len)) {
			*error_r = "bad queue id";
			return -1;
		}
		memcpy(cmd->id, f[1].p, QUEUE_ID_LEN);
		cmd->id[QUEUE_ID_LEN] = '\0';
		return 0;
	default:
		return 0;
	}
}

int qproto_parse(const struct wire_field *f, int n, struct qproto_cmd *cmd, const char **error_r)
{
	memset(cmd, 0, sizeof(*cmd));
	if (n < 1) {
		*error_r = "empty line";
		return -1;
	}
	const struct qproto_verb_def *d = NULL;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (wire_field_eq(&f[0], verbs[i].name)) {
			d = &verbs[i];
			break;
		}
	}
	if (d == NULL) {
		*error_r = "unknown command";
		return -1;
	}
	if (n < d->min_fields || n > d->max_fields) {
		*error_r = "wrong number of fields";
		return -1;
	}
	cmd->verb = d->verb;
	return parse_args(f, n, cmd, error_r);
}
