/* auth-settings.h: the settings loft-auth reads from loft.conf, checked and
 * converted once at start into a plain struct (the rest of auth never
 * touches struct config). */
#ifndef LOFT_AUTH_SETTINGS_H
#define LOFT_AUTH_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

enum auth_db_kind {
	AUTH_DB_PAM,    /* passdb only */
	AUTH_DB_PASSWD, /* userdb only: the system passwd database */
	AUTH_DB_FILE,   /* passwd-file:PATH */
};

struct auth_settings {
	enum auth_db_kind passdb, userdb;
	char *passdb_path, *userdb_path; /* for AUTH_DB_FILE */
	bool mech_plain, mech_login;
	bool disable_plaintext;
	char *default_domain, *username_format;
	unsigned worker_count;
	unsigned worker_max_queue; /* PAM checks waiting for a worker, at most */
	unsigned ipv6_prefix;      /* throttle key: IPv6 grouped by this prefix */
	uint64_t failure_delay_ms, failure_delay_max_ms, token_lifetime_ms;
	char *pam_service, *auth_user, *mail_location;
	bool has_mail_uid, has_mail_gid;
	uid_t mail_uid;
	gid_t mail_gid;
	/* first_valid_uid/last_valid_uid; uid_rule: the suite runs as root,
	 * so mail is delivered as the user's uid and the rule applies (set by
	 * auth-main.c before it drops privileges) */
	uint64_t first_valid_uid, last_valid_uid;
	bool uid_rule;
	int log_prio;
};

/* Fill s from cfg. 0, or -1 with err (an unusable value). */
int auth_settings_load(const struct config *cfg, struct auth_settings *s, char *err, size_t errlen);
void auth_settings_free(struct auth_settings *s);

#endif
