// AllocationCount: how many times operator new has run in this binary. Only in the test
// binaries built with counting_allocator.cc, which replaces the global allocator with one
// that counts (allocation_test, clock_allocation_test, clone_allocation_test).
#ifndef UPAGER_TESTS_COUNTING_ALLOCATOR_H_
#define UPAGER_TESTS_COUNTING_ALLOCATOR_H_

#include <cstdint>

namespace upager::testing {

uint64_t AllocationCount();

}  // namespace upager::testing

#endif  // UPAGER_TESTS_COUNTING_ALLOCATOR_H_
