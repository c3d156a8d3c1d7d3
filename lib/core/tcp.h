/* tcp.h: socket options for the TCP connections Loft accepts. Every daemon
 * that answers a client with streamed responses (login daemons, LMTP,
 * smtpd) calls tcp_nodelay on each accepted socket. */
#ifndef LOFT_TCP_H
#define LOFT_TCP_H

/* Turn Nagle's algorithm off on fd when it is a TCP socket. Without it the
 * last segment of a response that ends in a partial segment waits for the
 * client's delayed ACK (about 40 ms on Linux) whenever an earlier segment
 * is still unacknowledged. Returns 1 when set, 0 when fd is no TCP socket
 * (UNIX sockets, socketpairs: nothing to do), -1 on error (errno). */
int tcp_nodelay(int fd);

#endif
