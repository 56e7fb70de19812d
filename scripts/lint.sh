#!/usr/bin/env bash
# `make lint`: the toolchain's `swift format lint --strict` with the committed .swift-format, over Sources, Tests and
# Package.swift, plus the plain-text rules of STYLE.md §7 that a line can break on its own. Exits non-zero on any
# finding.
#
# What fails: every finding of swift-format, both the rules .swift-format enables (naming, sorted imports, `///` doc
# comments, no parentheses around conditions, shorthand type names, …) and its pretty-printer layout (findings named
# Indentation, LineLength, AddLines, RemoveLine, Spacing, TrailingComma, EndOfLineComment); a file swift-format cannot
# parse (or any other non-zero exit); a tab, trailing whitespace, a missing final newline; a Sources/CLazyCrypto/stubs.c
# that differs from what scripts/gen-lazy-crypto.py generates now (it regenerates into a temporary file and compares).
# `swift format format --in-place --recursive --parallel --configuration .swift-format Sources Tests Package.swift`
# fixes the layout findings (an end-of-line comment too long for its line has to be moved by hand).
set -euo pipefail
cd "$(dirname "$0")/.."

paths=(Sources Tests Package.swift)

status=0
findings=$(swift format lint --strict --parallel --recursive --configuration .swift-format "${paths[@]}" 2>&1) || status=$?
findings=$(grep -v '^$' <<<"$findings" || true)
if [ "$status" -ne 0 ] && [ -z "$findings" ]; then
    findings="swift format lint: exited with status $status and no finding"
fi

mapfile -t files < <(find Sources Tests -name '*.swift' | sort; echo Package.swift)
text=$(grep -nP '\t| +$' "${files[@]}" | sed -E 's/^([^:]+:[0-9]+):.*/\1: error: tab or trailing whitespace/' || true)
for f in "${files[@]}"; do
    [ -z "$(tail -c1 "$f")" ] || text+=$'\n'"$f: error: no newline at end of file"
done
text=$(grep -v '^$' <<<"$text" || true)
# The OpenSSL stubs: a stale stubs.c would otherwise be found only by a failed link, or a function never resolved.
stubs=$(python3 scripts/gen-lazy-crypto.py --check 2>&1) || text+=$'\n'"$stubs"
text=$(grep -v '^$' <<<"$text" || true)

if [ -n "$findings$text" ]; then
    [ -z "$findings" ] || echo "$findings"
    [ -z "$text" ] || echo "$text"
    echo "lint: FAILED" >&2
    exit 1
fi
echo "lint: ok (${#files[@]} files)"
