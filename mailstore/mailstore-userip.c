/* mailstore-userip.c: the keys and refusal lines of
 * mail_max_userip_connections (see mailstore-userip.h). */
#include "mailstore-userip.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"

#define USERIP_TEXT "Maximum number of connections from user+IP exceeded"

void userip_init(struct userip *k, const char *proto, const char *rip, unsigned v6_prefix)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->proto, sizeof(k->proto), "%s", proto);
	(void)addr_key(rip, strlen(rip), v6_prefix, k->addr);
}

bool userip_same(const struct userip *a, const struct userip *b)
{
	return a->user != NULL && b->user != NULL && strcmp(a->proto, b->proto) == 0 &&
	       strcmp(a->addr, b->addr) == 0 && strcmp(a->user, b->user) == 0;
}

bool userip_over(size_t running, uint64_t limit)
{
	return limit != 0 && running >= limit;
}

int userip_refusal(struct buf *out, const char *proto, const char *tag, uint64_t limit)
{
	/* Dovecot's codes and text, so clients and scripts that know them
	 * recognise the reason. */
	if (strcmp(proto, "imap") == 0 && tag != NULL && tag[0] != '\0')
		return buf_printf(out,
		                  "%s NO [LIMIT] " USERIP_TEXT
		                  " (mail_max_userip_connections=%" PRIu64 ")\r\n",
		                  tag, limit);
	if (strcmp(proto, "imap") == 0)
		return buf_printf(out,
		                  "* BYE [LIMIT] " USERIP_TEXT
		                  " (mail_max_userip_connections=%" PRIu64 ")\r\n",
		                  limit);
	if (strcmp(proto, "pop3") == 0)
		return buf_printf(out,
		                  "-ERR [IN-USE] " USERIP_TEXT
		                  " (mail_max_userip_connections=%" PRIu64 ")\r\n",
		                  limit);
	return -1;
}
