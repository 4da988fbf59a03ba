#!/bin/sh
# Lays out the full source of the installed nginx version in DIR for the
# sanitizer build. Debian's nginx-dev ships only headers and build scripts,
# so the source comes from the upstream tarball that Debian builds its
# package from (apt-get source, enabling Debian's source lists if needed).
# Usage: nginx-src.sh DIR
set -eu

dir=$1
version=$(dpkg-query -W -f='${Version}' nginx)
upstream=${version%%-*}
tarball="nginx_$upstream.orig.tar.gz"
cache=$(dirname "$dir")

if [ ! -s "$cache/$tarball" ]; then
    if ! apt-cache showsrc nginx 2>/dev/null | grep -q "^Version: $version"
    then
        src=/etc/apt/sources.list.d/debian.sources
        [ -f "$src" ] || { echo "chatport: no $src to add deb-src to"; exit 1; }
        sed 's/^Types: deb$/Types: deb-src/' "$src" \
            > /etc/apt/sources.list.d/chatport-deb-src.sources
        apt-get update -q
    fi

    # only the orig tarball is needed: the Debian part may be missing from
    # the mirror, which makes apt-get fail after it got the tarball
    (cd "$cache" && apt-get source -q --download-only "nginx=$version") \
        || true
    [ -s "$cache/$tarball" ] || { echo "chatport: no $tarball"; exit 1; }
fi

rm -rf "$dir" "$cache/nginx-$upstream"
tar -xzf "$cache/$tarball" -C "$cache"
mv "$cache/nginx-$upstream" "$dir"
