#!/usr/bin/env bash
# `make lint`: the toolchain's `swift format lint --strict` with the committed .swift-format, over Sources, Tests and
# Package.swift, plus the plain-text rules of STYLE.md §7 that a line can break on its own. Exits non-zero on any
# finding.
#
# What fails: every finding of the swift-format rules .swift-format enables (naming, sorted imports, `///` doc
# comments, no parentheses around conditions, shorthand type names, …), a file swift-format cannot parse, a tab,
# trailing whitespace, a missing final newline.
# What is only counted: swift-format's pretty-printer diff (findings named Indentation, LineLength, AddLines,
# RemoveLine, Spacing, TrailingComma, EndOfLineComment). swift-format 6 has no switch to turn that pass off, and the
# tree's hand-aligned continuation lines differ from its layout in some 1,000 places; passing it would mean
# reformatting every file while others edit them. So the layout pass is reported as a count, not enforced.
set -euo pipefail
cd "$(dirname "$0")/.."

paths=(Sources Tests Package.swift)
layout='\[(Indentation|LineLength|AddLines|RemoveLine|Spacing|TrailingComma|EndOfLineComment)\]'

out=$(swift format lint --strict --parallel --recursive --configuration .swift-format "${paths[@]}" 2>&1 || true)
findings=$(grep -Ev "$layout" <<<"$out" | grep -v '^$' || true)
advisory=$(grep -Ec "$layout" <<<"$out" || true)

mapfile -t files < <(find Sources Tests -name '*.swift' | sort; echo Package.swift)
text=$(grep -nP '\t| +$' "${files[@]}" | sed -E 's/^([^:]+:[0-9]+):.*/\1: error: tab or trailing whitespace/' || true)
for f in "${files[@]}"; do
    [ -z "$(tail -c1 "$f")" ] || text+=$'\n'"$f: error: no newline at end of file"
done
text=$(grep -v '^$' <<<"$text" || true)

echo "swift format: $advisory layout differences (not enforced, see scripts/lint.sh)"
if [ -n "$findings$text" ]; then
    [ -z "$findings" ] || echo "$findings"
    [ -z "$text" ] || echo "$text"
    echo "lint: FAILED" >&2
    exit 1
fi
echo "lint: ok (${#files[@]} files)"
