/* pop3-login-main.c: entry point of loft-pop3-login (`loft-pop3-login -c
 * CONF`, spawned by loft-master with the pop3/pop3s listeners). Everything
 * runs in the shared login daemon with the POP3 command set plugged in. */
#include "pop3-login.h"

int main(int argc, char **argv)
{
	return login_daemon_main(&pop3_login_proto, argc, argv);
}
