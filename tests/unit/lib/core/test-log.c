/* test-log.c: log lines as children write them (fd 2 redirected to a pipe here),
 * as the master forwards them to a file or stderr, sanitisation, the size cap,
 * and the level and facility names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static void test_sanitise(void **state)
{
	(void)state;
	char d[32];
	static const char src[] = "a\rb\nc\0d\te\x1b[0m\x7f\xc3\xa9!";
	size_t n = log_sanitise(d, sizeof(d), src, sizeof(src) - 1);
	assert_int_equal(n, sizeof(src) - 1);
	assert_string_equal(d, "a?b?c?d?e?[0m?\xc3\xa9!"); /* UTF-8 bytes kept */
	/* capped: dstlen - 1 bytes and a NUL */
	memset(d, 'z', sizeof(d));
	n = log_sanitise(d, 5, "abcdefgh", 8);
	assert_int_equal(n, 4);
	assert_string_equal(d, "abcd");
	assert_int_equal(d[5], 'z');
	assert_int_equal(log_sanitise(d, 1, "abc", 3), 0);
	assert_string_equal(d, "");
	d[0] = 'q';
	assert_int_equal(log_sanitise(d, 0, "abc", 3), 0);
	assert_int_equal(d[0], 'q');
	assert_int_equal(log_sanitise(d, sizeof(d), "", 0), 0);
	assert_string_equal(d, "");
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(log_prio_parse("debug"), LOG_DEBUG);
	assert_int_equal(log_prio_parse("info"), LOG_INFO);
	assert_int_equal(log_prio_parse("notice"), LOG_NOTICE);
	assert_int_equal(log_prio_parse("warning"), LOG_WARNING);
	assert_int_equal(log_prio_parse("error"), LOG_ERR);
	assert_int_equal(log_prio_parse("verbose"), -1);
	assert_int_equal(log_prio_parse(""), -1);
	assert_int_equal(log_prio_parse(NULL), -1);
	assert_int_equal(log_facility_parse("mail"), LOG_MAIL);
	assert_int_equal(log_facility_parse("local7"), LOG_LOCAL7);
	assert_int_equal(log_facility_parse("daemon"), LOG_DAEMON);
	assert_int_equal(log_facility_parse("mial"), -1);
	assert_int_equal(log_facility_parse("local8"), -1);
}

/* Redirect fd 2 into a pipe for the duration of a test. */
struct capture {
	int saved;
	int rd;
};

static void capture_start(struct capture *c)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(stderr);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	close(p[1]);
	c->rd = p[0];
}

/* Restore fd 2 and return everything written meanwhile (caller frees). */
static char *capture_end(struct capture *c)
{
	assert_int_equal(dup2(c->saved, STDERR_FILENO), STDERR_FILENO);
	close(c->saved);
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap + 1);
	ssize_t n;
	while ((n = read(c->rd, out + len, cap - len)) > 0)
		len += (size_t)n;
	close(c->rd);
	out[len] = '\0';
	return out;
}

static void assert_matches(const char *s, const char *re)
{
	regex_t r;
	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE), 0);
	int m = regexec(&r, s, 0, NULL, 0);
	regfree(&r);
	if (m != 0)
		fail_msg("'%s' does not match /%s/", s, re);
}

static void test_pipe_format(void **state)
{
	(void)state;
	struct loft_log lg;
	struct capture c;
	char big[5000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	capture_start(&c);
	log_open_pipe(&lg, "imap-login", LOG_INFO);
	log_msg(&lg, LOG_INFO, "abc", "hello %s", "wor\nld\r");
	log_debug(&lg, "too chatty: dropped");
	log_error(&lg, "oops %d", 42);
	log_msg(&lg, LOG_NOTICE, "s\n1", "injected\n<0>fake line");
	errno = EACCES; /* logging must not clobber the caller's errno */
	log_msg(&lg, LOG_WARNING, "", "%s", big);
	assert_int_equal(errno, EACCES);
	log_close(&lg);
	char *out = capture_end(&c);

	char want[256];
	long pid = (long)getpid();
	char *line = strtok(out, "\n");
	snprintf(want, sizeof(want), "<6>imap-login[%ld]: sess=abc: hello wor?ld?", pid);
	assert_string_equal(line, want);
	line = strtok(NULL, "\n");
	snprintf(want, sizeof(want), "<3>imap-login[%ld]: oops 42", pid);
	assert_string_equal(line, want);
	line = strtok(NULL, "\n");
	snprintf(want, sizeof(want), "<5>imap-login[%ld]: sess=s?1: injected?<0>fake line", pid);
	assert_string_equal(line, want);
	line = strtok(NULL, "\n");
	/* the long line is cut to LOG_LINE_MAX bytes including its LF */
	assert_int_equal(strlen(line) + 1, LOG_LINE_MAX);
	snprintf(want, sizeof(want), "<4>imap-login[%ld]: xxxx", pid);
	assert_memory_equal(line, want, strlen(want));
	assert_null(strtok(NULL, "\n"));
	free(out);
}

static char tmpfile_path[64];

static int make_tmp(void **state)
{
	(void)state;
	strcpy(tmpfile_path, "/tmp/test-log-XXXXXX");
	int fd = mkstemp(tmpfile_path);
	if (fd < 0)
		return -1;
	close(fd);
	return unlink(tmpfile_path); /* log_open_master must create it */
}

static int remove_tmp(void **state)
{
	(void)state;
	unlink(tmpfile_path);
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *buf = calloc(1, 1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

#define TS "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z "

static void test_forward_to_file(void **state)
{
	(void)state;
	struct loft_log lg;
	mode_t old = umask(022);
	assert_int_equal(log_open_master(&lg, "master", tmpfile_path, "mail", LOG_INFO), 0);
	umask(old);
	assert_int_equal(lg.dest, LOG_DEST_FILE);
	struct stat st;
	assert_int_equal(stat(tmpfile_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_true(fcntl(lg.fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(lg.fd, F_GETFL) & O_APPEND);

	static const char l1[] = "<6>imap-login[12]: sess=x: hello";
	static const char l2[] = "<7>smtpd[13]: debug is dropped at info";
	static const char l3[] = "panic: raw output";
	static const char l4[] = "<x>not a prio";
	static const char l5[] = "<4>auth[14]: bad\rbyte\0and NUL";
	static const char l6[] = "<9999>too many digits";
	static const char l7[] = "<22>auth[15]: facility bits dropped";
	log_forward_line(&lg, l1, sizeof(l1) - 1);
	log_forward_line(&lg, l2, sizeof(l2) - 1);
	log_forward_line(&lg, l3, sizeof(l3) - 1);
	log_forward_line(&lg, l4, sizeof(l4) - 1);
	log_forward_line(&lg, l5, sizeof(l5) - 1);
	log_forward_line(&lg, l6, sizeof(l6) - 1);
	log_forward_line(&lg, l7, sizeof(l7) - 1);
	log_forward_line(&lg, "", 0);
	char big[6000];
	memset(big, 'y', sizeof(big));
	memcpy(big, "<6>", 3);
	log_forward_line(&lg, big, sizeof(big));
	log_notice(&lg, "started, %d children", 3);
	log_close(&lg);

	char *out = slurp(tmpfile_path);
	char *save = NULL;
	const char *want[] = {
	    TS "imap-login\\[12\\]: sess=x: hello$",
	    TS "panic: raw output$",
	    TS "<x>not a prio$",
	    TS "auth\\[14\\]: bad\\?byte\\?and NUL$",
	    TS "<9999>too many digits$",
	    TS "auth\\[15\\]: facility bits dropped$",
	    TS "$",
	    TS "y+$",
	    TS "master\\[[0-9]+\\]: started, 3 children$",
	};
	char *line = strtok_r(out, "\n", &save);
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		assert_non_null(line);
		assert_matches(line, want[i]);
		if (i == 7)
			assert_int_equal(strlen(line) + 1, LOG_LINE_MAX);
		line = strtok_r(NULL, "\n", &save);
	}
	assert_null(line);
	free(out);

	/* reopening appends */
	assert_int_equal(log_open_master(&lg, "master", tmpfile_path, NULL, LOG_DEBUG), 0);
	log_forward_line(&lg, "<7>x[1]: debug now kept", 23);
	log_close(&lg);
	out = slurp(tmpfile_path);
	assert_non_null(strstr(out, "started, 3 children\n"));
	assert_non_null(strstr(out, "x[1]: debug now kept\n"));
	free(out);
}

static void test_stderr_and_syslog(void **state)
{
	(void)state;
	struct loft_log lg;
	struct capture c;
	capture_start(&c);
	assert_int_equal(log_open_master(&lg, "master", "-", "mail", LOG_NOTICE), 0);
	assert_int_equal(lg.dest, LOG_DEST_STDERR);
	log_forward_line(&lg, "<5>pop3-login[7]: hi", 20);
	log_info(&lg, "below notice: dropped");
	log_close(&lg);
	char *out = capture_end(&c);
	assert_matches(out, TS "pop3-login\\[7\\]: hi\n$");
	free(out);

	assert_int_equal(log_open_master(&lg, "master", "syslog", "local1", LOG_INFO), 0);
	assert_int_equal(lg.dest, LOG_DEST_SYSLOG);
	log_close(&lg);
	assert_int_equal(log_open_master(&lg, "master", "", NULL, LOG_INFO), 0);
	assert_int_equal(lg.dest, LOG_DEST_SYSLOG);
	log_close(&lg);
	assert_int_equal(log_open_master(&lg, "master", "syslog", "nonsense", LOG_INFO), -1);
	assert_int_equal(log_open_master(&lg, "master", "/nonexistent-dir/x.log", NULL, LOG_INFO),
	                 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sanitise),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_pipe_format),
	    cmocka_unit_test_setup_teardown(test_forward_to_file, make_tmp, remove_tmp),
	    cmocka_unit_test(test_stderr_and_syslog),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
