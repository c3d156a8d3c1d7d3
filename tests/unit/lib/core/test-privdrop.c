/* test-privdrop.c: privdrop_apply as root and in unprivileged mode. Every drop
 * happens in a fork()ed child that then waits while the parent reads its
 * /proc/<pid>/status and root link, so the outcome is seen from outside. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privdrop.h"

#define NOBODY  65534
#define NOGROUP 65534

struct child_result {
	int rc;              /* privdrop_apply's return in the child */
	char err[512];       /* its message */
	char status[4096];   /* /proc/<pid>/status read while it waited */
	char root[PATH_MAX]; /* readlink /proc/<pid>/root */
	int exit_status;     /* from waitpid */
};

/* What a child does before privdrop_apply: 0 = nothing (stay root). */
enum pre_step { PRE_NONE, PRE_BECOME_NOBODY };

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w <= 0)
			_exit(90);
		c += w;
		n -= (size_t)w;
	}
}

static size_t read_all(int fd, void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static void become_nobody(void)
{
	gid_t g = NOGROUP;

	if (setgroups(1, &g) < 0 || setresgid(NOGROUP, NOGROUP, NOGROUP) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0)
		_exit(91);
}

/* Child: apply, report (rc, err) on rep, then hold until the parent closes
 * hold. A failed drop exits at once with 1: it must never carry on. */
static void child_main(const struct privdrop_spec *spec, enum pre_step pre, int rep, int hold)
{
	char err[512] = "";
	int rc;
	char c;

	if (pre == PRE_BECOME_NOBODY)
		become_nobody();
	rc = privdrop_apply(spec, err, sizeof(err));
	write_all(rep, &rc, sizeof(rc));
	write_all(rep, err, sizeof(err));
	close(rep);
	if (rc != 0)
		_exit(1);
	while (read(hold, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* No assertions here: the child must be released whatever happens; a missing
 * field or link shows up in the callers' checks instead. */
static void read_proc(pid_t pid, struct child_result *res)
{
	char path[64];
	FILE *f;
	ssize_t l;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f != NULL) {
		size_t n = fread(res->status, 1, sizeof(res->status) - 1, f);

		res->status[n] = '\0';
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	l = readlink(path, res->root, sizeof(res->root) - 1);
	res->root[l > 0 ? l : 0] = '\0';
}

static void run_child(const struct privdrop_spec *spec, enum pre_step pre, struct child_result *res)
{
	int rep[2], hold[2], st;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	assert_int_equal(pipe(rep), 0);
	assert_int_equal(pipe(hold), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(rep[0]);
		close(hold[1]);
		child_main(spec, pre, rep[1], hold[0]);
	}
	close(rep[1]);
	close(hold[0]);
	assert_int_equal(read_all(rep[0], &res->rc, sizeof(res->rc)), sizeof(res->rc));
	assert_int_equal(read_all(rep[0], res->err, sizeof(res->err)), sizeof(res->err));
	res->err[sizeof(res->err) - 1] = '\0';
	close(rep[0]);
	if (res->rc == 0)
		read_proc(pid, res);
	close(hold[1]); /* releases the child */
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	res->exit_status = WEXITSTATUS(st);
}

/* The value of "Key:" in a /proc status text, whitespace collapsed to one
 * space and trimmed, into out. */
static const char *field(const char *status, const char *key, char *out, size_t outlen)
{
	const char *p = status;
	size_t klen = strlen(key), o = 0;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
			p += klen + 1;
			while (*p != '\0' && *p != '\n' && o + 1 < outlen) {
				bool ws = *p == ' ' || *p == '\t';

				if (!ws || (o > 0 && out[o - 1] != ' '))
					out[o++] = ws ? ' ' : *p;
				p++;
			}
			while (o > 0 && out[o - 1] == ' ')
				o--;
			out[o] = '\0';
			return out;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	fail_msg("no %s in /proc status", key);
	return NULL;
}

static void assert_field(const struct child_result *res, const char *key, const char *want)
{
	char v[256];

	assert_string_equal(field(res->status, key, v, sizeof(v)), want);
}

static void assert_no_caps(const struct child_result *res, bool bounding_too)
{
	assert_field(res, "CapInh", "0000000000000000");
	assert_field(res, "CapPrm", "0000000000000000");
	assert_field(res, "CapEff", "0000000000000000");
	assert_field(res, "CapAmb", "0000000000000000");
	if (bounding_too)
		assert_field(res, "CapBnd", "0000000000000000");
	assert_field(res, "NoNewPrivs", "1");
}

static char *make_tmpdir(void)
{
	char tmpl[] = "/tmp/loft-privdrop-XXXXXX";
	char *real;

	assert_non_null(mkdtemp(tmpl));
	real = realpath(tmpl, NULL);
	assert_non_null(real);
	return real;
}

static void test_drop_to_nobody_with_chroot(void **state)
{
	char *dir = make_tmpdir();
	struct privdrop_spec spec = {.uid = NOBODY, .gid = NOGROUP, .chroot_dir = dir};
	struct child_result res;

	char root[PATH_MAX];
	int removed;

	(void)state;
	run_child(&spec, PRE_NONE, &res);
	/* Clean up before asserting, so a failure leaves nothing behind. */
	snprintf(root, sizeof(root), "%s", dir);
	removed = rmdir(dir);
	free(dir);
	assert_int_equal(removed, 0);
	assert_int_equal(res.rc, 0);
	assert_int_equal(res.exit_status, 0);
	assert_field(&res, "Uid", "65534 65534 65534 65534");
	assert_field(&res, "Gid", "65534 65534 65534 65534");
	assert_field(&res, "Groups", "65534");
	assert_no_caps(&res, true);
	assert_string_equal(res.root, root);
}

static void test_supplementary_groups(void **state)
{
	gid_t groups[] = {NOGROUP, 100, 4242};
	struct privdrop_spec spec = {.uid = NOBODY, .gid = NOGROUP, .groups = groups, .ngroups = 3};
	struct child_result res;
	char v[256];

	(void)state;
	run_child(&spec, PRE_NONE, &res);
	assert_int_equal(res.rc, 0);
	/* The kernel keeps the list sorted, so the text is predictable. */
	assert_string_equal(field(res.status, "Groups", v, sizeof(v)), "100 4242 65534");
	assert_no_caps(&res, true);
	assert_string_equal(res.root, "/");
}

static void test_refuses_root_target(void **state)
{
	struct privdrop_spec spec = {.uid = 0, .gid = 0};
	struct child_result res;

	(void)state;
	run_child(&spec, PRE_NONE, &res);
	assert_int_equal(res.rc, -1);
	assert_int_equal(res.exit_status, 1);
	assert_non_null(strstr(res.err, "refusing to drop to root"));
}

static void test_missing_chroot_fails_cleanly(void **state)
{
	char *dir = make_tmpdir();
	char missing[PATH_MAX];
	struct privdrop_spec spec = {.uid = NOBODY, .gid = NOGROUP, .chroot_dir = missing};
	struct child_result res;
	int removed;

	(void)state;
	snprintf(missing, sizeof(missing), "%s/absent", dir);
	run_child(&spec, PRE_NONE, &res);
	removed = rmdir(dir);
	free(dir);
	assert_int_equal(removed, 0);
	assert_int_equal(res.rc, -1);
	assert_int_equal(res.exit_status, 1);
	assert_non_null(strstr(res.err, missing));
	assert_non_null(strstr(res.err, "No such file"));
}

static void test_unprivileged_same_user(void **state)
{
	struct privdrop_spec spec = {.uid = NOBODY, .gid = NOGROUP, .chroot_dir = "/nonexistent"};
	struct child_result res;

	(void)state;
	/* As the invoking (non-root) user the chroot is skipped, not an error. */
	run_child(&spec, PRE_BECOME_NOBODY, &res);
	assert_string_equal(res.err, "");
	assert_int_equal(res.rc, 0);
	assert_field(&res, "Uid", "65534 65534 65534 65534");
	assert_field(&res, "Gid", "65534 65534 65534 65534");
	assert_no_caps(&res, false);
	assert_string_equal(res.root, "/");
}

static void test_unprivileged_other_user_refused(void **state)
{
	struct privdrop_spec spec = {.uid = 1, .gid = NOGROUP};
	struct child_result res;

	(void)state;
	run_child(&spec, PRE_BECOME_NOBODY, &res);
	assert_int_equal(res.rc, -1);
	assert_int_equal(res.exit_status, 1);
	assert_non_null(strstr(res.err, "cannot switch to uid 1"));
}

static void test_verify_catches_root(void **state)
{
	struct privdrop_spec spec = {.uid = NOBODY, .gid = NOGROUP};
	char err[256] = "";
	int st;
	pid_t pid = fork();

	(void)state;
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Nothing dropped: the check must say so and name the uid. */
		int rc = privdrop_verify(&spec, true, 0, 0, err, sizeof(err));

		_exit(rc == -1 && strstr(err, "uid is 0/0/0") != NULL ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_lookup(void **state)
{
	uid_t uid = 1;
	gid_t gid = 1;
	char err[256] = "";

	(void)state;
	assert_int_equal(privdrop_lookup("nobody", &uid, &gid, err, sizeof(err)), 0);
	assert_int_equal(uid, NOBODY);
	assert_int_equal(gid, NOGROUP);
	assert_int_equal(privdrop_lookup("loft-no-such-user", &uid, &gid, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no such user: loft-no-such-user"));
	assert_int_equal(privdrop_lookup("", &uid, &gid, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drop_to_nobody_with_chroot),
	    cmocka_unit_test(test_supplementary_groups),
	    cmocka_unit_test(test_refuses_root_target),
	    cmocka_unit_test(test_missing_chroot_fails_cleanly),
	    cmocka_unit_test(test_unprivileged_same_user),
	    cmocka_unit_test(test_unprivileged_other_user_refused),
	    cmocka_unit_test(test_verify_catches_root),
	    cmocka_unit_test(test_lookup),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test-privdrop needs root; skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
