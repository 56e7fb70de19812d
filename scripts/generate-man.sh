#!/usr/bin/env bash
# Regenerates completions/happy.1 from the ArgumentParser definitions with ArgumentParser's own generate-manual
# tool (built once into .build-tools from the resolved swift-argument-parser checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product happy
parser=".build/checkouts/swift-argument-parser"
[ -d "$parser" ] || swift package resolve
swift build --package-path "$parser" --scratch-path .build-tools --product generate-manual
out="$(mktemp -d)"
.build-tools/debug/generate-manual "$(swift build --show-bin-path)/happy" --output-directory "$out" \
    --date 2026-11-23 --section 1 --authors "The happy developers"
cp "$out/happy.1" completions/happy.1
rm -rf "$out"
echo "wrote completions/happy.1"
