/* cli-setup.c: `loft setup`, run once after installing (and safe to run
 * again): creates the unprivileged system users the config names and the
 * directories the master needs. Without root it only makes the directories. */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli-main.h"

#define USERADD        "/usr/sbin/useradd"
#define USERADD_EXISTS 9 /* useradd's exit code for "name already in use" */

struct setup_ctx {
	bool root;
	unsigned created;
	bool failed;
};

static void setup_user(struct setup_ctx *s, const char *name)
{
	if (name[0] == '\0' || getpwnam(name) != NULL)
		return;
	char *argv[] = {USERADD,        "--system", "--no-create-home",  "--home-dir",
	                "/nonexistent", "--shell",  "/usr/sbin/nologin", "--user-group",
	                (char *)name,   NULL};
	int st = cli_run(argv);
	if (st == 0) {
		printf("created system user %s\n", name);
		s->created++;
	} else if (st == USERADD_EXISTS && getpwnam(name) != NULL) {
		return; /* someone else created it meanwhile */
	} else {
		if (st > 0)
			fprintf(stderr, "loft: useradd %s failed (exit %d)\n", name, st);
		s->failed = true;
	}
}

/* mkdir -p path with mode for the components it creates; *made_r tells
 * whether the last component was created. */
static int mkdir_p(const char *path, mode_t mode, bool *made_r)
{
	*made_r = false;
	char *p = strdup(path);
	if (p == NULL)
		return -1;
	int rc = 0;
	for (char *s = p + 1; rc == 0; s++) {
		bool last = *s == '\0';
		if (*s != '/' && !last)
			continue;
		*s = '\0';
		if (mkdir(p, mode) == 0) {
			if (last)
				*made_r = true;
			/* mkdir applies the umask; the mode here is meant exactly */
			chmod(p, mode);
		} else if (errno != EEXIST) {
			rc = -1;
		}
		if (last)
			break;
		*s = '/';
	}
	free(p);
	return rc;
}

static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return false;
	bool empty = true;
	struct dirent *de;
	while (empty && (de = readdir(d)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(d);
	return empty;
}

static void setup_dir(struct setup_ctx *s, const char *key, const char *path, bool chroot_dir)
{
	if (path[0] != '/') {
		fprintf(stderr, "loft: %s = %s is not an absolute path\n", key, path);
		s->failed = true;
		return;
	}
	bool made;
	if (mkdir_p(path, 0755, &made) < 0) {
		fprintf(stderr, "loft: cannot create %s %s: %s\n", key, path, strerror(errno));
		s->failed = true;
		return;
	}
	struct stat sb;
	if (stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "loft: %s %s is not a directory\n", key, path);
		s->failed = true;
		return;
	}
	if (made) {
		printf("created %s %s\n", key, path);
		s->created++;
	}
	if (!chroot_dir || !s->root)
		return;
	/* The login chroot must be root's, unwritable and empty, or a login
	 * process could plant files in its own jail. */
	if (sb.st_uid != 0 || sb.st_gid != 0 || (sb.st_mode & 07777) != 0755) {
		if (chown(path, 0, 0) < 0 || chmod(path, 0755) < 0) {
			fprintf(stderr, "loft: cannot fix %s: %s\n", path, strerror(errno));
			s->failed = true;
			return;
		}
		printf("fixed %s %s: now root:root 0755\n", key, path);
		s->created++;
	}
	if (!made && !dir_is_empty(path)) {
		fprintf(stderr, "loft: %s %s must be empty\n", key, path);
		s->failed = true;
	}
}

int cli_cmd_setup(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: loft setup\n");
		return CLI_EXIT_USAGE;
	}
	struct config *cfg = cli_config(c);
	if (cfg == NULL)
		return CLI_EXIT_FAIL;
	struct setup_ctx s = {.root = geteuid() == 0};
	if (s.root) {
		setup_user(&s, cli_cfg_str(cfg, "login_user", "loft-login"));
		setup_user(&s, cli_cfg_str(cfg, "smtp_user", "loft-smtp"));
		setup_user(&s, cli_cfg_str(cfg, "queue_user", "loft-queue"));
	} else {
		printf("not root: skipping system users\n");
	}
	setup_dir(&s, "base_dir", cli_cfg_str(cfg, "base_dir", "/run/loft"), false);
	setup_dir(&s, "state_dir", cli_cfg_str(cfg, "state_dir", "/var/lib/loft"), false);
	setup_dir(&s, "login_chroot", cli_cfg_str(cfg, "login_chroot", "/var/empty/loft"), true);
	if (s.failed)
		return CLI_EXIT_FAIL;
	if (s.created == 0)
		printf("nothing to do: users and directories already exist\n");
	return CLI_EXIT_OK;
}
