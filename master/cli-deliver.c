/* cli-deliver.c: `loft deliver -u USER [-f SENDER] [-a ADDRESS] < message`:
 * replaces itself by <libexec_dir>/loft-deliver -c <config> with the same
 * arguments (execv, no shell), so exit codes are loft-deliver's sysexits.
 * loft-deliver reports config errors itself (EX_CONFIG). */
#include <sysexits.h>

#include "cli-main.h"

int cli_cmd_deliver(struct cli *c, int argc, char **argv)
{
	const char *const pre[] = {"-c", c->conf_path};
	cli_exec_libexec(c, "loft-deliver", pre, 2, argc, argv);
	return EX_TEMPFAIL;
}
