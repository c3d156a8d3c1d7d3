/* buf.h: growable, bounds-checked byte buffers for all protocol text, and the
 * pure line splitter every line protocol uses. A buffer never grows past its
 * max; an append that would is refused (-1) and leaves the buffer unchanged. */
#ifndef LOFT_BUF_H
#define LOFT_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

struct buf {
	char *data; /* always NUL-terminated after data[len] when data != NULL */
	size_t len; /* bytes in use */
	size_t cap; /* bytes allocated (excluding the terminator) */
	size_t max; /* hard limit on len; 0 means SIZE_MAX/2 */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Drop the first n bytes (n > len drops all). */
void buf_consume(struct buf *b, size_t n);
/* Hand the data to the caller (who frees it); the buffer is left empty. */
char *buf_steal(struct buf *b);

/* Find the first line in p[0..len). Returns the length of the line including
 * its LF (> 0), 0 when no LF is present yet and len <= max, or -1 when no LF is
 * present within the first max+1 bytes (the line is too long). Pure. */
ssize_t line_find(const char *p, size_t len, size_t max);

#endif
