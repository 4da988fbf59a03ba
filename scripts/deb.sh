#!/bin/sh
# Builds the Debian package libnginx-mod-http-chatport_VERSION_ARCH.deb
# with dpkg-deb, laid out as Debian's own libnginx-mod-* packages: the .so
# in /usr/lib/nginx/modules/, its load_module line in
# /usr/share/nginx/modules-available/mod-http-chatport.conf, enabled by
# postinst (packaging/deb/).
# Usage: deb.sh MODULE.so NGINX_BUILD_DIR OUTDIR
#   NGINX_BUILD_DIR is the nginx source the module was built in (its
#   debian/libnginx-mod.abisubstvars names the ABI); prints the .deb's path.
set -eu

module=$1
nginx_dir=$2
out=$3

top=$(cd "$(dirname "$0")/.." && pwd)
pkg=libnginx-mod-http-chatport
src="$top/packaging/deb"

version=$(cat "$top/VERSION")
arch=$(dpkg --print-architecture)
abi=$(sed -n 's/^nginx:abi=//p' "$nginx_dir/debian/libnginx-mod.abisubstvars")

case "$abi" in
    nginx-abi-[0-9]*) ;;
    *)
        echo "chatport: no nginx:abi in" \
             "$nginx_dir/debian/libnginx-mod.abisubstvars" >&2
        exit 1
        ;;
esac

mkdir -p "$out"
work=$(mktemp -d "$out/deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# dpkg-shlibdeps wants debian/control and the binaries below debian/PKG/
root="$work/debian/$pkg"
doc="$root/usr/share/doc/$pkg"
umask 022

install -d "$root/DEBIAN" "$root/usr/lib/nginx/modules" \
    "$root/usr/share/nginx/modules-available" "$doc"

# stripped as dh_strip does
install -m 644 "$module" "$root/usr/lib/nginx/modules/"
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$root/usr/lib/nginx/modules/$(basename "$module")"

install -m 644 "$src/mod-http-chatport.conf" \
    "$root/usr/share/nginx/modules-available/"
install -m 644 "$src/copyright" "$doc/"
gzip -9n < "$top/README.md" > "$doc/README.md.gz"
chmod 644 "$doc/README.md.gz"

for script in postinst prerm postrm; do
    install -m 755 "$src/$script" "$root/DEBIAN/"
done

printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" \
    > "$work/debian/control"
# (-e and the file in one argument: dpkg-shlibdeps takes no separate one)
shlibs=$(cd "$work" && dpkg-shlibdeps -O \
             "-edebian/$pkg/usr/lib/nginx/modules/$(basename "$module")" \
         | sed -n 's/^shlibs:Depends=//p')

[ -n "$shlibs" ] || { echo "chatport: dpkg-shlibdeps found nothing" >&2; exit 1; }

maintainer="${DEBFULLNAME:-ChatPort maintainers} <${DEBEMAIL:-chatport@localhost}>"

# a native package's changelog: one entry, dated as the last commit
date=$(git -C "$top" log -1 --format=%aD 2>/dev/null) || date=$(date -R)
printf '%s (%s) unstable; urgency=medium\n\n  * ChatPort %s.\n\n -- %s  %s\n' \
    "$pkg" "$version" "$version" "$maintainer" "$date" \
    | gzip -9n > "$doc/changelog.gz"
chmod 644 "$doc/changelog.gz"

(cd "$root" && find usr -type f | LC_ALL=C sort | xargs md5sum) \
    > "$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/md5sums"

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)

grep -v '^#' "$src/control.in" | sed \
    -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" \
    -e "s|@MAINTAINER@|$maintainer|" -e "s|@SIZE@|$size|" \
    -e "s|@ABI@|$abi|" -e "s|@SHLIBS@|$shlibs|" > "$root/DEBIAN/control"

deb="$out/${pkg}_${version}_$arch.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
