/* test-write-all.c: lib/core/write-all.c writes a buffer bigger than a
 * pipe holds whole (short writes retried) and reports a full device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "write-all.h"

static void test_bigger_than_a_pipe(void **state)
{
	(void)state;
	size_t n = 1u << 20; /* a pipe holds 64 KiB: many short writes */
	char *buf = malloc(n);
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(i * 7);
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		int rc = write_all(p[1], buf, n);
		free(buf); /* valgrind checks the child's leaks too */
		_exit(rc == 0 ? 0 : 1);
	}
	close(p[1]);
	char *got = malloc(n);
	assert_non_null(got);
	size_t have = 0;
	ssize_t r;
	while ((r = read(p[0], got + have, n - have)) > 0)
		have += (size_t)r;
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(have, n);
	assert_memory_equal(got, buf, n);
	free(got);
	free(buf);
}

static void test_full_device(void **state)
{
	(void)state;
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		skip();
	errno = 0;
	assert_int_equal(write_all(fd, "x", 1), -1);
	assert_int_equal(errno, ENOSPC);
	close(fd);
	assert_int_equal(write_all(fd, "", 0), 0); /* nothing to write */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bigger_than_a_pipe),
	    cmocka_unit_test(test_full_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
