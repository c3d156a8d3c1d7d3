/* handoff.h: the login handoff (DESIGN §3) between a login daemon and
 * mailstore's dispatcher, on mailstore's `handoff` UNIX socket.
 *
 *   C: VERSION	handoff	1	0
 *   S: VERSION	handoff	1	0
 *   C: SESSION	<id>	proto=<imap|pop3>	token=<hex>	user=<name>
 *      rip=<ip>	rport=<n>	lip=<ip>	lport=<n>	session=<sid>
 *      [tls]	[secured]	[tag=<IMAP tag of the login command>]
 *      data=<bytes the login daemon already read>
 *      -- with exactly one fd attached (SCM_RIGHTS): the client socket for a
 *      plaintext client, or one end of a socketpair the login daemon keeps
 *      proxying to the TLS connection.
 *   S: OK	<id>          the session now belongs to a mailstore worker
 *   S: FAIL	<id>	reason=<text>
 *
 * mailstore never trusts `user=` (it is for logs): it redeems the token at
 * auth and takes the user, uid, gid, home and mail location from there. One
 * connection may carry many SESSION requests. Pure encode/decode here; the
 * socket side uses lib/wire.h. */
#ifndef LOFT_HANDOFF_H
#define LOFT_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define HANDOFF_MAX_DATA 16384 /* pipelined client bytes carried over */

struct handoff_req {
	uint32_t id;
	char proto[8];
	char token[130];
	char user[256];
	char rip[64], lip[64];
	unsigned rport, lport;
	char session[64];
	bool tls, secured;
	/* IMAP: the tag of the LOGIN/AUTHENTICATE command, which the session
	 * answers once the mailbox is open; "" when absent (POP3). */
	char tag[65];
	const char *data; /* points into the decoded line; not NUL-safe: use data_len */
	size_t data_len;
};

/* Append the SESSION line for req to out. 0 or -1. */
int handoff_encode(struct buf *out, const struct handoff_req *req);
/* Decode the fields of a SESSION line (as returned by wire_decode /
 * wire_conn_next). 0, or -1 with *err_r set to a static reason. Pure. */
struct wire_field;
int handoff_decode(const struct wire_field *f, int n, struct handoff_req *req, const char **err_r);

#endif
