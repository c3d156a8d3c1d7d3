/* test-sandbox.c: each kind's seccomp filter, installed for real in a forked
 * child: ordinary work survives it, a call outside the list kills the child
 * with SIGSYS after one log line naming the call, and /proc shows mode 2. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"

enum probe {
	PROBE_WORK,   /* memory, pipes, reading a file, time: must survive */
	PROBE_EXEC,   /* execve /bin/true */
	PROBE_UNLINK, /* remove a file that does not exist */
	PROBE_FORK,   /* fork and reap */
	PROBE_STATUS, /* report the Seccomp: line of /proc/self/status */
};

struct outcome {
	int status;    /* from waitpid */
	char log[512]; /* what the child wrote to its log fd */
};

static int child_probe(enum probe p, int log_fd)
{
	switch (p) {
	case PROBE_WORK: {
		void *big = malloc(1 << 20);
		if (big == NULL)
			return 2;
		memset(big, 1, 1 << 20);
		free(big);
		int fds[2];
		if (pipe2(fds, O_CLOEXEC) < 0 || write(fds[1], "x", 1) != 1)
			return 3;
		char c;
		if (read(fds[0], &c, 1) != 1)
			return 4;
		close(fds[0]);
		close(fds[1]);
		int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return 5;
		close(fd);
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		return 0;
	}
	case PROBE_EXEC: {
		char *argv[] = {"true", NULL};
		execve("/bin/true", argv, NULL);
		return 6;
	}
	case PROBE_UNLINK:
		return unlink("/nonexistent/loft-sandbox-test") < 0 && errno == ENOENT ? 0 : 7;
	case PROBE_FORK: {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		int st;
		return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? 0 : 8;
	}
	case PROBE_STATUS: {
		FILE *f = fopen("/proc/self/status", "r");
		char line[256];
		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, "Seccomp:", 8) == 0) {
				ssize_t w = write(log_fd, line, strlen(line));
				(void)w;
			}
		}
		if (f != NULL)
			fclose(f);
		return 0;
	}
	}
	return 9;
}

/* prepared: the filter compiled by sandbox_prepare in the parent, as the
 * mailstore dispatcher does for its workers. */
static struct outcome run_with(enum sandbox_kind kind, enum probe p, bool prepared)
{
	struct sandbox_filter f;
	const char *pe = NULL;
	if (prepared)
		assert_int_equal(sandbox_prepare(kind, &f, &pe), 0);
	struct outcome o;
	memset(&o, 0, sizeof(o));
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		/* As privdrop would: the filter needs NO_NEW_PRIVS without root. */
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		const char *e = NULL;
		if ((prepared ? sandbox_enter_prepared(&f, "test", fds[1], &e)
		              : sandbox_enter(kind, "test", fds[1], &e)) < 0)
			_exit(100);
		_exit(child_probe(p, fds[1]));
	}
	close(fds[1]);
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(o.log) - 1 && (r = read(fds[0], o.log + n, sizeof(o.log) - 1 - n)) > 0)
		n += (size_t)r;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &o.status, 0), pid);
	if (prepared)
		sandbox_filter_free(&f);
	return o;
}

static struct outcome run(enum sandbox_kind kind, enum probe p)
{
	return run_with(kind, p, false);
}

static void assert_exit0(struct outcome o)
{
	assert_true(WIFEXITED(o.status));
	assert_int_equal(WEXITSTATUS(o.status), 0);
}

/* Killed by SIGSYS, after a line naming the call. */
static void assert_killed(struct outcome o, long nr)
{
	assert_true(WIFSIGNALED(o.status));
	assert_int_equal(WTERMSIG(o.status), SIGSYS);
	char want[64];
	snprintf(want, sizeof(want), ": seccomp: system call %ld is outside", nr);
	assert_non_null(strstr(o.log, want));
	assert_true(strncmp(o.log, "<3>test[", 8) == 0);
}

static const enum sandbox_kind all_kinds[] = {SANDBOX_LOGIN, SANDBOX_AUTH,  SANDBOX_MAILBOX,
                                              SANDBOX_SMTPD, SANDBOX_QUEUE, SANDBOX_RELAY};

static void test_work_survives(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(all_kinds) / sizeof(all_kinds[0]); i++)
		assert_exit0(run(all_kinds[i], PROBE_WORK));
}

static void test_mode_is_filter(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(all_kinds) / sizeof(all_kinds[0]); i++) {
		struct outcome o = run(all_kinds[i], PROBE_STATUS);
		assert_exit0(o);
		assert_non_null(strstr(o.log, "Seccomp:\t2"));
	}
	/* SANDBOX_NONE installs nothing. */
	struct outcome o = run(SANDBOX_NONE, PROBE_STATUS);
	assert_exit0(o);
	assert_null(strstr(o.log, "Seccomp:\t2"));
}

static void test_exec_only_auth(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(all_kinds) / sizeof(all_kinds[0]); i++) {
		struct outcome o = run(all_kinds[i], PROBE_EXEC);
		if (all_kinds[i] == SANDBOX_AUTH)
			assert_exit0(o); /* /bin/true ran */
		else
			assert_killed(o, SYS_execve);
	}
}

static void test_login_changes_no_file(void **state)
{
	(void)state;
	assert_killed(run(SANDBOX_LOGIN, PROBE_UNLINK), SYS_unlink);
	assert_exit0(run(SANDBOX_MAILBOX, PROBE_UNLINK));
	assert_exit0(run(SANDBOX_QUEUE, PROBE_UNLINK));
}

static void test_fork_where_listed(void **state)
{
	(void)state;
	assert_killed(run(SANDBOX_LOGIN, PROBE_FORK), SYS_clone);
	assert_killed(run(SANDBOX_MAILBOX, PROBE_FORK), SYS_clone);
	assert_exit0(run(SANDBOX_SMTPD, PROBE_FORK));
	assert_exit0(run(SANDBOX_QUEUE, PROBE_FORK));
	assert_exit0(run(SANDBOX_RELAY, PROBE_FORK));
	assert_exit0(run(SANDBOX_AUTH, PROBE_FORK));
}

/* What follows the "<3>test[pid]" prefix, or the whole log. */
static const char *log_tail(const struct outcome *o)
{
	const char *p = strchr(o->log, ']');
	return p != NULL ? p : o->log;
}

static void test_prepared_same_outcomes(void **state)
{
	(void)state;
	static const enum probe probes[] = {PROBE_WORK, PROBE_EXEC, PROBE_UNLINK, PROBE_FORK,
	                                    PROBE_STATUS};
	for (size_t i = 0; i < sizeof(all_kinds) / sizeof(all_kinds[0]); i++)
		for (size_t j = 0; j < sizeof(probes) / sizeof(probes[0]); j++) {
			struct outcome a = run(all_kinds[i], probes[j]);
			struct outcome b = run_with(all_kinds[i], probes[j], true);
			assert_int_equal(a.status, b.status);
			assert_string_equal(log_tail(&a), log_tail(&b));
		}
	/* the two that matter most for a mailstore worker, spelled out */
	assert_killed(run_with(SANDBOX_MAILBOX, PROBE_EXEC, true), SYS_execve);
	struct outcome o = run_with(SANDBOX_MAILBOX, PROBE_STATUS, true);
	assert_exit0(o);
	assert_non_null(strstr(o.log, "Seccomp:\t2"));
	struct sandbox_filter f;
	const char *e = NULL;
	assert_int_equal(sandbox_prepare(SANDBOX_NONE, &f, &e), 0);
	assert_int_equal(f.kind, SANDBOX_NONE);
	assert_null(f.insns);
	assert_int_equal(sandbox_prepare((enum sandbox_kind)99, &f, &e), -1);
	assert_non_null(e);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(sandbox_kind_name(SANDBOX_LOGIN), "login");
	assert_string_equal(sandbox_kind_name(SANDBOX_RELAY), "relay");
	assert_string_equal(sandbox_kind_name((enum sandbox_kind)99), "unknown");
	const char *e = NULL;
	assert_int_equal(sandbox_enter((enum sandbox_kind)99, "x", 2, &e), -1);
	assert_non_null(e);
}

int main(void)
{
	/* valgrind runs the program on its own syscalls, which no filter of ours
	 * describes; the same test runs natively and under ASan. */
	const char *pre = getenv("LD_PRELOAD");
	if (pre != NULL && strstr(pre, "vgpreload") != NULL) {
		printf("skipped: seccomp filters do not run under valgrind\n");
		return 77;
	}
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
		printf("skipped: kernel without seccomp\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_work_survives),
	    cmocka_unit_test(test_mode_is_filter),
	    cmocka_unit_test(test_exec_only_auth),
	    cmocka_unit_test(test_login_changes_no_file),
	    cmocka_unit_test(test_fork_where_listed),
	    cmocka_unit_test(test_prepared_same_outcomes),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
