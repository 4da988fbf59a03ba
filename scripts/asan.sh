#!/bin/sh
# Runs the Test::Nginx suite (or TEST_FILES) against the ASan+UBSan nginx
# and module, and fails when any sanitizer report was written.
# Usage: asan.sh /abs/path/nginx /abs/path/ngx_http_chatport_module.so
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
reports="$top/build/asan/reports"

rm -rf "$reports"
mkdir -p "$reports"

# nginx keeps only the environment its "env" directives name, but the
# sanitizer runtimes read these when the master starts and the workers
# inherit them through fork()
export ASAN_OPTIONS="log_path=$reports/san:halt_on_error=1:\
detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:\
check_initialization_order=1"
# use_tls=0: scanning the dynamic TLS of a process with dlopen()ed
# modules crashes LeakSanitizer's tracer here ("Tracer caught signal 11",
# DTLS with a bogus range); nginx keeps no heap pointer in TLS
export LSAN_OPTIONS="suppressions=$top/lsan.suppress:print_suppressions=0:\
use_tls=0"
export UBSAN_OPTIONS="log_path=$reports/san:halt_on_error=1:\
print_stacktrace=1:suppressions=$top/ubsan.suppress"

files=${TEST_FILES:-$(cd "$top" && grep -l 'use Test::Nginx::Socket' t/*.t)}

start=$(date +%s)
TEST_NGINX_BINARY=$1 TEST_FILES=$(echo $files) sh "$top/scripts/test.sh" "$2"
rc=$?
echo "chatport: sanitizer run took $(($(date +%s) - start))s"

if [ -n "$(ls "$reports")" ]; then
    echo "chatport: sanitizer reports in $reports:"
    cat "$reports"/*
    exit 1
fi

exit $rc
