#!/usr/bin/env bash
# Builds request_bench (Release, Ninja) in build/bench, runs it with repetitions and prints
# the medians and the ratios that matter:
#   - sync cycle at N=100000 and N=1000 outstanding requests / at N=10 (requirement: <= 2x),
#     for the measured request in the middle gap (same tree path every cycle) and in a
#     random gap (a different path every cycle, so cache and branch misses count),
#   - the same for the async (completion) cycle and for a bare boost::intrusive::set control,
#   - heap allocations per cycle (requirement: 0),
#   - cross-thread round trip vs a bare condition-variable ping-pong, with the two threads
#     placed by the OS, pinned to one CPU, and pinned to one CPU each.
# Single-thread cycles use CPU-time medians (robust against the VM being descheduled);
# cross-thread round trips use real-time medians.
#
# Usage: bench/run.sh [extra request_bench flags, e.g. --benchmark_min_time=0.2]
# Environment: BUILD_DIR (default <repo>/build/bench), REPETITIONS (default 5).
# Exit status: that of request_bench (non-zero if a measured loop allocated or a cycle went
# wrong); the ratio checks are printed as PASS/FAIL.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
build="${BUILD_DIR:-$repo/build/bench}"
reps="${REPETITIONS:-5}"
json="$build/request_bench.json"

mkdir -p "$build"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DUPAGER_BUILD_BENCHMARKS=ON \
  > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" --target request_bench

# Random interleaving runs the repetitions of all benchmarks in a shuffled order, so that a
# burst of load from elsewhere on the machine does not land on one benchmark only.
cmd=("$build/bench/request_bench" --benchmark_repetitions="$reps"
     --benchmark_enable_random_interleaving=true
     --benchmark_report_aggregates_only=true
     --benchmark_out="$json" --benchmark_out_format=json "$@")
echo "+ ${cmd[*]}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
"${cmd[@]}" || status=$?
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$json" <<'EOF'
import json, sys

data = json.load(open(sys.argv[1]))
agg = {}  # (run_name, aggregate) -> benchmark entry
for b in data["benchmarks"]:
    if b.get("run_type") == "aggregate":
        agg[(b["run_name"], b["aggregate_name"])] = b

def ns(entry, field):
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[entry["time_unit"]]
    return entry[field] * scale

def cycle(family, random, n, field="cpu_time"):
    e = agg.get((f"{family}/random:{random}/outstanding:{n}", "median"))
    return None if e is None else ns(e, field)

def fmt(x, unit=""):
    return "n/a" if x is None else f"{x:,.1f}{unit}"

def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b

def check(value, limit):
    if value is None:
        return ""
    return "PASS" if value <= limit else "FAIL"

print()
print(f"{'median CPU ns per cycle':46} {'N=10':>10} {'N=1000':>10} {'N=10000':>10} {'N=100000':>10}"
      f" {'1000/10':>8} {'100000/10':>10}  check(<=2x)")
for family, label in (("BM_SyncCycle", "sync cycle (GetPages..Wait)"),
                      ("BM_AsyncCycle", "async cycle (completion)"),
                      ("BM_ControlIntrusiveSet", "control: bare intrusive set")):
    for random, where in ((0, "middle gap"), (1, "random gap")):
        c = {n: cycle(family, random, n) for n in (10, 1000, 10000, 100000)}
        r1, r2 = ratio(c[1000], c[10]), ratio(c[100000], c[10])
        chk = check(r2, 2.0) if family != "BM_ControlIntrusiveSet" else "(reference)"
        print(f"{label + ', ' + where:46} {fmt(c[10]):>10} {fmt(c[1000]):>10} {fmt(c[10000]):>10}"
              f" {fmt(c[100000]):>10} {fmt(r1, 'x'):>8} {fmt(r2, 'x'):>10}  {chk}")

# Allocations: the mean over repetitions is 0 only if every repetition was 0.
allocs = [(name, e["allocs_per_cycle"]) for (name, a), e in agg.items()
          if a == "mean" and "allocs_per_cycle" in e]
worst = max(allocs, key=lambda t: t[1]) if allocs else (None, None)
print()
print(f"allocs per cycle, max over {len(allocs)} benchmarks (mean of reps): "
      f"{worst[1] if worst[1] is not None else 'n/a'}"
      f"{'' if not worst[1] else '  (' + worst[0] + ')'}  "
      f"{'PASS' if worst[1] == 0 else 'FAIL'}")
setup = agg.get(("BM_SyncCycle/random:0/outstanding:100000", "median"), {}).get("setup_allocs")
print(f"  (counter check: setting up 100000 outstanding requests counted {fmt(setup)} allocations)")

def f2(x):
    return "n/a" if x is None else f"{x:.2f}"

def rt(name):
    e = agg.get((name, "median"))
    if e is None or e.get("error_occurred"):
        return None
    return {"ns": ns(e, "real_time"), "blocks": e.get("blocks_per_round_trip"),
            "preempts": e.get("preempts_per_round_trip")}

print()
print(f"{'cross-thread, median real time':25} {'variant':42} {'ns/round trip':>14}"
      f" {'round trips/s':>14} {'vs condvar':>10} {'blocks/rt':>9} {'preempts/rt':>11}")
for pin, where in ((0, "OS placement"), (1, "both on one CPU"), (2, "one CPU each")):
    base = rt(f"BM_CrossThread_CondVarPingPong/pinning:{pin}/notify_under_lock:0/real_time")
    up = f"BM_CrossThread_PageRequest/pinning:{pin}"
    cv = f"BM_CrossThread_CondVarPingPong/pinning:{pin}"
    for label, name in (
            ("upager GetPages+Wait <-> worker", f"{up}/timed_waits:1/real_time"),
            ("  same, timeouts off (untimed sleep)", f"{up}/timed_waits:0/real_time"),
            ("condvar ping-pong (baseline)", f"{cv}/notify_under_lock:0/real_time"),
            ("condvar ping-pong, notify under lock", f"{cv}/notify_under_lock:1/real_time")):
        v = rt(name)
        t = v and v["ns"]
        print(f"{where:25} {label:42} {fmt(t):>14} {fmt(None if not t else 1e9 / t):>14}"
              f" {fmt(ratio(t, base and base['ns']), 'x'):>10} {f2(v and v['blocks']):>9}"
              f" {f2(v and v['preempts']):>11}")
EOF
exit "$status"
