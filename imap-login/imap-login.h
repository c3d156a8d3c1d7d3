/* imap-login.h: the IMAP side of loft-imap-login: the struct login_proto
 * that plugs RFC 3501/9051 pre-auth commands (with STARTTLS, SASL-IR and ID)
 * into the shared login daemon (lib/login/login-common.h). */
#ifndef LOFT_IMAP_LOGIN_H
#define LOFT_IMAP_LOGIN_H

#include "login-common.h"

extern const struct login_proto imap_login_proto;

#endif
