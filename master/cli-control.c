/* cli-control.c: `loft start|stop|restart|reload|pw`. Finds the running
 * master through its pid file (<base_dir>/master.pid, flock()ed while the
 * master lives, so a stale file from a crash is never mistaken for a server)
 * and drives it with signals: SIGTERM stops, SIGHUP reloads. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli-main.h"

#ifndef LOFT_SBINDIR
#define LOFT_SBINDIR "/usr/sbin"
#endif

#define POLL_MS             50
#define DEFAULT_SHUTDOWN_MS 10000
#define STOP_GRACE_MS       5000
#define RELOAD_WAIT_MS      10000
#define START_WAIT_MS       3000

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Is fd's file locked by someone else (flock, or a POSIX record lock)? */
static int file_is_locked(int fd)
{
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return 1;
		return -1;
	}
	flock(fd, LOCK_UN);
	struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
		return 1;
	return 0;
}

/* True while pid exists and is not a zombie (a daemonised master is reaped
 * by init, which may take a moment). */
static bool pid_alive(pid_t pid)
{
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return false;
	char path[64], stat[512];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT;
	ssize_t n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return false;
	stat[n] = '\0';
	const char *paren = strrchr(stat, ')');
	return paren == NULL || paren[1] == '\0' || paren[2] != 'Z';
}

static int read_pid(int fd, pid_t *pid_r)
{
	char text[32];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno != 0 || end == text || v <= 0 || v > INT_MAX || (*end != '\0' && *end != '\n'))
		return -1;
	*pid_r = (pid_t)v;
	return 0;
}

int cli_master_running(const char *base_dir, pid_t *pid_r)
{
	struct buf path;
	buf_init(&path, 0);
	if (buf_printf(&path, "%s/master.pid", base_dir) < 0) {
		buf_free(&path);
		return -1;
	}
	int rc = -1;
	int fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			rc = 0;
		else
			fprintf(stderr, "loft: cannot open %s: %s\n", path.data, strerror(errno));
		buf_free(&path);
		return rc;
	}
	int locked = file_is_locked(fd);
	if (locked < 0) {
		fprintf(stderr, "loft: cannot lock %s: %s\n", path.data, strerror(errno));
	} else if (locked == 0) {
		rc = 0; /* stale pid file: its master is gone */
	} else {
		/* The master locks before it writes: give it a moment. */
		for (int i = 0; i < 20 && (rc = read_pid(fd, pid_r)) < 0; i++)
			sleep_ms(POLL_MS);
		if (rc < 0)
			fprintf(stderr, "loft: %s is locked but holds no pid\n", path.data);
		else
			rc = 1;
	}
	close(fd);
	buf_free(&path);
	return rc;
}

static char *find_master(void)
{
	struct buf path;
	buf_init(&path, 0);
	char *dir = cli_self_dir();
	if (dir != NULL && buf_printf(&path, "%s/loft-master", dir) == 0 &&
	    access(path.data, X_OK) == 0) {
		free(dir);
		return buf_steal(&path);
	}
	free(dir);
	buf_reset(&path);
	if (buf_printf(&path, "%s/loft-master", LOFT_SBINDIR) < 0) {
		buf_free(&path);
		return NULL;
	}
	return buf_steal(&path);
}

static int do_start(struct cli *c)
{
	struct config *cfg = cli_config(c);
	if (cfg == NULL)
		return CLI_EXIT_FAIL;
	const char *base_dir = cli_cfg_str(cfg, "base_dir", "/run/loft");
	pid_t pid;
	int r = cli_master_running(base_dir, &pid);
	if (r < 0)
		return CLI_EXIT_FAIL;
	if (r > 0) {
		fprintf(stderr, "loft: already running (pid %ld)\n", (long)pid);
		return CLI_EXIT_FAIL;
	}
	char *master = find_master();
	/* The master daemonises and changes directory: give it an absolute path. */
	char *conf = realpath(c->conf_path, NULL);
	if (master == NULL || conf == NULL) {
		fprintf(stderr, "loft: cannot resolve %s: %s\n", c->conf_path, strerror(errno));
		free(master);
		free(conf);
		return CLI_EXIT_FAIL;
	}
	char *argv[] = {master, "-c", conf, NULL};
	int st = cli_run(argv);
	free(master);
	free(conf);
	if (st != 0) {
		if (st > 0)
			fprintf(stderr, "loft: loft-master failed to start (exit %d)\n", st);
		return CLI_EXIT_FAIL;
	}
	for (int waited = 0; (r = cli_master_running(base_dir, &pid)) == 0; waited += POLL_MS) {
		if (waited >= START_WAIT_MS)
			break;
		sleep_ms(POLL_MS);
	}
	if (r <= 0) {
		fprintf(stderr, "loft: loft-master exited 0 but %s/master.pid is not locked\n",
		        base_dir);
		return CLI_EXIT_FAIL;
	}
	printf("loft started (pid %ld)\n", (long)pid);
	return CLI_EXIT_OK;
}

static long shutdown_wait_ms(const struct config *cfg)
{
	const struct cfg_key *k = cfg_schema_find("shutdown_timeout");
	long ms = DEFAULT_SHUTDOWN_MS;
	if (k != NULL && k->type == CFG_TIME)
		ms = (long)config_time_ms(cfg, "shutdown_timeout");
	return ms + STOP_GRACE_MS;
}

static int do_stop(struct cli *c)
{
	struct config *cfg = cli_config(c);
	if (cfg == NULL)
		return CLI_EXIT_FAIL;
	const char *base_dir = cli_cfg_str(cfg, "base_dir", "/run/loft");
	pid_t pid;
	int r = cli_master_running(base_dir, &pid);
	if (r < 0)
		return CLI_EXIT_FAIL;
	if (r == 0) {
		printf("loft is not running\n");
		return CLI_EXIT_OK;
	}
	if (kill(pid, SIGTERM) < 0 && errno != ESRCH) {
		fprintf(stderr, "loft: cannot signal pid %ld: %s\n", (long)pid, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	/* The master drops the lock while it exits: wait for both, so a start
	 * right after this never meets the old process. */
	long limit = shutdown_wait_ms(cfg);
	pid_t cur = pid;
	for (long waited = 0; (r = cli_master_running(base_dir, &cur)) > 0 || pid_alive(pid);
	     waited += POLL_MS) {
		if (r < 0)
			return CLI_EXIT_FAIL;
		if (waited >= limit) {
			fprintf(stderr, "loft: master (pid %ld) did not stop within %lds\n",
			        (long)pid, limit / 1000);
			return CLI_EXIT_FAIL;
		}
		sleep_ms(POLL_MS);
	}
	if (r < 0)
		return CLI_EXIT_FAIL;
	printf("loft stopped\n");
	return CLI_EXIT_OK;
}

static int check_usage(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "usage: loft %s\n", argv[0]);
		return -1;
	}
	return 0;
}

int cli_cmd_start(struct cli *c, int argc, char **argv)
{
	return check_usage(argc, argv) < 0 ? CLI_EXIT_USAGE : do_start(c);
}

int cli_cmd_stop(struct cli *c, int argc, char **argv)
{
	return check_usage(argc, argv) < 0 ? CLI_EXIT_USAGE : do_stop(c);
}

int cli_cmd_restart(struct cli *c, int argc, char **argv)
{
	if (check_usage(argc, argv) < 0)
		return CLI_EXIT_USAGE;
	int rc = do_stop(c);
	return rc != CLI_EXIT_OK ? rc : do_start(c);
}

/* Validate the file the running master will re-read, so a typo is reported
 * here instead of only in the master's log. */
static int reload_precheck(const char *path)
{
	struct cfg_errors errs = {0};
	struct config *cfg = config_load(path, &errs);
	if (cfg == NULL) {
		cli_print_cfg_errors(&errs);
		fprintf(stderr, "loft: not reloading: %s has errors\n", path);
	}
	cfg_errors_free(&errs);
	config_free(cfg);
	return cfg == NULL ? -1 : 0;
}

static int reload_wait(const char *base_dir, pid_t pid, unsigned long old_gen)
{
	for (long waited = 0; waited < RELOAD_WAIT_MS; waited += POLL_MS) {
		sleep_ms(POLL_MS);
		struct cli_status st;
		if (cli_status_read(base_dir, &st) < 0)
			continue;
		unsigned long gen = st.generation;
		cli_status_free(&st);
		if (gen != old_gen) {
			printf("loft reloaded (pid %ld, generation %lu)\n", (long)pid, gen);
			return CLI_EXIT_OK;
		}
	}
	fprintf(stderr,
	        "loft: sent SIGHUP to pid %ld but generation is still %lu after %ds; "
	        "see the log\n",
	        (long)pid, old_gen, RELOAD_WAIT_MS / 1000);
	return CLI_EXIT_FAIL;
}

int cli_cmd_reload(struct cli *c, int argc, char **argv)
{
	if (check_usage(argc, argv) < 0)
		return CLI_EXIT_USAGE;
	struct config *cfg = cli_config(c);
	if (cfg == NULL)
		return CLI_EXIT_FAIL;
	const char *base_dir = cli_cfg_str(cfg, "base_dir", "/run/loft");
	pid_t pid;
	int r = cli_master_running(base_dir, &pid);
	if (r < 0)
		return CLI_EXIT_FAIL;
	if (r == 0) {
		fprintf(stderr, "loft is not running\n");
		return CLI_EXIT_FAIL;
	}
	struct cli_status st;
	bool have_status = cli_status_read(base_dir, &st) == 0;
	unsigned long gen = have_status ? st.generation : 0;
	int pre = reload_precheck(have_status && st.config[0] != '\0' ? st.config : c->conf_path);
	if (have_status)
		cli_status_free(&st);
	if (pre < 0)
		return CLI_EXIT_FAIL;
	if (kill(pid, SIGHUP) < 0) {
		fprintf(stderr, "loft: cannot signal pid %ld: %s\n", (long)pid, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	if (!have_status) {
		printf("loft: reload requested (pid %ld)\n", (long)pid);
		return CLI_EXIT_OK;
	}
	return reload_wait(base_dir, pid, gen);
}

int cli_cmd_pw(struct cli *c, int argc, char **argv)
{
	static const char *const pre[] = {"pw"};
	cli_exec_libexec(c, "loft-auth", pre, 1, argc, argv);
	return CLI_EXIT_FAIL;
}
