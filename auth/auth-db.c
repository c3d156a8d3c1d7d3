/* auth-db.c: passwd-file and passwd-database lookups for loft-auth. The
 * passwd-file is re-read whenever it changed (checked by stat on each use),
 * and its bad lines are logged by number. mail_uid/mail_gid, when set,
 * override every user's ids (virtual users all owned by one mail account). */
#include "auth-db.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth-hash.h"
#include "config.h"

struct report_ctx {
	const struct loft_log *lg;
	const char *path;
};

static void pwf_report(void *ctx, int severity, unsigned line, const char *msg)
{
	const struct report_ctx *rc = ctx;
	log_msg(rc->lg, severity, NULL, "passwd-file %s line %u: %s%s", rc->path, line, msg,
	        severity == LOG_ERR ? " (line skipped)" : "");
}

void auth_db_init(struct auth_db *db, const struct auth_settings *set, const struct loft_log *lg)
{
	memset(db, 0, sizeof(*db));
	db->set = set;
	db->lg = lg;
	if (set->passdb == AUTH_DB_FILE)
		pwf_file_init(&db->passfile, set->passdb_path);
	db->user_src = &db->userfile;
	if (set->userdb == AUTH_DB_FILE && set->passdb == AUTH_DB_FILE &&
	    strcmp(set->userdb_path, set->passdb_path) == 0)
		db->user_src = &db->passfile; /* one table, read and reported once */
	else if (set->userdb == AUTH_DB_FILE)
		pwf_file_init(&db->userfile, set->userdb_path);
}

void auth_db_free(struct auth_db *db)
{
	pwf_file_free(&db->passfile);
	pwf_file_free(&db->userfile);
}

/* Refresh a file; -1 only when it was never loaded and cannot be read. */
static int db_refresh(struct auth_db *db, struct pwf_file *f)
{
	char err[512];
	struct report_ctx rc = {db->lg, f->path != NULL ? f->path : "?"};
	int r = pwf_file_refresh(f, pwf_report, &rc, err, sizeof(err));
	if (r < 0) {
		log_error(db->lg, "passwd-file: %s%s", err,
		          f->loaded ? " (keeping the previous contents)" : "");
		return f->loaded ? 0 : -1;
	}
	if (r > 0)
		log_info(db->lg, "passwd-file %s loaded: %zu users", f->path, f->t.n);
	return 0;
}

int auth_db_preload(struct auth_db *db, char *err, size_t errlen)
{
	struct pwf_file *files[2] = {&db->passfile, &db->userfile};
	for (int i = 0; i < 2; i++) {
		if (files[i]->path == NULL)
			continue;
		if (db_refresh(db, files[i]) < 0) {
			snprintf(err, errlen, "cannot read passwd-file %s", files[i]->path);
			return -1;
		}
	}
	return 0;
}

int auth_db_verify(struct auth_db *db, const char *user, const char *pass, size_t passlen)
{
	if (db_refresh(db, &db->passfile) < 0) {
		auth_hash_dummy(pass, passlen);
		return -1;
	}
	const struct pwf_entry *e = pwf_find(&db->passfile.t, user);
	if (e == NULL || e->password[0] == '\0') {
		/* Unknown user (or userdb-only line): same work, same answer. */
		auth_hash_dummy(pass, passlen);
		return 0;
	}
	return auth_hash_verify(pass, passlen, e->password);
}

/* Expand a mail location: the part after a "format:" prefix (maildir:) is a
 * path, so "maildir:~/Maildir" expands its ~ like a bare "~/Maildir". */
static char *expand_mail(const char *tmpl, const char *user, const char *home,
                         const struct loft_log *lg)
{
	size_t pfx = strspn(tmpl, "abcdefghijklmnopqrstuvwxyz");
	pfx = pfx > 0 && tmpl[pfx] == ':' ? pfx + 1 : 0;
	const char *err = NULL;
	struct expand_vars v = {user, home[0] != '\0' ? home : NULL};
	char *path = config_expand(tmpl + pfx, &v, &err);
	if (path == NULL) {
		log_error(lg, "user %s: mail location: %s", user, err != NULL ? err : "?");
		return NULL;
	}
	size_t plen = strlen(path);
	char *full = malloc(pfx + plen + 1);
	if (full != NULL) {
		memcpy(full, tmpl, pfx);
		memcpy(full + pfx, path, plen + 1);
	}
	free(path);
	return full;
}

/* Build out from user, ids and home; expands the mail location. */
static int info_fill(struct auth_db *db, const char *user, uid_t uid, gid_t gid, const char *home,
                     const char *mail_tmpl, size_t mail_len, struct auth_user_info *out)
{
	const struct auth_settings *s = db->set;
	struct auth_user_info tmp = {(char *)user, s->has_mail_uid ? s->mail_uid : uid,
	                             s->has_mail_gid ? s->mail_gid : gid, (char *)home, NULL};
	char *tmpl = mail_tmpl != NULL ? strndup(mail_tmpl, mail_len) : strdup(s->mail_location);
	if (tmpl == NULL)
		return -1;
	tmp.mail = expand_mail(tmpl, user, home, db->lg);
	free(tmpl);
	if (tmp.mail == NULL)
		return -1;
	int rc = auth_user_info_copy(out, &tmp);
	free(tmp.mail);
	return rc;
}

static int lookup_passwd(struct auth_db *db, const char *user, struct auth_user_info *out)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	int rc = getpwnam_r(user, &pw, buf, sizeof(buf), &pwp);
	if (rc != 0 && rc != ENOENT && rc != ESRCH) {
		log_error(db->lg, "getpwnam(%s): %s", user, strerror(rc));
		return -1;
	}
	if (pwp == NULL)
		return 0;
	return info_fill(db, user, pw.pw_uid, pw.pw_gid, pw.pw_dir, NULL, 0, out) < 0 ? -1 : 1;
}

static int lookup_file(struct auth_db *db, const char *user, struct auth_user_info *out)
{
	if (db_refresh(db, db->user_src) < 0)
		return -1;
	const struct pwf_entry *e = pwf_find(&db->user_src->t, user);
	if (e == NULL)
		return 0;
	if ((!e->has_uid && !db->set->has_mail_uid) || (!e->has_gid && !db->set->has_mail_gid)) {
		log_error(db->lg,
		          "passwd-file %s line %u: user %s has no uid/gid and no "
		          "mail_uid/mail_gid is set",
		          db->user_src->path, e->line, user);
		return -1;
	}
	size_t ml = 0;
	const char *mail = pwf_extra_get(e, "userdb_mail", &ml);
	if (mail == NULL)
		mail = pwf_extra_get(e, "mail", &ml);
	return info_fill(db, user, e->uid, e->gid, e->home, mail, ml, out) < 0 ? -1 : 1;
}

int auth_db_lookup(struct auth_db *db, const char *user, const struct auth_user_info *pam_info,
                   struct auth_user_info *out)
{
	memset(out, 0, sizeof(*out));
	if (db->set->userdb == AUTH_DB_FILE)
		return lookup_file(db, user, out);
	if (pam_info != NULL)
		return info_fill(db, pam_info->user, pam_info->uid, pam_info->gid, pam_info->home,
		                 NULL, 0, out) < 0
		           ? -1
		           : 1;
	return lookup_passwd(db, user, out);
}
