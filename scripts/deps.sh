#!/bin/sh
# deps.sh: install the Debian 12 packages Loft needs that are missing.
#   scripts/deps.sh run    what building and running needs
#   scripts/deps.sh test   that plus what the test suite needs
# Uses sudo when not root. Asks apt only when something is missing.
set -eu

BUILD="build-essential cmake pkg-config libssl-dev libcap-dev libpam0g-dev
libcmocka-dev libevent-dev libseccomp-dev libcrypt-dev zlib1g-dev openssl python3
passwd procps"
# Packages are installed without their Recommends, so each test tool's
# runtime needs are named here: swaks does STARTTLS only with Net::SSLeay
# (libnet-ssleay-perl) and IPv6 with IO::Socket::INET6, and looks up "tcp"
# in /etc/protocols (netbase, absent from a minimal debootstrap).
TEST="clang libclang-rt-14-dev libpam-wrapper util-linux iproute2 swaks
libnet-ssleay-perl libio-socket-inet6-perl netbase curl valgrind libcap2-bin
fetchmail isync ca-certificates"

want=$BUILD
[ "${1:-run}" = test ] && want="$BUILD $TEST"

missing=""
for p in $want; do
	if ! dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
