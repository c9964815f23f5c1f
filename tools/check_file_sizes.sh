#!/usr/bin/env bash
# Checks that no source file is over a line limit (the project's "no source file over about
# 600 lines": one concept per file). Lists every offender as file:lines and exits 1.
#
# Usage: tools/check_file_sizes.sh [LIMIT] [FOLDER...]
#   LIMIT    maximum lines per file (default 650: 600 and a margin)
#   FOLDER   folders to check (default: src include compat tools bench tests examples)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
limit="${1:-650}"
if ! [[ "$limit" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 [LIMIT] [FOLDER...]" >&2
  exit 2
fi
shift || true
folders=("$@")
[ ${#folders[@]} -gt 0 ] || folders=(src include compat tools bench tests examples)

cd "$root"
offenders=0
checked=0
while IFS= read -r -d '' file; do
  checked=$((checked + 1))
  lines=$(wc -l < "$file")
  if [ "$lines" -gt "$limit" ]; then
    echo "$file: $lines lines (limit $limit): split it by concern" >&2
    offenders=$((offenders + 1))
  fi
done < <(find "${folders[@]}" -type f \( -name '*.cc' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' \) \
           -not -path '*/build/*' -print0 2>/dev/null | sort -z)

if [ "$offenders" -gt 0 ]; then
  echo "check_file_sizes: $offenders of $checked files over $limit lines" >&2
  exit 1
fi
echo "check_file_sizes: $checked files, none over $limit lines"
