/* wire.h: Loft's internal line protocol (DESIGN §4). One record per line,
 * fields separated by TAB; TAB, LF, CR, NUL and backslash inside a field are
 * escaped as \t \n \r \0 \\. File descriptors travel with SCM_RIGHTS attached
 * to the line that names them. Encoding and decoding are pure functions over
 * buffers; struct wire_conn adds the socket reading and fd queueing. */
#ifndef LOFT_WIRE_H
#define LOFT_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define WIRE_MAX_LINE   65536 /* bytes, escaped, excluding the LF */
#define WIRE_MAX_FIELDS 64
#define WIRE_MAX_FDS    8 /* fds attached to one line */

struct wire_field {
	const char *p;
	size_t len;
};

/* Append one escaped field to out (no separator). 0 or -1 (buffer max). */
int wire_escape(struct buf *out, const char *p, size_t len);
/* Append a whole record: fields joined by TAB, escaped, then LF. 0 or -1. */
int wire_encode(struct buf *out, const struct wire_field *f, size_t n);
/* Convenience: fields given as NUL-terminated strings, NULL-terminated list. */
int wire_encode_strs(struct buf *out, const char *const *strs);

/* Decode one line (line[0..len), without its LF) in place: unescapes each
 * field and points f[i] into line. Returns the number of fields (>= 1), or -1
 * for a malformed line (bad escape, raw CR/NUL, more than max fields, len
 * over WIRE_MAX_LINE). Pure apart from writing into line. */
int wire_decode(char *line, size_t len, struct wire_field *f, size_t max);

/* A canonical decimal number (1-10 digits, no leading zero, at most max), as
 * ids, uids and ports travel in every internal protocol. 0 or -1. Pure. */
int wire_parse_u32(const char *p, size_t len, uint32_t max, uint32_t *out);

/* Compare a field with a C string. */
int wire_field_eq(const struct wire_field *f, const char *s);

/* Version handshake (docs/protocols.md): the first line each side sends is
 * VERSION <proto> <major> <minor>. wire_check_version returns 0 when the
 * decoded line f[0..n) is one for proto with the same major, else -1. */
int wire_encode_version(struct buf *out, const char *proto, unsigned major, unsigned minor);
int wire_check_version(const struct wire_field *f, int n, const char *proto, unsigned major);

/* Send data (one or more whole lines) with nfds descriptors attached to its
 * first byte. Blocks until all is written (EINTR retried). 0 or -1 (errno). */
int wire_send(int sock, const void *data, size_t len, const int *fds, size_t nfds);

/* A connection's read side: buffered bytes plus the descriptors received,
 * in arrival order. The line that names fds takes them with wire_conn_take_fd. */
struct wire_conn {
	int fd;
	struct buf in;
	int fdq[WIRE_MAX_FDS * 4];
	size_t nfdq;
	size_t off; /* bytes at the front of in already returned as lines */
};
void wire_conn_init(struct wire_conn *c, int fd);
/* Closes queued fds and frees buffers; does not close c->fd. */
void wire_conn_clear(struct wire_conn *c);
/* One recvmsg(): > 0 bytes read, 0 at EOF, -1 on error (errno; EAGAIN for
 * non-blocking sockets with nothing to read). Too many queued fds or a line
 * longer than WIRE_MAX_LINE gives -1 with errno EPROTO/EMSGSIZE. */
ssize_t wire_conn_read(struct wire_conn *c);
/* Next complete line, decoded into f: returns field count (>= 1), 0 when no
 * complete line is buffered, -1 for a malformed or oversized line (the caller
 * should drop the connection). The fields stay valid until the next call on
 * c; each is also NUL-terminated (an escaped \0 may still sit inside). */
int wire_conn_next(struct wire_conn *c, struct wire_field *f, size_t max);
/* Oldest received descriptor not yet taken, or -1 when none. */
int wire_conn_take_fd(struct wire_conn *c);

#endif
