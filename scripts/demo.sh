#!/bin/sh
# demo.sh: install what is missing, build, and run Loft in the foreground on
# the embedded demo default: unprivileged ports (10000+N), a self-signed
# certificate made by certs/mkcert.sh, a passwd-file user demo/demo, and mail
# under the demo folder: ./demo, or /var/lib/loft-demo when run as root (it
# then runs as the user loft-demo). Ctrl-C stops Loft.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
scripts/deps.sh run

jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p build
cmake -S . -B build/main -DCMAKE_BUILD_TYPE=RelWithDebInfo >build/demo-build.log 2>&1 ||
	{ cat build/demo-build.log; exit 1; }
cmake --build build/main -j"$jobs" >>build/demo-build.log 2>&1 ||
	{ cat build/demo-build.log; exit 1; }
# As root the demo lives in /var/lib/loft-demo, where its user can reach it.
demo=$top/demo
[ "$(id -u)" -ne 0 ] || demo=/var/lib/loft-demo
exec sh scripts/demo-run.sh "$top/build/main/bin" "$demo"
