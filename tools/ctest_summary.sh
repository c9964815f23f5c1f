#!/usr/bin/env bash
# ctest_summary.sh LOG: counts the tests of one ctest run from its output (LOG) and prints
#   ctest: P passed, F failed, S skipped (of T)
# followed by the name of every skipped test. ctest exits 0 when tests skip (a gtest case
# that called GTEST_SKIP is "Skipped", not "Failed"), so this is where skips become visible.
#
# Exit status: 0; 1 if CI is "true" and a test skipped (CI must run every test: a skip there
# means the machine lost a prerequisite, userfaultfd or nginx); 2 if LOG holds no ctest
# summary. Failures are left to ctest's own exit status.
set -euo pipefail

if (($# != 1)); then
  echo "usage: $0 CTEST_LOG" >&2
  exit 2
fi
log="$1"
if [[ ! -r "$log" ]]; then
  echo "ctest_summary: cannot read $log" >&2
  exit 2
fi

# "67% tests passed, 1 tests failed out of 3": the total counts skipped tests (as passed)
# but not disabled ones.
summary="$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)"
if [[ -z "$summary" ]]; then
  echo "ctest_summary: no ctest summary line in $log" >&2
  exit 2
fi
failed="$(sed -E 's/^[0-9]+% tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")"
total="$(sed -E 's/^[0-9]+% tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$summary")"

# "The following tests did not run:" then one "\t  12 - Suite.Name (Skipped)" line each.
mapfile -t skipped < <(sed -nE 's/^[[:space:]]+[0-9]+ - (.*) \(Skipped\)[[:space:]]*$/\1/p' "$log")
nskipped=${#skipped[@]}
passed=$((total - failed - nskipped))

echo "ctest: $passed passed, $failed failed, $nskipped skipped"
for name in "${skipped[@]}"; do
  echo "  skipped: $name"
done
if ((nskipped > 0)) && [[ "${CI:-}" == "true" ]]; then
  echo "ctest_summary: $nskipped test(s) skipped; CI=true requires every test to run" >&2
  exit 1
fi
exit 0
