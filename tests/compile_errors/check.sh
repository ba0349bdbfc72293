#!/usr/bin/env bash
# Compiles one case of missing_conversions.cpp, which must fail with bond's static_assert: the
# expected text, within a few lines of output rather than pages of nlohmann's overloads; then
# the same case with the conversions defined, which must compile.
# check.sh COMPILER INCLUDE_DIR CASE EXPECTED_REGEX MAX_LINES [MORE_COMPILER_FLAGS...]
set -euo pipefail
compiler=$1 include_dir=$2 case=$3 expected=$4 max_lines=$5
shift 5
source=$(dirname "$0")/missing_conversions.cpp
compile=("$compiler" -std=c++20 -fsyntax-only -I"$include_dir" "$@" "-DCASE_$case" "$source")
if output=$("${compile[@]}" 2>&1); then
    echo "compiled, but must not: ${compile[*]}" >&2
    exit 1
fi
echo "$output"
lines=$(wc -l <<< "$output")
echo "the compiler printed $lines lines"
grep -Eq "static.assert.*$expected" <<< "$output" ||
    { echo "no static_assert matching '$expected'" >&2; exit 1; }
[ "$(grep -c ': error: ' <<< "$output")" -eq 1 ] || { echo "more than one error" >&2; exit 1; }
[ "$lines" -le "$max_lines" ] || { echo "more than $max_lines lines" >&2; exit 1; }
"${compile[@]}" -DWITH_CONVERSIONS
