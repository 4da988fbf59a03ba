#!/bin/sh
# Installs the Debian packages that building, testing and the demo need,
# when any is missing (apt-get, through sudo when not root); with
# "sanitizers", also those of make asan and make fuzz.
set -eu

packages="make gcc nginx nginx-dev libhiredis-dev libjansson-dev
redis-server redis-tools tzdata curl openssl perl libtest-base-perl
libtest-longstring-perl liblist-moreutils-perl libipc-run-perl
libtext-diff-perl chromium libfaketime libnginx-mod-nchan python3-h2
python3-aiosmtpd
libcurl4-openssl-dev lua5.1 lua-check"

# clang with its ASan, UBSan and libFuzzer runtimes, and llvm-symbolizer
# for the reports' stack traces
if [ "${1:-}" = sanitizers ]; then
    packages="$packages clang libclang-rt-14-dev llvm"
fi

missing=""
for p in $packages; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

# node and npm for the browser tests (t/browser): by command, as a nodejs
# from elsewhere (NodeSource) brings its own npm and conflicts with
# Debian's npm package
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

[ -z "$missing" ] && exit 0

echo "chatport: installing$missing"

if [ "$(id -u)" -eq 0 ]; then
    sudo=""
else
    sudo="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
