/* write-all.h: write a whole buffer to a blocking descriptor. */
#ifndef LOFT_WRITE_ALL_H
#define LOFT_WRITE_ALL_H

#include <stddef.h>

/* Write p[0..n) to fd, retrying short writes and EINTR. 0, or -1 with errno
 * (EIO when write() made no progress). */
int write_all(int fd, const void *p, size_t n);

#endif
