#!/usr/bin/env bash
# How far could a cheaper message script take ChatPort against Nchan?
#
# Builds a copy of the module (build/bench/least-src) whose message script
# is bench/least-append.lua (store, point, notify: three commands, nothing
# else a message needs) and runs bench/fanout.sh with that module against
# Nchan-redis: the 5000-channel burst, the publish rate and the script's own
# ceiling. Issue #16's targets that this copy misses are out of reach of
# any change to the script on the machine that ran it.
#
#   bash bench/least-script.sh
#
# Settings: those of bench/fanout.sh (NS, TOPOLOGIES, REPEAT, ...), with
# these defaults: NS=5000 TOPOLOGIES=many SUBJECTS="chatport nchan-redis"
# FLOOR=0 TYPING=0 CLUSTER=0 CEILING=1. KEEP=1 keeps the copy.

set -eu

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=$REPO/build/bench/least-src

rm -rf "$SRC"
mkdir -p "$SRC"
tar -C "$REPO" --exclude=./build --exclude=./.git -cf - . | tar -C "$SRC" -xf -
cp "$REPO/bench/least-append.lua" "$SRC/src/lua/append.lua"
echo "building the module with bench/least-append.lua in $SRC"
make -s -C "$SRC" build/nginx/objs/ngx_http_chatport_module.so

echo "ChatPort below is that copy: its message script does 3 commands"
rc=0
NS=${NS:-5000} TOPOLOGIES=${TOPOLOGIES:-many} \
SUBJECTS=${SUBJECTS:-"chatport nchan-redis"} \
FLOOR=${FLOOR:-0} TYPING=${TYPING:-0} CLUSTER=${CLUSTER:-0} \
CEILING=${CEILING:-1} CHATPORT_BUILD=0 \
CHATPORT_MODULE=$SRC/build/nginx/objs/ngx_http_chatport_module.so \
    bash "$REPO/bench/fanout.sh" || rc=$?

[ "${KEEP:-0}" = 1 ] || rm -rf "$SRC"
exit $rc
