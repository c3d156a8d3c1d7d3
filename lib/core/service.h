/* service.h: the contract between loft-master and the daemons it spawns.
 *
 * The master execs each daemon as  <libexec_dir>/loft-<service> -c <config>
 * with: fd 0 = /dev/null; fd 1 and 2 = a pipe to the master (log lines);
 * listening sockets from fd 3 on, named by the environment variable
 * LOFT_LISTEN_FDS = "imap:3 imaps:4 ..." (protocol:fd pairs, space separated);
 * LOFT_SERVICE = the service name; LOFT_CONF = the config path;
 * LOFT_GENERATION = the master's config generation (for logs and tests).
 *
 * Signals from the master: SIGTERM = stop now (close everything, exit 0);
 * SIGQUIT = graceful: close the listeners, finish open sessions, then exit
 * (used on reload: the old generation drains while a new one serves).
 * The daemon itself drops privileges after reading what it needs. */
#ifndef LOFT_SERVICE_H
#define LOFT_SERVICE_H

#include <stddef.h>

#define SERVICE_MAX_LISTENERS 32

struct service_listener {
	char proto[16];
	int fd;
};

/* Parse a LOFT_LISTEN_FDS value. Pure. Returns the count, or -1 when malformed
 * (bad pair, fd < 3, more than max entries). */
int service_parse_listen_fds(const char *s, struct service_listener *out, size_t max);

/* A daemon's config file from its command line: "-c FILE", or with no
 * arguments $LOFT_CONF, else the built-in default. Anything else prints
 * "usage: NAME -c FILE" and gives NULL (exit 2). (service-args.c) */
const char *service_config_path(int argc, char **argv, const char *name);

#endif
