/* lmtp-lookup.c: recipient lookup for LMTP and loft-deliver through loft-auth's
 * USER request on <base_dir>/auth-master (blocking, short timeout). LMTP is
 * fed by the local queue, which already decided the mail is local, so any
 * domain is accepted: the full address is tried first, then the local part. */
#include "lmtp.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth-client.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "uid-range.h"

#define LOOKUP_TIMEOUT_MS 10000

void lmtp_auth_lookup_init(struct lmtp_auth_lookup *al, const struct config *cfg,
                           const struct loft_log *log)
{
	al->cfg = cfg;
	al->log = log;
	al->fd = -1;
}

void lmtp_auth_lookup_deinit(struct lmtp_auth_lookup *al)
{
	if (al->fd >= 0)
		close(al->fd);
	al->fd = -1;
}

static int lookup_connect(struct lmtp_auth_lookup *al)
{
	if (al->fd >= 0)
		return 0;
	struct buf path;
	const char *err = NULL;
	buf_init(&path, 4096);
	if (buf_printf(&path, "%s/auth-master", config_str(al->cfg, "base_dir")) == 0)
		al->fd = auth_client_connect(path.data, LOOKUP_TIMEOUT_MS, &err);
	if (al->fd < 0 && al->log)
		log_warning(al->log, "cannot reach auth at %s: %s", path.data ? path.data : "?",
		            err ? err : "path too long");
	buf_free(&path);
	return al->fd >= 0 ? 0 : -1;
}

/* One USER request, reconnecting once when the kept connection went away. */
static int lookup_one(struct lmtp_auth_lookup *al, const char *name, struct auth_client_reply *rep,
                      char **store)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (lookup_connect(al) < 0)
			return -1;
		*store = NULL;
		if (auth_client_user(al->fd, name, LOOKUP_TIMEOUT_MS, rep, store) == 0)
			return 0;
		free(*store);
		*store = NULL;
		lmtp_auth_lookup_deinit(al);
	}
	return -1;
}

/* Fill u from a USER reply. */
static enum lmtp_lookup_result fill_user(struct lmtp_auth_lookup *al,
                                         const struct auth_client_reply *rep, struct lmtp_user *u)
{
	const char *err = NULL;
	bool from_cfg = rep->mail == NULL || rep->mail[0] == '\0';
	const char *loc = from_cfg ? config_str(al->cfg, "mail_location") : rep->mail;
	memset(u, 0, sizeof(*u));
	/* as root delivery becomes this uid: a system account or root's group
	 * is refused now (550), not accepted and deferred at delivery */
	if (geteuid() == 0 &&
	    uid_range_check(rep->uid, rep->gid, config_uint(al->cfg, "first_valid_uid"),
	                    config_uint(al->cfg, "last_valid_uid"), &err) < 0) {
		if (al->log)
			log_warning(al->log, "user %s (uid %u, gid %u): %s",
			            rep->user ? rep->user : "?", (unsigned)rep->uid,
			            (unsigned)rep->gid, err);
		return LMTP_LOOKUP_REFUSED;
	}
	u->uid = rep->uid;
	u->gid = rep->gid;
	u->seccomp = config_bool(al->cfg, "seccomp");
	u->user = strdup(rep->user ? rep->user : "");
	u->home = strdup(rep->home ? rep->home : "");
	if (u->user && u->home)
		u->maildir = lmtp_maildir_path(loc, from_cfg, u->user, u->home, &err);
	if (u->maildir == NULL) {
		if (al->log)
			log_error(al->log, "user %s: bad mail location %s: %s",
			          rep->user ? rep->user : "?", loc, err ? err : "out of memory");
		lmtp_user_clear(u);
		return LMTP_LOOKUP_TEMPFAIL;
	}
	return LMTP_LOOKUP_OK;
}

enum lmtp_lookup_result lmtp_lookup_auth(void *ctx, const char *addr, const char *local,
                                         struct lmtp_user *u)
{
	struct lmtp_auth_lookup *al = ctx;
	const char *names[2] = {addr, local};
	size_t n = (local != NULL && strcmp(local, addr) != 0) ? 2 : 1;
	for (size_t i = 0; i < n; i++) {
		struct auth_client_reply rep;
		char *store = NULL;
		memset(&rep, 0, sizeof(rep));
		if (lookup_one(al, names[i], &rep, &store) < 0)
			return LMTP_LOOKUP_TEMPFAIL;
		enum lmtp_lookup_result r = LMTP_LOOKUP_TEMPFAIL;
		if (rep.result == AUTH_CLIENT_OK)
			r = fill_user(al, &rep, u);
		else if (rep.result == AUTH_CLIENT_NOTFOUND || rep.result == AUTH_CLIENT_FAIL)
			r = LMTP_LOOKUP_NOTFOUND;
		free(store);
		if (r != LMTP_LOOKUP_NOTFOUND)
			return r;
	}
	return LMTP_LOOKUP_NOTFOUND;
}
