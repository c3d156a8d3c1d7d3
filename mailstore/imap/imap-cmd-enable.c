/* imap-cmd-enable.c: ENABLE (RFC 5161) of the IMAP session. The client names
 * the extensions it can handle; we enable the ones we know and allow to be
 * enabled and list them in "* ENABLED". None of CONDSTORE, QRESYNC or
 * UTF8=ACCEPT is supported yet, so the list is empty and nothing changes. */
#include "imap-private.h"

/* Extensions ENABLE can switch on, with their s->enabled bit. Empty until
 * one of them is implemented (UTF8=ACCEPT would be IMAP_ENABLED_UTF8). */
static const struct {
	const char *name;
	unsigned bit;
} enableable[] = {
    {NULL, 0},
};

void imap_cmd_enable(struct imap_session *s, const struct imap_command *c)
{
	/* RFC 5161 3.1: valid in the authenticated state only; clients MUST
	 * NOT send it once a mailbox is selected (the server may check). */
	if (s->state == IMAP_STATE_SELECTED) {
		imap_cmd_done(s, c, IMAP_BAD, "ENABLE isn't allowed in the selected state.");
		return;
	}
	if (c->argc == 0) {
		imap_reply_bad_args(s, c);
		return;
	}
	for (unsigned i = 0; i < c->argc; i++) {
		if (c->args[i].type != IMAP_ARG_ATOM) {
			imap_reply_bad_args(s, c);
			return;
		}
	}
	struct buf line;
	buf_init(&line, 0);
	int r = buf_append_str(&line, "* ENABLED");
	for (unsigned i = 0; i < c->argc; i++) {
		for (size_t e = 0; enableable[e].name != NULL; e++) {
			/* unknown names are ignored (RFC 5161 3.1); one enabled
			 * before is not listed again */
			if (!imap_arg_atom_eq(&c->args[i], enableable[e].name) ||
			    (s->enabled & enableable[e].bit))
				continue;
			s->enabled |= enableable[e].bit;
			r |= buf_printf(&line, " %s", enableable[e].name);
		}
	}
	if (r == 0)
		imap_reply_buf(s, &line);
	buf_free(&line);
	imap_cmd_done(s, c, IMAP_OK, "Enabled.");
}
