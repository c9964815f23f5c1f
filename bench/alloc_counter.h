// Heap-allocation counting for the benchmarks (see alloc_counter.cc, which replaces the
// global operator new/delete of any binary it is linked into).
#ifndef UPAGER_BENCH_ALLOC_COUNTER_H_
#define UPAGER_BENCH_ALLOC_COUNTER_H_

#include <cstdint>

namespace upager_bench {

// Calls to any operator new since the program started, by any thread.
uint64_t AllocationCount();

}  // namespace upager_bench

#endif  // UPAGER_BENCH_ALLOC_COUNTER_H_
