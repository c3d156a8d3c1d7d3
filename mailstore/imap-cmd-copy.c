/* imap-cmd-copy.c: COPY, MOVE and their UID forms (being written). */
#include "imap-private.h"

void imap_do_copy(struct imap_session *s, const struct imap_command *c, const struct imap_arg *args,
                  unsigned argc, bool uid)
{
	(void)args;
	(void)argc;
	(void)uid;
	imap_reply(s, "%s NO [CANNOT] Not implemented yet.", c->tag);
}

void imap_do_move(struct imap_session *s, const struct imap_command *c, const struct imap_arg *args,
                  unsigned argc, bool uid)
{
	(void)args;
	(void)argc;
	(void)uid;
	imap_reply(s, "%s NO [CANNOT] Not implemented yet.", c->tag);
}
