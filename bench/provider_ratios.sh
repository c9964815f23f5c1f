#!/usr/bin/env bash
# Builds the `upager` command (Release, Ninja) in build/bench and runs `upager bench` twice:
# threads placed by the OS, then the whole process pinned to CPU 0. Each prints one table of
# ratios (upager time / baseline time, medians of REPETITIONS runs):
#   FileProvider through a Mapping vs plain mmap, both cold (posix_fadvise DONTNEED), for
#   sequential, backward and random page scans, read-ahead off and adaptive;
#   BlobProvider vs `zstd -d` of the same data; HttpProvider vs `curl` of the same ranges
#   from nginx on 127.0.0.1.
# On a VM whose idle vCPUs halt, waking a thread on the other CPU costs tens of microseconds
# at random, and a mapped fault crosses threads twice; the pinned run shows the work of a
# round trip without that.
#
# Usage: bench/provider_ratios.sh [extra `upager bench` flags, e.g. --file-mib 256]
# Environment: BUILD_DIR (default <repo>/build/bench), REPETITIONS (default 3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
build="${BUILD_DIR:-$repo/build/bench}"
reps="${REPETITIONS:-3}"

mkdir -p "$build"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DUPAGER_BUILD_BENCHMARKS=ON \
  > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" --target upager_cli

echo "== placed by the OS"
"$build/tools/upager/upager" bench --repetitions "$reps" "$@"
echo
echo "== pinned to CPU 0 (taskset -c 0)"
taskset -c 0 "$build/tools/upager/upager" bench --repetitions "$reps" "$@"
