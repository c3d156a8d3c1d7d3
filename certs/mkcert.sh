#!/bin/sh
# mkcert.sh: make Loft's self-signed TLS certificate and key, for admins who
# have no CA-issued one yet. Paths come from the arguments or from ssl_cert /
# ssl_key in loft.conf; the subject comes from loft-openssl.cnf.
#
# usage: mkcert.sh [--force] [-c loft.conf] [-o openssl.cnf] [CERT KEY]
#   -c FILE   loft config to read ssl_cert/ssl_key from
#             (default: $LOFT_CONF, else /etc/loft/loft.conf; missing = defaults)
#   -o FILE   OpenSSL config holding the subject (default: loft-openssl.cnf next
#             to the loft config, else next to this script)
#   --force   replace an existing certificate or key
# environment: LOFT_CN (fills CN = @HOSTNAME@; default `hostname -f`),
#              LOFT_CERT_DAYS (validity, default 365)

set -eu

prog=mkcert.sh
OPENSSL=${OPENSSL:-openssl}

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage() {
	sed -n 's/^# \{0,1\}//; 6,13p' "$0" >&2
	exit 2
}

# The last `key = value` line for $1 in config file $2 (comments and
# surrounding quotes removed); empty when absent.
conf_get() {
	sed -n -e 's/[[:space:]]#.*$//' \
		-e "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$2" |
		sed -e 's/[[:space:]]*$//' -e 's/^"\(.*\)"$/\1/' | tail -n 1
}

force=0
conf=
cnf=
while [ $# -gt 0 ]; do
	case $1 in
	--force | -f) force=1 ;;
	-c) [ $# -ge 2 ] || usage; conf=$2; shift ;;
	-o) [ $# -ge 2 ] || usage; cnf=$2; shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	-*) echo "$prog: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
	shift
done

if [ -z "$conf" ]; then
	conf=${LOFT_CONF:-/etc/loft/loft.conf}
elif [ ! -f "$conf" ]; then
	die "config $conf not found"
fi

case $# in
2) cert=$1; key=$2 ;;
0)
	cert=/etc/loft/certs/loft.pem
	key=/etc/loft/private/loft.pem
	if [ -f "$conf" ]; then
		v=$(conf_get ssl_cert "$conf"); [ -z "$v" ] || cert=$v
		v=$(conf_get ssl_key "$conf"); [ -z "$v" ] || key=$v
	fi
	;;
*) usage ;;
esac

if [ -z "$cnf" ]; then
	cnf=$(dirname -- "$conf")/loft-openssl.cnf
	[ -f "$cnf" ] || cnf=$(dirname -- "$0")/loft-openssl.cnf
fi
[ -f "$cnf" ] || die "OpenSSL config $cnf not found (use -o)"

days=${LOFT_CERT_DAYS:-365}
case $days in
'' | *[!0-9]*) die "LOFT_CERT_DAYS must be a number of days, not '$days'" ;;
esac
[ "$cert" != "$key" ] || die "certificate and key must be different files"

if [ $force -eq 0 ]; then
	for f in "$cert" "$key"; do
		if [ -e "$f" ] || [ -L "$f" ]; then
			die "$f already exists; not replacing it (use --force)"
		fi
	done
fi

tmpcnf=
tmpcert=
tmpkey=
cleanup() {
	for f in "$tmpcnf" "$tmpcert" "$tmpkey"; do
		[ -z "$f" ] || rm -f -- "$f"
	done
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# CN = @HOSTNAME@ is a placeholder: fill it into a private copy of the cnf.
if grep -q '^[[:space:]]*CN[[:space:]]*=[[:space:]]*@HOSTNAME@[[:space:]]*$' "$cnf"; then
	cn=${LOFT_CN:-$(hostname -f 2>/dev/null || hostname)}
	case $cn in
	'' | *[!A-Za-z0-9.*-]*) die "host name '$cn' is not usable as CN; set LOFT_CN" ;;
	esac
	tmpcnf=$(mktemp "${TMPDIR:-/tmp}/loft-openssl.XXXXXX")
	sed "s/@HOSTNAME@/$cn/" "$cnf" >"$tmpcnf"
	cnf=$tmpcnf
fi

certdir=$(dirname -- "$cert")
keydir=$(dirname -- "$key")
(umask 022 && mkdir -p -- "$certdir" "$(dirname -- "$keydir")")
if [ ! -d "$keydir" ]; then
	mkdir -m 750 -- "$keydir"
fi

# Write both next to their final names, then rename: a failure part way
# never leaves a half-written or mismatched pair in place.
umask 077
tmpkey=$keydir/.loft-key.$$
tmpcert=$certdir/.loft-cert.$$
# Key size and digest come from the cnf's [req] section.
out=$("$OPENSSL" req -new -x509 -config "$cnf" -newkey rsa -days "$days" \
	-keyout "$tmpkey" -out "$tmpcert" 2>&1) || die "openssl req failed: $out"
chmod 600 "$tmpkey"
chmod 644 "$tmpcert"
mv -f -- "$tmpkey" "$key"
tmpkey=
mv -f -- "$tmpcert" "$cert"
tmpcert=

echo "certificate: $cert"
echo "private key: $key"
"$OPENSSL" x509 -noout -subject -dates -fingerprint -sha256 -in "$cert"
