/* auth-db.h: passdb and userdb lookups of the main auth process: passwd-file
 * password checks (PAM checks go to the worker pool) and user lookups in the
 * passwd database or a passwd-file, producing uid, gid, home and mail. */
#ifndef LOFT_AUTH_DB_H
#define LOFT_AUTH_DB_H

#include "auth-passwdfile.h"
#include "auth-settings.h"
#include "auth-token.h"
#include "log.h"

struct auth_db {
	const struct auth_settings *set;
	const struct loft_log *lg;
	struct pwf_file passfile, userfile;
	struct pwf_file *user_src; /* &passfile when both name the same file */
};

void auth_db_init(struct auth_db *db, const struct auth_settings *set, const struct loft_log *lg);
void auth_db_free(struct auth_db *db);
/* Load the passwd-files now (reporting bad lines); 0 or -1 with err. */
int auth_db_preload(struct auth_db *db, char *err, size_t errlen);

/* passwd-file passdb: 1 = password right, 0 = wrong password or unknown user
 * (same work done either way), -1 = the file cannot be read at all. */
int auth_db_verify(struct auth_db *db, const char *user, const char *pass, size_t passlen);

/* userdb: 1 found (out filled, caller frees), 0 not found, -1 temporary
 * error. pam_info, when not NULL, is what the PAM worker found in the passwd
 * database for this user (used instead of a second lookup). */
int auth_db_lookup(struct auth_db *db, const char *user, const struct auth_user_info *pam_info,
                   struct auth_user_info *out);

#endif
