/* imap-cmd-basic.c: the IMAP session's command table (name, what the
 * command needs and does to the client's view, the sync that ends it,
 * handler), the one completion call every handler ends with, and the
 * commands valid in any state: CAPABILITY, NOOP, LOGOUT, ID, NAMESPACE.
 * Texts follow Dovecot's. */
#include "imap-private.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

void imap_cmd_done(struct imap_session *s, const struct imap_command *c, enum imap_status st,
                   const char *fmt, ...)
{
	static const char *const word[] = {[IMAP_OK] = "OK", [IMAP_NO] = "NO", [IMAP_BAD] = "BAD"};
	/* the untagged updates go out right before the tagged line; BAD
	 * (the command did not run) gets none */
	if (st != IMAP_BAD && s->cmd != NULL && !s->cmd_done && s->cmd->sync != IMAP_SYNC_NONE &&
	    s->state == IMAP_STATE_SELECTED) {
		s->ndone_sync++;
		s->last_sync = (int)s->cmd->sync;
		imap_view_sync(s, s->cmd->sync);
	}
	s->cmd_done = true;
	if (s->dead)
		return;
	struct buf line;
	buf_init(&line, 0);
	va_list ap;
	va_start(ap, fmt);
	int r = buf_printf(&line, "%s %s ", c->tag, word[st]);
	if (r == 0)
		r = buf_vprintf(&line, fmt, ap);
	va_end(ap);
	if (r == 0)
		imap_reply_buf(s, &line);
	else
		s->dead = true;
	buf_free(&line);
}

void imap_reply_bad_args(struct imap_session *s, const struct imap_command *c)
{
	imap_cmd_done(s, c, IMAP_BAD, "Error in IMAP command %s: Invalid arguments.", c->name);
}

static void cmd_capability(struct imap_session *s, const struct imap_command *c)
{
	imap_reply(s, "* CAPABILITY " IMAP_CAPABILITY);
	imap_cmd_done(s, c, IMAP_OK, "Capability completed.");
}

static void cmd_noop(struct imap_session *s, const struct imap_command *c)
{
	/* the table's full sync is what NOOP is for */
	imap_cmd_done(s, c, IMAP_OK, "NOOP completed.");
}

static void cmd_logout(struct imap_session *s, const struct imap_command *c)
{
	imap_reply(s, "* BYE Logging out");
	imap_cmd_done(s, c, IMAP_OK, "Logout completed.");
	s->logout = true;
}

/* RFC 2971: the client's list (or NIL) is accepted and not echoed. */
static void cmd_id(struct imap_session *s, const struct imap_command *c)
{
	const struct imap_arg *a = &c->args[0];
	if (a->type != IMAP_ARG_NIL && a->type != IMAP_ARG_LIST) {
		imap_reply_bad_args(s, c);
		return;
	}
	imap_reply(s, "* ID (\"name\" \"Loft\")");
	imap_cmd_done(s, c, IMAP_OK, "ID completed.");
}

static void cmd_namespace(struct imap_session *s, const struct imap_command *c)
{
	imap_reply(s, "* NAMESPACE ((\"\" \"%c\")) NIL NIL", s->sep);
	imap_cmd_done(s, c, IMAP_OK, "Namespace completed.");
}

/* "UID" with no or an unknown command after it (UID FETCH ... have rows of
 * their own). */
static void cmd_uid(struct imap_session *s, const struct imap_command *c)
{
	imap_reply_bad_args(s, c);
}

#define SEL    IMAP_CMD_NEEDS_SELECTED
#define USES   IMAP_CMD_USES_SEQS
#define BREAKS IMAP_CMD_BREAKS_SEQS
#define UID    IMAP_CMD_UID
#define NONE   IMAP_SYNC_NONE
#define NOEXP  IMAP_SYNC_NO_EXPUNGE
#define FULL   IMAP_SYNC_FULL
/* Every command syncs fully before its OK/NO except: LOGOUT (said BYE),
 * SELECT/EXAMINE (the view was just built from the mailbox), CLOSE and
 * UNSELECT (no view left), and FETCH, STORE, SEARCH without UID, during
 * which no EXPUNGE may be sent (RFC 3501 7.4.1). COPY and MOVE take
 * sequence numbers too, but only resolve them at the start: the EXPUNGEs
 * may come before their OK. EXPUNGE and MOVE report their own expunges
 * through that sync. */
static const struct imap_cmd imap_cmds[] = {
    {"CAPABILITY", 0, FULL, 0, cmd_capability, NULL},
    {"NOOP", 0, FULL, 0, cmd_noop, NULL},
    {"LOGOUT", 0, NONE, 0, cmd_logout, NULL},
    {"ID", 0, FULL, 1, cmd_id, NULL},
    {"NAMESPACE", 0, FULL, 0, cmd_namespace, NULL},
    {"LIST", 0, FULL, 2, imap_cmd_list, NULL},
    {"LSUB", 0, FULL, 2, imap_cmd_lsub, NULL},
    {"CREATE", 0, FULL, 1, imap_cmd_create, NULL},
    {"DELETE", 0, FULL, 1, imap_cmd_delete, NULL},
    {"RENAME", 0, FULL, 2, imap_cmd_rename, NULL},
    {"SUBSCRIBE", 0, FULL, 1, imap_cmd_subscribe, NULL},
    {"UNSUBSCRIBE", 0, FULL, 1, imap_cmd_unsubscribe, NULL},
    {"STATUS", 0, FULL, 2, imap_cmd_status, NULL},
    {"SELECT", BREAKS, NONE, 1, imap_cmd_select, NULL},
    {"EXAMINE", BREAKS, NONE, 1, imap_cmd_examine, NULL},
    {"CLOSE", SEL | BREAKS, NONE, 0, imap_cmd_close, NULL},
    {"UNSELECT", SEL | BREAKS, NONE, 0, imap_cmd_unselect, NULL},
    {"CHECK", SEL, FULL, 0, imap_cmd_check, NULL},
    {"FETCH", SEL | USES, NOEXP, 2, NULL, imap_do_fetch},
    {"STORE", SEL | USES, NOEXP, -1, NULL, imap_do_store},
    {"COPY", SEL | USES, FULL, -1, NULL, imap_do_copy},
    {"MOVE", SEL | USES | BREAKS, FULL, -1, NULL, imap_do_move},
    {"SEARCH", SEL | USES, NOEXP, -1, NULL, imap_do_search},
    {"EXPUNGE", SEL | BREAKS, FULL, 0, NULL, imap_do_expunge},
    {"UID", SEL, NONE, -1, cmd_uid, NULL},
    {"UID FETCH", SEL | UID, FULL, -1, NULL, imap_do_fetch},
    {"UID STORE", SEL | UID, FULL, -1, NULL, imap_do_store},
    {"UID COPY", SEL | UID, FULL, -1, NULL, imap_do_copy},
    {"UID MOVE", SEL | UID | BREAKS, FULL, -1, NULL, imap_do_move},
    {"UID SEARCH", SEL | UID, FULL, -1, NULL, imap_do_search},
    {"UID EXPUNGE", SEL | UID | BREAKS, FULL, -1, NULL, imap_do_expunge},
    {"APPEND", 0, FULL, -1, imap_cmd_append, NULL},
    {"IDLE", 0, FULL, 0, imap_cmd_idle, NULL},
    {"ENABLE", 0, FULL, -1, imap_cmd_enable, NULL},
};
#undef SEL
#undef USES
#undef BREAKS
#undef UID
#undef NONE
#undef NOEXP
#undef FULL

#define NCMDS (sizeof(imap_cmds) / sizeof(imap_cmds[0]))

const struct imap_cmd *imap_command_table(size_t *n)
{
	*n = NCMDS;
	return imap_cmds;
}

const struct imap_cmd *imap_command_find(const struct imap_command *c)
{
	const struct imap_cmd *cmd = NULL;
	for (size_t i = 0; i < NCMDS && cmd == NULL; i++) {
		if (strcasecmp(imap_cmds[i].name, c->name) == 0)
			cmd = &imap_cmds[i];
	}
	/* "UID FETCH ...": the row of the UID form, when there is one */
	for (size_t i = 0; cmd != NULL && cmd->fn == cmd_uid && c->argc > 0 && i < NCMDS; i++) {
		if (strncmp(imap_cmds[i].name, "UID ", 4) == 0 &&
		    imap_arg_atom_eq(&c->args[0], imap_cmds[i].name + 4))
			return &imap_cmds[i];
	}
	return cmd;
}

void imap_command_run(struct imap_session *s, const struct imap_command *c)
{
	const struct imap_cmd *cmd = imap_command_find(c);
	if (cmd == NULL) {
		imap_cmd_done(s, c, IMAP_BAD, "Error in IMAP command received by server.");
	} else if ((cmd->flags & IMAP_CMD_NEEDS_SELECTED) && s->state != IMAP_STATE_SELECTED) {
		imap_cmd_done(s, c, IMAP_BAD, "No mailbox selected.");
	} else if (cmd->nargs >= 0 && c->argc != (unsigned)cmd->nargs) {
		imap_reply_bad_args(s, c);
	} else {
		s->cmd = cmd;
		s->cmd_done = false;
		if (cmd->seq == NULL)
			cmd->fn(s, c);
		else if (cmd->flags & IMAP_CMD_UID)
			cmd->seq(s, c, c->args + 1, c->argc - 1, true);
		else
			cmd->seq(s, c, c->args, c->argc, false);
		if (!s->cmd_done && !s->dead) {
			/* a handler must answer; never leave the client waiting */
			imap_log(s, LOG_ERR, "BUG: %s ended without a tagged reply", cmd->name);
			imap_cmd_done(s, c, IMAP_NO, "[SERVERBUG] Internal error occurred.");
		}
		s->cmd = NULL;
		return;
	}
	if (++s->bad >= IMAP_MAX_BAD) {
		imap_reply(s, "* BYE Too many invalid IMAP commands.");
		s->closing = true;
	}
}
