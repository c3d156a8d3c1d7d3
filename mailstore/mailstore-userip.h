/* mailstore-userip.h: mail_max_userip_connections. The dispatcher counts the
 * running IMAP and POP3 sessions by (protocol, user as auth named it, client
 * address key as the login daemons group it); a worker over the limit sends
 * its client the refusal line below instead of starting the session. Pure. */
#ifndef LOFT_MAILSTORE_USERIP_H
#define LOFT_MAILSTORE_USERIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr-key.h"

struct buf;

struct userip {
	char proto[8];
	char addr[ADDR_KEY_MAX]; /* addr_key() of the client address */
	char *user;              /* heap, owned by the holder; NULL = not counted */
};

/* Fill k for a session of proto from rip; k->user stays NULL. */
void userip_init(struct userip *k, const char *proto, const char *rip, unsigned v6_prefix);
/* Both counted, and the same protocol, user and address key. */
bool userip_same(const struct userip *a, const struct userip *b);
/* Whether one more session is refused when `running` sessions share its key
 * (limit 0 = no limit). */
bool userip_over(size_t running, uint64_t limit);
/* The CRLF-terminated line a refused client reads: IMAP answers the login
 * command's tag (untagged BYE without one), POP3 its PASS/AUTH. 0, or -1 for
 * an unknown protocol or when out cannot hold it. */
int userip_refusal(struct buf *out, const char *proto, const char *tag, uint64_t limit);

#endif
