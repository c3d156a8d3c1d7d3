/* queue-store.h: the durable SMTP spool under <state_dir>/queue, for smtpd
 * (writing accepted messages) and the queue manager (scheduling, state,
 * recovery, listing). Directories: incoming/ (being written), active/
 * (complete, to deliver), deferred/, hold/, corrupt/, and state/ (one small
 * file of recipient states per message, replaced atomically). A message is
 * in active/ only once complete and fsync'd with its directory; see
 * docs/queue.md for the crash-safety argument. Functions return 0 / -1 with
 * *error_r pointing into the store's error buffer. */
#ifndef LOFT_QUEUE_STORE_H
#define LOFT_QUEUE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "log.h"
#include "queue-record.h"

enum queue_dir {
	QUEUE_DIR_INCOMING,
	QUEUE_DIR_ACTIVE,
	QUEUE_DIR_DEFERRED,
	QUEUE_DIR_HOLD,
	QUEUE_DIR_CORRUPT,
	QUEUE_DIR_STATE,
	QUEUE_NDIRS
};

#define QUEUE_ERROR_LEN 256

struct queue_store {
	int dfd[QUEUE_NDIRS];
	int rootfd;                  /* <state_dir>/queue itself */
	int jfd;                     /* the committed-ids journal, -1 until used */
	uint64_t jsize;              /* its size, for rotation */
	uint16_t counter;            /* for queue ids made by this process */
	const struct loft_log *log;  /* recovery reports here; may be NULL */
	char error[QUEUE_ERROR_LEN]; /* *error_r points here */
};

/* A message being written (smtpd between DATA and the final dot). */
struct queue_writer {
	struct queue_store *qs;
	char id[QUEUE_ID_LEN + 1];
	int fd;
	uint32_t crc;    /* of every byte written so far */
	struct buf out;  /* encoded records not yet written */
	struct buf body; /* body bytes not yet a full chunk */
	size_t size;     /* file bytes written */
};

struct queue_recover_stats {
	size_t incoming_removed; /* never acknowledged: dropped */
	size_t corrupt;          /* moved to corrupt/ */
	size_t state_removed;    /* temporary or orphaned state files */
	size_t ok;               /* complete messages kept */
};

const char *queue_dir_name(enum queue_dir d);

/* Open (creating as needed, mode 0700) <state_dir>/queue and its folders. */
int queue_store_open(struct queue_store *qs, const char *state_dir, const char **error_r);
void queue_store_close(struct queue_store *qs);

/* Start a message: picks a fresh id (into m->id and w->id), sets m->arrival
 * to now when 0, creates incoming/<id> (O_EXCL, O_NOFOLLOW, 0600) and writes
 * the envelope records of m. */
int queue_writer_begin(struct queue_store *qs, struct queue_msg *m, struct queue_writer *w,
                       const char **error_r);
/* Append body bytes (stored exactly as given; never interpreted). */
int queue_writer_body(struct queue_writer *w, const char *p, size_t n, const char **error_r);
/* Write END, fsync, rename into active/, fsync active/. Only after 0 may
 * smtpd answer 250. On -1 the incoming file is gone. Frees w either way. */
int queue_writer_commit(struct queue_writer *w, const char **error_r);
/* Give up on the message: remove the incoming file and free w. */
void queue_writer_abort(struct queue_writer *w);

/* Where message id is (active, deferred, hold or corrupt), or -1. */
int queue_store_find(struct queue_store *qs, const char *id, enum queue_dir *dir_r);
/* Read the envelope of message id (checked by its own checksum; a version 2
 * file's body is not read) with its recipient states (all pending when it
 * has no state file yet); free with queue_msg_free. m->raw is NULL unless
 * the whole file had to be read anyway. */
int queue_store_load(struct queue_store *qs, const char *id, struct queue_msg *m,
                     enum queue_dir *dir_r, const char **error_r);
/* Read the whole spool file of the loaded m from folder d into m->raw and
 * check it all, body included (a no-op when m->raw is set). -1 when it is
 * damaged or gone: then nothing of it may be delivered. */
int queue_store_load_body(struct queue_store *qs, struct queue_msg *m, enum queue_dir d,
                          const char **error_r);
/* Free m's body bytes, keeping the envelope and states. */
void queue_msg_drop_body(struct queue_msg *m);
/* Durably replace the recipient states of m (attempts, state, error): write
 * state/<id>.tmp, fsync, rename over state/<id>, fsync state/. */
int queue_store_state_save(struct queue_store *qs, const struct queue_msg *m, const char **error_r);
/* Move message id from one folder to another (rename, fsync both). */
int queue_store_move(struct queue_store *qs, const char *id, enum queue_dir from, enum queue_dir to,
                     const char **error_r);
/* Remove message id from wherever it is, then its state file. */
int queue_store_delete(struct queue_store *qs, const char *id, const char **error_r);
/* Sorted names of the valid queue ids in folder d; free with queue_ids_free. */
int queue_store_ids(struct queue_store *qs, enum queue_dir d, char ***ids_r, size_t *n_r,
                    const char **error_r);
void queue_ids_free(char **ids, size_t n);

/* Read dfd/name (a regular file of at most max bytes) whole into a malloc'd
 * buffer (*p_r, *len_r). 0, or -1 with errno (ENOENT when absent, EFBIG
 * when larger). For the spool's own files. */
int queue_store_read_file(int dfd, const char *name, size_t max, char **p_r, size_t *len_r);

/* Start-up recovery, run by the queue owner before anything else: empties
 * incoming/, removes temporary and orphaned state files, and moves every
 * message in active/, deferred/ or hold/ that does not decode (or whose state
 * file does not) into corrupt/, logging each. */
int queue_store_recover(struct queue_store *qs, struct queue_recover_stats *st,
                        const char **error_r);

/* `loft queue list` / mailq: one block per message in active/, deferred/ and
 * hold/ (id, size, arrival, folder, sender; then each recipient with its
 * state, attempts and last error), then corrupt/ files, then a count. */
int queue_store_list(struct queue_store *qs, struct buf *out, const char **error_r);

#endif
