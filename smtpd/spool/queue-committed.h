/* queue-committed.h: which queue ids were committed lately, for a client
 * that lost its connection between COMMIT and the answer (the queue was
 * killed after the rename into active/). It asks the restarted queue with
 * STATUS instead of answering 451 for a message that will be delivered: no
 * duplicate when its own client retries (docs/queue-protocol.md).
 *
 * The journal is <state_dir>/queue/committed, one "<id>\n" per line,
 * appended after each commit and, at start-up recovery, for each message
 * found in active/ (so an id is in it before anything can deliver and
 * remove the message). It is not fsync'd: the question is only asked by a
 * process that outlived the queue, so the kernel kept the page cache. At
 * QUEUE_COMMITTED_ROTATE bytes it becomes committed.old (one generation
 * kept, far longer than any client waits). */
#ifndef LOFT_QUEUE_COMMITTED_H
#define LOFT_QUEUE_COMMITTED_H

#include <stdbool.h>
#include <stddef.h>

#include "queue-store.h"

#define QUEUE_COMMITTED_ROTATE (1024u * 1024)

/* Append id to the journal (opening or rotating it as needed). */
int queue_committed_note(struct queue_store *qs, const char *id, const char **error_r);

/* 1 when message id was committed (still in a spool folder, or in the
 * journal), 0 when not, -1 with *error_r when the journal cannot be read. */
int queue_committed_known(struct queue_store *qs, const char *id, const char **error_r);

/* Pure: whether journal text p[0..len) has a line that is exactly id. A
 * torn or garbled line matches nothing. */
bool queue_committed_scan(const char *p, size_t len, const char *id);

#endif
