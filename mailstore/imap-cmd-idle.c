/* imap-cmd-idle.c: IDLE (being written). */
#include "imap-private.h"

void imap_cmd_idle(struct imap_session *s, const struct imap_command *c)
{
	imap_reply(s, "%s NO [CANNOT] Not implemented yet.", c->tag);
}
