#!/bin/sh
# demo.sh: install what is missing, build, and run Loft in the foreground on
# the embedded demo default: unprivileged ports (10000+N), a self-signed
# certificate made by certs/mkcert.sh, a passwd-file user demo/demo, and mail
# under ./demo/mail. Everything lives in ./demo; Ctrl-C stops Loft.
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
exec sh scripts/demo-run.sh "$top/build/main" "$top/demo"
