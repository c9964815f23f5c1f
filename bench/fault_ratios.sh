#!/usr/bin/env bash
# Builds fault_bench (Release, Ninja) in build/bench, runs it twice (threads placed by the
# OS, and everything pinned to CPU 0) with repetitions and random interleaving, and prints
# the round-trip ratios of issue 4 from the medians of one run each:
#   upager_loop / raw_uffd (target <= 2x), upager_inline / raw_uffd (target <= 1.25x),
#   raw_uffd / minor fault, per thread count and page order, plus isolated-fault p50s and
#   the first-store DIRTY round trip.
# On a VM whose idle vCPUs halt, a wake-up of a thread on the other CPU costs tens of
# microseconds and lands at random, so the OS-placed run is noisy; the pinned run measures
# the work of a round trip.
#
# Usage: bench/fault_ratios.sh [extra fault_bench flags]
# Environment: BUILD_DIR (default <repo>/build/bench), REPETITIONS (default 5),
# UPAGER_BENCH_FAULT_MIB (default 64).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
build="${BUILD_DIR:-$repo/build/bench}"
reps="${REPETITIONS:-5}"

mkdir -p "$build"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DUPAGER_BUILD_BENCHMARKS=ON \
  > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" --target fault_bench

run() {  # run <label> <json> [prefix...]
  local label="$1" json="$2"
  shift 2
  local cmd=("$@" "$build/bench/fault_bench" --benchmark_repetitions="$reps"
             --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
             --benchmark_out="$json" --benchmark_out_format=json)
  echo "+ [$label] ${cmd[*]}"
  "${cmd[@]}" > /dev/null
}
run "os-placed" "$build/fault_bench.json" env
run "pinned to CPU 0" "$build/fault_bench_cpu0.json" taskset -c 0

python3 - "$build/fault_bench.json" "$build/fault_bench_cpu0.json" <<'PY'
import json, sys

def medians(path):
    out = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        out[b["run_name"].replace("/manual_time", "")] = b
    return out

for path, label in ((sys.argv[1], "threads placed by the OS"), (sys.argv[2], "pinned to CPU 0")):
    m = medians(path)
    print(f"\n## {label}: ns per fault (median), ratios")
    print("| case | raw_uffd | upager_loop | upager_inline | minor (nofa) | loop/raw | inline/raw | raw/minor |")
    print("|---|---|---|---|---|---|---|---|")
    for threads in (1, 2):
        for order in ("seq", "random"):
            key = lambda v: f"BM_Fault/{v}/threads:{threads}/{order}"
            try:
                raw, loop, inl, minor = (m[key(v)]["ns_per_fault"] for v in
                                         ("raw_uffd", "upager_loop", "upager_inline", "minor_fault_nofa"))
            except KeyError:
                continue
            print(f"| {threads} thread(s), {order} | {raw:.0f} | {loop:.0f} | {inl:.0f} | {minor:.0f} "
                  f"| {loop/raw:.2f}x | {inl/raw:.2f}x | {raw/minor:.1f}x |")
    lat = {v: m.get(f"BM_FaultLatency/{v}/stride:1") for v in ("raw_uffd", "upager_loop", "upager_inline", "minor_fault_nofa")}
    if all(lat.values()):
        r = lat["raw_uffd"]["p50_ns"]
        print(f"\nisolated fault p50: raw {r:.0f} ns; upager_loop {lat['upager_loop']['p50_ns']/r:.2f}x, "
              f"upager_inline {lat['upager_inline']['p50_ns']/r:.2f}x, minor fault {lat['minor_fault_nofa']['p50_ns']/r:.2f}x of raw")
    for v in ("upager_loop", "upager_inline"):
        d = m.get(f"BM_FirstStoreDirty/{v}")
        if d and lat.get("raw_uffd"):
            print(f"first-store DIRTY round trip, {v}: p50 {d['p50_ns']:.0f} ns = "
                  f"{d['p50_ns']/lat['raw_uffd']['p50_ns']:.2f}x raw_uffd's read round trip p50")
PY
