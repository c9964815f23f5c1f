// Zircon's pager writeback tests through Vmo (see pager_writeback_test.cc for the
// conventions): writeback begin/end, resize and the dirty zero tail, commit.
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "pager_writeback_util.h"
#include "test_util.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/thread.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

// ---- Writeback begin/end ----

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(SimpleWriteback, 0) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);

  expected[0] = 0xaa;
  TestThread t1([&] { return WriteByte(*vmo, 0, 0xaa); });
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

  expected[0] = 0x77;
  TestThread t2([&] { return WriteByte(*vmo, 0, 0x77); });
  t2.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// Scenario 16.
TEST(PagerWriteback, DirtyDuringWriteback) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);

  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // A write during writeback traps; ending the writeback before the ack cleans the page.
  expected[0] = 0xcc;
  TestThread t1([&] { return WriteByte(*vmo, 0, 0xcc); });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  ASSERT_TRUE(t1.WaitForBlocked());
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // Acking during the writeback keeps the page dirty past WRITEBACK_END.
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  expected[0] = 0xdd;
  TestThread t2([&] { return WriteByte(*vmo, 0, 0xdd); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ---- Resize and the dirty zero tail ----

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeSupplyZero, kVmoResizable) {
  constexpr uint64_t kNumPages = 2;
  constexpr uint64_t kNumPagesAfterResize = 4;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, Resize(*vmo, kNumPagesAfterResize));

  // Only the old pages need READ; the tail reads as zeros.
  TestThread t([&] { return ReadPages(*vmo, 0, kNumPagesAfterResize); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, kNumPages));
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
  ASSERT_TRUE(t.Wait());

  std::vector<uint8_t> expected(P(kNumPagesAfterResize), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  UserPager::Pattern(vmo->key, 1, expected.data() + P(1));
  EXPECT_TRUE(CheckData(*vmo, 0, 4, expected));
  EXPECT_EQ(P(2), CommittedBytes(*vmo));

  // Supplying into the tail is ignored.
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 2, 2));
  EXPECT_EQ(P(2), CommittedBytes(*vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, 4, expected));

  // Writing the tail: with trap, one DIRTY for the zero range and never a READ (10.3);
  // without, no request.
  TestThread t2([&] { return WriteFill(*vmo, 2, 2, 0xaa); });
  t2.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 2));
    EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 2));
  }
  ASSERT_TRUE(t2.Wait());
  EXPECT_EQ(P(4), CommittedBytes(*vmo));
  std::fill(expected.begin() + P(2), expected.end(), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, 4, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 2, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// Scenario 17.
TEST(PagerWriteback, ResizeDirtyRequest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 2));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));

  // Pages 1 (clean) and 2 (tail) need one DIRTY request and no READ.
  TestThread t1([&] { return WriteFill(*vmo, 1, 2, 0xaa); });
  t1.Start();
  ASSERT_TRUE(t1.WaitForBlocked());
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 2));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 2));
  ASSERT_TRUE(t1.Wait());

  std::vector<uint8_t> expected(P(8), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  std::fill(expected.begin() + P(1), expected.begin() + P(3), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_EQ(P(3), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, 0}}));

  // A write after a gap in the tail asks only for its page.
  ASSERT_EQ(Status::kOk, Resize(*vmo, 6));
  TestThread t2([&] { return WriteFill(*vmo, 4, 1, 0xbb); });
  t2.Start();
  ASSERT_TRUE(t2.WaitForBlocked());
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 4, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 4, 1));
  ASSERT_TRUE(t2.Wait());
  std::fill(expected.begin() + P(4), expected.begin() + P(5), 0xbb);
  EXPECT_TRUE(CheckData(*vmo, 0, 6, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, 0}, {3, 1, kZ}, {4, 1, 0}, {5, 1, kZ}}));

  // A write over everything asks for each non-dirty run in turn.
  ASSERT_EQ(Status::kOk, Resize(*vmo, 8));
  TestThread t3([&] { return WriteFill(*vmo, 0, 8, 0xcc); });
  t3.Start();
  ASSERT_TRUE(t3.WaitForBlocked());
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 3, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 3, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 5, 3));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 5, 3));
  ASSERT_TRUE(t3.Wait());
  std::fill(expected.begin(), expected.end(), 0xcc);
  EXPECT_TRUE(CheckData(*vmo, 0, 8, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 8, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWriteback, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));

  TestThread t([&] {
    return WriteFill(*vmo, 0, 1, 0xaa) == Status::kOk && WriteFill(*vmo, 2, 1, 0xaa) == Status::kOk;
  });
  t.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
  }
  ASSERT_TRUE(t.Wait());

  std::vector<uint8_t> expected(P(3), 0xaa);
  std::fill(expected.begin() + P(1), expected.begin() + P(2), 0);
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}, {1, 1, kZ}, {2, 1, 0}}));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 3));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 3));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckPages(*vmo, {0, 2}, expected));  // page 1 is absent now (10.5)
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// Scenario 18.
TEST(PagerWriteback, ResizeWithOutstandingDirtyRequests) {
  UserPager pager;
  auto vmo = pager.CreateVmo(5, kVmoResizable | kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 3, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 6));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{5, 1, kZ}}));

  TestThread t1([&] { return WriteByte(*vmo, P(1), 0xaa) == Status::kOutOfRange; });  // marker
  TestThread t2([&] { return WriteByte(*vmo, P(3), 0xbb) == Status::kOutOfRange; });  // clean
  TestThread t3([&] { return WriteByte(*vmo, P(5), 0xcc) == Status::kOutOfRange; });  // tail
  TestThread t4([&] {
    uint8_t data;
    return vmo->vmo.Read(&data, P(2), 1) == Status::kOutOfRange;  // absent
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

  ASSERT_EQ(Status::kOk, Resize(*vmo, 1));
  EXPECT_TRUE(t1.Wait());
  EXPECT_TRUE(t2.Wait());
  EXPECT_TRUE(t3.Wait());
  EXPECT_TRUE(t4.Wait());

  EXPECT_EQ(Status::kOutOfRange, pager.DirtyPages(*vmo, 1, 1));
  EXPECT_EQ(Status::kOutOfRange, pager.DirtyPages(*vmo, 3, 1));
  EXPECT_EQ(Status::kOutOfRange, pager.DirtyPages(*vmo, 5, 1));
  EXPECT_EQ(Status::kOutOfRange, pager.SupplyPages(*vmo, 2, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWriteback, ResizeWritebackWithOutstandingDirtyRequests) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2, kVmoResizable | kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 2));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 5));
  ASSERT_NO_FATAL_FAILURE(WriteAndAck(pager, *vmo, kVmoTrapDirty, 4, 1, 0xaa));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 2, kZ}, {4, 1, 0}}));
  std::vector<uint8_t> expected(P(5), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  UserPager::Pattern(vmo->key, 1, expected.data() + P(1));
  std::fill(expected.begin() + P(4), expected.end(), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, 5, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 2, 3));

  TestThread t2([&] { return WriteFill(*vmo, 1, 2, 0xbb) == Status::kOutOfRange; });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 2));
  TestThread t3([&] { return WriteFill(*vmo, 3, 2, 0xcc) == Status::kOutOfRange; });
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 3, 2));

  // Clean the start of the tail, leaving a gap before it.
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 2, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 1));
  EXPECT_TRUE(t2.Wait());
  EXPECT_TRUE(t3.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  EXPECT_EQ(Status::kOutOfRange, pager.WritebackEndPages(*vmo, 3, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWriteback, ResizeWritebackNewDirtyRequestsInterleaved) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoResizable | kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  ASSERT_NO_FATAL_FAILURE(WriteAndAck(pager, *vmo, kVmoTrapDirty, 2, 1, 0xaa));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}}));
  std::vector<uint8_t> expected(P(3), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  std::fill(expected.begin() + P(2), expected.end(), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 1, 2));
  TestThread t2([&] { return WriteFill(*vmo, 1, 1, 0xbb); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  TestThread t3([&] { return WriteFill(*vmo, 2, 1, 0xcc); });
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 2));
  ASSERT_TRUE(t2.Wait());
  ASSERT_TRUE(t3.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, 0}}));
  std::fill(expected.begin() + P(1), expected.begin() + P(2), 0xbb);
  std::fill(expected.begin() + P(2), expected.end(), 0xcc);
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));

  // Both pages were dirtied again: the end cleans nothing.
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));

  ASSERT_EQ(Status::kOk, WriteFill(*vmo, 1, 2, 0xdd));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, 0}}));
  std::fill(expected.begin() + P(1), expected.end(), 0xdd);
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWriteback, ResizeWritebackNewDirtyRequests) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoResizable | kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  ASSERT_NO_FATAL_FAILURE(WriteAndAck(pager, *vmo, kVmoTrapDirty, 2, 1, 0xaa));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}}));
  std::vector<uint8_t> expected(P(3), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  std::fill(expected.begin() + P(2), expected.end(), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 1, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  // The written-back gap is now unsupplied: READ, then DIRTY.
  TestThread t2([&] { return WriteFill(*vmo, 1, 1, 0xbb); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 1, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  TestThread t3([&] { return WriteFill(*vmo, 2, 1, 0xcc); });
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 2));
  ASSERT_TRUE(t2.Wait());
  ASSERT_TRUE(t3.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, 0}}));
  std::fill(expected.begin() + P(1), expected.begin() + P(2), 0xbb);
  std::fill(expected.begin() + P(2), expected.end(), 0xcc);
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackIntersectingWrite, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 4));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 3, kZ}}));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, 3));
  ASSERT_NO_FATAL_FAILURE(WriteAndAck(pager, *vmo, create_option, 2, 1, 0xaa));
  std::vector<uint8_t> expected(P(4), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  std::fill(expected.begin() + P(2), expected.begin() + P(3), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, 4, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}, {3, 1, kZ}}));

  // The page written after the begin stays dirty.
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 3));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 1, 0}}));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 4));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 4));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckPages(*vmo, {0, 2}, expected));  // pages 1 and 3 are absent now (10.5)
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackNonIntersectingWrite, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 4));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 3, kZ}}));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, 2));
  ASSERT_NO_FATAL_FAILURE(WriteAndAck(pager, *vmo, create_option, 3, 1, 0xaa));
  ASSERT_NO_FATAL_FAILURE(WriteAndAck(pager, *vmo, create_option, 0, 1, 0xbb));
  std::vector<uint8_t> expected(P(4), 0);
  std::fill(expected.begin(), expected.begin() + P(1), 0xbb);
  std::fill(expected.begin() + P(3), expected.end(), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, 4, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}, {1, 2, kZ}, {3, 1, 0}}));

  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}, {3, 1, 0}}));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 4));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 4));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckPages(*vmo, {0, 3}, expected));  // pages 1 and 2 are absent now (10.5)
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// Runs of pages in [1, 1+len) chosen at random, as (offset, length) pairs.

// ---- More DIRTY generation, resize and commit ----

TEST(PagerWriteback, DirtyLargeRange) {
  UserPager pager;
  auto vmo = pager.CreateVmo(100, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 0, 100));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 200));
  EXPECT_EQ(0u, CommittedBytes(*vmo));

  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 200));
  EXPECT_EQ(P(200), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 200, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(NoDirtyOnCommit, 0) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 1, 1));

  ASSERT_EQ(Status::kOk, vmo->vmo.OpRange(kVmoOpCommit, 0, P(2)));
  EXPECT_EQ(P(2), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(CommitResizeRace, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  EXPECT_FALSE(pager.IsModified(*vmo));

  // A commit blocked on a page that a shrink removes succeeds (18.6).
  TestThread t([&] { return vmo->vmo.OpRange(kVmoOpCommit, 0, P(2)); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 1));
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(pager.IsModified(*vmo));
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, Pattern(*vmo, 0, 1)));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(CommitExtendedTail, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 2));
  std::vector<uint8_t> expected(P(2), 0);
  EXPECT_TRUE(CheckData(*vmo, 1, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));

  // The old page needs READ; the tail page becomes a real dirty page (DIRTY if trapping).
  TestThread t([&] { return vmo->vmo.OpRange(kVmoOpCommit, 0, P(2)); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  }
  ASSERT_TRUE(t.Wait());
  UserPager::Pattern(vmo->key, 0, expected.data());
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

}  // namespace
}  // namespace upager::testing
