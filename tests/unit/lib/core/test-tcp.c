/* test-tcp.c: tcp_nodelay (lib/core/tcp.c) sets TCP_NODELAY on an accepted
 * loopback TCP connection (IPv4, and IPv6 where the host has it), leaves
 * UNIX sockets alone and reports a bad descriptor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp.h"

static int nodelay_of(int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	return v;
}

/* An accepted connection over loopback for family; -1 when the family is
 * not available here. */
static int accepted(int family, int *client_r)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t len;
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	int l = socket(family, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&ss, len) < 0) {
		if (l >= 0)
			close(l);
		return -1;
	}
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&ss, &len), 0);
	int c = socket(family, SOCK_STREAM, 0);
	assert_true(c >= 0);
	assert_int_equal(connect(c, (struct sockaddr *)&ss, len), 0);
	int a = accept(l, NULL, NULL);
	assert_true(a >= 0);
	close(l);
	*client_r = c;
	return a;
}

static void check_family(int family)
{
	int c;
	int a = accepted(family, &c);
	if (a < 0) {
		assert_int_equal(family, AF_INET6); /* loopback IPv4 is always there */
		return;
	}
	assert_int_equal(nodelay_of(a), 0);
	assert_int_equal(tcp_nodelay(a), 1);
	assert_int_not_equal(nodelay_of(a), 0);
	/* the client side is untouched: the option is per socket */
	assert_int_equal(nodelay_of(c), 0);
	close(a);
	close(c);
}

static void test_tcp4(void **state)
{
	(void)state;
	check_family(AF_INET);
}

static void test_tcp6(void **state)
{
	(void)state;
	check_family(AF_INET6);
}

static void test_unix_untouched(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(tcp_nodelay(sv[0]), 0);
	close(sv[0]);
	close(sv[1]);
}

static void test_bad_fd(void **state)
{
	(void)state;
	int fd = dup(0);
	close(fd);
	errno = 0;
	assert_int_equal(tcp_nodelay(fd), -1);
	assert_int_equal(errno, EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tcp4),
	    cmocka_unit_test(test_tcp6),
	    cmocka_unit_test(test_unix_untouched),
	    cmocka_unit_test(test_bad_fd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
