/* listen-addr.h: the syntax of a listen address (imap_listen and friends). */
#ifndef LOFT_LISTEN_ADDR_H
#define LOFT_LISTEN_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/* Pure: split a listen word ("*:143", "[::1]:10143", "host:25") into host
 * (empty for "*") and port. 0 or -1 with err. */
int listen_parse_addr(const char *p, size_t len, char *host, size_t hostlen, unsigned *port_r,
                      bool *v6_r, char *err, size_t errlen);

#endif
