/* cli-config.c: `loft config`, the administrator's view of loft.conf (like
 * `doveconf -n`): the settings that differ from the defaults, all settings,
 * chosen keys, or a --check that reports every error with file:line and
 * verifies that the daemons the enabled protocols need are installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli-main.h"
#include "master-services.h"

size_t cli_required_daemons(const struct config *cfg, const char **names, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < master_n_services && n < max; i++) {
		if (svc_enabled(&master_services[i], cfg))
			names[n++] = master_services[i].exe;
	}
	return n;
}

static bool is_default(const struct config *cfg, const struct cfg_key *k)
{
	const char *file;
	unsigned line;
	if (!config_source(cfg, k->name, &file, &line))
		return true;
	/* Set in the file, but to the default text: doveconf -n omits it too. */
	const char *raw = config_raw(cfg, k->name);
	return raw != NULL && strcmp(raw, k->def != NULL ? k->def : "") == 0;
}

static void print_setting(const struct config *cfg, const char *key, bool names)
{
	const char *raw = config_raw(cfg, key);
	if (raw == NULL)
		raw = "";
	if (!names)
		printf("%s\n", raw);
	else if (raw[0] == '\0')
		printf("%s =\n", key);
	else
		printf("%s = %s\n", key, raw);
}

static int check_daemons(const struct config *cfg)
{
	const char *libexec = cli_cfg_str(cfg, "libexec_dir", LOFT_LIBEXECDIR);
	const char *need[16];
	size_t n = cli_required_daemons(cfg, need, 16);
	struct buf missing, path;
	buf_init(&missing, 0);
	buf_init(&path, 0);
	for (size_t i = 0; i < n; i++) {
		buf_reset(&path);
		struct stat sb;
		if (buf_printf(&path, "%s/%s", libexec, need[i]) < 0 || stat(path.data, &sb) < 0 ||
		    !S_ISREG(sb.st_mode) || access(path.data, X_OK) < 0)
			buf_printf(&missing, "%s%s", missing.len > 0 ? ", " : "", need[i]);
	}
	int rc = 0;
	if (missing.len > 0) {
		const char *file;
		unsigned line;
		if (config_source(cfg, "libexec_dir", &file, &line))
			fprintf(stderr, "%s:%u: ", file, line);
		else
			fprintf(stderr, "%s: ", config_path(cfg));
		fprintf(stderr,
		        "libexec_dir %s lacks the executables the enabled protocols need: %s\n",
		        libexec, missing.data);
		rc = -1;
	}
	buf_free(&missing);
	buf_free(&path);
	return rc;
}

static int config_check(const char *path)
{
	struct cfg_errors errs = {0};
	struct config *cfg = config_load(path, &errs);
	int rc = CLI_EXIT_OK;
	if (cfg == NULL) {
		cli_print_cfg_errors(&errs);
		if (errs.n == 0)
			fprintf(stderr, "%s: cannot load\n", path);
		rc = CLI_EXIT_FAIL;
	} else if (check_daemons(cfg) < 0) {
		rc = CLI_EXIT_FAIL;
	}
	cfg_errors_free(&errs);
	config_free(cfg);
	if (rc == CLI_EXIT_OK)
		printf("config OK: %s\n", path);
	else
		fprintf(stderr, "config has errors: %s\n", path);
	return rc;
}

static void config_usage(void)
{
	fprintf(stderr, "usage: loft config [-n]      settings that differ from the defaults\n"
	                "       loft config -a        all settings\n"
	                "       loft config [-h] KEY...  these settings (-h: values only)\n"
	                "       loft config --check   validate; every error as file:line\n");
}

int cli_cmd_config(struct cli *c, int argc, char **argv)
{
	bool all = false, check = false, names = true;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-a") == 0)
			all = true;
		else if (strcmp(argv[i], "-n") == 0)
			all = false;
		else if (strcmp(argv[i], "-h") == 0)
			names = false;
		else if (strcmp(argv[i], "--check") == 0)
			check = true;
		else {
			config_usage();
			return CLI_EXIT_USAGE;
		}
	}
	if (check) {
		if (i < argc || all) {
			config_usage();
			return CLI_EXIT_USAGE;
		}
		return config_check(c->conf_path);
	}
	/* Validate keys before loading so a typo is a usage error either way. */
	int rc = CLI_EXIT_OK;
	for (int j = i; j < argc; j++) {
		if (cfg_schema_find(argv[j]) == NULL) {
			fprintf(stderr, "loft: unknown setting '%s'\n", argv[j]);
			rc = CLI_EXIT_FAIL;
		}
	}
	struct config *cfg = cli_config(c);
	if (cfg == NULL)
		return CLI_EXIT_FAIL;
	if (i < argc) {
		for (int j = i; j < argc; j++)
			if (cfg_schema_find(argv[j]) != NULL)
				print_setting(cfg, argv[j], names);
		return rc;
	}
	printf("# loft %s: %s\n", LOFT_VERSION, config_path(cfg));
	for (const struct cfg_key *k = cfg_schema; k->name != NULL; k++)
		if (all || !is_default(cfg, k))
			print_setting(cfg, k->name, true);
	return CLI_EXIT_OK;
}
