#!/usr/bin/env bash
# Installs the Debian packages `happy` needs: `build` for building it, `lint` for `make lint` (build + what
# scripts/gen-lazy-crypto.py runs to check Sources/CLazyCrypto/stubs.c: python3, nm from binutils, OpenSSL's headers and
# libcrypto.so.3), `test` for the test suite (build + the real programs the end-to-end tests drive). Only what is
# missing is installed; nothing happens when all are present.
# Used by `make test`, `make demo` and .ci/run, so a fresh Debian 12 with Swift passes `make test` alone.
set -euo pipefail

build=(pkg-config libsodium-dev libqrencode-dev libssl-dev libp11-kit-dev)
lint=("${build[@]}" python3 binutils)
# openssl: test PKI and OCSP responder · nginx-light: forwarded mTLS · tinyproxy: proxy tests · zbar-tools: QR
# scanning · ca-certificates: the system trust store · util-linux: flock(1), script(1) · procps: ps
# · dpkg-dev: dpkg-shlibdeps for `make deb` · binutils: strip · strace: slows fsync for the mid-write signal test
# · python3: scripts/test-support (hostile server, daemon stand-in) · softhsm2, opensc (pkcs11-tool, pkcs11-spy),
# p11-kit: PKCS#11 tokens, used through the module (no OpenSSL engine) · swtpm, swtpm-tools, libtss2-tcti-swtpm0,
# tpm2-openssl (OpenSSL 3's tpm2 provider), tpm2-tools: a software TPM 2.0 for the TSS2 key tests · faketime: OCSP
# answers made in the past (stale-answer tests)
test=("${build[@]}" openssl ca-certificates nginx-light tinyproxy zbar-tools util-linux procps make dpkg-dev
      binutils strace python3 softhsm2 opensc p11-kit swtpm swtpm-tools libtss2-tcti-swtpm0 tpm2-openssl tpm2-tools
      faketime)

case "${1:-test}" in
    build) packages=("${build[@]}") ;;
    lint) packages=("${lint[@]}") ;;
    test) packages=("${test[@]}") ;;
    *) echo "usage: $0 [build|lint|test]" >&2; exit 64 ;;
esac

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

echo "==> installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
# policy-rc.d keeps the nginx/tinyproxy packages from starting system services during install (the tests start
# their own on loopback ports). An existing policy is left as it is.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    made_policy=1
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
[ -z "$made_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
