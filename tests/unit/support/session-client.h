/* session-client.h: the client side of the protocol-session unit tests. A
 * test runs a session (POP3, IMAP) in a forked child over a socketpair and
 * drives it line by line with these helpers. Header-only: each test file is
 * its own executable. */
#ifndef LOFT_TEST_SESSION_CLIENT_H
#define LOFT_TEST_SESSION_CLIENT_H

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "test-rmtree.h"

struct sess {
	pid_t pid;
	int fd;
	struct buf in;
};

/* Read one chunk of session output into s->in (5 s cap): 0, or -1 at EOF. */
static inline int fill(struct sess *s)
{
	struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
	if (poll(&pfd, 1, 5000) <= 0)
		return -1;
	char chunk[4096];
	ssize_t n = read(s->fd, chunk, sizeof(chunk));
	if (n <= 0)
		return -1;
	assert_int_equal(buf_append(&s->in, chunk, (size_t)n), 0);
	return 0;
}

/* One line without CRLF (malloc'd), or NULL at EOF. */
static inline char *get_line(struct sess *s)
{
	for (;;) {
		char *crlf = s->in.len > 0 ? memmem(s->in.data, s->in.len, "\r\n", 2) : NULL;
		if (crlf != NULL) {
			size_t n = (size_t)(crlf - s->in.data);
			char *line = strndup(s->in.data, n);
			buf_consume(&s->in, n + 2);
			return line;
		}
		if (fill(s) < 0)
			return NULL;
	}
}

static inline void expect(struct sess *s, const char *want)
{
	char *line = get_line(s);
	if (line == NULL)
		fail_msg("connection closed while waiting for \"%s\"", want);
	assert_string_equal(line, want);
	free(line);
}

static inline void send_str(struct sess *s, const char *text)
{
	assert_int_equal(write(s->fd, text, strlen(text)), (ssize_t)strlen(text));
}

/* Close the client end and reap the session: its exit status. */
static inline int finish(struct sess *s)
{
	close(s->fd);
	buf_free(&s->in);
	int st = -1;
	assert_int_equal(waitpid(s->pid, &st, 0), s->pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

#endif
