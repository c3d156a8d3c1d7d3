/* cli-main.c: entry point of `loft`, the administrator's control command.
 * Parses `loft [-c FILE] COMMAND [ARGS]`, finds the config path (-c, then
 * $LOFT_CONF, then the compiled default) and dispatches COMMAND by table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-main.h"

struct cli_command {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	const char *args;
	const char *help;
};

static const struct cli_command commands[] = {
    {"start", cli_cmd_start, "", "start loft-master (exit 1 if already running)"},
    {"stop", cli_cmd_stop, "", "stop the running master and all its children"},
    {"restart", cli_cmd_restart, "", "stop, then start"},
    {"reload", cli_cmd_reload, "", "check the config, then make the master reload it"},
    {"status", cli_cmd_status, "", "show the master and its services (exit 3: stopped)"},
    {"config", cli_cmd_config, "[-a | --check | KEY...]",
     "print non-default settings, all (-a), some keys, or validate"},
    {"enable", cli_cmd_enable, "[--root DIR] [--sysv|--systemd]", "start loft at boot"},
    {"disable", cli_cmd_disable, "[--root DIR] [--sysv|--systemd]", "do not start at boot"},
    {"setup", cli_cmd_setup, "", "create the system users and directories loft needs"},
    {"pw", cli_cmd_pw, "[ARGS]", "password hashing (runs loft-auth pw)"},
    {"deliver", cli_cmd_deliver, "-u USER [-f SENDER] [-a ADDRESS] < MESSAGE",
     "deliver a message into USER's INBOX (runs loft-deliver)"},
    {"queue", cli_cmd_queue, "list|flush|delete|hold|release [ID]",
     "show or manage the mail queue (root)"},
    {NULL, NULL, NULL, NULL},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: loft [-c FILE] COMMAND [ARGS]\n"
	             "       loft --help | --version\n\ncommands:\n");
	for (const struct cli_command *cmd = commands; cmd->name != NULL; cmd++) {
		char head[64];
		snprintf(head, sizeof(head), "%s %s", cmd->name, cmd->args);
		fprintf(out, "  %-42s %s\n", head, cmd->help);
	}
	fprintf(out, "\nThe config file is FILE, else $LOFT_CONF, else %s.\n", LOFT_CONF_DEFAULT);
}

void cli_print_cfg_errors(const struct cfg_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++) {
		const struct cfg_error *e = &errs->v[i];
		if (e->line > 0)
			fprintf(stderr, "%s:%u: %s\n", e->file ? e->file : "", e->line, e->msg);
		else
			fprintf(stderr, "%s: %s\n", e->file ? e->file : "", e->msg);
	}
}

struct config *cli_config(struct cli *c)
{
	if (c->cfg != NULL)
		return c->cfg;
	struct cfg_errors errs = {0};
	c->cfg = config_load(c->conf_path, &errs);
	if (c->cfg == NULL) {
		cli_print_cfg_errors(&errs);
		if (errs.n == 0)
			fprintf(stderr, "loft: cannot load %s\n", c->conf_path);
		fprintf(stderr, "loft: config %s has errors; see `loft config --check`\n",
		        c->conf_path);
	}
	cfg_errors_free(&errs);
	return c->cfg;
}

const char *cli_cfg_str(const struct config *cfg, const char *key, const char *fallback)
{
	const struct cfg_key *k = cfg_schema_find(key);
	if (k == NULL)
		return fallback;
	const char *v = config_raw(cfg, key);
	return v != NULL ? v : fallback;
}

static const struct cli_command *find_command(const char *name)
{
	for (const struct cli_command *cmd = commands; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	return NULL;
}

int main(int argc, char **argv)
{
	struct cli c = {.prog = argv[0]};
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			c.conf_path = argv[++i];
		} else if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2] != '\0') {
			c.conf_path = argv[i] + 2;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return CLI_EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("loft %s\n", LOFT_VERSION);
			return CLI_EXIT_OK;
		} else if (strcmp(argv[i], "-c") == 0) {
			fprintf(stderr, "loft: -c needs a file name\n");
			return CLI_EXIT_USAGE;
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			fprintf(stderr, "loft: unknown option %s\n", argv[i]);
			usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[i], "version") == 0) {
		printf("loft %s\n", LOFT_VERSION);
		return CLI_EXIT_OK;
	}
	const struct cli_command *cmd = find_command(argv[i]);
	if (cmd == NULL) {
		fprintf(stderr, "loft: unknown command '%s'\n", argv[i]);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (c.conf_path == NULL) {
		const char *env = getenv("LOFT_CONF");
		c.conf_path = (env != NULL && env[0] != '\0') ? env : LOFT_CONF_DEFAULT;
	}
	/* Flush what we printed before a child of ours writes to the same fd. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	int rc = cmd->run(&c, argc - i, argv + i);
	if (c.cfg != NULL)
		config_free(c.cfg);
	return rc;
}
