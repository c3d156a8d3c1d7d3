/* queue-id.h: queue ids for the SMTP spool. An id is 24 lowercase hex digits:
 * 14 of arrival time in microseconds, 4 of a per-process counter, 6 random.
 * Ids sort by arrival, are safe as file names, and are unique in practice
 * (the store also creates each file with O_EXCL and retries on a clash). */
#ifndef LOFT_QUEUE_ID_H
#define LOFT_QUEUE_ID_H

#include <stddef.h>
#include <stdint.h>

#define QUEUE_ID_LEN 24

/* Build an id from its parts (pure). out holds QUEUE_ID_LEN + 1 bytes. */
void queue_id_format(char out[QUEUE_ID_LEN + 1], uint64_t usec, uint16_t counter, uint32_t rnd);
/* A fresh id: current time, *counter (incremented) and getrandom(2). */
int queue_id_new(char out[QUEUE_ID_LEN + 1], uint16_t *counter);
/* 1 if p[0..len) is a well-formed id, else 0 (pure). */
int queue_id_valid(const char *p, size_t len);
/* The arrival time (microseconds since the epoch) an id encodes; the id must
 * be valid. */
uint64_t queue_id_usec(const char *id);

#endif
