/* queue-open.h: one addition to the spool store for the queue manager:
 * open a message's spool file read-only, to pass its descriptor to
 * loft-relay (which decodes it itself with queue_msg_decode). */
#ifndef LOFT_QUEUE_OPEN_H
#define LOFT_QUEUE_OPEN_H

#include "queue-store.h"

/* Open message id (active, deferred or hold; not corrupt) O_RDONLY |
 * O_NOFOLLOW | O_CLOEXEC. The fd, or -1 with *error_r set. */
int queue_store_open_msg(struct queue_store *qs, const char *id, const char **error_r);

#endif
