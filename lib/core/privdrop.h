/* privdrop.h: dropping privileges for good. setgroups/setresgid/setresuid,
 * libcap (effective, permitted, inheritable and ambient sets cleared, bounding
 * set emptied), PR_SET_NO_NEW_PRIVS and an optional chroot; then a check that
 * reads it all back and fails if anything is not what was asked. */
#ifndef LOFT_PRIVDROP_H
#define LOFT_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct privdrop_spec {
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* supplementary groups; NULL/0 = only gid */
	size_t ngroups;
	const char *chroot_dir; /* NULL = no chroot */
};

/* Look a user up by name: uid, primary gid. 0 or -1 with err. */
int privdrop_lookup(const char *user, uid_t *uid_r, gid_t *gid_r, char *err, size_t errlen);

/* Apply spec. When not running as root (unprivileged mode) the uid/gid must be
 * the current ones and no chroot is done; capabilities are still cleared as far
 * as allowed and NO_NEW_PRIVS is set. Verifies afterwards (privdrop_verify);
 * returns 0, or -1 with err -- the caller must then exit, never carry on. */
int privdrop_apply(const struct privdrop_spec *spec, char *err, size_t errlen);

/* Read back real/effective/saved uid and gid, groups, every capability set
 * (the bounding set only when the drop started as root), NO_NEW_PRIVS and,
 * with a chroot, that "/" is the chroot dir. 0 or -1 with err. */
int privdrop_verify(const struct privdrop_spec *spec, bool was_root, dev_t root_dev, ino_t root_ino,
                    char *err, size_t errlen);

#endif
