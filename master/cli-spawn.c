/* cli-spawn.c: how `loft` runs other programs (loft-master, useradd,
 * systemctl, loft-auth): posix_spawn or execv with an argv, never a shell,
 * so no config value or argument is ever interpreted by /bin/sh. */
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "cli-main.h"

extern char **environ;

int cli_run(char *const argv[])
{
	pid_t pid;
	int err = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
	if (err != 0) {
		fprintf(stderr, "loft: cannot run %s: %s\n", argv[0], strerror(err));
		return -1;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "loft: waitpid %s: %s\n", argv[0], strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int cli_exec(char *const argv[])
{
	fflush(stdout);
	execv(argv[0], argv);
	fprintf(stderr, "loft: cannot run %s: %s\n", argv[0], strerror(errno));
	return -1;
}

char *cli_self_dir(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	char *slash = strrchr(path, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	return strdup(path[0] != '\0' ? path : "/");
}

int cli_exec_libexec(struct cli *c, const char *exe, const char *const *pre, size_t npre, int argc,
                     char **argv)
{
	struct cfg_errors errs = {0};
	c->cfg = config_load(c->conf_path, &errs);
	cfg_errors_free(&errs);
	const char *libexec =
	    c->cfg != NULL ? cli_cfg_str(c->cfg, "libexec_dir", LOFT_LIBEXECDIR) : LOFT_LIBEXECDIR;
	struct buf path;
	buf_init(&path, 0);
	char **av = calloc(npre + (size_t)argc + 1, sizeof(*av));
	if (av == NULL || buf_printf(&path, "%s/%s", libexec, exe) < 0) {
		free(av);
		buf_free(&path);
		return -1;
	}
	size_t n = 0;
	av[n++] = path.data;
	for (size_t i = 0; i < npre; i++)
		av[n++] = (char *)pre[i];
	for (int i = 1; i < argc; i++)
		av[n++] = argv[i];
	cli_exec(av);
	free(av);
	buf_free(&path);
	return -1;
}
