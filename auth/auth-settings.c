/* auth-settings.c: reads and checks loft-auth's keys from the config:
 * passdb/userdb kinds, mechanisms, delays, mail uid/gid (a name or number,
 * resolved once here so lookups later never depend on NSS for them). */
#include "auth-settings.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

static int parse_db(const char *v, bool passdb, enum auth_db_kind *kind, char **path)
{
	*path = NULL;
	if (passdb && strcmp(v, "pam") == 0) {
		*kind = AUTH_DB_PAM;
		return 0;
	}
	if (!passdb && strcmp(v, "passwd") == 0) {
		*kind = AUTH_DB_PASSWD;
		return 0;
	}
	if (strncmp(v, "passwd-file:", 12) == 0 && v[12] == '/') {
		*kind = AUTH_DB_FILE;
		*path = strdup(v + 12);
		return *path != NULL ? 0 : -1;
	}
	return -1;
}

/* A uid/gid given as a number or a name; empty = not set. */
static int parse_owner(const char *v, bool group, bool *has, unsigned long *id)
{
	*has = false;
	if (v[0] == '\0')
		return 0;
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	if (*end == '\0' && v[0] >= '0' && v[0] <= '9') {
		*has = true;
		*id = n;
		return 0;
	}
	if (group) {
		struct group *g = getgrnam(v);
		if (g == NULL)
			return -1;
		*id = g->gr_gid;
	} else {
		struct passwd *p = getpwnam(v);
		if (p == NULL)
			return -1;
		*id = p->pw_uid;
	}
	*has = true;
	return 0;
}

static int load_dbs(const struct config *cfg, struct auth_settings *s, char *err, size_t errlen)
{
	const char *passdb = config_str(cfg, "passdb");
	const char *userdb = config_str(cfg, "userdb");
	if (parse_db(passdb, true, &s->passdb, &s->passdb_path) < 0) {
		snprintf(err, errlen, "passdb '%s': expected pam or passwd-file:/ABSOLUTE/PATH",
		         passdb);
		return -1;
	}
	if (userdb[0] == '\0') {
		s->userdb = s->passdb == AUTH_DB_PAM ? AUTH_DB_PASSWD : AUTH_DB_FILE;
		s->userdb_path = s->passdb_path != NULL ? strdup(s->passdb_path) : NULL;
		if (s->passdb_path != NULL && s->userdb_path == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	} else if (parse_db(userdb, false, &s->userdb, &s->userdb_path) < 0) {
		snprintf(err, errlen, "userdb '%s': expected passwd or passwd-file:/ABSOLUTE/PATH",
		         userdb);
		return -1;
	}
	return 0;
}

static int load_mechs(const struct config *cfg, struct auth_settings *s, char *err, size_t errlen)
{
	size_t n;
	const char *const *mechs = config_list(cfg, "auth_mechanisms", &n);
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(mechs[i], "plain") == 0)
			s->mech_plain = true;
		else if (strcasecmp(mechs[i], "login") == 0)
			s->mech_login = true;
		else {
			snprintf(err, errlen, "auth_mechanisms: unsupported mechanism '%s'",
			         mechs[i]);
			return -1;
		}
	}
	return 0;
}

int auth_settings_load(const struct config *cfg, struct auth_settings *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (load_dbs(cfg, s, err, errlen) < 0 || load_mechs(cfg, s, err, errlen) < 0)
		return -1;
	s->disable_plaintext = config_bool(cfg, "disable_plaintext_auth");
	s->default_domain = strdup(config_str(cfg, "auth_default_domain"));
	s->username_format = strdup(config_str(cfg, "auth_username_format"));
	s->pam_service = strdup(config_str(cfg, "pam_service"));
	s->auth_user = strdup(config_str(cfg, "auth_user"));
	s->mail_location = strdup(config_str(cfg, "mail_location"));
	if (s->default_domain == NULL || s->username_format == NULL || s->pam_service == NULL ||
	    s->auth_user == NULL || s->mail_location == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	uint64_t workers = config_uint(cfg, "auth_worker_count");
	s->worker_count = workers == 0 ? 1 : workers > 64 ? 64 : (unsigned)workers;
	uint64_t q = config_uint(cfg, "auth_worker_max_queue");
	s->worker_max_queue = q == 0 ? 1 : q > 100000 ? 100000 : (unsigned)q;
	uint64_t pfx = config_uint(cfg, "login_ipv6_prefix");
	s->ipv6_prefix = pfx > 128 ? 128 : (unsigned)pfx;
	s->failure_delay_ms = config_time_ms(cfg, "auth_failure_delay");
	s->failure_delay_max_ms = config_time_ms(cfg, "auth_failure_delay_max");
	s->token_lifetime_ms = config_time_ms(cfg, "auth_token_lifetime");
	unsigned long id = 0;
	const char *mu = config_str(cfg, "mail_uid"), *mg = config_str(cfg, "mail_gid");
	if (parse_owner(mu, false, &s->has_mail_uid, &id) < 0) {
		snprintf(err, errlen, "mail_uid '%s': no such user", mu);
		return -1;
	}
	s->mail_uid = (uid_t)id;
	if (parse_owner(mg, true, &s->has_mail_gid, &id) < 0) {
		snprintf(err, errlen, "mail_gid '%s': no such group", mg);
		return -1;
	}
	s->mail_gid = (gid_t)id;
	s->first_valid_uid = config_uint(cfg, "first_valid_uid");
	s->last_valid_uid = config_uint(cfg, "last_valid_uid");
	int prio = log_prio_parse(config_str(cfg, "log_level"));
	s->log_prio = prio < 0 ? LOG_INFO : prio;
	return 0;
}

void auth_settings_free(struct auth_settings *s)
{
	free(s->passdb_path);
	free(s->userdb_path);
	free(s->default_domain);
	free(s->username_format);
	free(s->pam_service);
	free(s->auth_user);
	free(s->mail_location);
	memset(s, 0, sizeof(*s));
}
