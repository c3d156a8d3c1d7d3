#!/bin/sh
# demo-run.sh BIN_DIR DEMO_DIR: write the demo configuration into DEMO_DIR
# (certificate by certs/mkcert.sh, passwd-file user demo/demo, mail under
# DEMO_DIR/mail) and run the built loft-master in the foreground on it.
# scripts/demo.sh calls it after building; tests call it on their own build.
set -eu
cd "$(dirname "$0")/.."
bin=$(cd "$1" && pwd)
mkdir -p "$2"
demo=$(cd "$2" && pwd)

# The demo always runs in Loft's unprivileged mode (DESIGN §2). As root, it
# runs as the system user loft-demo so that no mail is written as root.
runas=""
if [ "$(id -u)" -eq 0 ]; then
	id loft-demo >/dev/null 2>&1 ||
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin --user-group loft-demo
	runas="setpriv --reuid=loft-demo --regid=loft-demo --init-groups --"
fi
mkdir -p "$demo/run" "$demo/state" "$demo/mail" "$demo/empty"

if [ ! -f "$demo/certs/loft.pem" ]; then
	sh certs/mkcert.sh "$demo/certs/loft.pem" "$demo/private/loft.pem"
fi
if [ -n "$runas" ]; then
	# loft-demo may not be able to reach the build tree (a clone under /root,
	# say), so it runs its own copy of the binaries from the demo folder.
	mkdir -p "$demo/bin"
	cp "$bin"/loft* "$demo/bin/"
	bin=$demo/bin
	chown -R loft-demo:loft-demo "$demo"
fi

uid=$($runas id -u)
gid=$($runas id -g)
if [ ! -f "$demo/users" ] && [ -x "$bin/loft-auth" ]; then
	hash=$("$bin/loft-auth" pw -p demo)
	printf 'demo:%s:%s:%s::%s::\n' "$hash" "$uid" "$gid" "$demo/mail/demo" >"$demo/users"
	[ -z "$runas" ] || chown loft-demo:loft-demo "$demo/users"
fi

# Offer each protocol whose daemons this build has; say which are missing.
need() {
	case $1 in
	imap | imaps) echo "loft-imap-login loft-auth loft-mailstore" ;;
	pop3 | pop3s) echo "loft-pop3-login loft-auth loft-mailstore" ;;
	smtp | submission | submissions) echo "loft-smtpd loft-queue loft-relay loft-auth loft-mailstore" ;;
	lmtp) echo "loft-mailstore loft-auth" ;;
	esac
}
protocols=""
for p in imap imaps pop3 pop3s smtp submission submissions lmtp; do
	ok=yes
	for exe in $(need $p); do [ -x "$bin/$exe" ] || ok=no; done
	if [ $ok = yes ]; then protocols="$protocols $p"; else skipped="${skipped:-} $p"; fi
done

cat >"$demo/loft.conf" <<CONF
# Loft demo configuration, written by scripts/demo.sh (rewritten each run).
protocols =$protocols
base_dir = $demo/run
state_dir = $demo/state
login_chroot = $demo/empty
libexec_dir = $bin
log_path = -
log_level = info
ssl_cert = $demo/certs/loft.pem
ssl_key = $demo/private/loft.pem
passdb = passwd-file:$demo/users
mail_location = maildir:~/Maildir
mydomains = localhost example.org
imap_listen = 127.0.0.1:10143 [::1]:10143
imaps_listen = 127.0.0.1:10993 [::1]:10993
pop3_listen = 127.0.0.1:10110 [::1]:10110
pop3s_listen = 127.0.0.1:10995 [::1]:10995
smtp_listen = 127.0.0.1:10025 [::1]:10025
submission_listen = 127.0.0.1:10587 [::1]:10587
submissions_listen = 127.0.0.1:10465 [::1]:10465
lmtp_listen = 127.0.0.1:10024
CONF
[ -z "$runas" ] || chown loft-demo:loft-demo "$demo/loft.conf"

cat <<INFO

Loft demo: config $demo/loft.conf, user demo / password demo.
  protocols on:${protocols:- none}
  not built yet:${skipped:- none}
  status:   $bin/loft -c $demo/loft.conf status
  IMAP:     curl -v --user demo:demo imap://127.0.0.1:10143/INBOX
  IMAPS:    curl -vk --user demo:demo imaps://127.0.0.1:10993/INBOX
  POP3:     curl -v --user demo:demo pop3://127.0.0.1:10110/
  SMTP:     swaks --server 127.0.0.1:10025 --to demo@localhost
  TLS:      openssl s_client -connect 127.0.0.1:10993
Ctrl-C stops it.

INFO
exec $runas "$bin/loft-master" -F -c "$demo/loft.conf"
