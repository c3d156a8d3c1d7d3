/* imap-cmd-enable.c: ENABLE (being written). */
#include "imap-private.h"

void imap_cmd_enable(struct imap_session *s, const struct imap_command *c)
{
	imap_reply(s, "%s NO [CANNOT] Not implemented yet.", c->tag);
}
