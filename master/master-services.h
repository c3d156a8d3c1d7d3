/* master-services.h: the service table -- which daemon serves which
 * protocols and which sockets the master binds for it. Shared by loft-master
 * and the loft CLI (`config --check`), so the two can never disagree. */
#ifndef LOFT_MASTER_SERVICES_H
#define LOFT_MASTER_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

/* Who owns a unix socket the master creates for a service. */
enum sock_owner { OWN_ROOT, OWN_LOGIN, OWN_SMTP, OWN_QUEUE };

struct svc_unix {
	const char *name; /* LOFT_LISTEN_FDS key */
	const char *file; /* in base_dir */
	mode_t mode;
	enum sock_owner owner;
};

/* One row of the service table (master-services.c). */
struct svc_def {
	const char *name;
	const char *exe;
	const char *const *inet; /* protocols it gets inet listeners for */
	const struct svc_unix *socks;
	size_t n_socks;
	const char *const *enable; /* enabled when protocols has any of these */
};

extern const struct svc_def master_services[];
extern const size_t master_n_services;

bool svc_enabled(const struct svc_def *d, const struct config *cfg);
/* Every enabled service's executable is present and executable; else -1 with
 * "protocol imap needs loft-imap-login, which is not in DIR". */
int svc_check_exes(const struct config *cfg, char *err, size_t errlen);

#endif
