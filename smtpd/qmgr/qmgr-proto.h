/* qmgr-proto.h: the QUEUE protocol's command parser (docs/queue-protocol.md),
 * used by loft-queue's server and the fuzzer. One decoded wire line in, one
 * typed command out; pure, no state: which verb may come when is the
 * server's business (qmgr-server.c). */
#ifndef LOFT_QMGR_PROTO_H
#define LOFT_QMGR_PROTO_H

#include <stddef.h>

#include "queue-record.h"
#include "smtp-parse.h"
#include "wire.h"

#define QPROTO_BODY_MAX 16384 /* raw bytes in one BODY line */

enum qproto_verb {
	QPROTO_VERSION,
	QPROTO_MAIL,
	QPROTO_RCPT,
	QPROTO_DATA,
	QPROTO_BODY,
	QPROTO_COMMIT,
	QPROTO_ABORT,
	QPROTO_LIST,
	QPROTO_FLUSH,
	QPROTO_DELETE,
	QPROTO_HOLD,
	QPROTO_RELEASE,
	QPROTO_STATUS, /* did COMMIT of this id take? (queue listener, admin) */
};

struct qproto_cmd {
	enum qproto_verb verb;
	/* MAIL: the normalised sender ("" = null sender); RCPT: the recipient. */
	char addr[SMTP_PATH_MAX * 2 + 1];
	/* MAIL: optional key=value texts (len 0 = absent); RCPT: dsn. Each
	 * points into the decoded line and passed queue_text_ok. */
	struct wire_field helo, client_addr, auth, dsn;
	/* BODY: the message bytes. */
	struct wire_field body;
	/* DELETE / HOLD / RELEASE / STATUS: a valid queue id, NUL-terminated. */
	char id[QUEUE_ID_LEN + 1];
};

/* Parse the decoded fields f[0..n) of one line. 0, or -1 with *error_r a
 * static text naming what is wrong (the server answers FAIL perm and closes). */
int qproto_parse(const struct wire_field *f, int n, struct qproto_cmd *cmd, const char **error_r);

#endif
