/* imap-login-main.c: entry point of loft-imap-login (`loft-imap-login -c
 * CONF`, spawned by loft-master with the imap/imaps listeners). Everything
 * runs in the shared login daemon with the IMAP command set plugged in. */
#include "imap-login.h"

int main(int argc, char **argv)
{
	return login_daemon_main(&imap_login_proto, argc, argv);
}
