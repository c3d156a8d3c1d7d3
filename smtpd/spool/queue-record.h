/* queue-record.h: the SMTP spool's on-disk format, for the spool store, the
 * queue manager and the fuzzer. A file is a sequence of records, each a
 * 1-byte type, a 4-byte big-endian payload length and the payload, ending in
 * an END record that holds the CRC-32 of every byte before it. Length
 * prefixes mean no byte of message data can forge a record boundary; a file
 * without a valid END as its last record is incomplete by construction.
 * Encoders write into a struct buf; decoders are pure and strict: every byte
 * must be accounted for and only the canonical encoding is accepted, so
 * encode(decode(x)) == x. Functions return 0 / -1 with *error_r set. */
#ifndef LOFT_QUEUE_RECORD_H
#define LOFT_QUEUE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "queue-id.h"

enum queue_rec_type {
	QREC_VERSION = 1,     /* u32 format version */
	QREC_ID = 2,          /* queue id text */
	QREC_ARRIVAL = 3,     /* i64 unix seconds */
	QREC_SENDER = 4,      /* envelope sender, "" for the null sender */
	QREC_HELO = 5,        /* optional, sanitised client text */
	QREC_CLIENT_ADDR = 6, /* optional */
	QREC_AUTH_USER = 7,   /* optional */
	QREC_DSN_ENV = 8,     /* optional: RET= / ENVID= parameters as given */
	QREC_RCPT = 9,        /* one per recipient, at least one */
	QREC_RCPT_DSN = 10,   /* optional, after its RCPT: NOTIFY= / ORCPT= */
	QREC_BODY = 11,       /* message bytes, QUEUE_BODY_CHUNK per record */
	QREC_RSTATE = 12,     /* state files only: one recipient's state */
	QREC_HEAD_END = 13,   /* version 2: u32 CRC-32 of the envelope before it */
	QREC_END = 127,       /* u32 CRC-32 of the bytes it covers (below) */
};

/* Version 1 spool files: END covers every byte before it, so the envelope
 * can only be trusted after reading the whole body. Version 2 (written
 * now) puts HEAD_END after the recipients, covering the envelope, and END
 * covers only the BODY records after HEAD_END: the envelope is checked
 * alone and the body once, when it is read for delivery. Both are read;
 * state files stay version 1 (they have no body). */
#define QUEUE_FORMAT_VERSION 2
#define QUEUE_STATE_VERSION  1
#define QUEUE_REC_HDR        5
#define QUEUE_BODY_CHUNK     65536
#define QUEUE_ADDR_MAX       512 /* sender / recipient */
#define QUEUE_TEXT_MAX       255 /* HELO name, client address, auth user */
#define QUEUE_DSN_MAX        512 /* DSN parameter text */
#define QUEUE_ERROR_MAX      512 /* last delivery error text */
#define QUEUE_RCPT_MAX       10000
#define QUEUE_RSTATE_FIXED   25 /* u32 index, u8 state, u32 attempts, 2 x i64 */

enum queue_rcpt_state {
	QUEUE_RCPT_PENDING = 0, /* never tried */
	QUEUE_RCPT_DELIVERED = 1,
	QUEUE_RCPT_BOUNCED = 2,  /* permanent failure, DSN owed/sent */
	QUEUE_RCPT_DEFERRED = 3, /* temporary failure, to retry */
};

struct queue_rcpt {
	char *addr;
	char *dsn; /* NULL when absent */
	/* Delivery state; kept in the message's state file, not the spool file. */
	enum queue_rcpt_state state;
	uint32_t attempts;
	int64_t last_attempt; /* unix seconds, 0 = never */
	int64_t next_attempt; /* unix seconds, 0 = now */
	char *error;          /* last error text, NULL when none */
};

struct queue_msg {
	uint32_t version; /* spool format; 0 = QUEUE_FORMAT_VERSION when encoding */
	char id[QUEUE_ID_LEN + 1];
	int64_t arrival;
	char *sender;                                   /* "" for the null sender <> */
	char *helo, *client_addr, *auth_user, *dsn_env; /* NULL when absent */
	struct queue_rcpt *rcpts;
	size_t nrcpt;
	/* The body: BODY records starting at body_off in the decoded bytes
	 * (see queue_body_next); body_len bytes in all (0 and unknown after
	 * queue_msg_decode_head). */
	size_t body_off, body_len;
	size_t file_len;
	/* Bytes the store read the whole file into (owned), or NULL: after a
	 * plain decode the caller's buffer must outlive body reads, after an
	 * envelope-only load there is no body in memory. */
	char *raw;
};

/* CRC-32 (IEEE 802.3; zlib's crc32()): crc is 0 to start, or a previous
 * result. */
uint32_t queue_crc32(uint32_t crc, const void *p, size_t n);

/* 1 if p[0..n) may be stored as envelope text: n <= max, no CR, LF or NUL. */
int queue_text_ok(const char *p, size_t n, size_t max);

/* One record as read; payload points into the input. */
struct queue_rec {
	uint8_t type;
	const char *p;
	uint32_t len;
};
/* Read the record at *pos of p[0..len): 1 and *pos advanced, 0 at the end,
 * -1 on an unknown type, an oversized length (refused from the header alone)
 * or a record running past the end. Pure. */
int queue_rec_next(const char *p, size_t len, size_t *pos, struct queue_rec *r,
                   const char **error_r);

/* Append VERSION .. the last RCPT/RCPT_DSN for m (id, arrival, sender, client
 * info, recipients) and, for version 2, HEAD_END; refuses text that
 * queue_text_ok rejects. crc_start is the offset in out where the file
 * starts (HEAD_END covers out->data[crc_start..]). */
int queue_msg_encode_head(const struct queue_msg *m, struct buf *out, size_t crc_start,
                          const char **error_r);
/* Append one BODY record (1 <= n <= QUEUE_BODY_CHUNK). */
int queue_encode_body_chunk(const char *p, size_t n, struct buf *out);
/* Append the END record with crc: of every byte before it (version 1) or
 * of the BODY records after HEAD_END (version 2). */
int queue_encode_end(uint32_t crc, struct buf *out);
/* A whole spool file for m with the given body, in canonical chunks. */
int queue_msg_encode(const struct queue_msg *m, const char *body, size_t body_len, struct buf *out,
                     const char **error_r);

/* Decode a whole spool file into *m (recipient states pending), checking
 * every checksum. On success m owns its strings (free with queue_msg_free)
 * and body_off refers to p. */
int queue_msg_decode(const char *p, size_t len, struct queue_msg *m, const char **error_r);
/* Decode only the envelope of a version 2 spool file from its first len
 * bytes (p may be a prefix of the file), checked by HEAD_END; the body is
 * neither read nor checked. 0 decoded (m->body_off is the first byte after
 * HEAD_END, body_len 0), 1 when the envelope does not end within p[0..len)
 * or the file is version 1 (whose envelope only the whole file can check:
 * read more, or all of it and use queue_msg_decode), -1 refused. Pure. */
int queue_msg_decode_head(const char *p, size_t len, struct queue_msg *m, const char **error_r);
/* The body chunk at *pos (start at m->body_off): 1 with *chunk_r and *n_r set,
 * 0 when the body is done. p/len are the bytes m was decoded from. */
int queue_body_next(const char *p, size_t len, size_t *pos, const char **chunk_r, size_t *n_r);
void queue_msg_free(struct queue_msg *m);

/* A state file: VERSION, ID, one RSTATE per recipient in order, END. */
int queue_state_encode(const char *id, const struct queue_rcpt *rcpts, size_t n, struct buf *out,
                       const char **error_r);
/* Decode a state file for message id into rcpts[0..n): states, attempts,
 * times and error texts (replacing any there). Strict like the spool file:
 * exactly n RSTATE records, in order, and the id must match. */
int queue_state_decode(const char *p, size_t len, const char *id, struct queue_rcpt *rcpts,
                       size_t n, const char **error_r);

const char *queue_rcpt_state_name(enum queue_rcpt_state s);

#endif
