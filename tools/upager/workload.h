// The demo's reader workload: N threads, each with its own contiguous slice of the pages,
// half scanning it in order and half visiting each of its pages once in a shuffled order,
// verifying a few words of every page they touch against the data set generator. The same
// plan runs on a mapped blob (upager) and on a plain mmap of the data file.
#ifndef UPAGER_TOOLS_UPAGER_WORKLOAD_H_
#define UPAGER_TOOLS_UPAGER_WORKLOAD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "upager/vmo.h"

namespace upager::cli {

struct WorkloadPlan {
  uint64_t content_size = 0;
  uint64_t pages_total = 0;
  size_t sequential_threads = 0;              // the first ones; the rest are random
  std::vector<std::vector<uint64_t>> orders;  // per thread: page indices, in visiting order
};

// `threads` readers over `content_size` bytes; shuffles are seeded, so plans repeat.
WorkloadPlan MakePlan(uint64_t content_size, size_t threads);

// Where the pages are read: a mapping (`base`, loads that may fault with SIGBUS), or else
// `vmo` through Vmo::Read of each page.
struct WorkloadTarget {
  const std::byte* base = nullptr;
  const Vmo* vmo = nullptr;
};

struct WorkloadResult {
  double seconds = 0;
  uint64_t pages_touched = 0;
  uint64_t verified_pages = 0;  // pages whose checked words all matched
  uint64_t mismatches = 0;      // pages with a wrong word
  uint64_t read_failures = 0;   // pages that could not be read (SIGBUS or a Read error)
  uint64_t errors() const { return mismatches + read_failures; }
};

// Runs `plan` on `target`, showing progress under `label`. The first few errors are
// printed to stderr.
WorkloadResult RunWorkload(const WorkloadPlan& plan, const WorkloadTarget& target,
                           const std::string& label);

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_WORKLOAD_H_
