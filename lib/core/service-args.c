/* service-args.c: the command line every daemon the master starts shares:
 * "-c FILE" names the config (the master always passes it); without it
 * $LOFT_CONF, else the built-in default, as for the loft CLI. */
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *service_config_path(int argc, char **argv, const char *name)
{
	if (argc == 3 && strcmp(argv[1], "-c") == 0 && argv[2][0] != '\0')
		return argv[2];
	if (argc == 1) {
		const char *env = getenv("LOFT_CONF");
		return env != NULL && env[0] != '\0' ? env : LOFT_CONF_DEFAULT;
	}
	fprintf(stderr, "usage: %s -c FILE\n", name);
	return NULL;
}
