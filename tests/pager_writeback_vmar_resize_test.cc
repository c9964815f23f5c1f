// Zircon's pager writeback tests through mappings (see pager_writeback_vmar_test.cc for
// the conventions): writeback begin/end, resize and the dirty zero tail.
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "mapping_util.h"
#include "pager_writeback_vmar_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

// ---- Writeback begin/end ----

// SimpleWriteback through a mapping: after WRITEBACK_END the page is clean again and the
// next store is seen (a DIRTY request with TRAP_DIRTY, silent dirtying without).
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(SimpleWritebackVmar, 0) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));

  SetWord(&expected, 0, Bytes(0xaa));
  TestThread t1([&] { return ProbeStore(map.data(), Bytes(0xaa)).ok; });
  t1.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));

  SetWord(&expected, 0, Bytes(0x77));
  TestThread t2([&] { return ProbeStore(map.data(), Bytes(0x77)).ok; });
  t2.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// DirtyDuringWriteback through a mapping (scenario 16). The page is first written through the
// mapping while Dirty, so WRITEBACK_BEGIN has a writable mapping to revoke.
TEST(PagerWritebackVmar, DirtyDuringWritebackVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));

  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  SetWord(&expected, 0, Bytes(0xbb));
  TestThread t0([&] { return ProbeStore(map.data(), Bytes(0xbb)).ok; });
  t0.Start();
  ASSERT_TRUE(t0.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));

  // A write during writeback traps; ending the writeback before the ack cleans the page.
  SetWord(&expected, 0, Bytes(0xcc));
  TestThread t1([&] { return ProbeStore(map.data(), Bytes(0xcc)).ok; });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  ASSERT_TRUE(t1.WaitForBlocked());
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));

  // Acking during the writeback keeps the page dirty past WRITEBACK_END.
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  SetWord(&expected, 0, Bytes(0xdd));
  TestThread t2([&] { return ProbeStore(map.data(), Bytes(0xdd)).ok; });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWritebackVmar, WritebackWithMapping) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));

  // The first write traps.
  SetWord(&expected, 0, Bytes(0xaa));
  TestThread t1([&] { return ProbeStore(map.data(), Bytes(0xaa)).ok; });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // The next one goes through without a fault.
  SetWord(&expected, 0, Bytes(0xbb));
  ASSERT_TRUE(ProbeStore(map.data(), Bytes(0xbb)).ok);
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // WRITEBACK_BEGIN revokes write access: the next write traps; failing it crashes the writer.
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  Probe probe;
  TestThread t2([&] {
    probe = ProbeStore(map.data(), Bytes(0xcc));
    return true;
  });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 0, 1));
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(CrashedWith(probe, map.data(), Status::kIo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // The failed write did not redirty the page: WRITEBACK_END cleans it.
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // And the next write traps again.
  SetWord(&expected, 0, Bytes(0xdd));
  TestThread t3([&] { return ProbeStore(map.data(), Bytes(0xdd)).ok; });
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t3.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ---- Resize and the dirty zero tail ----

// ResizeSupplyZero through a mapping: mapped loads of the grown tail read zeros without a
// READ; supplying into the tail is ignored; without TRAP_DIRTY stores dirty it silently.
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeSupplyZeroVmar, kVmoResizable) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kNumPages = 2;
  constexpr uint64_t kNumPagesAfterResize = 4;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, Resize(*vmo, kNumPagesAfterResize));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, kNumPagesAfterResize, &map));
  std::vector<uint8_t> expected(P(kNumPagesAfterResize), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  UserPager::Pattern(vmo->key, 1, expected.data() + P(1));

  std::vector<uint64_t> words(kNumPagesAfterResize, ~0ull);
  TestThread t([&] {
    for (uint64_t i = 0; i < kNumPagesAfterResize; ++i) {
      if (!ProbeLoad(map.data() + P(i), &words[i]).ok) return false;
    }
    return true;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, kNumPages));
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
  for (uint64_t i = 0; i < kNumPagesAfterResize; ++i) {
    uint64_t want;
    std::memcpy(&want, expected.data() + P(i), 8);
    EXPECT_EQ(want, words[i]) << "page " << i;
  }
  EXPECT_TRUE(CheckMapped(map, 0, kNumPagesAfterResize, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPagesAfterResize, expected));
  EXPECT_EQ(P(2), CommittedBytes(*vmo));

  // Supplying into the tail is ignored.
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 2, 2));
  EXPECT_EQ(P(2), CommittedBytes(*vmo));
  EXPECT_TRUE(CheckMapped(map, 0, kNumPagesAfterResize, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPagesAfterResize, expected));

  if (create_option & kVmoTrapDirty) return;  // covered by ResizeDirtyRequestVmar

  ASSERT_TRUE(FillPages(map, 2, 2, 0xaa).ok);
  std::fill(expected.begin() + P(2), expected.end(), 0xaa);
  EXPECT_EQ(P(4), CommittedBytes(*vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPagesAfterResize, expected));
  EXPECT_TRUE(CheckMapped(map, 0, kNumPagesAfterResize, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 2, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ResizeDirtyRequest (scenario 17) through mappings: stores into a grown tail need DIRTY and
// no READ, one page per fault.
TEST(PagerWritebackVmar, ResizeDirtyRequestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 2));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  Mapping map3;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 3, &map3));

  // Page 1 (clean) and page 2 (tail).
  TestThread t1([&] { return FillPages(map3, 1, 2, 0xaa).ok; });
  t1.Start();
  ASSERT_TRUE(t1.WaitForBlocked());
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
  ASSERT_TRUE(t1.Wait());

  std::vector<uint8_t> expected(P(8), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  std::fill(expected.begin() + P(1), expected.begin() + P(3), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(CheckMapped(map3, 0, 3, expected));
  EXPECT_EQ(P(3), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, 0}}));

  // A store after a gap in the tail asks only for its page.
  ASSERT_EQ(Status::kOk, Resize(*vmo, 6));
  Mapping map6;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 6, &map6));
  TestThread t2([&] { return FillPages(map6, 4, 1, 0xbb).ok; });
  t2.Start();
  ASSERT_TRUE(t2.WaitForBlocked());
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 4, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 4, 1));
  ASSERT_TRUE(t2.Wait());
  std::fill(expected.begin() + P(4), expected.begin() + P(5), 0xbb);
  EXPECT_TRUE(CheckData(*vmo, 0, 6, expected));
  EXPECT_TRUE(CheckMapped(map6, 0, 6, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, 0}, {3, 1, kZ}, {4, 1, 0}, {5, 1, kZ}}));

  // Stores over everything ask for each non-dirty page in turn.
  ASSERT_EQ(Status::kOk, Resize(*vmo, 8));
  Mapping map8;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 8, &map8));
  TestThread t3([&] { return FillPages(map8, 0, 8, 0xcc).ok; });
  t3.Start();
  for (uint64_t page : {0, 3, 5, 6, 7}) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, page, 1)) << "page " << page;
    EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, page, 1));
  }
  ASSERT_TRUE(t3.Wait());
  std::fill(expected.begin(), expected.end(), 0xcc);
  EXPECT_TRUE(CheckData(*vmo, 0, 8, expected));
  EXPECT_TRUE(CheckMapped(map8, 0, 8, expected));
  EXPECT_TRUE(CheckMapped(map3, 0, 3, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 8, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ResizeWithOutstandingDirtyRequests (scenario 18) through a mapping: shrinking below pending
// DIRTY and READ requests crashes the blocked accesses with OUT_OF_RANGE.
TEST(PagerWritebackVmar, ResizeWithOutstandingDirtyRequestsVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(5, kVmoResizable | kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 3, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 6));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{5, 1, kZ}}));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 6, &map));

  Probe probes[4];
  uint64_t word = 0;
  TestThread t1([&] {  // marker
    probes[0] = ProbeStore(map.data() + P(1), Bytes(0xaa));
    return true;
  });
  TestThread t2([&] {  // clean page
    probes[1] = ProbeStore(map.data() + P(3), Bytes(0xbb));
    return true;
  });
  TestThread t3([&] {  // tail
    probes[2] = ProbeStore(map.data() + P(5), Bytes(0xcc));
    return true;
  });
  TestThread t4([&] {  // absent
    probes[3] = ProbeLoad(map.data() + P(2), &word);
    return true;
  });
  t1.Start();
  t2.Start();
  t3.Start();
  t4.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 3, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 5, 1));
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 2, 1));
  EXPECT_TRUE(NoRequests(pager, *vmo));
  for (TestThread* t : {&t1, &t2, &t3, &t4}) ASSERT_TRUE(t->WaitForBlocked());

  ASSERT_EQ(Status::kOk, Resize(*vmo, 1));
  ASSERT_TRUE(t1.Wait());
  ASSERT_TRUE(t2.Wait());
  ASSERT_TRUE(t3.Wait());
  ASSERT_TRUE(t4.Wait());
  EXPECT_TRUE(CrashedWith(probes[0], map.data() + P(1), Status::kOutOfRange));
  EXPECT_TRUE(CrashedWith(probes[1], map.data() + P(3), Status::kOutOfRange));
  EXPECT_TRUE(CrashedWith(probes[2], map.data() + P(5), Status::kOutOfRange));
  EXPECT_TRUE(CrashedWith(probes[3], map.data() + P(2), Status::kOutOfRange));

  EXPECT_EQ(Status::kOutOfRange, pager.DirtyPages(*vmo, 1, 1));
  EXPECT_EQ(Status::kOutOfRange, pager.DirtyPages(*vmo, 3, 1));
  EXPECT_EQ(Status::kOutOfRange, pager.DirtyPages(*vmo, 5, 1));
  EXPECT_EQ(Status::kOutOfRange, pager.SupplyPages(*vmo, 2, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ResizeWritebackNewDirtyRequests through a mapping: a written-back zero gap is unsupplied
// (a store needs READ, then DIRTY), and a written-back page traps again.
TEST(PagerWritebackVmar, ResizeWritebackNewDirtyRequestsVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoResizable | kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 3, &map));
  std::vector<uint8_t> expected(P(3), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());

  SetWord(&expected, P(2), Bytes(0xaa));
  TestThread t1([&] { return ProbeStore(map.data() + P(2), Bytes(0xaa)).ok; });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 3, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 1, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  UserPager::Pattern(vmo->key, 1, expected.data() + P(1));
  SetWord(&expected, P(1), Bytes(0xbb));
  TestThread t2([&] { return ProbeStore(map.data() + P(1), Bytes(0xbb)).ok; });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 1, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  SetWord(&expected, P(2), Bytes(0xcc));
  TestThread t3([&] { return ProbeStore(map.data() + P(2), Bytes(0xcc)).ok; });
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 2));
  ASSERT_TRUE(t2.Wait());
  ASSERT_TRUE(t3.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 3, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackWithMapping, kVmoResizable) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 2, &map));
  std::vector<uint8_t> expected(P(2), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());

  // Commit a page in the grown range.
  SetWord(&expected, P(1), Bytes(0xaa));
  TestThread t1([&] { return ProbeStore(map.data() + P(1), Bytes(0xaa)).ok; });
  t1.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  }
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 2, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  // Writeback revoked write access: the store is seen again.
  SetWord(&expected, P(1), Bytes(0xbb));
  TestThread t2([&] { return ProbeStore(map.data() + P(1), Bytes(0xbb)).ok; });
  t2.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  }
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 2, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackInterleavedWriteWithMapping, kVmoResizable) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 6));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 5, kZ}}));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 6, &map));
  std::vector<uint8_t> expected(P(6), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());

  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, 5));

  // Write two pages of the range being written back, leaving gaps.
  SetWord(&expected, P(2), Bytes(0xaa));
  SetWord(&expected, P(4), Bytes(0xaa));
  TestThread t1([&] {
    return ProbeStore(map.data() + P(2), Bytes(0xaa)).ok &&
           ProbeStore(map.data() + P(4), Bytes(0xaa)).ok;
  });
  t1.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 4, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 4, 1));
  }
  ASSERT_TRUE(t1.Wait());
  const std::vector<VmoDirtyRange> ranges1 = {
      {1, 1, kZ}, {2, 1, 0}, {3, 1, kZ}, {4, 1, 0}, {5, 1, kZ}};
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, ranges1));
  EXPECT_TRUE(CheckData(*vmo, 0, 6, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 6, expected));

  // They were dirtied after the begin: writing them again does not block.
  SetWord(&expected, P(2), Bytes(0xbb));
  SetWord(&expected, P(4), Bytes(0xbb));
  ASSERT_TRUE(ProbeStore(map.data() + P(2), Bytes(0xbb)).ok);
  ASSERT_TRUE(ProbeStore(map.data() + P(4), Bytes(0xbb)).ok);
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, ranges1));
  EXPECT_TRUE(CheckData(*vmo, 0, 6, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 6, expected));

  // The end cleans only the gaps.
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 5));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 1, 0}, {4, 1, 0}}));

  // A written-back gap is unsupplied: READ, then DIRTY if trapping.
  UserPager::Pattern(vmo->key, 3, expected.data() + P(3));
  SetWord(&expected, P(3), Bytes(0xdd));
  TestThread t3([&] { return ProbeStore(map.data() + P(3), Bytes(0xdd)).ok; });
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 3, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 3, 1));
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 3, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 3, 1));
  }
  ASSERT_TRUE(t3.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 3, 0}}));
  // Pages 1 and 5 are absent now (10.5): reading them would need a READ.
  EXPECT_TRUE(CheckPages(*vmo, map, {0, 2, 3, 4}, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 2, 3));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 2, 3));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckPages(*vmo, map, {0, 2, 3, 4}, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

}  // namespace
}  // namespace upager::testing
