/* pop3-commands.c: the POP3 session's command table (verb -> states it is
 * allowed in, handler) and the TRANSACTION commands of RFC 1939 and 2449
 * with Dovecot's reply texts; UPDATE (expunge on QUIT, \Seen) at the end. */
#include "pop3-private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

typedef void pop3_cmd_fn(struct pop3_session *s, const struct pop3_cmd *cmd);

struct pop3_command {
	const char *verb;
	unsigned states;   /* enum pop3_state bits it may run in */
	unsigned min_args; /* fewer: "-ERR Invalid message number" style reply */
	unsigned max_args;
	pop3_cmd_fn *run;
};

/* CAPA after login (Dovecot's list; USER, SASL and STLS are pre-auth only). */
static const char capability_list[] = "CAPA\r\n"
                                      "TOP\r\n"
                                      "UIDL\r\n"
                                      "RESP-CODES\r\n"
                                      "PIPELINING\r\n"
                                      "AUTH-RESP-CODE\r\n";

/* Copy an argument for an error reply, capped and without control bytes. */
static void arg_text(const char *p, size_t n, char *dst, size_t dstlen)
{
	size_t i = 0;
	for (; i < n && i + 1 < dstlen; i++)
		dst[i] = (p[i] < 0x20 || p[i] == 0x7f) ? '?' : p[i];
	dst[i] = '\0';
}

/* Resolve a message-number argument: the message, or NULL after replying. */
static struct pop3_msg *get_msg(struct pop3_session *s, const char *p, size_t n)
{
	char text[64];
	unsigned long num;
	if (pop3_parse_number(p, n, &num) < 0) {
		arg_text(p, n, text, sizeof(text));
		pop3_reply(s, "-ERR Invalid message number: %s", text);
		return NULL;
	}
	if (num == 0 || num > s->count) {
		pop3_reply(s, "-ERR There's no message %lu.", num);
		return NULL;
	}
	struct pop3_msg *m = &s->msgs[num - 1];
	if (m->deleted) {
		pop3_reply(s, "-ERR Message is deleted.");
		return NULL;
	}
	return m;
}

static void totals(const struct pop3_session *s, size_t *count_r, uint64_t *size_r)
{
	*count_r = 0;
	*size_r = 0;
	for (size_t i = 0; i < s->count; i++) {
		if (!s->msgs[i].deleted) {
			(*count_r)++;
			*size_r += s->msgs[i].vsize;
		}
	}
}

static void cmd_stat(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	size_t count;
	uint64_t size;
	totals(s, &count, &size);
	pop3_reply(s, "+OK %zu %" PRIu64, count, size);
}

static void cmd_list(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	if (cmd->argc == 1) {
		struct pop3_msg *m = get_msg(s, cmd->args[0], cmd->arg_lens[0]);
		if (m != NULL)
			pop3_reply(s, "+OK %zu %" PRIu64, (size_t)(m - s->msgs) + 1, m->vsize);
		return;
	}
	size_t count;
	uint64_t size;
	totals(s, &count, &size);
	pop3_reply(s, "+OK %zu messages:", count);
	for (size_t i = 0; i < s->count; i++) {
		if (!s->msgs[i].deleted)
			pop3_reply(s, "%zu %" PRIu64, i + 1, s->msgs[i].vsize);
	}
	pop3_reply(s, ".");
}

/* UIDL is Dovecot's default pop3_uidl_format, %08Xu%08Xv: UID then
 * UIDVALIDITY in upper-case hex. Stable across sessions, tied to the IMAP UID
 * of the same message, and what clients that move from Dovecot already hold. */
static void cmd_uidl(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	uint32_t v = s->box->uidvalidity;
	if (cmd->argc == 1) {
		struct pop3_msg *m = get_msg(s, cmd->args[0], cmd->arg_lens[0]);
		if (m != NULL)
			pop3_reply(s, "+OK %zu %08" PRIX32 "%08" PRIX32, (size_t)(m - s->msgs) + 1,
			           m->uid, v);
		return;
	}
	pop3_reply(s, "+OK");
	for (size_t i = 0; i < s->count; i++) {
		if (!s->msgs[i].deleted)
			pop3_reply(s, "%zu %08" PRIX32 "%08" PRIX32, i + 1, s->msgs[i].uid, v);
	}
	pop3_reply(s, ".");
}

/* Send one message (whole, or TOP's part) after the +OK line. */
static void send_message(struct pop3_session *s, struct pop3_msg *m, bool top, uint64_t lines)
{
	const char *error = "";
	int fd;
	int r = maildir_msg_open(s->box, m->uid, &fd, &error);
	if (r != 0) {
		if (r > 0)
			pop3_reply(s, "-ERR Message was expunged by another session.");
		else
			pop3_reply(s, "-ERR [SYS/TEMP] Couldn't read the message.");
		if (r < 0)
			pop3_log(s, LOG_ERR, "Couldn't open UID %u: %s", m->uid, error);
		return;
	}
	if (top)
		pop3_reply(s, "+OK");
	else
		pop3_reply(s, "+OK %" PRIu64 " octets", m->vsize);

	struct pop3_stream st;
	pop3_stream_init(&st, top, lines);
	char chunk[65536];
	ssize_t n;
	while (!st.done && !s->dead && (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* The +OK is out: all we can do is drop the client. */
			pop3_log(s, LOG_ERR, "Couldn't read UID %u: %s", m->uid, strerror(errno));
			s->dead = true;
			break;
		}
		if (pop3_stream_feed(&st, chunk, (size_t)n, &s->out) < 0 ||
		    (s->out.len >= POP3_OUT_FLUSH && pop3_flush(s) < 0))
			s->dead = true;
	}
	close(fd);
	if (!s->dead && pop3_stream_finish(&st, &s->out) < 0)
		s->dead = true;
	if (!top && !s->dead) {
		m->retrieved = true;
		s->retr_count++;
		s->retr_bytes += st.sent;
	}
}

static void cmd_retr(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	struct pop3_msg *m = get_msg(s, cmd->args[0], cmd->arg_lens[0]);
	if (m != NULL)
		send_message(s, m, false, 0);
}

static void cmd_top(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	struct pop3_msg *m = get_msg(s, cmd->args[0], cmd->arg_lens[0]);
	if (m == NULL)
		return;
	unsigned long lines;
	if (pop3_parse_number(cmd->args[1], cmd->arg_lens[1], &lines) < 0) {
		char text[64];
		arg_text(cmd->args[1], cmd->arg_lens[1], text, sizeof(text));
		pop3_reply(s, "-ERR Invalid number of lines: %s", text);
		return;
	}
	send_message(s, m, true, lines);
}

static void cmd_dele(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	struct pop3_msg *m = get_msg(s, cmd->args[0], cmd->arg_lens[0]);
	if (m == NULL)
		return;
	m->deleted = true;
	s->dele_count++;
	pop3_reply(s, "+OK Marked to be deleted.");
}

static void cmd_rset(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	for (size_t i = 0; i < s->count; i++)
		s->msgs[i].deleted = false;
	s->dele_count = 0;
	pop3_reply(s, "+OK");
}

static void cmd_noop(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	pop3_reply(s, "+OK");
}

static void cmd_capa(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	pop3_reply(s, "+OK");
	(void)pop3_send_raw(s, capability_list, sizeof(capability_list) - 1);
	pop3_reply(s, ".");
}

/* The final reply comes from pop3_session_run once UPDATE is done. */
static void cmd_quit(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	s->state = POP3_STATE_UPDATE;
	s->quit = true;
}

#define TRANS POP3_STATE_TRANSACTION
#define AUTHZ POP3_STATE_AUTHORIZATION

/* Pre-auth verbs are listed so the table is the whole protocol; after the
 * handoff they are in the wrong state and answered like unknown ones. */
static const struct pop3_command commands[] = {
    {"CAPA", TRANS | AUTHZ, 0, 0, cmd_capa},
    {"DELE", TRANS, 1, 1, cmd_dele},
    {"LIST", TRANS, 0, 1, cmd_list},
    {"NOOP", TRANS, 0, 0, cmd_noop},
    {"QUIT", TRANS | AUTHZ, 0, 0, cmd_quit},
    {"RETR", TRANS, 1, 1, cmd_retr},
    {"RSET", TRANS, 0, 0, cmd_rset},
    {"STAT", TRANS, 0, 0, cmd_stat},
    {"TOP", TRANS, 2, 2, cmd_top},
    {"UIDL", TRANS, 0, 1, cmd_uidl},
    {"USER", AUTHZ, 1, 1, NULL},
    {"PASS", AUTHZ, 1, 1, NULL},
    {"AUTH", AUTHZ, 0, 2, NULL},
    {"APOP", AUTHZ, 2, 2, NULL},
    {"STLS", AUTHZ, 0, 0, NULL},
};

static const struct pop3_command *command_find(const char *verb)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].verb, verb) == 0)
			return &commands[i];
	}
	return NULL;
}

/* Wrong argument count: message-number commands say which number is bad. */
static void reply_args(struct pop3_session *s, const struct pop3_command *c,
                       const struct pop3_cmd *cmd)
{
	if (cmd->argc < c->min_args && c->min_args == 2 && cmd->argc == 1)
		pop3_reply(s, "-ERR Invalid number of lines: ");
	else if (cmd->argc < c->min_args)
		pop3_reply(s, "-ERR Invalid message number: ");
	else
		pop3_reply(s, "-ERR Too many arguments.");
}

static void bad_command(struct pop3_session *s)
{
	if (++s->bad >= POP3_MAX_BAD) {
		pop3_reply(s, "-ERR Too many bad commands.");
		pop3_log(s, LOG_INFO, "Disconnected: Too many bad commands");
		s->closing = true;
	}
}

void pop3_command_run(struct pop3_session *s, const char *line, size_t len)
{
	struct pop3_cmd cmd;
	enum pop3_parse_result r = pop3_parse_command(line, len, &cmd);
	char text[32];
	switch (r) {
	case POP3_PARSE_OK:
	case POP3_PARSE_TOO_MANY_ARGS:
		break;
	case POP3_PARSE_TOO_LONG:
		pop3_reply(s, "-ERR Input line too long.");
		bad_command(s);
		return;
	case POP3_PARSE_NUL:
		pop3_reply(s, "-ERR Invalid characters in command.");
		bad_command(s);
		return;
	case POP3_PARSE_EMPTY:
		pop3_reply(s, "-ERR Unknown command: ");
		bad_command(s);
		return;
	case POP3_PARSE_BAD_VERB:
		arg_text(cmd.verb_raw, cmd.verb_raw_len, text, sizeof(text));
		pop3_reply(s, "-ERR Unknown command: %s", text);
		bad_command(s);
		return;
	}
	const struct pop3_command *c = command_find(cmd.verb);
	if (c == NULL || c->run == NULL || (c->states & s->state) == 0) {
		arg_text(cmd.verb_raw, cmd.verb_raw_len, text, sizeof(text));
		pop3_reply(s, "-ERR Unknown command: %s", text);
		bad_command(s);
		return;
	}
	if (r == POP3_PARSE_TOO_MANY_ARGS || cmd.argc < c->min_args || cmd.argc > c->max_args) {
		reply_args(s, c, &cmd);
		bad_command(s);
		return;
	}
	c->run(s, &cmd);
}

/* UPDATE: \Seen for what was retrieved (also after a drop, like Dovecot),
 * then, only after QUIT, expunge the messages marked deleted. */
int pop3_session_update(struct pop3_session *s, bool expunge, const char **error_r)
{
	if (s->box == NULL)
		return 0;
	for (size_t i = 0; i < s->count; i++) {
		struct pop3_msg *m = &s->msgs[i];
		if (!m->retrieved || (expunge && m->deleted))
			continue;
		struct maildir_msg *bm = maildir_mailbox_find_uid(s->box, m->uid);
		if (bm == NULL || (bm->flags & MAILDIR_FLAG_SEEN))
			continue;
		/* A lost \Seen must not stop the expunge the client asked for. */
		const struct maildir_flag_update seen = {.add = MAILDIR_FLAG_SEEN};
		if (maildir_msg_update_flags(s->box, m->uid, &seen, error_r) < 0)
			pop3_log(s, LOG_ERR, "Couldn't set \\Seen on UID %u: %s", m->uid, *error_r);
	}
	if (!expunge || s->dele_count == 0)
		return 0;
	uint32_t *uids = calloc(s->count, sizeof(*uids));
	if (uids == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	size_t n = 0;
	for (size_t i = 0; i < s->count; i++) {
		if (s->msgs[i].deleted)
			uids[n++] = s->msgs[i].uid;
	}
	int r = maildir_mailbox_expunge(s->box, uids, n, error_r);
	free(uids);
	if (r < 0)
		return -1;
	s->expunged = (unsigned)r;
	return 0;
}
