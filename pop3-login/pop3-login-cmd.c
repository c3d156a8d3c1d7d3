/* pop3-login-cmd.c: POP3 before login (RFC 1939, 2449 CAPA, 2595 STLS, 5034
 * SASL, 3206 response codes) with Dovecot's reply texts: a command table of
 * CAPA, STLS, USER, PASS, AUTH and QUIT over lib/parse/pop3-parse.h. The final
 * `+OK Logged in.` is not sent here: the POP3 session in mailstore sends it
 * once the maildrop is open (docs/pop3.md, docs/login.md). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "buf.h"
#include "pop3-login.h"
#include "pop3-parse.h"

#define POP3L_REPLY_PLAINTEXT                                                                      \
	"-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"
#define POP3L_REPLY_AUTH_FAILED "-ERR [AUTH] Authentication failed.\r\n"
#define POP3L_REPLY_TEMPFAIL    "-ERR [SYS/TEMP] Temporary authentication failure.\r\n"
#define POP3L_REPLY_INTERNAL                                                                       \
	"-ERR [SYS/TEMP] Internal login failure. Refer to server log for more information.\r\n"

struct pop3l_state {
	char *user;       /* from USER, until PASS */
	bool sasl_active; /* an AUTH exchange waits for a continuation line */
};

typedef void pop3l_cmd_fn(struct login_client *c, struct pop3l_state *st,
                          const struct pop3_cmd *cmd);

static void reply(struct login_client *c, const char *text)
{
	login_client_send(c, text, strlen(text));
}

/* An -ERR for a command that was wrong; counts towards the disconnect limit. */
static void reply_bad(struct login_client *c, const char *text)
{
	reply(c, text);
	login_client_bad_command(c);
}

static void cmd_capa(struct login_client *c, struct pop3l_state *st, const struct pop3_cmd *cmd)
{
	(void)st;
	(void)cmd;
	struct buf b;
	buf_init(&b, 1024);
	buf_append_str(&b, "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
	                   "AUTH-RESP-CODE\r\n");
	if (login_client_tls_available(c))
		buf_append_str(&b, "STLS\r\n");
	if (login_client_plaintext_allowed(c))
		buf_append_str(&b, "USER\r\n");
	const char *mechs[16];
	size_t n = login_client_mechs(c, mechs, 16);
	if (n > 0) {
		buf_append_str(&b, "SASL");
		for (size_t i = 0; i < n; i++)
			buf_printf(&b, " %s", mechs[i]);
		buf_append_str(&b, "\r\n");
	}
	buf_append_str(&b, ".\r\n");
	login_client_send(c, b.data, b.len);
	buf_free(&b);
}

static void cmd_stls(struct login_client *c, struct pop3l_state *st, const struct pop3_cmd *cmd)
{
	(void)cmd;
	if (login_client_is_tls(c)) {
		reply_bad(c, "-ERR TLS is already active.\r\n");
		return;
	}
	if (!login_client_tls_available(c)) {
		reply_bad(c, "-ERR TLS support isn't enabled.\r\n");
		return;
	}
	free(st->user);
	st->user = NULL;
	reply(c, "+OK Begin TLS negotiation now.\r\n");
	login_client_start_tls(c);
}

static void cmd_user(struct login_client *c, struct pop3l_state *st, const struct pop3_cmd *cmd)
{
	if (!login_client_plaintext_allowed(c)) {
		reply_bad(c, POP3L_REPLY_PLAINTEXT);
		return;
	}
	if (cmd->rest_len == 0 || cmd->rest_len > 255 || memchr(cmd->rest, '\0', cmd->rest_len)) {
		reply_bad(c, "-ERR Invalid user name.\r\n");
		return;
	}
	free(st->user);
	st->user = strndup(cmd->rest, cmd->rest_len);
	login_client_set_user(c, cmd->rest, cmd->rest_len);
	reply(c, st->user != NULL ? "+OK\r\n" : POP3L_REPLY_TEMPFAIL);
}

static void on_auth(struct login_client *c, const struct auth_client_reply *rep)
{
	struct pop3l_state *st = login_client_state(c);
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
	case AUTH_CLIENT_OK:
		login_client_handoff(c, rep->user, rep->token, NULL, POP3L_REPLY_INTERNAL);
		return;
	case AUTH_CLIENT_TEMPFAIL:
		reply(c, POP3L_REPLY_TEMPFAIL);
		break;
	case AUTH_CLIENT_FAIL:
	case AUTH_CLIENT_NOTFOUND:
		/* A failed login counts like a bad command: ten end the connection
		 * (auth slows each failure down as well). */
		if (rep->reason != NULL &&
		    strcmp(rep->reason, "plaintext authentication disallowed") == 0)
			reply_bad(c, POP3L_REPLY_PLAINTEXT);
		else
			reply_bad(c, POP3L_REPLY_AUTH_FAILED);
		break;
	}
	login_client_resume(c);
}

static void cmd_pass(struct login_client *c, struct pop3l_state *st, const struct pop3_cmd *cmd)
{
	if (!login_client_plaintext_allowed(c)) {
		reply_bad(c, POP3L_REPLY_PLAINTEXT);
		return;
	}
	if (st->user == NULL) {
		reply_bad(c, "-ERR No username given.\r\n");
		return;
	}
	/* USER/PASS travels to auth as SASL PLAIN: NUL authcid NUL password. */
	size_t ulen = strlen(st->user);
	size_t len = 2 + ulen + cmd->rest_len;
	unsigned char *blob = malloc(len);
	if (blob == NULL) {
		reply(c, POP3L_REPLY_TEMPFAIL);
		return;
	}
	blob[0] = '\0';
	memcpy(blob + 1, st->user, ulen);
	blob[1 + ulen] = '\0';
	memcpy(blob + 2 + ulen, cmd->rest, cmd->rest_len);
	free(st->user);
	st->user = NULL;
	if (login_client_auth_start(c, "PLAIN", blob, len, true, on_auth) < 0)
		reply(c, POP3L_REPLY_TEMPFAIL);
	explicit_bzero(blob, len);
	free(blob);
}

static void cmd_auth_list(struct login_client *c)
{
	const char *mechs[16];
	size_t n = login_client_mechs(c, mechs, 16);
	struct buf b;
	buf_init(&b, 1024);
	buf_append_str(&b, "+OK\r\n");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s\r\n", mechs[i]);
	buf_append_str(&b, ".\r\n");
	login_client_send(c, b.data, b.len);
	buf_free(&b);
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

static void cmd_auth(struct login_client *c, struct pop3l_state *st, const struct pop3_cmd *cmd)
{
	if (cmd->argc == 0) {
		cmd_auth_list(c);
		return;
	}
	char mech[32];
	bool plaintext = false;
	if (cmd->arg_lens[0] >= sizeof(mech)) {
		reply_bad(c, "-ERR Unsupported authentication mechanism.\r\n");
		return;
	}
	memcpy(mech, cmd->args[0], cmd->arg_lens[0]);
	mech[cmd->arg_lens[0]] = '\0';
	if (!login_mech_known(login_client_ctx(c), mech, &plaintext)) {
		reply_bad(c, "-ERR Unsupported authentication mechanism.\r\n");
		return;
	}
	if (plaintext && !login_client_plaintext_allowed(c)) {
		reply_bad(c, POP3L_REPLY_PLAINTEXT);
		return;
	}
	unsigned char *resp = NULL;
	size_t resp_len = 0;
	bool has_resp = cmd->argc > 1;
	/* "=" is an empty initial response (RFC 5034 section 4). */
	if (has_resp && !(cmd->arg_lens[1] == 1 && cmd->args[1][0] == '=')) {
		resp = malloc(BASE64_DECODED_MAX(cmd->arg_lens[1]) + 1);
		if (resp == NULL ||
		    base64_decode(cmd->args[1], cmd->arg_lens[1], resp, &resp_len) < 0) {
			free(resp);
			reply_bad(c, "-ERR Invalid base64 data in initial response.\r\n");
			return;
		}
	}
	st->sasl_active = false;
	note_plain_user(c, mech, resp, resp_len);
	if (login_client_auth_start(c, mech, resp, resp_len, has_resp, on_auth) < 0)
		reply(c, POP3L_REPLY_TEMPFAIL);
	if (resp != NULL)
		explicit_bzero(resp, resp_len);
	free(resp);
}

static void cmd_quit(struct login_client *c, struct pop3l_state *st, const struct pop3_cmd *cmd)
{
	(void)st;
	(void)cmd;
	reply(c, "+OK Logging out.\r\n");
	login_client_close(c, NULL);
}

static const struct {
	const char *verb;
	pop3l_cmd_fn *fn;
	unsigned max_args; /* USER and PASS take the whole rest of the line */
} pop3l_cmds[] = {
    {"CAPA", cmd_capa, 0},  {"STLS", cmd_stls, 0}, {"USER", cmd_user, 99},
    {"PASS", cmd_pass, 99}, {"AUTH", cmd_auth, 2}, {"QUIT", cmd_quit, 0},
};

/* A line while an AUTH exchange waits for the client's next response. */
static void pop3l_continuation(struct login_client *c, struct pop3l_state *st, const char *p,
                               size_t len)
{
	const char *data;
	size_t dlen;
	st->sasl_active = false;
	if (pop3_parse_continuation(p, len, 0, &data, &dlen) != POP3_PARSE_OK) {
		login_client_auth_abort(c);
		reply_bad(c, "-ERR Invalid base64 data in continued response.\r\n");
		return;
	}
	if (dlen == 1 && data[0] == '*') {
		login_client_auth_abort(c);
		reply(c, "-ERR [AUTH] Authentication aborted by client.\r\n");
		return;
	}
	unsigned char *resp = malloc(BASE64_DECODED_MAX(dlen) + 1);
	size_t rlen = 0;
	if (resp == NULL || base64_decode(data, dlen, resp, &rlen) < 0) {
		free(resp);
		login_client_auth_abort(c);
		reply_bad(c, "-ERR Invalid base64 data in continued response.\r\n");
		return;
	}
	if (login_client_auth_cont(c, resp, rlen) < 0) {
		login_client_auth_abort(c);
		reply(c, POP3L_REPLY_TEMPFAIL);
	}
	explicit_bzero(resp, rlen);
	free(resp);
}

static void pop3l_line(struct login_client *c, const char *p, size_t len)
{
	struct pop3l_state *st = login_client_state(c);
	if (st->sasl_active) {
		pop3l_continuation(c, st, p, len);
		return;
	}
	struct pop3_cmd cmd;
	enum pop3_parse_result r = pop3_parse_command(p, len, &cmd);
	if (r == POP3_PARSE_TOO_LONG) {
		reply_bad(c, "-ERR Input line too long.\r\n");
		return;
	}
	if (r != POP3_PARSE_OK && r != POP3_PARSE_TOO_MANY_ARGS) {
		reply_bad(c, "-ERR Unknown command.\r\n");
		return;
	}
	for (size_t i = 0; i < sizeof(pop3l_cmds) / sizeof(pop3l_cmds[0]); i++) {
		if (strcmp(cmd.verb, pop3l_cmds[i].verb) != 0)
			continue;
		if (r == POP3_PARSE_TOO_MANY_ARGS ? pop3l_cmds[i].max_args <= POP3_ARGS_MAX
		                                  : cmd.argc > pop3l_cmds[i].max_args) {
			reply_bad(c, "-ERR Too many arguments.\r\n");
			return;
		}
		pop3l_cmds[i].fn(c, st, &cmd);
		return;
	}
	reply_bad(c, "-ERR Unknown command.\r\n");
}

static void pop3l_greet(struct login_client *c)
{
	struct pop3l_state *st = calloc(1, sizeof(*st));
	if (st == NULL) {
		login_client_close(c, "Out of memory");
		return;
	}
	login_client_set_state(c, st);
	reply(c, "+OK Loft ready.\r\n");
}

static void pop3l_idle(struct login_client *c)
{
	reply(c, "-ERR Disconnected for inactivity.\r\n");
}

static void pop3l_too_long(struct login_client *c)
{
	reply(c, "-ERR Input line too long.\r\n");
}

static void pop3l_free_state(struct login_client *c)
{
	struct pop3l_state *st = login_client_state(c);
	if (st == NULL)
		return;
	free(st->user);
	free(st);
	login_client_set_state(c, NULL);
}

const struct login_proto pop3_login_proto = {
    .name = "pop3-login",
    .service = "pop3",
    .plain_listener = "pop3",
    .tls_listener = "pop3s",
    .refuse_prefix = "-ERR [SYS/TEMP] ",
    .greet = pop3l_greet,
    .line = pop3l_line,
    .idle = pop3l_idle,
    .too_long = pop3l_too_long,
    .free_state = pop3l_free_state,
};
