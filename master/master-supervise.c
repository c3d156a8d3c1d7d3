/* master-supervise.c: the children's life cycle in the master. Reaps exits
 * on SIGCHLD, restarts a child that died unasked: at once when it had been
 * serving, after a doubling back-off when it died starting up (or could not
 * be spawned); lets draining children go, and runs the SIGTERM shutdown:
 * TERM everyone, KILL what is left after shutdown_timeout. */
#include "master-ctx.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "evloop.h"

struct child *master_child_new(struct master *m, const struct svc_def *svc)
{
	struct child *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->m = m;
	c->svc = svc;
	c->generation = m->generation;
	c->delay_ms = MASTER_RESTART_DELAY_MIN_MS;
	struct child **pp = &m->children;
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = c;
	return c;
}

static void child_remove(struct child *c)
{
	struct master *m = c->m;
	for (struct child **pp = &m->children; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (c->timer != NULL)
		event_free(c->timer);
	free(c);
}

void master_children_free(struct master *m)
{
	while (m->children != NULL)
		child_remove(m->children);
}

static void child_schedule_restart(struct child *c);

int master_spawn_all(struct master *m, bool retry, char *err, size_t errlen)
{
	for (size_t i = 0; i < master_n_services; i++) {
		const struct svc_def *d = &master_services[i];
		if (!svc_enabled(d, m->cfg))
			continue;
		struct child *c = master_child_new(m, d);
		if (c != NULL && master_spawn(c) < 0 && retry) {
			child_schedule_restart(c);
			continue;
		}
		if (c == NULL || c->pid <= 0) {
			snprintf(err, errlen, "cannot start service %s", d->name);
			return -1;
		}
	}
	return 0;
}

static void delay_text(uint64_t ms, char *out, size_t len)
{
	if (ms % 1000 == 0)
		snprintf(out, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(out, len, "%llums", (unsigned long long)ms);
}

static void on_restart_timer(evutil_socket_t fd, short what, void *arg);

static void child_schedule_restart(struct child *c)
{
	struct master *m = c->m;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t ran_ms = (uint64_t)(now.tv_sec - c->started.tv_sec) * 1000 +
	                  (uint64_t)((now.tv_nsec - c->started.tv_nsec) / 1000000);
	uint64_t max = config_time_ms(m->cfg, "master_restart_delay_max");
	/* Only a child that really ran (pid set) can have been serving: a
	 * failed spawn always backs off, so it never loops. A serving child's
	 * crash must not leave its service down for the back-off. */
	bool serving = c->pid > 0 && ran_ms >= MASTER_STARTUP_WINDOW_MS;
	uint64_t delay = 0;
	if (serving) {
		c->delay_ms = MASTER_RESTART_DELAY_MIN_MS;
	} else {
		delay = c->delay_ms < max ? c->delay_ms : max;
		c->delay_ms = delay * 2 < max ? delay * 2 : max;
	}
	c->pid = 0;
	c->state = CHILD_RESTARTING;
	c->restarts++;
	c->timer = evloop_add_timer(m->base, delay, on_restart_timer, c);
	char dt[32] = "now";
	if (delay > 0) {
		memcpy(dt, "in ", 3);
		delay_text(delay, dt + 3, sizeof(dt) - 3);
	}
	log_notice(&m->log, "service %s restarting %s (restart %u)", c->svc->name, dt, c->restarts);
	if (c->timer == NULL) {
		log_error(&m->log, "cannot arm restart timer for %s; restarting now", c->svc->name);
		on_restart_timer(-1, 0, c);
	}
}

static void on_restart_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct child *c = arg;
	if (c->timer != NULL) {
		event_free(c->timer);
		c->timer = NULL;
	}
	if (c->m->stopping)
		return;
	if (master_spawn(c) < 0)
		child_schedule_restart(c);
	master_status_write(c->m);
}

static void exit_text(int status, char *out, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(out, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
}

static bool any_alive(const struct master *m)
{
	for (const struct child *c = m->children; c != NULL; c = c->next) {
		if (c->pid > 0)
			return true;
	}
	return false;
}

static void child_exited(struct child *c, int status)
{
	struct master *m = c->m;
	char what[64];
	exit_text(status, what, sizeof(what));
	if (m->stopping || c->state == CHILD_DRAINING) {
		unsigned gen = c->generation;
		log_info(&m->log, "service %s (pid %ld, generation %u) %s", c->svc->name,
		         (long)c->pid, c->generation, what);
		child_remove(c);
		master_snapshot_release(m, gen);
		return;
	}
	log_error(&m->log, "service %s (pid %ld) %s", c->svc->name, (long)c->pid, what);
	child_schedule_restart(c);
}

void master_on_sigchld(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct master *m = arg;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child *c = m->children;
		while (c != NULL && c->pid != pid)
			c = c->next;
		if (c != NULL)
			child_exited(c, status);
	}
	if (m->stopping && !any_alive(m)) {
		event_base_loopbreak(m->base);
		return;
	}
	master_status_write(m);
}

static void on_kill_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct master *m = arg;
	for (struct child *c = m->children; c != NULL; c = c->next) {
		if (c->pid > 0) {
			log_warning(&m->log,
			            "service %s (pid %ld) did not stop in time; killing it",
			            c->svc->name, (long)c->pid);
			kill(c->pid, SIGKILL);
		}
	}
}

void master_on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct master *m = arg;
	if (m->stopping)
		return;
	m->stopping = true;
	log_notice(&m->log, "stopping on signal %d", (int)fd);
	struct child *c = m->children;
	while (c != NULL) {
		struct child *next = c->next;
		if (c->pid > 0)
			kill(c->pid, SIGTERM);
		else
			child_remove(c);
		c = next;
	}
	if (!any_alive(m)) {
		event_base_loopbreak(m->base);
		return;
	}
	m->kill_timer =
	    evloop_add_timer(m->base, config_time_ms(m->cfg, "shutdown_timeout"), on_kill_timer, m);
}
