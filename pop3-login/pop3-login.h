/* pop3-login.h: the POP3 side of loft-pop3-login: the struct login_proto
 * that plugs RFC 1939/2449/2595/5034 pre-auth commands into the shared login
 * daemon (lib/login/login-common.h). */
#ifndef LOFT_POP3_LOGIN_H
#define LOFT_POP3_LOGIN_H

#include "login-common.h"

extern const struct login_proto pop3_login_proto;

#endif
