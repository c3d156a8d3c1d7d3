/* imap-cmd-search.c: SEARCH and UID SEARCH (being written). */
#include "imap-private.h"

void imap_do_search(struct imap_session *s, const struct imap_command *c,
                    const struct imap_arg *args, unsigned argc, bool uid)
{
	(void)args;
	(void)argc;
	(void)uid;
	imap_reply(s, "%s NO [CANNOT] Not implemented yet.", c->tag);
}
