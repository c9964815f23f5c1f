// The reclaimer's clock (docs/eviction.md): with userfaultfd MINOR faults, the hand gives a
// page that may have been used through a mapping a second chance by unmapping it (it stays
// in the memfd); a use then takes a MINOR fault that marks it referenced, and a page not
// used by the time the hand comes back is evicted. Without MINOR faults the order is the
// least recently supplied first, as before.
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "clock_model.h"
#include "mapping_util.h"
#include "mapping_word.h"
#include "upager/mapping.h"
#include "upager/page_budget.h"
#include "upager/pager_loop.h"
#include "upager/stats.h"
#include "user_pager.h"
#include "vm/page_reclaimer.h"

namespace upager::testing {
namespace {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }

class ClockTest : public ::testing::Test {
 protected:
  void Limit(uint64_t pages) { PageBudget::Default().SetLimit(pages); }
  void TearDown() override { PageBudget::Default().SetLimit(PageBudget::kUnlimited); }
  uint64_t Used() { return PageBudget::Default().used(); }
};

// Skips (fails in CI) unless the mapping just made gets MINOR faults, so the clock runs.
#define UPAGER_REQUIRE_CLOCK()                                                          \
  do {                                                                                  \
    if (!internal::PageReclaimer::Default().clock()) {                                  \
      UPAGER_SKIP_OR_FAIL("no userfaultfd MINOR faults with write-protected CONTINUE"); \
    }                                                                                   \
  } while (0)

// A READ for `page` follows an access to it: it was evicted. Serves it.
bool AccessAsksAgain(UserPager& pager, const TestVmo& vmo, uint64_t page) {
  std::vector<char> buf(kPageSize);
  TestThread reader([&] { return vmo.vmo.Read(buf.data(), P(page), 1); });
  reader.Start();
  if (!pager.WaitForPageRead(vmo, page, 1)) return false;
  if (pager.SupplyPages(vmo, page, 1) != Status::kOk) return false;
  return reader.Wait();
}

TEST_F(ClockTest, PageUsedAfterItsBitWasClearedIsKeptOverOneNotUsed) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(8);
  ASSERT_TRUE(vmo);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, P(8), kMapRead, &map), Status::kOk);
  UPAGER_REQUIRE_CLOCK();
  const uint64_t base = Used();
  const Counters before = GetCounters();
  // Supplied into the mapping (its pages may be used unseen): all start referenced.
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 4), Status::kOk);
  Limit(base + 4);
  // Page 4 needs room: the hand gives pages 0-3 their second chance (unmapped, bits
  // cleared, in that order at the back) and then evicts page 0, first again.
  ASSERT_EQ(pager.SupplyPages(*vmo, 4, 1), Status::kOk);
  // Page 2 is used: a MINOR fault maps it back from the memfd (no READ: MADV_DONTNEED
  // kept the page) and sets its bit.
  uint64_t value = 0;
  ASSERT_TRUE(ProbeLoad(map.data() + P(2) + 8, &value).ok);
  EXPECT_EQ(value, Word(vmo->key, 2, 1));
  EXPECT_FALSE(pager.AnyPacket());
  // Page 5 evicts page 1 (not used). Page 6 meets page 2 first: used, so it goes to the
  // back, and page 3 (not used) is evicted although it was supplied after page 2.
  ASSERT_EQ(pager.SupplyPages(*vmo, 5, 1), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 6, 1), Status::kOk);
  EXPECT_EQ(Used(), base + 4);
  const Counters after = GetCounters();
  EXPECT_EQ(after.minor_faults - before.minor_faults, 1u);
  EXPECT_EQ(after.pages_aged - before.pages_aged, 5u);  // 0-3, then 2
  EXPECT_EQ(after.pages_evicted - before.pages_evicted, 3u);

  Limit(PageBudget::kUnlimited);
  std::vector<char> buf(kPageSize);
  for (uint64_t page : {2u, 4u, 5u, 6u}) {
    ASSERT_EQ(vmo->vmo.Read(buf.data(), P(page), kPageSize), Status::kOk) << "page " << page;
    EXPECT_TRUE(UserPager::CheckPattern(vmo->key, page, 1, buf.data())) << "page " << page;
  }
  EXPECT_FALSE(pager.AnyPacket());
  for (uint64_t page : {0u, 1u, 3u}) EXPECT_TRUE(AccessAsksAgain(pager, *vmo, page)) << page;
  EXPECT_FALSE(pager.AnyPacket());
}

// A clean page of a writable mapping that came back through a MINOR fault is mapped
// write-protected: its first store still asks for a DIRTY transition (18.7), whether the
// MINOR fault was the store's own or a load's before it.
TEST_F(ClockTest, CleanPageBackThroughMinorFaultStillTrapsItsFirstStore) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(4, kVmoTrapDirty);
  ASSERT_TRUE(vmo);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, P(4), kMapRead | kMapWrite, &map), Status::kOk);
  UPAGER_REQUIRE_CLOCK();
  const uint64_t base = Used();
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 3), Status::kOk);
  Limit(base + 3);
  ASSERT_EQ(pager.SupplyPages(*vmo, 3, 1), Status::kOk);  // ages 0-2, evicts 0
  const Counters before = GetCounters();

  // Page 1: a load maps it back (MINOR), then a store traps.
  uint64_t value = 0;
  ASSERT_TRUE(ProbeLoad(map.data() + P(1), &value).ok);
  EXPECT_EQ(value, Word(vmo->key, 1));
  EXPECT_FALSE(pager.AnyPacket());
  // Page 2: the store itself takes the MINOR fault, then the write-protect fault.
  for (uint64_t page : {1u, 2u}) {
    TestThread t([&] { return ProbeStore(map.data() + P(page) + 8, 100 + page).ok; });
    t.Start();
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, page, 1)) << "page " << page;
    ASSERT_TRUE(t.WaitForBlocked());
    ASSERT_EQ(pager.DirtyPages(*vmo, page, 1), Status::kOk);
    ASSERT_TRUE(t.Wait());
    uint64_t read_back = 0;
    ASSERT_EQ(vmo->vmo.Read(&read_back, P(page) + 8, 8), Status::kOk);
    EXPECT_EQ(read_back, 100 + page);
    // Dirty now: the next store goes through without a request.
    ASSERT_TRUE(ProbeStore(map.data() + P(page) + 16, 200 + page).ok);
  }
  EXPECT_FALSE(pager.AnyPacket());
  EXPECT_EQ(GetCounters().minor_faults - before.minor_faults, 2u);
  auto ranges = pager.DirtyRanges(*vmo);
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0].offset, 1u);  // in pages
  EXPECT_EQ(ranges[0].length, 2u);
}

// A zero marker has no storage until a load through one mapping installs its zeros there;
// a load through a second mapping then takes a MINOR fault, which must map the page (a
// wake alone would raise the same fault forever), write-protected: the store still traps.
TEST_F(ClockTest, MarkerInstalledThroughOneMappingIsMappedInAnother) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_TRUE(vmo);
  Vmo empty;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &empty), Status::kOk);
  ASSERT_EQ(pager.pager().SupplyPages(vmo->vmo, 0, kPageSize, empty, 0), Status::kOk);
  Mapping first, second;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapRead | kMapWrite, &first), Status::kOk);
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapRead | kMapWrite, &second), Status::kOk);
  UPAGER_REQUIRE_CLOCK();
  uint64_t value = 1;
  ASSERT_TRUE(ProbeLoad(first.data() + 64, &value).ok);
  EXPECT_EQ(value, 0u);
  const Counters before = GetCounters();
  value = 1;
  ASSERT_TRUE(ProbeLoad(second.data() + 64, &value).ok);
  EXPECT_EQ(value, 0u);
  EXPECT_EQ(GetCounters().minor_faults - before.minor_faults, 1u);
  EXPECT_FALSE(pager.AnyPacket());
  TestThread t([&] { return ProbeStore(second.data() + 64, 3).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(pager.DirtyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  ASSERT_TRUE(ProbeLoad(first.data() + 64, &value).ok);
  EXPECT_EQ(value, 3u);
}

// A Dirty page that reaches a mapping through a MINOR fault comes back write-protected
// too: after QueryVmoStats' reset armed write protection, a store through that mapping
// still marks the VMO modified (section 14: the first store after a reset is seen).
TEST_F(ClockTest, StoreThroughMinorFaultAfterStatsResetMarksModified) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_TRUE(vmo);
  Mapping first, second;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapRead | kMapWrite, &first), Status::kOk);
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapRead | kMapWrite, &second), Status::kOk);
  UPAGER_REQUIRE_CLOCK();
  // Supplied through an aux VMO: into the memfd, so a load through the first mapping maps
  // it with a MINOR fault. The second has never mapped it.
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  const Counters before = GetCounters();
  uint64_t value = 0;
  ASSERT_TRUE(ProbeLoad(first.data(), &value).ok);
  EXPECT_EQ(GetCounters().minor_faults - before.minor_faults, 1u);
  ASSERT_EQ(vmo->vmo.Write("x", 0, 1), Status::kOk);  // Dirty
  EXPECT_TRUE(pager.IsModified(*vmo));                // and reset
  EXPECT_FALSE(pager.IsModified(*vmo));
  // The store's MINOR fault maps the Dirty page write-protected: it faults again and is
  // seen.
  ASSERT_TRUE(ProbeStore(second.data() + 16, 6).ok);
  EXPECT_EQ(GetCounters().minor_faults - before.minor_faults, 2u);
  EXPECT_TRUE(pager.IsModified(*vmo));
  ASSERT_EQ(vmo->vmo.Read(&value, 16, 8), Status::kOk);
  EXPECT_EQ(value, 6u);
  EXPECT_FALSE(pager.AnyPacket());
}

TEST_F(ClockTest, EvictionOrderUnderASmallBudgetIsTheClocks) {
  UPAGER_REQUIRE_MAPPINGS();
  const std::vector<uint64_t> loads = SkewedLoads();
  const std::vector<uint64_t> with_clock = PredictReads(loads, 5, true);
  const std::vector<uint64_t> fifo = PredictReads(loads, 5, false);
  ASSERT_LT(with_clock.size(), fifo.size());  // the sequence tells the two apart
  bool clock = false;
  const std::vector<uint64_t> reads = RunLoads(loads, 16, 5, &clock);
  if (!clock) UPAGER_SKIP_OR_FAIL("no userfaultfd MINOR faults with write-protected CONTINUE");
  EXPECT_EQ(reads, with_clock);
}

// Mapping a clone must not turn the clock off for every VMO: it once did (its mapping took
// no MINOR faults then), and the order became least recently supplied for the whole
// process. Loads through a clone's mapping are on the root's clock too
// (clone_clock_test.cc).
TEST_F(ClockTest, MappingACloneLeavesTheClockOn) {
  UPAGER_REQUIRE_MAPPINGS();
  const std::vector<uint64_t> loads = SkewedLoads();
  bool root_clock = false;  // whether the kernel has MINOR faults: a root mapped alone
  RunLoads({}, 16, 5, &root_clock);
  if (!root_clock) UPAGER_SKIP_OR_FAIL("no userfaultfd MINOR faults with write-protected CONTINUE");
  bool clock = false;
  const std::vector<uint64_t> reads =
      RunLoads(loads, 16, 5, &clock, LoadsThrough::kRootWithIdleClone);
  EXPECT_TRUE(clock);
  EXPECT_EQ(reads, PredictReads(loads, 5, true));
}

// Without MINOR faults (UPAGER_NO_MINOR_FAULTS here) mapped pages are evicted in the order
// they were supplied, as before the clock.
TEST_F(ClockTest, WithoutMinorFaultsTheOrderIsLeastRecentlySupplied) {
  UPAGER_REQUIRE_MAPPINGS();
  const std::vector<uint64_t> loads = SkewedLoads();
  ::setenv("UPAGER_NO_MINOR_FAULTS", "1", 1);
  bool clock = true;
  const std::vector<uint64_t> reads = RunLoads(loads, 16, 5, &clock);
  ::unsetenv("UPAGER_NO_MINOR_FAULTS");
  EXPECT_FALSE(clock);
  EXPECT_EQ(reads, PredictReads(loads, 5, false));
}

}  // namespace
}  // namespace upager::testing
