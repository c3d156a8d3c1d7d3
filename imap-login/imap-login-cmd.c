/* imap-login-cmd.c: IMAP before login (RFC 3501/9051, 2595/8314 STARTTLS,
 * 4959 SASL-IR, 2971 ID) with Dovecot's reply texts, over lib/parse/imap-parse.h.
 * A successful LOGIN/AUTHENTICATE is not answered here: the handoff carries
 * its tag and the IMAP session in mailstore answers it (docs/imap-login.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "buf.h"
#include "imap-login.h"
#include "imap-parse.h"

/* Pre-auth limits: a LOGIN needs two short strings, but an ID may carry 30
 * pairs with values of 1024 octets (RFC 2971), ~32k on one line. The line
 * bound is the daemon's login_max_line_length (default 64k): the parser's
 * allows that default plus CRLF. Literals stay small. */
#define IMAPL_MAX_LINE    (64 * 1024 + 2)
#define IMAPL_MAX_LITERAL 1024
#define IMAPL_MAX_ARGS    64
#define IMAPL_MAX_COMMAND (2 * IMAPL_MAX_LITERAL + IMAPL_MAX_LINE)
#define IMAPL_MAX_BAD     10

#define IMAPL_PLAINTEXT                                                                            \
	"NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) "        \
	"connections."
#define IMAPL_AUTH_FAILED "NO [AUTHENTICATIONFAILED] Authentication failed."
#define IMAPL_TEMPFAIL    "NO [UNAVAILABLE] Temporary authentication failure."
#define IMAPL_INTERNAL                                                                             \
	"NO [UNAVAILABLE] Internal error occurred. Refer to server log for more information."
#define IMAPL_UNKNOWN "BAD Error in IMAP command received by server."

struct imapl_state {
	struct imap_parser *ps;
	char tag[65];     /* of the AUTHENTICATE/LOGIN command being worked on */
	bool sasl_active; /* an AUTHENTICATE waits for a continuation line */
	unsigned bad;     /* invalid commands so far */
};

typedef void imapl_cmd_fn(struct login_client *c, struct imapl_state *st,
                          const struct imap_command *cmd);

static void tagged(struct login_client *c, const char *tag, const char *text)
{
	login_client_printf(c, "%s %s\r\n", tag, text);
}

/* A BAD/NO for a command that was wrong: ten of them end the connection. */
static void tagged_bad(struct login_client *c, struct imapl_state *st, const char *tag,
                       const char *text)
{
	tagged(c, tag, text);
	if (++st->bad < IMAPL_MAX_BAD)
		return;
	login_client_printf(c, "* BYE Too many invalid IMAP commands.\r\n");
	login_client_close(c, "Too many invalid commands");
}

static void append_capability(struct login_client *c, struct buf *b)
{
	buf_append_str(b, "IMAP4rev1 SASL-IR ID LITERAL+");
	if (login_client_tls_available(c))
		buf_append_str(b, " STARTTLS");
	if (!login_client_plaintext_allowed(c))
		buf_append_str(b, " LOGINDISABLED");
	const char *mechs[16];
	size_t n = login_client_mechs(c, mechs, 16);
	for (size_t i = 0; i < n; i++)
		buf_printf(b, " AUTH=%s", mechs[i]);
}

static void cmd_capability(struct login_client *c, struct imapl_state *st,
                           const struct imap_command *cmd)
{
	(void)st;
	struct buf b;
	buf_init(&b, 1024);
	buf_append_str(&b, "* CAPABILITY ");
	append_capability(c, &b);
	buf_printf(
	    &b, "\r\n%s OK Pre-login capabilities listed, post-login capabilities have more.\r\n",
	    cmd->tag);
	login_client_send(c, b.data, b.len);
	buf_free(&b);
}

static void cmd_noop(struct login_client *c, struct imapl_state *st, const struct imap_command *cmd)
{
	(void)st;
	tagged(c, cmd->tag, "OK NOOP completed.");
}

/* ID takes a parameter list or NIL; the client's values are only checked for
 * form (RFC 2971: at most 30 pairs of strings / NIL). */
static void cmd_id(struct login_client *c, struct imapl_state *st, const struct imap_command *cmd)
{
	const struct imap_arg *a = cmd->argc == 1 ? &cmd->args[0] : NULL;
	bool ok = a != NULL && (a->type == IMAP_ARG_NIL ||
	                        (a->type == IMAP_ARG_LIST && a->count % 2 == 0 && a->count <= 60));
	for (unsigned i = 0; ok && a->type == IMAP_ARG_LIST && i < a->count; i++)
		ok = a->list[i].type != IMAP_ARG_LIST;
	if (!ok) {
		tagged_bad(c, st, cmd->tag, "BAD Invalid ID parameters.");
		return;
	}
	login_client_printf(c, "* ID (\"name\" \"Loft\")\r\n%s OK ID completed.\r\n", cmd->tag);
}

static void cmd_logout(struct login_client *c, struct imapl_state *st,
                       const struct imap_command *cmd)
{
	(void)st;
	login_client_printf(c, "* BYE Logging out\r\n%s OK Logout completed.\r\n", cmd->tag);
	login_client_close(c, NULL);
}

static void cmd_starttls(struct login_client *c, struct imapl_state *st,
                         const struct imap_command *cmd)
{
	if (login_client_is_tls(c)) {
		tagged_bad(c, st, cmd->tag, "BAD TLS is already active.");
		return;
	}
	if (!login_client_tls_available(c)) {
		tagged_bad(c, st, cmd->tag, "BAD TLS support isn't enabled.");
		return;
	}
	tagged(c, cmd->tag, "OK Begin TLS negotiation now.");
	/* Anything pipelined behind STARTTLS is dropped, in the parser too. */
	imap_parser_reset(st->ps);
	login_client_start_tls(c);
}

static void on_auth(struct login_client *c, const struct auth_client_reply *rep)
{
	struct imapl_state *st = login_client_state(c);
	st->sasl_active = false;
	switch (rep->result) {
	case AUTH_CLIENT_CONTINUE: {
		struct buf b;
		buf_init(&b, 0);
		buf_append_str(&b, "+ ");
		base64_encode(&b, rep->challenge, rep->challenge_len);
		buf_append_str(&b, "\r\n");
		login_client_send(c, b.data, b.len);
		buf_free(&b);
		st->sasl_active = true;
		login_client_resume(c);
		return;
	}
	case AUTH_CLIENT_OK: {
		struct buf fail;
		buf_init(&fail, 256);
		buf_printf(&fail, "%s %s\r\n", st->tag, IMAPL_INTERNAL);
		login_client_set_handoff_tag(c, st->tag);
		login_client_handoff(c, rep->user, rep->token, NULL, fail.data);
		buf_free(&fail);
		return;
	}
	case AUTH_CLIENT_TEMPFAIL:
		tagged(c, st->tag, IMAPL_TEMPFAIL);
		break;
	case AUTH_CLIENT_FAIL:
	case AUTH_CLIENT_NOTFOUND:
		if (rep->reason != NULL &&
		    strcmp(rep->reason, "plaintext authentication disallowed") == 0)
			tagged_bad(c, st, st->tag, IMAPL_PLAINTEXT);
		else
			tagged_bad(c, st, st->tag, IMAPL_AUTH_FAILED);
		break;
	}
	login_client_resume(c);
}

static void start_auth(struct login_client *c, struct imapl_state *st, const char *tag,
                       const char *mech, const unsigned char *resp, size_t len, bool has_resp)
{
	snprintf(st->tag, sizeof(st->tag), "%s", tag);
	if (login_client_auth_start(c, mech, resp, len, has_resp, on_auth) < 0)
		tagged(c, tag, IMAPL_TEMPFAIL);
}

static void cmd_login(struct login_client *c, struct imapl_state *st,
                      const struct imap_command *cmd)
{
	const char *user, *pass;
	size_t ulen, plen;
	if (cmd->argc != 2 || imap_arg_astring(&cmd->args[0], &user, &ulen) < 0 ||
	    imap_arg_astring(&cmd->args[1], &pass, &plen) < 0 || ulen == 0 || ulen > 255 ||
	    memchr(user, '\0', ulen) != NULL || memchr(pass, '\0', plen) != NULL) {
		tagged_bad(c, st, cmd->tag, "BAD Invalid arguments.");
		return;
	}
	if (!login_client_plaintext_allowed(c)) {
		tagged_bad(c, st, cmd->tag, IMAPL_PLAINTEXT);
		return;
	}
	/* LOGIN travels to auth as SASL PLAIN: NUL authcid NUL password. */
	size_t len = 2 + ulen + plen;
	unsigned char *blob = malloc(len);
	if (blob == NULL) {
		tagged(c, cmd->tag, IMAPL_TEMPFAIL);
		return;
	}
	blob[0] = '\0';
	memcpy(blob + 1, user, ulen);
	blob[1 + ulen] = '\0';
	memcpy(blob + 2 + ulen, pass, plen);
	login_client_set_user(c, user, ulen);
	start_auth(c, st, cmd->tag, "PLAIN", blob, len, true);
	explicit_bzero(blob, len);
	free(blob);
}

/* For log lines: the authcid of a PLAIN response ("authzid NUL authcid NUL
 * password"); the password is never looked at. */
static void note_plain_user(struct login_client *c, const char *mech, const unsigned char *resp,
                            size_t len)
{
	if (strcasecmp(mech, "PLAIN") != 0 || resp == NULL)
		return;
	const unsigned char *a = memchr(resp, '\0', len);
	const unsigned char *b =
	    a != NULL ? memchr(a + 1, '\0', len - (size_t)(a + 1 - resp)) : NULL;
	if (b != NULL)
		login_client_set_user(c, (const char *)a + 1, (size_t)(b - a - 1));
}

static void cmd_authenticate(struct login_client *c, struct imapl_state *st,
                             const struct imap_command *cmd)
{
	const char *m, *ir = NULL;
	size_t mlen, irlen = 0;
	char mech[32];
	bool plaintext = false;
	if (cmd->argc < 1 || cmd->argc > 2 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    (cmd->argc == 2 && cmd->args[1].type != IMAP_ARG_ATOM)) {
		tagged_bad(c, st, cmd->tag, "BAD Invalid arguments.");
		return;
	}
	m = cmd->args[0].str;
	mlen = cmd->args[0].len;
	if (mlen >= sizeof(mech)) {
		tagged_bad(c, st, cmd->tag, "NO Unsupported authentication mechanism.");
		return;
	}
	memcpy(mech, m, mlen);
	mech[mlen] = '\0';
	if (!login_mech_known(login_client_ctx(c), mech, &plaintext)) {
		tagged_bad(c, st, cmd->tag, "NO Unsupported authentication mechanism.");
		return;
	}
	if (plaintext && !login_client_plaintext_allowed(c)) {
		tagged_bad(c, st, cmd->tag, IMAPL_PLAINTEXT);
		return;
	}
	if (cmd->argc == 2) {
		ir = cmd->args[1].str;
		irlen = cmd->args[1].len;
	}
	unsigned char *resp = NULL;
	size_t resp_len = 0;
	/* "=" is an empty initial response (RFC 4959). */
	if (ir != NULL && !(irlen == 1 && ir[0] == '=')) {
		resp = malloc(BASE64_DECODED_MAX(irlen) + 1);
		if (resp == NULL || base64_decode(ir, irlen, resp, &resp_len) < 0) {
			free(resp);
			tagged_bad(c, st, cmd->tag, "BAD Invalid base64 data in initial response.");
			return;
		}
	}
	note_plain_user(c, mech, resp, resp_len);
	start_auth(c, st, cmd->tag, mech, resp, resp_len, ir != NULL);
	if (resp != NULL)
		explicit_bzero(resp, resp_len);
	free(resp);
}

static const struct {
	const char *name;
	imapl_cmd_fn *fn;
	bool no_args; /* commands that take no arguments refuse any */
} imapl_cmds[] = {
    {"CAPABILITY", cmd_capability, true},
    {"NOOP", cmd_noop, true},
    {"LOGOUT", cmd_logout, true},
    {"STARTTLS", cmd_starttls, true},
    {"ID", cmd_id, false},
    {"LOGIN", cmd_login, false},
    {"AUTHENTICATE", cmd_authenticate, false},
};

static void imapl_dispatch(struct login_client *c, struct imapl_state *st,
                           const struct imap_command *cmd)
{
	for (size_t i = 0; i < sizeof(imapl_cmds) / sizeof(imapl_cmds[0]); i++) {
		if (strcmp(cmd->name, imapl_cmds[i].name) != 0)
			continue;
		if (imapl_cmds[i].no_args && cmd->argc > 0) {
			tagged_bad(c, st, cmd->tag, "BAD Unexpected arguments.");
			return;
		}
		imapl_cmds[i].fn(c, st, cmd);
		return;
	}
	tagged_bad(c, st, cmd->tag, IMAPL_UNKNOWN);
}

/* A line while an AUTHENTICATE waits for the client's next response. */
static void imapl_continuation(struct login_client *c, struct imapl_state *st, const char *p,
                               size_t len)
{
	st->sasl_active = false;
	if (len == 1 && p[0] == '*') {
		login_client_auth_abort(c);
		tagged_bad(c, st, st->tag, "BAD Authentication aborted by client.");
		return;
	}
	unsigned char *resp = malloc(BASE64_DECODED_MAX(len) + 1);
	size_t rlen = 0;
	if (resp == NULL || base64_decode(p, len, resp, &rlen) < 0) {
		free(resp);
		login_client_auth_abort(c);
		tagged_bad(c, st, st->tag, "BAD Invalid base64 data in continued response.");
		return;
	}
	if (login_client_auth_cont(c, resp, rlen) < 0) {
		login_client_auth_abort(c);
		tagged(c, st->tag, IMAPL_TEMPFAIL);
	}
	explicit_bzero(resp, rlen);
	free(resp);
}

/* The daemon delivers lines; the IMAP parser wants the bytes with their line
 * ends. A literal's data that holds a line end arrives split over lines and
 * is put back together here (a bare LF inside a literal becomes CRLF). */
static void imapl_line(struct login_client *c, const char *p, size_t len)
{
	struct imapl_state *st = login_client_state(c);
	if (st->sasl_active) {
		imapl_continuation(c, st, p, len);
		return;
	}
	struct buf in;
	buf_init(&in, len + 2);
	buf_append(&in, p, len);
	buf_append_str(&in, "\r\n");
	size_t off = 0;
	bool done = false;
	while (off < in.len && !done) {
		size_t used = 0;
		enum imap_parse_result r =
		    imap_parser_feed(st->ps, in.data + off, in.len - off, &used);
		off += used;
		switch (r) {
		case IMAP_PARSE_MORE:
			done = true;
			break;
		case IMAP_PARSE_LITERAL:
			/* Over IMAPL_MAX_LITERAL the parser answers ERROR instead. */
			imap_parser_literal_accept(st->ps);
			login_client_printf(c, "+ Ready for literal data\r\n");
			break;
		case IMAP_PARSE_ERROR: {
			const char *tag = imap_parser_error_tag(st->ps);
			struct buf msg;
			buf_init(&msg, 128);
			buf_printf(&msg, "BAD %s", imap_parser_error(st->ps));
			tagged_bad(c, st, tag[0] != '\0' ? tag : "*", msg.data);
			buf_free(&msg);
			break;
		}
		case IMAP_PARSE_COMMAND:
			imapl_dispatch(c, st, imap_parser_command(st->ps));
			/* A command ends at a line end: nothing of this line is left, and
			 * the next lines wait in the daemon (pipelining, handoff). */
			done = true;
			break;
		}
	}
	explicit_bzero(in.data, in.len); /* may have held a password */
	buf_free(&in);
}

static void imapl_greet(struct login_client *c)
{
	struct imapl_state *st = calloc(1, sizeof(*st));
	struct imap_limits lim = {
	    .max_line = IMAPL_MAX_LINE,
	    .max_literal = IMAPL_MAX_LITERAL,
	    .max_args = IMAPL_MAX_ARGS,
	    .max_command = IMAPL_MAX_COMMAND,
	};
	if (st != NULL)
		st->ps = imap_parser_new(&lim);
	if (st == NULL || st->ps == NULL) {
		free(st);
		login_client_close(c, "Out of memory");
		return;
	}
	login_client_set_state(c, st);
	struct buf b;
	buf_init(&b, 1024);
	buf_append_str(&b, "* OK [CAPABILITY ");
	append_capability(c, &b);
	buf_append_str(&b, "] Loft ready.\r\n");
	login_client_send(c, b.data, b.len);
	buf_free(&b);
}

static void imapl_idle(struct login_client *c)
{
	login_client_printf(c, "* BYE Disconnected for inactivity.\r\n");
}

static void imapl_too_long(struct login_client *c)
{
	login_client_printf(c, "* BYE Input line too long.\r\n");
}

static void imapl_free_state(struct login_client *c)
{
	struct imapl_state *st = login_client_state(c);
	if (st == NULL)
		return;
	imap_parser_free(st->ps);
	free(st);
	login_client_set_state(c, NULL);
}

const struct login_proto imap_login_proto = {
    .name = "imap-login",
    .service = "imap",
    .plain_listener = "imap",
    .tls_listener = "imaps",
    .refuse_prefix = "* BYE [UNAVAILABLE] ",
    .greet = imapl_greet,
    .line = imapl_line,
    .idle = imapl_idle,
    .too_long = imapl_too_long,
    .free_state = imapl_free_state,
};
