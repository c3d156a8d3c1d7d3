/* cli-deliver.c: `loft deliver -u USER [-f SENDER] [-a ADDRESS] < message`:
 * replaces itself by <libexec_dir>/loft-deliver -c <config> with the same
 * arguments (execv, no shell), so exit codes are loft-deliver's sysexits. */
#include <stdlib.h>
#include <sysexits.h>

#include "buf.h"
#include "cli-main.h"

int cli_cmd_deliver(struct cli *c, int argc, char **argv);

int cli_cmd_deliver(struct cli *c, int argc, char **argv)
{
	/* loft-deliver reports config errors itself (EX_CONFIG); here the file
	 * only tells where the daemons live. */
	struct cfg_errors errs = {0};
	c->cfg = config_load(c->conf_path, &errs);
	cfg_errors_free(&errs);
	const char *libexec =
	    c->cfg != NULL ? cli_cfg_str(c->cfg, "libexec_dir", LOFT_LIBEXECDIR) : LOFT_LIBEXECDIR;
	struct buf path;
	buf_init(&path, 0);
	char **av = calloc((size_t)argc + 3, sizeof(*av));
	if (av == NULL || buf_printf(&path, "%s/loft-deliver", libexec) < 0) {
		free(av);
		buf_free(&path);
		return EX_TEMPFAIL;
	}
	av[0] = path.data;
	av[1] = "-c";
	av[2] = (char *)c->conf_path;
	for (int i = 1; i < argc; i++)
		av[i + 2] = argv[i];
	cli_exec(av);
	free(av);
	buf_free(&path);
	return EX_TEMPFAIL;
}
