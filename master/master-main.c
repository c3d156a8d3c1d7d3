/* master-main.c: loft-master's entry point. Loads the config, daemonises
 * (the parent waits until the child is serving or reports its fatal error),
 * prepares directories, pid file and listeners, spawns the services and runs
 * the event loop until SIGTERM; then cleans up everything it created. */
#include "master-ctx.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evloop.h"

static void usage(void)
{
	fprintf(stderr, "usage: loft-master [-c FILE] [-F]\n"
	                "  -c FILE  config file (default $LOFT_CONF, else " LOFT_CONF_DEFAULT ")\n"
	                "  -F       stay in the foreground\n");
	exit(2);
}

/* Fork; the parent waits on a pipe for "OK" (then exits 0) or the child's
 * fatal error (printed, exit 1). The child gets the pipe's write end. */
static int daemonise(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "loft-master: pipe: %s\n", strerror(errno));
		exit(1);
	}
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "loft-master: fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid == 0) {
		close(p[0]);
		setsid();
		return p[1];
	}
	close(p[1]);
	char msg[MASTER_ERR_MAX + 8];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(msg) - 1 && ((n = read(p[0], msg + len, sizeof(msg) - 1 - len)) > 0 ||
	                                 (n < 0 && errno == EINTR)))
		len += n > 0 ? (size_t)n : 0;
	msg[len] = '\0';
	if (strcmp(msg, "OK") == 0)
		exit(0);
	if (len == 0) {
		int st;
		waitpid(pid, &st, 0);
		snprintf(msg, sizeof(msg), "exited before it was ready");
	}
	fprintf(stderr, "loft-master: %s\n", msg);
	exit(1);
}

/* A start-up error: to the waiting parent (or stderr) and to the log. */
static int fatal(struct master *m, int ready_fd, const char *msg)
{
	if (m->log.name[0] != '\0')
		log_error(&m->log, "%s", msg);
	if (ready_fd >= 0) {
		ssize_t n = write(ready_fd, msg, strlen(msg));
		(void)n;
	} else {
		fprintf(stderr, "loft-master: %s\n", msg);
	}
	return 1;
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

static int master_signals(struct master *m, char *err, size_t errlen)
{
	static const int sigs[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT};
	event_callback_fn cbs[] = {master_on_sigchld, master_on_sighup, master_on_stop,
	                           master_on_stop};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		m->sig_ev[i] = evloop_add_signal(m->base, sigs[i], cbs[i], m);
		if (m->sig_ev[i] == NULL) {
			snprintf(err, errlen, "cannot watch signal %d", sigs[i]);
			return -1;
		}
	}
	return 0;
}

/* After a failed start: no child may outlive the master. */
static void kill_children(struct master *m)
{
	for (struct child *c = m->children; c != NULL; c = c->next) {
		if (c->pid > 0) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, NULL, 0);
			c->pid = 0;
		}
	}
}

static void master_cleanup(struct master *m)
{
	master_logpipes_drain(m);
	lset_close(&m->ls, NULL);
	master_children_free(m);
	for (unsigned g = 1; g <= m->generation; g++)
		master_snapshot_remove(m, g);
	if (m->pid_fd >= 0)
		master_status_remove(m);
	master_pidfile_remove(m);
	for (size_t i = 0; i < sizeof(m->sig_ev) / sizeof(m->sig_ev[0]); i++) {
		if (m->sig_ev[i] != NULL)
			event_free(m->sig_ev[i]);
	}
	if (m->kill_timer != NULL)
		event_free(m->kill_timer);
	if (m->base != NULL)
		event_base_free(m->base);
}

static int master_start(struct master *m, int ready_fd)
{
	char err[MASTER_ERR_MAX];
	int rc;
	if (svc_check_exes(m->cfg, err, sizeof(err)) < 0 ||
	    master_prepare_dirs(m, err, sizeof(err)) < 0)
		return fatal(m, ready_fd, err);
	if ((rc = master_pidfile_lock(m, err, sizeof(err))) != 0)
		return fatal(m, ready_fd, err);
	if ((m->base = evloop_new(err, sizeof(err))) == NULL ||
	    master_signals(m, err, sizeof(err)) < 0 ||
	    lset_build(m, m->cfg, NULL, &m->ls, err, sizeof(err)) < 0)
		goto fail;
	m->generation = 1;
	if (master_snapshot_write(m, m->cfg, 1, err, sizeof(err)) < 0)
		goto fail;
	if (master_spawn_all(m, false, err, sizeof(err)) < 0) {
		kill_children(m);
		goto fail;
	}
	master_status_write(m);
	log_notice(&m->log, "started (pid %ld, generation %u, %s mode, config %s)", (long)getpid(),
	           m->generation, m->root ? "root" : "unprivileged", m->conf);
	return 0;
fail:
	fatal(m, ready_fd, err);
	master_cleanup(m);
	return 1;
}

int main(int argc, char **argv)
{
	struct master m;
	const char *conf = NULL;
	bool foreground = false;
	int opt;
	memset(&m, 0, sizeof(m));
	m.pid_fd = -1;
	while ((opt = getopt(argc, argv, "c:F")) != -1) {
		if (opt == 'c')
			conf = optarg;
		else if (opt == 'F')
			foreground = true;
		else
			usage();
	}
	if (optind != argc)
		usage();
	if (conf == NULL || conf[0] == '\0')
		conf = getenv("LOFT_CONF");
	if (conf == NULL || conf[0] == '\0')
		conf = LOFT_CONF_DEFAULT;
	if (realpath(conf, m.conf) == NULL) {
		fprintf(stderr, "loft-master: %s: %s\n", conf, strerror(errno));
		return 1;
	}
	struct cfg_errors errs = {NULL, 0};
	m.cfg = config_load(m.conf, &errs);
	if (m.cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s:%u: %s\n", errs.v[i].file, errs.v[i].line,
			        errs.v[i].msg);
		if (errs.n == 0)
			fprintf(stderr, "loft-master: %s: cannot load\n", m.conf);
		cfg_errors_free(&errs);
		return 1;
	}
	m.root = geteuid() == 0;
	m.uid = geteuid();
	m.gid = getegid();
	snprintf(m.base_dir, sizeof(m.base_dir), "%s", config_str(m.cfg, "base_dir"));
	umask(022);
	int ready_fd = foreground ? -1 : daemonise();
	int prio = log_prio_parse(config_str(m.cfg, "log_level"));
	if (log_open_master(&m.log, "master", config_str(m.cfg, "log_path"),
	                    config_str(m.cfg, "syslog_facility"), prio < 0 ? LOG_INFO : prio) < 0) {
		m.log.name[0] = '\0';
		return fatal(&m, ready_fd, "cannot open the log (log_path)");
	}
	if (master_start(&m, ready_fd) != 0) {
		config_free(m.cfg);
		return 1;
	}
	if (ready_fd >= 0) {
		ssize_t n = write(ready_fd, "OK", 2);
		(void)n;
		close(ready_fd);
		detach_stdio();
	}
	event_base_dispatch(m.base);
	master_cleanup(&m);
	log_notice(&m.log, "stopped");
	log_close(&m.log);
	config_free(m.cfg);
	return 0;
}
