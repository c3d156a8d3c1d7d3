/* session-protos.c: the protocol sessions this mailstore build serves.
 * The worker looks the handed-off protocol name up here; one entry per
 * session implementation linked into loftmailstore. */
#include "session.h"
#include "imap-session.h"
#include "pop3.h"

static const struct session_proto pop3_proto = {
    .name = "pop3",
    .run = pop3_session_run,
};

static const struct session_proto imap_proto = {
    .name = "imap",
    .run = imap_session_run,
};

const struct session_proto *const session_protos[] = {
    &imap_proto,
    &pop3_proto,
    NULL,
};
