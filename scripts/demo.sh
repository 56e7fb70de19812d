#!/usr/bin/env bash
# make demo: a real `happy auth login` against the local Happy server, approved by its built-in account
# exactly as the phone app would approve it. Needs no phone and touches nothing outside a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build

echo "==> building (the first build takes a few minutes)"
swift build --product happy
swift build --product happy-test-server
bin="$(swift build --show-bin-path)"

work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# The built-in account's master secret, shared by the server and by `approve` (the phone), never printed.
HAPPY_TEST_SERVER_SECRET="$(head -c 32 /dev/urandom | base64)"
export HAPPY_TEST_SERVER_SECRET
"$bin/happy-test-server" serve --port 0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/server.out" && break; sleep 0.1; done
server="$(sed -n 's/^listening on //p' "$work/server.out")"
[ -n "$server" ] || { echo "the local server did not start:"; cat "$work/server.err"; exit 1; }
echo "==> local Happy server at $server"

export HAPPY_HOME_DIR="$work/home" HAPPY_SERVER_URL="$server"
echo "==> happy auth login   (HAPPY_HOME_DIR=$HAPPY_HOME_DIR)"
"$bin/happy" auth login --method mobile --timeout 60 | tee "$work/login.out" &
login_pid=$!
for _ in $(seq 100); do grep -q '^happy://terminal?' "$work/login.out" && break; sleep 0.1; done
url="$(grep -m1 '^happy://terminal?' "$work/login.out")"
sleep 2   # time to look at the QR code
echo "==> approving from the server's built-in account, as the phone would"
"$bin/happy-test-server" approve --server "$server" "$url"
wait "$login_pid"

echo "==> happy auth status"
"$bin/happy" auth status
echo "==> files"
ls -la "$HAPPY_HOME_DIR"
