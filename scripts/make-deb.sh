#!/usr/bin/env bash
# `make deb`: builds happy_<version>_<arch>.deb in the repository root with dpkg-deb. Contents: the stripped release
# binary (static Swift runtime) in /usr/bin, the man page, and the completions where Debian's bash-completion, zsh and
# fish look. `Depends` comes from dpkg-shlibdeps over the binary's shared libraries (dpkg-dev, see
# scripts/install-deps.sh), plus the shlibs entry of libcrypto.so.3, which happy loads on first use rather than at
# start-up; so it names libsodium, libqrencode, libssl3, libc … and never a Swift runtime.
# Prints the path of the .deb on its last line. HAPPY_DEB_PREBUILT=1 packages the release binary already in .build
# instead of building it: `swift test` holds SwiftPM's lock on .build, so a test cannot run `swift build` (make test
# builds the release binary before the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

version=$(sed -nE 's/.*static let current = "([^"]+)".*/\1/p' Sources/HappyKit/Base/Version.swift)
[ -n "$version" ] || { echo "make-deb: no version in Sources/HappyKit/Base/Version.swift" >&2; exit 1; }
arch=$(dpkg --print-architecture)
deb="$root/happy_${version}_${arch}.deb"

read -ra flags < scripts/release.flags   # the flags of make release
if [ "${HAPPY_DEB_PREBUILT:-}" = 1 ]; then
    bin="$root/.build/release/happy"
    [ -x "$bin" ] || { echo "make-deb: no $bin: run swift build ${flags[*]} --product happy" >&2; exit 1; }
else
    swift build "${flags[@]}" --product happy
    bin="$(swift build "${flags[@]}" --show-bin-path)/happy"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg="$work/pkg"
install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/share/man/man1" "$pkg/usr/share/bash-completion/completions" \
    "$pkg/usr/share/zsh/vendor-completions" "$pkg/usr/share/fish/vendor_completions.d"
install -m 0755 -s "$bin" "$pkg/usr/bin/happy"
gzip -9n < completions/happy.1 > "$pkg/usr/share/man/man1/happy.1.gz"
chmod 0644 "$pkg/usr/share/man/man1/happy.1.gz"
install -m 0644 completions/happy.bash "$pkg/usr/share/bash-completion/completions/happy"
install -m 0644 completions/_happy "$pkg/usr/share/zsh/vendor-completions/_happy"
install -m 0644 completions/happy.fish "$pkg/usr/share/fish/vendor_completions.d/happy.fish"

# dpkg-shlibdeps wants a source tree: debian/control with a source and a binary stanza, run from its parent.
mkdir "$work/debian"
printf 'Source: happy\n\nPackage: happy\nArchitecture: any\n' > "$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O -e pkg/usr/bin/happy 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "make-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
if grep -qi swift <<<"$depends"; then echo "make-deb: a Swift runtime in Depends: $depends" >&2; exit 1; fi
# Libraries happy loads on first use rather than at start-up (CLazyCrypto's loader.c) are not in the binary's NEEDED
# list, so dpkg-shlibdeps cannot see them. The binary names them in its ELF dlopen note (systemd's .note.dlopen, JSON
# with "soname" lists); each adds its package's own shlibs entry (libcrypto.so.3 -> libssl3).
sonames=$(readelf -p .note.dlopen "$pkg/usr/bin/happy" 2>/dev/null | grep -o '"soname":\[[^]]*\]' \
    | grep -o '"lib[^"]*"' | tr -d '"' | sort -u)
[ -n "$sonames" ] || { echo "make-deb: the binary has no .note.dlopen naming a soname" >&2; exit 1; }
for soname in $sonames; do
    name=${soname%%.so.*} major=${soname##*.so.}
    owner=$(dpkg -S "*/$soname" 2>/dev/null | sed -n '1s/: .*//p')
    dep=$(dpkg-query --control-show "$owner" shlibs 2>/dev/null | awk -v n="$name" -v m="$major" \
        '$1 == n && $2 == m { $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }')
    [ -n "$dep" ] || { echo "make-deb: no shlibs entry for $soname (owner: ${owner:-none})" >&2; exit 1; }
    depends+=", $dep"
done
# Packed relative relocations (DT_RELR, see Package.swift) need glibc 2.36's loader. The binary records that as a
# GLIBC_ABI_DT_RELR version need, which carries no symbol, so dpkg-shlibdeps does not see it: raise libc6 to match.
if readelf -V "$pkg/usr/bin/happy" | grep -q 'Name: GLIBC_ABI_DT_RELR'; then
    libc=$(sed -nE 's/.*libc6 \(>= ([^)]+)\).*/\1/p' <<<"$depends")
    if [ -z "$libc" ]; then
        depends+=", libc6 (>= 2.36)"
    elif dpkg --compare-versions "$libc" lt 2.36; then
        depends=$(sed -E 's/libc6 \(>= [^)]+\)/libc6 (>= 2.36)/' <<<"$depends")
    fi
fi

cat > "$pkg/DEBIAN/control" <<CONTROL
Package: happy
Version: $version
Architecture: $arch
Maintainer: happy developers <happy@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
Depends: $depends
Section: utils
Priority: optional
Homepage: https://happy.engineering
Description: log a terminal into a Happy server
 happy logs this terminal into a Happy server: by QR code approved in the Happy
 app, by a device certificate (file or PKCS#11 token), or by approving another
 terminal's login.
CONTROL

dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb"
