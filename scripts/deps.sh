#!/bin/sh
# Installs the Debian packages of the sets given that are missing
# (apt-get, through sudo when not root).
# Usage: deps.sh SET...
#   build       make and make deb: the compiler, Debian's nginx and its
#               source (nginx-dev), hiredis, jansson, libcurl, dpkg-dev
#               (dpkg-shlibdeps)
#   test        what make test adds: Redis, curl, openssl, the Perl test
#               modules, time zones, libfaketime, Nchan, the Python
#               HTTP/2 and SMTP modules, Chromium, node and npm
#   demo        what make demo adds: Redis and openssl
#   sanitizers  what make asan and make fuzz add: clang with its ASan,
#               UBSan and libFuzzer runtimes, and llvm-symbolizer
# The Makefile asks for build first and then for the others, so a server
# that only builds the module never gets a browser or a Redis server.
set -eu

usage() {
    echo "usage: $0 build|test|demo|sanitizers ..." >&2
    exit 2
}

[ $# -gt 0 ] || usage

packages=""
node=no

for set in "$@"; do
    case "$set" in
    build)
        packages="$packages make gcc nginx nginx-dev libhiredis-dev
                  libjansson-dev libcurl4-openssl-dev dpkg-dev esbuild"
        ;;
    test)
        packages="$packages redis-server redis-tools tzdata curl openssl
                  perl libtest-base-perl libtest-longstring-perl
                  liblist-moreutils-perl libipc-run-perl libtext-diff-perl
                  libfaketime libnginx-mod-nchan python3-h2
                  python3-aiosmtpd lua5.1 lua-check chromium
                  redis-sentinel"
        node=yes
        ;;
    demo)
        packages="$packages redis-server redis-tools openssl"
        ;;
    sanitizers)
        packages="$packages clang libclang-rt-14-dev llvm"
        ;;
    *)
        usage
        ;;
    esac
done

missing=""
for p in $packages; do
    case " $missing " in
        *" $p "*) continue ;;
    esac
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

# node and npm for the browser tests (t/browser): by command, as a nodejs
# from elsewhere (NodeSource) brings its own npm and conflicts with
# Debian's npm package
if [ $node = yes ]; then
    command -v node >/dev/null 2>&1 || missing="$missing nodejs"
    command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi

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
