/* master-dirs.c: the directories the master prepares before anything binds
 * (base_dir for sockets and the pid file, login_chroot, state_dir), refusing
 * ones an attacker could have planted, and the locked pid file that keeps a
 * second master from starting. */
#include "master-ctx.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p; components created here get mode. 0 or -1 (errno). */
static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = tmp + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(tmp, mode) == 0) {
			if (chmod(tmp, mode) < 0)
				return -1;
		} else if (errno != EEXIST) {
			return -1;
		}
		if (c == '\0')
			return 0;
		*p = c;
	}
}

/* path must be a real directory (no symlink), owned by uid, with none of
 * the bits in badmode. */
static int check_dir(const char *what, const char *path, uid_t uid, mode_t badmode, char *err,
                     size_t errlen)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "%s %s is a symlink; refusing it", what, path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s %s is not a directory", what, path);
		return -1;
	}
	if (st.st_uid != uid) {
		snprintf(err, errlen, "%s %s is owned by uid %u, not %u; refusing it", what, path,
		         (unsigned)st.st_uid, (unsigned)uid);
		return -1;
	}
	if (st.st_mode & badmode) {
		snprintf(err, errlen, "%s %s is writable by others (mode %04o); refusing it", what,
		         path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

static int check_empty(const char *path, char *err, size_t errlen)
{
	DIR *d = opendir(path);
	if (d == NULL) {
		snprintf(err, errlen, "login_chroot %s: %s", path, strerror(errno));
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			snprintf(err, errlen, "login_chroot %s must be empty (holds %s)", path,
			         e->d_name);
			rc = -1;
			break;
		}
	}
	closedir(d);
	return rc;
}

static int make_dir(const char *what, const char *path, char *err, size_t errlen)
{
	if (mkdir_p(path, 0755) < 0) {
		snprintf(err, errlen, "cannot create %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	return 0;
}

int master_prepare_dirs(struct master *m, char *err, size_t errlen)
{
	if (make_dir("base_dir", m->base_dir, err, errlen) < 0 ||
	    check_dir("base_dir", m->base_dir, m->uid, S_IWOTH, err, errlen) < 0)
		return -1;
	if (m->root) {
		const char *chr = config_str(m->cfg, "login_chroot");
		if (make_dir("login_chroot", chr, err, errlen) < 0 ||
		    check_dir("login_chroot", chr, 0, S_IWGRP | S_IWOTH, err, errlen) < 0 ||
		    check_empty(chr, err, errlen) < 0)
			return -1;
	}
	return make_dir("state_dir", config_str(m->cfg, "state_dir"), err, errlen);
}

static void pidfile_path(const struct master *m, char *path, size_t len)
{
	snprintf(path, len, "%s/master.pid", m->base_dir);
}

int master_pidfile_lock(struct master *m, char *err, size_t errlen)
{
	char path[PATH_MAX + 16], text[32];
	pidfile_path(m, path, sizeof(path));
	m->pid_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (m->pid_fd < 0) {
		snprintf(err, errlen, "cannot open pid file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(m->pid_fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		ssize_t n = pread(m->pid_fd, text, sizeof(text) - 1, 0);
		text[n > 0 ? n : 0] = '\0';
		text[strcspn(text, "\n")] = '\0';
		close(m->pid_fd);
		m->pid_fd = -1;
		if (e == EWOULDBLOCK) {
			snprintf(err, errlen, "already running (pid %s)", text);
			return 1;
		}
		snprintf(err, errlen, "cannot lock pid file %s: %s", path, strerror(e));
		return -1;
	}
	int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(m->pid_fd, 0) < 0 || pwrite(m->pid_fd, text, (size_t)n, 0) != n) {
		snprintf(err, errlen, "cannot write pid file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void master_pidfile_remove(struct master *m)
{
	char path[PATH_MAX + 16];
	if (m->pid_fd < 0)
		return;
	/* Unlink while still holding the lock, so a master starting right now
	 * cannot have its fresh pid file removed by us. */
	pidfile_path(m, path, sizeof(path));
	unlink(path);
	close(m->pid_fd);
	m->pid_fd = -1;
}
