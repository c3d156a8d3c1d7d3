/* test-fdpass.c: descriptors sent with wire_send arrive through wire_conn
 * attached to the right lines, in order, as close-on-exec duplicates of the
 * sender's files, across processes too; a peer flooding fds is refused and no
 * descriptor leaks (counted in /proc/self/fd). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return n;
}

/* An anonymous temporary file: its own inode, nothing left on disk. */
static int temp_file(void)
{
	char path[] = "/tmp/loft-fdpass-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	return fd;
}

static void assert_same_file(int a, int b)
{
	struct stat sa, sb;
	assert_int_equal(fstat(a, &sa), 0);
	assert_int_equal(fstat(b, &sb), 0);
	assert_int_equal(sa.st_dev, sb.st_dev);
	assert_int_equal(sa.st_ino, sb.st_ino);
}

static void make_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

/* Read until a complete line is decoded; returns its field count. */
static int next_line(struct wire_conn *c, struct wire_field *f)
{
	int n;
	while ((n = wire_conn_next(c, f, WIRE_MAX_FIELDS)) == 0)
		assert_true(wire_conn_read(c) > 0);
	return n;
}

static void test_pass_one(void **state)
{
	(void)state;
	int base = count_fds();
	int sv[2];
	make_pair(sv);
	int file = temp_file();
	assert_int_equal(wire_send(sv[0], "FD\t1\n", 5, &file, 1), 0);

	struct wire_conn c;
	wire_conn_init(&c, sv[1]);
	struct wire_field f[WIRE_MAX_FIELDS];
	assert_int_equal(next_line(&c, f), 2);
	assert_true(wire_field_eq(&f[0], "FD"));
	int got = wire_conn_take_fd(&c);
	assert_true(got >= 0);
	assert_int_not_equal(got, file);
	assert_same_file(got, file);
	assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(wire_conn_take_fd(&c), -1);

	/* The passed fd shares the open file: a write through it shows up. */
	assert_int_equal(write(got, "abc", 3), 3);
	char rb[4] = {0};
	assert_int_equal(pread(file, rb, 3, 0), 3);
	assert_string_equal(rb, "abc");

	close(got);
	close(file);
	wire_conn_clear(&c);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), base);
}

static void test_pass_three(void **state)
{
	(void)state;
	int base = count_fds();
	int sv[2], p[2];
	make_pair(sv);
	assert_int_equal(pipe(p), 0);
	int file = temp_file();
	int fds[3] = {file, p[1], p[0]};
	assert_int_equal(wire_send(sv[0], "FDS\t3\n", 6, fds, 3), 0);

	struct wire_conn c;
	wire_conn_init(&c, sv[1]);
	struct wire_field f[WIRE_MAX_FIELDS];
	assert_int_equal(next_line(&c, f), 2);
	int gfile = wire_conn_take_fd(&c);
	int gw = wire_conn_take_fd(&c);
	int gr = wire_conn_take_fd(&c);
	assert_true(gfile >= 0 && gw >= 0 && gr >= 0);
	assert_int_equal(wire_conn_take_fd(&c), -1);
	assert_same_file(gfile, file);
	assert_same_file(gw, p[1]);
	assert_int_equal(fcntl(gw, F_GETFL) & O_ACCMODE, O_WRONLY);
	assert_int_equal(fcntl(gr, F_GETFL) & O_ACCMODE, O_RDONLY);

	/* Through the passed write end into our read end, and the reverse. */
	char rb[8] = {0};
	assert_int_equal(write(gw, "hello", 5), 5);
	assert_int_equal(read(p[0], rb, sizeof(rb)), 5);
	assert_string_equal(rb, "hello");
	memset(rb, 0, sizeof(rb));
	assert_int_equal(write(p[1], "back", 4), 4);
	assert_int_equal(read(gr, rb, sizeof(rb)), 4);
	assert_string_equal(rb, "back");

	close(gfile);
	close(gw);
	close(gr);
	close(file);
	close(p[0]);
	close(p[1]);
	wire_conn_clear(&c);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), base);
}

/* Lines with and without fds, and one long line, sent back to back before the
 * reader starts: each line finds exactly its own fds at the queue's head. */
static void test_back_to_back(void **state)
{
	(void)state;
	int base = count_fds();
	int sv[2];
	make_pair(sv);
	enum { LINES = 8, POOL = 24 };
	int pool[POOL];
	for (int i = 0; i < POOL; i++)
		pool[i] = temp_file();

	struct buf line;
	buf_init(&line, 0);
	char *bulk = malloc(50000);
	assert_non_null(bulk);
	memset(bulk, 'b', 50000);
	int used = 0;
	for (int i = 0; i < LINES; i++) {
		int nfds = i % 4; /* 0..3 fds */
		char num[8];
		snprintf(num, sizeof(num), "%d", nfds);
		struct wire_field lf[3] = {{"FD", 2}, {num, strlen(num)}, {"", 0}};
		if (i == 5) /* a line longer than one read, with fds */
			lf[2] = (struct wire_field){bulk, 50000};
		buf_reset(&line);
		assert_int_equal(wire_encode(&line, lf, 3), 0);
		assert_int_equal(wire_send(sv[0], line.data, line.len, pool + used, (size_t)nfds),
		                 0);
		used += nfds;
	}
	assert_true(used <= POOL);

	struct wire_conn c;
	wire_conn_init(&c, sv[1]);
	struct wire_field f[WIRE_MAX_FIELDS];
	int taken = 0;
	for (int i = 0; i < LINES; i++) {
		assert_int_equal(next_line(&c, f), 3);
		assert_true(wire_field_eq(&f[0], "FD"));
		int nfds = atoi(f[1].p);
		assert_int_equal(nfds, i % 4);
		assert_int_equal(f[2].len, i == 5 ? 50000 : 0);
		for (int k = 0; k < nfds; k++) {
			int got = wire_conn_take_fd(&c);
			assert_true(got >= 0);
			assert_same_file(got, pool[taken++]);
			close(got);
		}
	}
	assert_int_equal(taken, used);
	assert_int_equal(wire_conn_take_fd(&c), -1);
	wire_conn_clear(&c);
	buf_free(&line);
	free(bulk);
	for (int i = 0; i < POOL; i++)
		close(pool[i]);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), base);
}

/* sendmsg with n copies of fd attached to one short line, bypassing
 * wire_send's per-line limit the way a hostile peer would. */
static void raw_send_fds(int sock, int fd, size_t n)
{
	int fds[64];
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++)
		fds[i] = fd;
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(fds))];
	} cm;
	memset(&cm, 0, sizeof(cm));
	struct iovec iov = {.iov_base = "FLOOD\n", .iov_len = 6};
	struct msghdr m = {.msg_iov = &iov,
	                   .msg_iovlen = 1,
	                   .msg_control = cm.b,
	                   .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(h), fds, sizeof(int) * n);
	assert_int_equal(sendmsg(sock, &m, 0), 6);
}

static void test_flood_one_message(void **state)
{
	(void)state;
	const int qcap = (int)(sizeof(((struct wire_conn *)0)->fdq) / sizeof(int));
	int base = count_fds();
	int sv[2];
	make_pair(sv);
	int file = temp_file();
	raw_send_fds(sv[0], file, 40);
	struct wire_conn c;
	wire_conn_init(&c, sv[1]);
	errno = 0;
	assert_int_equal(wire_conn_read(&c), -1);
	assert_int_equal(errno, EPROTO);
	/* The queue is full; the 40 - qcap over it were closed at once. */
	assert_int_equal(c.nfdq, (size_t)qcap);
	assert_int_equal(count_fds(), base + 3 + qcap);
	wire_conn_clear(&c);
	assert_int_equal(count_fds(), base + 3);
	close(file);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), base);
}

/* Well-formed lines whose fds are never taken fill the queue; the message
 * that would overflow it is refused and its fds closed. */
static void test_flood_many_lines(void **state)
{
	(void)state;
	const int qcap = (int)(sizeof(((struct wire_conn *)0)->fdq) / sizeof(int));
	int base = count_fds();
	int sv[2];
	make_pair(sv);
	int file = temp_file();
	int fds[WIRE_MAX_FDS];
	for (int i = 0; i < WIRE_MAX_FDS; i++)
		fds[i] = file;
	int lines = qcap / WIRE_MAX_FDS + 1;
	for (int i = 0; i < lines; i++)
		assert_int_equal(wire_send(sv[0], "X\n", 2, fds, WIRE_MAX_FDS), 0);
	struct wire_conn c;
	wire_conn_init(&c, sv[1]);
	ssize_t r;
	int reads = 0;
	while ((r = wire_conn_read(&c)) > 0)
		reads++;
	assert_int_equal(r, -1);
	assert_int_equal(errno, EPROTO);
	assert_true(reads >= 1);
	assert_int_equal(c.nfdq, (size_t)qcap);
	assert_int_equal(count_fds(), base + 3 + qcap);
	wire_conn_clear(&c);
	close(file);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(count_fds(), base);
}

/* A send far larger than the socket buffer, from a non-blocking socket, is
 * written in many pieces: its one descriptor must arrive once, not with every
 * piece. */
static void test_large_send_one_fd(void **state)
{
	(void)state;
	enum { LINES = 1000, WIDTH = 1000 };
	int base = count_fds();
	int sv[2];
	make_pair(sv);
	int file = temp_file();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[1]);
		struct buf all;
		buf_init(&all, 0);
		char *row = malloc(WIDTH);
		if (row == NULL)
			_exit(1);
		memset(row, 'r', WIDTH);
		struct wire_field lf[2] = {{"ROW", 3}, {row, WIDTH}};
		for (int i = 0; i < LINES; i++) {
			if (wire_encode(&all, lf, 2) < 0)
				_exit(2);
		}
		int fl = fcntl(sv[0], F_GETFL);
		if (fcntl(sv[0], F_SETFL, fl | O_NONBLOCK) < 0)
			_exit(3);
		int r = wire_send(sv[0], all.data, all.len, &file, 1);
		buf_free(&all);
		free(row);
		_exit(r == 0 ? 0 : 4);
	}
	close(sv[0]);
	struct wire_conn c;
	wire_conn_init(&c, sv[1]);
	struct wire_field f[WIRE_MAX_FIELDS];
	for (int i = 0; i < LINES; i++) {
		assert_int_equal(next_line(&c, f), 2);
		assert_int_equal(f[1].len, WIDTH);
	}
	assert_int_equal(wire_conn_read(&c), 0);
	assert_int_equal(c.nfdq, 1);
	int got = wire_conn_take_fd(&c);
	assert_same_file(got, file);
	close(got);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	wire_conn_clear(&c);
	close(sv[1]);
	close(file);
	assert_int_equal(count_fds(), base);
}

/* Child side of test_fork: receive a pipe end and write through it, then send
 * back a file of its own. Exit status 0 means every check held. */
static int child_main(int sock, const char *path)
{
	struct wire_conn c;
	wire_conn_init(&c, sock);
	struct wire_field f[WIRE_MAX_FIELDS];
	int n;
	while ((n = wire_conn_next(&c, f, WIRE_MAX_FIELDS)) == 0) {
		if (wire_conn_read(&c) <= 0)
			return 1;
	}
	if (n != 2 || !wire_field_eq(&f[0], "PIPE") || !wire_field_eq(&f[1], "w"))
		return 2;
	int w = wire_conn_take_fd(&c);
	if (w < 0 || write(w, "from child", 10) != 10)
		return 3;
	close(w);
	int file = open(path, O_RDONLY | O_CLOEXEC);
	if (file < 0 || wire_send(sock, "FILE\n", 5, &file, 1) < 0)
		return 4;
	close(file);
	wire_conn_clear(&c);
	return 0;
}

static void test_fork(void **state)
{
	(void)state;
	int base = count_fds();
	char path[] = "/tmp/loft-fdpass-XXXXXX";
	int file = mkstemp(path);
	assert_true(file >= 0);
	int sv[2], p[2];
	make_pair(sv);
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		close(p[0]);
		close(p[1]);
		_exit(child_main(sv[1], path));
	}
	close(sv[1]);
	assert_int_equal(wire_send(sv[0], "PIPE\tw\n", 7, &p[1], 1), 0);
	close(p[1]); /* the child's copy is now the only write end */
	char rb[32] = {0};
	size_t got = 0;
	ssize_t r;
	while ((r = read(p[0], rb + got, sizeof(rb) - 1 - got)) > 0)
		got += (size_t)r;
	assert_string_equal(rb, "from child");

	struct wire_conn c;
	wire_conn_init(&c, sv[0]);
	struct wire_field f[WIRE_MAX_FIELDS];
	assert_int_equal(next_line(&c, f), 1);
	assert_true(wire_field_eq(&f[0], "FILE"));
	int back = wire_conn_take_fd(&c);
	assert_true(back >= 0);
	assert_same_file(back, file);
	close(back);

	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	wire_conn_clear(&c);
	close(sv[0]);
	close(p[0]);
	close(file);
	unlink(path);
	assert_int_equal(count_fds(), base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pass_one),
	    cmocka_unit_test(test_pass_three),
	    cmocka_unit_test(test_back_to_back),
	    cmocka_unit_test(test_flood_one_message),
	    cmocka_unit_test(test_flood_many_lines),
	    cmocka_unit_test(test_large_send_one_fd),
	    cmocka_unit_test(test_fork),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
