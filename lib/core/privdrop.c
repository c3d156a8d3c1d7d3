/* privdrop.c: the one way every Loft process gives up root (or, unprivileged,
 * whatever capabilities it holds) for good, and the read-back that proves it.
 * Each step fails loudly; the caller of privdrop_apply must exit on -1. */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define PRIVDROP_MAX_GROUPS 256

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int privdrop_lookup(const char *user, uid_t *uid_r, gid_t *gid_r, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = hint > 0 ? (size_t)hint : 1024;
	char *mem = NULL;
	int rc;

	if (user == NULL || *user == '\0')
		return fail(err, errlen, "empty user name");
	/* getpwnam_r wants a caller buffer whose needed size it only reveals
	 * through ERANGE, so grow until it fits (bounded to 1 MiB). */
	for (;;) {
		char *n = realloc(mem, size);

		if (n == NULL) {
			free(mem);
			return fail(err, errlen, "out of memory looking up user %s", user);
		}
		mem = n;
		rc = getpwnam_r(user, &pw, mem, size, &res);
		if (rc != ERANGE || size >= (1u << 20))
			break;
		size *= 2;
	}
	if (res == NULL) {
		free(mem);
		if (rc != 0)
			return fail(err, errlen, "looking up user %s: %s", user, strerror(rc));
		return fail(err, errlen, "no such user: %s", user);
	}
	*uid_r = pw.pw_uid;
	*gid_r = pw.pw_gid;
	free(mem);
	return 0;
}

/* Empty the bounding set so no later execve of a file with capabilities (or a
 * setuid-root binary) can ever hand one back. Needs CAP_SETPCAP: runs as root. */
static int drop_bounding_set(char *err, size_t errlen)
{
	int max = cap_max_bits();

	for (int cap = 0; cap < max; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return fail(err, errlen, "dropping capability %d from the bounding set: %s",
			            cap, strerror(errno));
	}
	return 0;
}

/* Ambient capabilities survive execve of ordinary files; clear them. EINVAL
 * means a kernel without ambient sets, where there is nothing to clear. */
static int clear_ambient(char *err, size_t errlen)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return fail(err, errlen, "clearing ambient capabilities: %s", strerror(errno));
	return 0;
}

/* Effective, permitted and inheritable all emptied in one cap_set_proc. */
static int clear_caps(char *err, size_t errlen)
{
	cap_t empty = cap_init();
	int rc;

	if (empty == NULL)
		return fail(err, errlen, "cap_init: %s", strerror(errno));
	rc = cap_set_proc(empty);
	if (rc < 0)
		rc = fail(err, errlen, "clearing capabilities: %s", strerror(errno));
	cap_free(empty);
	return rc;
}

static int set_ids(const struct privdrop_spec *spec, bool as_root, char *err, size_t errlen)
{
	if (as_root) {
		/* Groups first: after setresuid we could no longer change them. */
		if (spec->groups != NULL && spec->ngroups > 0) {
			if (setgroups(spec->ngroups, spec->groups) < 0)
				return fail(err, errlen, "setgroups (%zu groups): %s",
				            spec->ngroups, strerror(errno));
		} else if (setgroups(1, &spec->gid) < 0) {
			return fail(err, errlen, "setgroups(%lu): %s", (unsigned long)spec->gid,
			            strerror(errno));
		}
	}
	if (setresgid(spec->gid, spec->gid, spec->gid) < 0)
		return fail(err, errlen, "setresgid(%lu): %s", (unsigned long)spec->gid,
		            strerror(errno));
	if (setresuid(spec->uid, spec->uid, spec->uid) < 0)
		return fail(err, errlen, "setresuid(%lu): %s", (unsigned long)spec->uid,
		            strerror(errno));
	return 0;
}

static int apply_as_root(const struct privdrop_spec *spec, dev_t *dev_r, ino_t *ino_r, char *err,
                         size_t errlen)
{
	if (spec->chroot_dir != NULL) {
		struct stat st;

		if (stat(spec->chroot_dir, &st) < 0)
			return fail(err, errlen, "chroot dir %s: %s", spec->chroot_dir,
			            strerror(errno));
		if (!S_ISDIR(st.st_mode))
			return fail(err, errlen, "chroot dir %s is not a directory",
			            spec->chroot_dir);
		*dev_r = st.st_dev;
		*ino_r = st.st_ino;
		if (chroot(spec->chroot_dir) < 0)
			return fail(err, errlen, "chroot(%s): %s", spec->chroot_dir,
			            strerror(errno));
		if (chdir("/") < 0)
			return fail(err, errlen, "chdir(/) in chroot %s: %s", spec->chroot_dir,
			            strerror(errno));
	}
	if (drop_bounding_set(err, errlen) < 0 || clear_ambient(err, errlen) < 0)
		return -1;
	if (set_ids(spec, true, err, errlen) < 0)
		return -1;
	return clear_caps(err, errlen);
}

/* Unprivileged mode: the process already is the target user; only pin the
 * saved ids to it and shed any capabilities it may hold. No chroot is
 * possible without root, so chroot_dir is ignored (docs/security.md). */
static int apply_unprivileged(const struct privdrop_spec *spec, char *err, size_t errlen)
{
	if (getuid() != spec->uid || geteuid() != spec->uid)
		return fail(err, errlen,
		            "not root: cannot switch to uid %lu (running as uid %lu, euid %lu)",
		            (unsigned long)spec->uid, (unsigned long)getuid(),
		            (unsigned long)geteuid());
	if (getgid() != spec->gid || getegid() != spec->gid)
		return fail(err, errlen,
		            "not root: cannot switch to gid %lu (running as gid %lu, egid %lu)",
		            (unsigned long)spec->gid, (unsigned long)getgid(),
		            (unsigned long)getegid());
	if (clear_ambient(err, errlen) < 0 || set_ids(spec, false, err, errlen) < 0)
		return -1;
	return clear_caps(err, errlen);
}

int privdrop_apply(const struct privdrop_spec *spec, char *err, size_t errlen)
{
	bool was_root = geteuid() == 0;
	dev_t root_dev = 0;
	ino_t root_ino = 0;

	if (spec == NULL)
		return fail(err, errlen, "no privilege drop spec");
	if (spec->uid == 0)
		return fail(err, errlen, "refusing to drop to root (uid 0)");
	if (spec->ngroups > PRIVDROP_MAX_GROUPS || (spec->ngroups > 0 && spec->groups == NULL))
		return fail(err, errlen, "bad supplementary group list (%zu groups)",
		            spec->ngroups);
	if (was_root) {
		if (apply_as_root(spec, &root_dev, &root_ino, err, errlen) < 0)
			return -1;
	} else if (apply_unprivileged(spec, err, errlen) < 0) {
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	return privdrop_verify(spec, was_root, root_dev, root_ino, err, errlen);
}

static int verify_ids(const struct privdrop_spec *spec, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return fail(err, errlen, "getresuid/getresgid: %s", strerror(errno));
	if (ru != spec->uid || eu != spec->uid || su != spec->uid)
		return fail(err, errlen, "uid is %lu/%lu/%lu (real/effective/saved), want %lu",
		            (unsigned long)ru, (unsigned long)eu, (unsigned long)su,
		            (unsigned long)spec->uid);
	if (rg != spec->gid || eg != spec->gid || sg != spec->gid)
		return fail(err, errlen, "gid is %lu/%lu/%lu (real/effective/saved), want %lu",
		            (unsigned long)rg, (unsigned long)eg, (unsigned long)sg,
		            (unsigned long)spec->gid);
	return 0;
}

static bool gid_in(gid_t g, const gid_t *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i] == g)
			return true;
	}
	return false;
}

/* The groups held must be exactly the asked set (order does not matter). */
static int verify_groups(const struct privdrop_spec *spec, char *err, size_t errlen)
{
	gid_t have[PRIVDROP_MAX_GROUPS + 1];
	const gid_t *want = &spec->gid;
	size_t nwant = 1;
	int n = getgroups(PRIVDROP_MAX_GROUPS + 1, have);

	if (spec->groups != NULL && spec->ngroups > 0) {
		want = spec->groups;
		nwant = spec->ngroups;
	}
	if (n < 0)
		return fail(err, errlen, "getgroups: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		if (!gid_in(have[i], want, nwant))
			return fail(err, errlen, "still in supplementary group %lu",
			            (unsigned long)have[i]);
	}
	for (size_t i = 0; i < nwant; i++) {
		if (!gid_in(want[i], have, (size_t)n))
			return fail(err, errlen, "not in asked supplementary group %lu",
			            (unsigned long)want[i]);
	}
	return 0;
}

static int cap_fail(char *err, size_t errlen, int cap, const char *where)
{
	char *name = cap_to_name((cap_value_t)cap);
	int rc = fail(err, errlen, "capability %s still in the %s set", name ? name : "?", where);

	cap_free(name);
	return rc;
}

static int verify_caps(bool was_root, char *err, size_t errlen)
{
	static const struct {
		cap_flag_t flag;
		const char *name;
	} flags[] = {{CAP_EFFECTIVE, "effective"},
	             {CAP_PERMITTED, "permitted"},
	             {CAP_INHERITABLE, "inheritable"}};
	int max = cap_max_bits();
	cap_t cur = cap_get_proc();

	if (cur == NULL)
		return fail(err, errlen, "cap_get_proc: %s", strerror(errno));
	for (int cap = 0; cap < max; cap++) {
		for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
			cap_flag_value_t v = CAP_CLEAR;

			if (cap_get_flag(cur, (cap_value_t)cap, flags[f].flag, &v) < 0 ||
			    v != CAP_CLEAR) {
				cap_free(cur);
				return cap_fail(err, errlen, cap, flags[f].name);
			}
		}
		int amb = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);

		if (amb > 0) {
			cap_free(cur);
			return cap_fail(err, errlen, cap, "ambient");
		}
		if (was_root && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 0) {
			cap_free(cur);
			return cap_fail(err, errlen, cap, "bounding");
		}
	}
	cap_free(cur);
	return 0;
}

int privdrop_verify(const struct privdrop_spec *spec, bool was_root, dev_t root_dev, ino_t root_ino,
                    char *err, size_t errlen)
{
	if (spec == NULL)
		return fail(err, errlen, "no privilege drop spec");
	if (verify_ids(spec, err, errlen) < 0)
		return -1;
	/* Without root the invoking user's groups could not be changed. */
	if (was_root && verify_groups(spec, err, errlen) < 0)
		return -1;
	if (verify_caps(was_root, err, errlen) < 0)
		return -1;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return fail(err, errlen, "PR_SET_NO_NEW_PRIVS is not in effect");
	if (was_root && spec->chroot_dir != NULL) {
		struct stat st;

		if (stat("/", &st) < 0)
			return fail(err, errlen, "stat(/): %s", strerror(errno));
		if (st.st_dev != root_dev || st.st_ino != root_ino)
			return fail(err, errlen, "\"/\" is not the chroot dir %s",
			            spec->chroot_dir);
	}
	/* The proof that counts: root must be out of reach. */
	if (was_root && (setuid(0) == 0 || setgid(0) == 0))
		return fail(err, errlen, "setuid(0)/setgid(0) still succeeds after the drop");
	return 0;
}
