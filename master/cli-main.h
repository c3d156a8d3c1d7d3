/* cli-main.h: the `loft` control CLI's shared context and the command handlers
 * each master/cli-*.c file provides. Handlers return the process exit code;
 * they print their own messages (stdout for results, stderr for errors). */
#ifndef LOFT_CLI_H
#define LOFT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

/* LSB-style exit codes the commands use. */
#define CLI_EXIT_OK          0
#define CLI_EXIT_FAIL        1
#define CLI_EXIT_USAGE       2
#define CLI_EXIT_NOT_RUNNING 3 /* `status` of a stopped server (LSB) */

struct cli {
	const char *prog;      /* argv[0], for messages */
	const char *conf_path; /* -c, $LOFT_CONF or LOFT_CONF_DEFAULT */
	struct config *cfg;    /* loaded on demand by cli_config() */
};

/* Load the config once; on errors print every one as file:line: message to
 * stderr and return NULL. */
struct config *cli_config(struct cli *c);
/* A string setting, or fallback when the schema has no such key (the schema is
 * owned elsewhere; the CLI must not abort on a renamed key). */
const char *cli_cfg_str(const struct config *cfg, const char *key, const char *fallback);
/* Print errors from config_load as "file:line: message" to stderr. */
void cli_print_cfg_errors(const struct cfg_errors *errs);

/* Process helpers (cli-spawn.c); never a shell. */
/* Run argv[0] with argv, wait; returns its exit status (0-255), 128+signal,
 * or -1 (with a message on stderr) when it could not be started. */
int cli_run(char *const argv[]);
/* Replace this process by argv[0]; returns only on failure (message printed). */
int cli_exec(char *const argv[]);
/* Replace the CLI by <libexec_dir>/exe with the words pre[0..npre) and then
 * argv[1..argc): `loft pw` and `loft deliver` hand over to their daemon's
 * binary this way. The config only says where libexec is, so an unreadable
 * one falls back to the built-in directory. Returns only on failure. */
int cli_exec_libexec(struct cli *c, const char *exe, const char *const *pre, size_t npre, int argc,
                     char **argv);
/* Directory of the running `loft` executable (from /proc/self/exe), or NULL. */
char *cli_self_dir(void);

/* Master liveness (cli-control.c). Returns 1 and *pid_r when base_dir/master.pid
 * is locked by a live master, 0 when not running, -1 on error (printed). */
int cli_master_running(const char *base_dir, pid_t *pid_r);

/* The status file written by the master (cli-status.c). */
struct cli_service {
	char *name;
	long pid;
	char *state;
	unsigned long restarts;
	char *listeners;
};
struct cli_status {
	long pid;
	unsigned long generation;
	char *config;
	char *mode;
	struct cli_service *svc;
	size_t n_svc;
};
/* Pure parser over the status file's bytes. 0, or -1 with *err_r set to a
 * static message naming what was malformed. */
int cli_status_parse(const char *p, size_t len, struct cli_status *st, const char **err_r);
void cli_status_free(struct cli_status *st);
/* Read and parse <base_dir>/status. 0 or -1 (message printed). */
int cli_status_read(const char *base_dir, struct cli_status *st);

/* Command handlers: argv[0] is the command word. */
int cli_cmd_start(struct cli *c, int argc, char **argv);
int cli_cmd_stop(struct cli *c, int argc, char **argv);
int cli_cmd_restart(struct cli *c, int argc, char **argv);
int cli_cmd_reload(struct cli *c, int argc, char **argv);
int cli_cmd_status(struct cli *c, int argc, char **argv);
int cli_cmd_config(struct cli *c, int argc, char **argv);
int cli_cmd_enable(struct cli *c, int argc, char **argv);
int cli_cmd_disable(struct cli *c, int argc, char **argv);
int cli_cmd_setup(struct cli *c, int argc, char **argv);
int cli_cmd_pw(struct cli *c, int argc, char **argv);
int cli_cmd_deliver(struct cli *c, int argc, char **argv);
int cli_cmd_queue(struct cli *c, int argc, char **argv); /* cli-queue.c */

/* Executables the enabled protocols need in libexec_dir (cli-config.c), for
 * `config --check`. Fills names (static strings) up to max; returns count. */
size_t cli_required_daemons(const struct config *cfg, const char **names, size_t max);

#endif
