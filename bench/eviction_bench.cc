// Eviction quality and cost for mapped pages (issue 15, "LRU for mapped pages";
// docs/eviction.md). A working set of twice the page budget is loaded through a read-only
// Mapping, one word per access, in a skewed pattern: 80% of the accesses go to a hot 20%
// of the pages, uniformly; a fixed seed makes the trace the same for every run. For
//   (a) today's order (least recently supplied first: UPAGER_NO_MINOR_FAULTS),
//   (b) the CLOCK with second chance through MINOR faults,
//   (c) an ideal LRU, computed offline on the same trace (exact recency, free),
// it prints the faults (READ page requests) per access, and for (a) and (b) the cost: time
// per access and MINOR faults and clock steps (pages unmapped) per access. (a) and (b) run
// interleaved, ROUNDS times each; times are medians. The counts of (a) and (b) are also
// predicted offline from the trace (FIFO and the CLOCK model) as a check.
//
// Environment: UPAGER_BENCH_BUDGET_PAGES (default 4096), UPAGER_BENCH_ACCESSES (default
// 400000), UPAGER_BENCH_ROUNDS (default 3), UPAGER_BENCH_SEED (default 15).
// Needs userfaultfd (root, or vm.unprivileged_userfaultfd); exits 0 with a note without it.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "upager/mapping.h"
#include "upager/page_budget.h"
#include "upager/pager_loop.h"
#include "upager/stats.h"
#include "upager/vmo.h"

namespace upager {
namespace {

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* env = std::getenv(name);
  return env ? std::strtoull(env, nullptr, 10) : fallback;
}

// 80% of the accesses to the first 20% of the pages, 20% to the rest, uniformly within
// each; the hot pages are spread over the VMO by a fixed permutation.
std::vector<uint32_t> MakeTrace(uint64_t pages, uint64_t accesses, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint32_t> perm(pages);
  for (uint64_t i = 0; i < pages; ++i) perm[i] = static_cast<uint32_t>(i);
  std::shuffle(perm.begin(), perm.end(), rng);
  const uint64_t hot = pages / 5;
  std::vector<uint32_t> trace(accesses);
  for (uint32_t& t : trace) {
    const bool to_hot = rng() % 100 < 80;
    const uint64_t i = to_hot ? rng() % hot : hot + rng() % (pages - hot);
    t = perm[i];
  }
  return trace;
}

// Misses of an exact LRU of `budget` pages.
uint64_t LruMisses(const std::vector<uint32_t>& trace, uint64_t budget) {
  std::list<uint32_t> order;  // front: least recently used
  std::unordered_map<uint32_t, std::list<uint32_t>::iterator> where;
  uint64_t misses = 0;
  for (uint32_t page : trace) {
    auto it = where.find(page);
    if (it != where.end()) {
      order.splice(order.end(), order, it->second);
      continue;
    }
    ++misses;
    if (order.size() >= budget) {
      where.erase(order.front());
      order.pop_front();
    }
    order.push_back(page);
    where[page] = std::prev(order.end());
  }
  return misses;
}

// Misses predicted for the reclaimer with one page per READ, pages supplied into the
// mapping: least recently supplied first, or the CLOCK (docs/eviction.md).
uint64_t ModelMisses(const std::vector<uint32_t>& trace, uint64_t budget, bool clock) {
  struct Slot {
    uint32_t page;
    bool referenced;
  };
  std::list<Slot> order;  // front: the hand
  std::unordered_map<uint32_t, std::list<Slot>::iterator> where;
  uint64_t misses = 0;
  for (uint32_t page : trace) {
    auto it = where.find(page);
    if (it != where.end()) {
      it->second->referenced = true;
      continue;
    }
    ++misses;
    while (order.size() + 1 > budget) {
      for (size_t chances = order.size() + 1;; --chances) {
        if (!clock || chances <= 1 || !order.front().referenced) break;
        order.front().referenced = false;
        order.splice(order.end(), order, order.begin());
        where[order.back().page] = std::prev(order.end());
      }
      where.erase(order.front().page);
      order.pop_front();
    }
    order.push_back({page, true});
    where[page] = std::prev(order.end());
  }
  return misses;
}

class PatternHandler : public PagerLoop::Handler {
 public:
  void OnRead(const PagerLoop::Request& r) override {
    for (uint64_t off = 0; off < r.length; off += kPageSize) {
      page_[0] = (r.offset + off) / kPageSize;
      r.loop->pager().SupplyPagesFromBuffer(r.vmo, r.offset + off, kPageSize, page_);
    }
  }

 private:
  alignas(4096) uint64_t page_[kPageSize / sizeof(uint64_t)] = {};
};

struct Run {
  uint64_t faults = 0;  // pages requested
  uint64_t minor_faults = 0;
  uint64_t pages_aged = 0;
  double seconds = 0;
  bool clock = false;
  bool ok = false;
};

Run RunTrace(const std::vector<uint32_t>& trace, uint64_t pages, uint64_t budget, bool clock) {
  Run run;
  if (clock) {
    ::unsetenv("UPAGER_NO_MINOR_FAULTS");
  } else {
    ::setenv("UPAGER_NO_MINOR_FAULTS", "1", 1);
  }
  PagerLoop loop(1);
  if (loop.Start() != Status::kOk) return run;
  PatternHandler handler;
  Vmo vmo;
  if (loop.CreateVmo(0, pages * kPageSize, &handler, &vmo) != Status::kOk) return run;
  Mapping map;
  if (Mapping::Create(vmo, 0, pages * kPageSize, kMapRead, &map) != Status::kOk) return run;
  PageBudget::Default().SetLimit(PageBudget::Default().used() + budget);
  const Counters before = GetCounters();
  const auto start = std::chrono::steady_clock::now();
  bool correct = true;
  for (uint32_t page : trace) {
    const auto* word = reinterpret_cast<const volatile uint64_t*>(map.data() + page * kPageSize);
    correct &= *word == page;
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Counters after = GetCounters();
  PageBudget::Default().SetLimit(PageBudget::kUnlimited);
  run.faults = after.pages_requested - before.pages_requested;
  run.minor_faults = after.minor_faults - before.minor_faults;
  run.pages_aged = after.pages_aged - before.pages_aged;
  // Whether the clock ran: it ages pages as soon as anything is evicted.
  run.clock = run.pages_aged > 0;
  run.ok = correct;
  map.Reset();
  vmo.Reset();
  loop.Stop();
  ::unsetenv("UPAGER_NO_MINOR_FAULTS");
  return run;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Main() {
  std::string why;
  if (MappingSupport(&why) != Status::kOk) {
    std::printf("eviction_bench: skipped, mappings unavailable (%s)\n", why.c_str());
    return 0;
  }
  const uint64_t budget = EnvOr("UPAGER_BENCH_BUDGET_PAGES", 4096);
  const uint64_t accesses = EnvOr("UPAGER_BENCH_ACCESSES", 400000);
  const uint64_t rounds = std::max<uint64_t>(1, EnvOr("UPAGER_BENCH_ROUNDS", 3));
  const uint64_t seed = EnvOr("UPAGER_BENCH_SEED", 15);
  const uint64_t pages = 2 * budget;
  const std::vector<uint32_t> trace = MakeTrace(pages, accesses, seed);
  const double n = static_cast<double>(accesses);

  std::vector<Run> runs[2];
  for (uint64_t r = 0; r < rounds; ++r) {
    for (int clock = 0; clock < 2; ++clock)
      runs[clock].push_back(RunTrace(trace, pages, budget, clock));
  }
  std::printf("eviction_bench: budget %" PRIu64 " pages, working set %" PRIu64 " pages, %" PRIu64
              " accesses (80%% to 20%% of the pages, seed %" PRIu64 "), %" PRIu64
              " rounds, medians\n",
              budget, pages, accesses, seed, rounds);
  std::printf("%-26s %14s %14s %14s %14s %12s\n", "order", "faults/access", "predicted",
              "minor/access", "unmaps/access", "ns/access");
  int status = 0;
  const char* names[2] = {"(a) least recently supplied", "(b) CLOCK, MINOR faults"};
  double ns[2] = {0, 0};
  for (int clock = 0; clock < 2; ++clock) {
    std::vector<double> times, faults, minors, aged;
    for (const Run& run : runs[clock]) {
      if (!run.ok) status = 1;
      if (clock == 1 && !run.clock) {
        std::printf("note: no MINOR faults here: (b) ran as (a)\n");
      }
      times.push_back(run.seconds * 1e9 / n);
      faults.push_back(static_cast<double>(run.faults) / n);
      minors.push_back(static_cast<double>(run.minor_faults) / n);
      aged.push_back(static_cast<double>(run.pages_aged) / n);
    }
    ns[clock] = Median(times);
    const uint64_t model = ModelMisses(trace, budget, clock == 1);
    const double predicted = static_cast<double>(model) / n;
    for (const Run& run : runs[clock]) {
      if (run.faults != model && (clock == 0 || run.clock)) {
        std::printf("note: %s asked for %" PRIu64 " pages, the model %" PRIu64 "\n", names[clock],
                    run.faults, model);
      }
    }
    std::printf("%-26s %14.4f %14.4f %14.4f %14.4f %12.0f\n", names[clock], Median(faults),
                predicted, Median(minors), Median(aged), ns[clock]);
  }
  std::printf("%-26s %14.4f\n", "(c) ideal LRU (offline)",
              static_cast<double>(LruMisses(trace, budget)) / n);
  std::printf("time per access, (b)/(a): %.2f\n", ns[1] / ns[0]);
  if (status != 0) std::printf("error: a load read the wrong data\n");
  return status;
}

}  // namespace
}  // namespace upager

int main() { return upager::Main(); }
