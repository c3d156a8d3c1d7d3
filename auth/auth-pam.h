/* auth-pam.h: the PAM worker. Each worker is a forked child of loft-auth that
 * runs one PAM conversation at a time (pam_authenticate, then pam_acct_mgmt)
 * over a socketpair, so a slow PAM stack never blocks the main process.
 *
 * Worker protocol (one line each way, wire.h escaping):
 *   main -> worker: PAM <id> <user> <password> <rip>
 *   worker -> main: OK <id> <user> <uid> <gid> <home>   (PAM_USER after auth)
 *                   FAIL <id> <why>   (why: auth, account, nouser, error) */
#ifndef LOFT_AUTH_PAM_H
#define LOFT_AUTH_PAM_H

#include "log.h"

/* Serve requests on fd until EOF. Returns the process exit status. */
int auth_pam_worker_run(int fd, const char *pam_service, const struct loft_log *lg);

#endif
