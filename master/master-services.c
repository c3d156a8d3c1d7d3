/* master-services.c: the service table -- which daemon runs for which
 * protocols, which inet listeners and unix sockets the master binds for it --
 * and the start-up check that every enabled daemon is really installed.
 * docs/architecture.md documents the same table; keep them in step. */
#include "master-services.h"

#include <limits.h>

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const login_inet_imap[] = {"imap", "imaps", NULL};
static const char *const login_inet_pop3[] = {"pop3", "pop3s", NULL};
static const char *const mailstore_inet[] = {"lmtp", NULL};
static const char *const smtpd_inet[] = {"smtp", "submission", "submissions", NULL};
static const char *const no_inet[] = {NULL};

/* auth serves logins and also mailstore's user lookups (LMTP recipients),
 * so it runs whenever mailstore does. */
static const char *const en_auth[] = {"imap", "imaps",      "pop3",        "pop3s", "lmtp",
                                      "smtp", "submission", "submissions", NULL};
static const char *const en_mailstore[] = {"imap", "imaps",      "pop3",        "pop3s", "lmtp",
                                           "smtp", "submission", "submissions", NULL};

static const struct svc_unix auth_socks[] = {
    {"auth-login", "auth-login", 0600, OWN_LOGIN},
    {"auth-smtp", "auth-smtp", 0600, OWN_SMTP},
    {"auth-master", "auth-master", 0600, OWN_ROOT},
};
static const struct svc_unix mailstore_socks[] = {
    {"handoff", "handoff", 0600, OWN_LOGIN},
    {"lmtp-local", "lmtp", 0600, OWN_QUEUE},
};
static const struct svc_unix queue_socks[] = {
    {"queue", "queue", 0600, OWN_SMTP},
    {"pickup", "pickup", 0666, OWN_ROOT},
};
/* The queue manager connects here to hand remote deliveries to the relay. */
static const struct svc_unix relay_socks[] = {
    {"relay", "relay", 0600, OWN_QUEUE},
};

#define NSOCKS(a) (sizeof(a) / sizeof((a)[0]))

const struct svc_def master_services[] = {
    {"auth", "loft-auth", no_inet, auth_socks, NSOCKS(auth_socks), en_auth},
    {"imap-login", "loft-imap-login", login_inet_imap, NULL, 0, login_inet_imap},
    {"pop3-login", "loft-pop3-login", login_inet_pop3, NULL, 0, login_inet_pop3},
    {"mailstore", "loft-mailstore", mailstore_inet, mailstore_socks, NSOCKS(mailstore_socks),
     en_mailstore},
    {"smtpd", "loft-smtpd", smtpd_inet, NULL, 0, smtpd_inet},
    {"queue", "loft-queue", no_inet, queue_socks, NSOCKS(queue_socks), smtpd_inet},
    {"relay", "loft-relay", no_inet, relay_socks, NSOCKS(relay_socks), smtpd_inet},
};
const size_t master_n_services = sizeof(master_services) / sizeof(master_services[0]);

/* The first protocol of cfg that enables d, or NULL. */
static const char *svc_enabling_proto(const struct svc_def *d, const struct config *cfg)
{
	for (const char *const *p = d->enable; *p != NULL; p++) {
		if (config_list_has(cfg, "protocols", *p))
			return *p;
	}
	return NULL;
}

bool svc_enabled(const struct svc_def *d, const struct config *cfg)
{
	return svc_enabling_proto(d, cfg) != NULL;
}

int svc_check_exes(const struct config *cfg, char *err, size_t errlen)
{
	const char *dir = config_str(cfg, "libexec_dir");
	for (size_t i = 0; i < master_n_services; i++) {
		const struct svc_def *d = &master_services[i];
		const char *proto = svc_enabling_proto(d, cfg);
		if (proto == NULL)
			continue;
		char path[PATH_MAX];
		struct stat st;
		int n = snprintf(path, sizeof(path), "%s/%s", dir, d->exe);
		if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) < 0 ||
		    !S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "protocol %s needs %s, which is not in %s", proto,
			         d->exe, dir);
			return -1;
		}
		if (access(path, X_OK) < 0) {
			snprintf(err, errlen, "protocol %s needs %s, which is not executable in %s",
			         proto, d->exe, dir);
			return -1;
		}
	}
	return 0;
}
