// Helpers shared by request_bench's benchmarks: the failure flag, allocation and
// context-switch counters, and thread pinning for the cross-thread benchmarks.
#ifndef UPAGER_BENCH_REQUEST_BENCH_UTIL_H_
#define UPAGER_BENCH_REQUEST_BENCH_UTIL_H_

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "alloc_counter.h"
#include "upager/page_source.h"
#include "upager/status.h"

namespace upager_bench {

using upager::PageSourceProperties;
using upager::VmoDebugInfo;

inline constexpr VmoDebugInfo kDebugInfo{1, "bench"};
inline constexpr PageSourceProperties kUserPagerProperties{true, true, false, false};

// Set when any benchmark saw an allocation in its measured loop or an unexpected status.
inline std::atomic<bool> g_failed{false};

inline void Fail(benchmark::State& state, const char* what) {
  g_failed.store(true);
  std::fprintf(stderr, "request_bench: %s\n", what);
  state.SkipWithError(what);
}

// Reports allocations made since `start` as allocs_per_cycle (and the raw count), and fails
// the run if there were any.
inline void ReportAllocations(benchmark::State& state, uint64_t start, const char* bench) {
  const uint64_t allocs = upager_bench::AllocationCount() - start;
  const double cycles =
      static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
  state.counters["allocs_per_cycle"] = benchmark::Counter(static_cast<double>(allocs) / cycles);
  state.counters["allocs"] = benchmark::Counter(static_cast<double>(allocs));
  if (allocs != 0) {
    g_failed.store(true);
    std::fprintf(stderr, "request_bench: %s: %llu heap allocations in %lld measured cycles\n",
                 bench, static_cast<unsigned long long>(allocs),
                 static_cast<long long>(state.iterations()));
  }
}

// Context switches of the whole process so far (all threads). A voluntary one is a thread
// blocking, typically in a futex wait (a condition variable or a contended mutex).
// Involuntary ones are preemptions (for example by a thread woken on the same CPU).
struct ContextSwitches {
  long voluntary;
  long involuntary;
};
inline ContextSwitches CountContextSwitches() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return {usage.ru_nvcsw, usage.ru_nivcsw};
}

inline void ReportContextSwitches(benchmark::State& state, ContextSwitches start) {
  const ContextSwitches now = CountContextSwitches();
  const double cycles =
      static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
  state.counters["blocks_per_round_trip"] =
      benchmark::Counter(static_cast<double>(now.voluntary - start.voluntary) / cycles);
  state.counters["preempts_per_round_trip"] =
      benchmark::Counter(static_cast<double>(now.involuntary - start.involuntary) / cycles);
}

// Where the two threads of a cross-thread benchmark run. On a 2-vCPU guest this decides
// the cost of a wake-up far more than the code does: a thread woken on the CPU it shares
// with the waker costs a context switch; one woken on another, idle vCPU costs an
// inter-processor interrupt through the hypervisor. So each cross-thread benchmark runs
// with each placement, and upager is compared with the baseline under the same one.
enum class Pinning : int64_t { kUnpinned = 0, kSameCpu = 1, kSplitCpus = 2 };

// The CPUs this process may run on.
inline std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) {
        cpus.push_back(cpu);
      }
    }
  }
  return cpus;
}

// Pins the calling thread to `cpu` (no-op for cpu < 0).
inline bool PinCurrentThread(int cpu) {
  if (cpu < 0) {
    return true;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

// The CPUs for the benchmark thread and the other thread under `pinning` (-1: unpinned);
// false if the placement is impossible here.
inline bool ChooseCpus(Pinning pinning, int* main_cpu, int* other_cpu) {
  const std::vector<int> cpus = AllowedCpus();
  *main_cpu = *other_cpu = -1;
  switch (pinning) {
    case Pinning::kUnpinned: return true;
    case Pinning::kSameCpu:
      if (cpus.empty()) return false;
      *main_cpu = *other_cpu = cpus[0];
      return true;
    case Pinning::kSplitCpus:
      if (cpus.size() < 2) return false;
      *main_cpu = cpus[0];
      *other_cpu = cpus[1];
      return true;
  }
  return false;
}

// Pins the calling thread for its lifetime and restores its previous affinity afterwards.
class ScopedPin {
 public:
  explicit ScopedPin(int cpu) : active_(cpu >= 0) {
    if (active_) {
      CPU_ZERO(&saved_);
      active_ = pthread_getaffinity_np(pthread_self(), sizeof(saved_), &saved_) == 0 &&
                PinCurrentThread(cpu);
    }
  }
  ~ScopedPin() {
    if (active_) {
      pthread_setaffinity_np(pthread_self(), sizeof(saved_), &saved_);
    }
  }
  ScopedPin(const ScopedPin&) = delete;
  ScopedPin& operator=(const ScopedPin&) = delete;

 private:
  bool active_;
  cpu_set_t saved_;
};

}  // namespace upager_bench

#endif  // UPAGER_BENCH_REQUEST_BENCH_UTIL_H_
