// A MINOR fault allocates nothing (docs/eviction.md): this binary replaces the global
// allocator with a counting one and loads pages that the reclaimer's clock has unmapped,
// between two readings of the counter. The fault thread's periodic work (overtime scan,
// untracked-fault watch) is turned off for the window, so that only the faults run there.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "counting_allocator.h"
#include "mapping_util.h"
#include "mapping_word.h"
#include "upager/mapping.h"
#include "upager/page_budget.h"
#include "upager/stats.h"
#include "upager/thread.h"
#include "user_pager.h"
#include "vm/page_reclaimer.h"

namespace upager::testing {
namespace {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }

// With `through_clone`, the loads go through a mapping of an at-least-on-write clone of the
// VMO (its MINOR faults mark the root's pages: docs/clones.md), the VMO itself not mapped.
void CheckMinorFaultsDoNotAllocate(bool through_clone) {
  const PagerTimeouts saved = GetPagerTimeouts();
  SetPagerTimeouts({std::chrono::milliseconds(0), std::chrono::milliseconds(0)});
  constexpr uint64_t kPages = 64;
  UserPager pager;
  auto vmo = pager.CreateVmo(kPages + 1);
  ASSERT_TRUE(vmo);
  Vmo clone;
  if (through_clone) {
    ASSERT_EQ(vmo->vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, P(kPages + 1), &clone),
              Status::kOk);
  }
  Mapping map;
  ASSERT_EQ(Mapping::Create(through_clone ? clone : vmo->vmo, 0, P(kPages + 1), kMapRead, &map),
            Status::kOk);
  if (!internal::PageReclaimer::Default().clock()) {
    SetPagerTimeouts(saved);
    UPAGER_SKIP_OR_FAIL("no userfaultfd MINOR faults with write-protected CONTINUE");
  }
  const uint64_t base = PageBudget::Default().used();
  const uint64_t aged_before = GetCounters().pages_aged;
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kPages), Status::kOk);
  PageBudget::Default().SetLimit(base + kPages);
  // One more page: the hand unmaps pages 0..kPages-1 (second chances) and evicts page 0.
  ASSERT_EQ(pager.SupplyPages(*vmo, kPages, 1), Status::kOk);
  PageBudget::Default().SetLimit(PageBudget::kUnlimited);
  const Counters first = GetCounters();
  ASSERT_EQ(first.pages_aged - aged_before, kPages);

  uint64_t value = 0;
  // Warm-up: the fault thread creates lazily made objects once (the inline-loop registry,
  // after the first batch of faults, maybe after the faulting thread was woken). It reads
  // the second fault only when done with the first batch.
  ASSERT_TRUE(ProbeLoad(map.data() + P(1), &value).ok);
  ASSERT_TRUE(ProbeLoad(map.data() + P(2), &value).ok);
  const uint64_t before = AllocationCount();
  for (uint64_t page = 3; page < kPages; ++page) {
    const auto* word = reinterpret_cast<const volatile uint64_t*>(map.data() + P(page));
    value = *word;
    ASSERT_EQ(value, Word(vmo->key, page)) << "page " << page;
  }
  const uint64_t after = AllocationCount();
  SetPagerTimeouts(saved);
  EXPECT_EQ(after - before, 0u) << "allocations on the MINOR fault path";
  EXPECT_EQ(GetCounters().minor_faults - first.minor_faults, kPages - 1);
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(ClockAllocationTest, MinorFaultsDoNotAllocate) {
  UPAGER_REQUIRE_MAPPINGS();
  CheckMinorFaultsDoNotAllocate(/*through_clone=*/false);
}

TEST(ClockAllocationTest, MinorFaultsThroughACloneDoNotAllocate) {
  UPAGER_REQUIRE_MAPPINGS();
  CheckMinorFaultsDoNotAllocate(/*through_clone=*/true);
}

}  // namespace
}  // namespace upager::testing
