/* imap-cmd-basic.c: the IMAP session's command table (name, states allowed,
 * handler) and the commands valid in any state: CAPABILITY, NOOP, LOGOUT,
 * ID, NAMESPACE. Texts follow Dovecot's. */
#include "imap-private.h"

#include <strings.h>

struct imap_cmd {
	const char *name;
	unsigned states; /* enum imap_state bits */
	int nargs;       /* exact argument count, or -1 when the handler checks */
	void (*fn)(struct imap_session *s, const struct imap_command *c);
};

void imap_reply_bad_args(struct imap_session *s, const struct imap_command *c)
{
	imap_reply(s, "%s BAD Error in IMAP command %s: Invalid arguments.", c->tag, c->name);
}

static void cmd_capability(struct imap_session *s, const struct imap_command *c)
{
	imap_reply(s, "* CAPABILITY " IMAP_CAPABILITY);
	imap_reply(s, "%s OK Capability completed.", c->tag);
}

static void cmd_noop(struct imap_session *s, const struct imap_command *c)
{
	if (s->state == IMAP_STATE_SELECTED)
		imap_selected_sync(s);
	imap_reply(s, "%s OK NOOP completed.", c->tag);
}

static void cmd_logout(struct imap_session *s, const struct imap_command *c)
{
	imap_reply(s, "* BYE Logging out");
	imap_reply(s, "%s OK Logout completed.", c->tag);
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
	imap_reply(s, "%s OK ID completed.", c->tag);
}

static void cmd_namespace(struct imap_session *s, const struct imap_command *c)
{
	imap_reply(s, "* NAMESPACE ((\"\" \"%c\")) NIL NIL", s->sep);
	imap_reply(s, "%s OK Namespace completed.", c->tag);
}

/* The commands with a UID form, by name. */
static const struct {
	const char *name;
	imap_seq_cmd_fn *fn;
} seq_cmds[] = {
    {"FETCH", imap_do_fetch}, {"STORE", imap_do_store},   {"COPY", imap_do_copy},
    {"MOVE", imap_do_move},   {"SEARCH", imap_do_search}, {"EXPUNGE", imap_do_expunge},
};

#define SEQ_WRAPPER(fname, impl)                                                                   \
	static void fname(struct imap_session *s, const struct imap_command *c)                    \
	{                                                                                          \
		impl(s, c, c->args, c->argc, false);                                               \
	}
SEQ_WRAPPER(cmd_fetch, imap_do_fetch)
SEQ_WRAPPER(cmd_store, imap_do_store)
SEQ_WRAPPER(cmd_copy, imap_do_copy)
SEQ_WRAPPER(cmd_move, imap_do_move)
SEQ_WRAPPER(cmd_search, imap_do_search)
SEQ_WRAPPER(cmd_expunge, imap_do_expunge)

/* UID FETCH|STORE|COPY|MOVE|SEARCH|EXPUNGE ... */
static void cmd_uid(struct imap_session *s, const struct imap_command *c)
{
	for (size_t i = 0; c->argc > 0 && i < sizeof(seq_cmds) / sizeof(seq_cmds[0]); i++) {
		if (imap_arg_atom_eq(&c->args[0], seq_cmds[i].name)) {
			seq_cmds[i].fn(s, c, c->args + 1, c->argc - 1, true);
			return;
		}
	}
	imap_reply_bad_args(s, c);
}

static const struct imap_cmd imap_cmds[] = {
    {"CAPABILITY", IMAP_STATE_ANY, 0, cmd_capability},
    {"NOOP", IMAP_STATE_ANY, 0, cmd_noop},
    {"LOGOUT", IMAP_STATE_ANY, 0, cmd_logout},
    {"ID", IMAP_STATE_ANY, 1, cmd_id},
    {"NAMESPACE", IMAP_STATE_ANY, 0, cmd_namespace},
    {"LIST", IMAP_STATE_ANY, 2, imap_cmd_list},
    {"LSUB", IMAP_STATE_ANY, 2, imap_cmd_lsub},
    {"CREATE", IMAP_STATE_ANY, 1, imap_cmd_create},
    {"DELETE", IMAP_STATE_ANY, 1, imap_cmd_delete},
    {"RENAME", IMAP_STATE_ANY, 2, imap_cmd_rename},
    {"SUBSCRIBE", IMAP_STATE_ANY, 1, imap_cmd_subscribe},
    {"UNSUBSCRIBE", IMAP_STATE_ANY, 1, imap_cmd_unsubscribe},
    {"STATUS", IMAP_STATE_ANY, 2, imap_cmd_status},
    {"SELECT", IMAP_STATE_ANY, 1, imap_cmd_select},
    {"EXAMINE", IMAP_STATE_ANY, 1, imap_cmd_examine},
    {"CLOSE", IMAP_STATE_SELECTED, 0, imap_cmd_close},
    {"UNSELECT", IMAP_STATE_SELECTED, 0, imap_cmd_unselect},
    {"CHECK", IMAP_STATE_SELECTED, 0, imap_cmd_check},
    {"FETCH", IMAP_STATE_SELECTED, 2, cmd_fetch},
    {"STORE", IMAP_STATE_SELECTED, -1, cmd_store},
    {"COPY", IMAP_STATE_SELECTED, -1, cmd_copy},
    {"MOVE", IMAP_STATE_SELECTED, -1, cmd_move},
    {"SEARCH", IMAP_STATE_SELECTED, -1, cmd_search},
    {"EXPUNGE", IMAP_STATE_SELECTED, 0, cmd_expunge},
    {"UID", IMAP_STATE_SELECTED, -1, cmd_uid},
    {"APPEND", IMAP_STATE_ANY, -1, imap_cmd_append},
    {"IDLE", IMAP_STATE_ANY, 0, imap_cmd_idle},
    {"ENABLE", IMAP_STATE_ANY, -1, imap_cmd_enable},
};

void imap_command_run(struct imap_session *s, const struct imap_command *c)
{
	const struct imap_cmd *cmd = NULL;
	for (size_t i = 0; i < sizeof(imap_cmds) / sizeof(imap_cmds[0]); i++) {
		if (strcasecmp(imap_cmds[i].name, c->name) == 0)
			cmd = &imap_cmds[i];
	}
	if (cmd == NULL) {
		imap_reply(s, "%s BAD Error in IMAP command received by server.", c->tag);
	} else if (!(cmd->states & s->state)) {
		imap_reply(s, "%s BAD No mailbox selected.", c->tag);
	} else if (cmd->nargs >= 0 && c->argc != (unsigned)cmd->nargs) {
		imap_reply_bad_args(s, c);
	} else {
		/* imap_reply runs imap_post_command just before this command's
		 * tagged OK/NO, so the untagged updates precede it */
		s->cmd = c;
		s->cmd_synced = false;
		cmd->fn(s, c);
		s->cmd = NULL;
		return;
	}
	if (++s->bad >= IMAP_MAX_BAD) {
		imap_reply(s, "* BYE Too many invalid IMAP commands.");
		s->closing = true;
	}
}
