// Zircon's pager writeback tests through Vmo (see pager_writeback_test.cc for the
// conventions): zero page markers, ZX_VMO_OP_ZERO and delayed resolutions.
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

// ---- Zero page markers ----

TEST(PagerWriteback, DirtyRequestsForZeroPages) {
  constexpr uint64_t kNumPages = 2;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 0, kNumPages));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  std::vector<uint8_t> expected(P(kNumPages), 0);
  expected[0] = 0xaa;
  TestThread t1([&] { return WriteByte(*vmo, 0, 0xaa); });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.Wait());
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));

  // The peer writes the second page through a mapping; a vmo write traps the same way.
  expected[P(1)] = 0xbb;
  TestThread t2([&] { return WriteByte(*vmo, P(1), 0xbb); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  ASSERT_TRUE(t2.Wait());
  EXPECT_EQ(P(kNumPages), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 2, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWriteback, DirtyZeroAndNonZeroPages) {
  constexpr uint64_t kNumPages = 10;
  std::mt19937 rng(3);
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  std::vector<uint8_t> expected(P(kNumPages), 0);
  uint64_t non_zero = 0;
  for (uint64_t i = 0; i < kNumPages; ++i) {
    if (rng() % 2) {
      ++non_zero;
      ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, i, 1));
      UserPager::Pattern(vmo->key, i, expected.data() + P(i));
    } else {
      ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, i, 1));
    }
  }
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_EQ(P(non_zero), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, kNumPages));
  EXPECT_EQ(P(kNumPages), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, kNumPages, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWriteback, FailDirtyRequestsForZeroPages) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 0, 1));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  TestThread t([&] { return WriteByte(*vmo, 0, 0xaa); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 0, 1));
  ASSERT_TRUE(t.WaitForFailure(Status::kIo));

  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, std::vector<uint8_t>(P(1), 0)));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWriteback, DirtyRequestsForZeroRanges) {
  constexpr uint64_t kNumPages = 10;
  std::mt19937 rng(5);
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  std::vector<uint8_t> expected(P(kNumPages), 0);

  // Two markers: one DIRTY request covers both.
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 0, 1));
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 1, 1));
  std::fill(expected.begin(), expected.begin() + P(2), 0xaa);
  TestThread t1([&] { return WriteFill(*vmo, 0, 2, 0xaa); });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 2));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 2));
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 2, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));

  // A marker and a clean page: one request.
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 2, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 3, 1));
  std::fill(expected.begin() + P(2), expected.begin() + P(4), 0xbb);
  TestThread t2([&] { return WriteFill(*vmo, 2, 2, 0xbb); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 2));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 2));
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 4, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 4, expected));

  // A mix of markers and pages up to a gap at the end: the request stops before the gap.
  for (uint64_t i = 4; i < kNumPages - 1; ++i) {
    if (rng() % 2) {
      ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, i, 1));
    } else {
      ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, i, 1));
    }
  }
  std::fill(expected.begin() + P(4), expected.end(), 0xcc);
  TestThread t3([&] { return WriteFill(*vmo, 4, kNumPages - 4, 0xcc); });
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 4, 5));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 4, 5));
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 9, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 9, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 9, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 9, 1));
  ASSERT_TRUE(t3.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, kNumPages, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(CannotOverwriteZeroPage, 0) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  Vmo aux;
  ASSERT_EQ(Status::kOk, Vmo::Create(P(1), 0, &aux));
  ASSERT_EQ(Status::kOk, pager.pager().SupplyPages(vmo->vmo, 0, P(1), aux, 0));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  std::vector<uint8_t> expected(P(1), 0);
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // A supply over the marker is a silent no-op.
  const uint8_t data = 0xaa;
  ASSERT_EQ(Status::kOk, aux.Write(&data, 0, 1));
  ASSERT_EQ(Status::kOk, pager.pager().SupplyPages(vmo->vmo, 0, P(1), aux, 0));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // A write forks the marker into a real page.
  expected[0] = 0xbb;
  TestThread t([&] { return WriteByte(*vmo, 0, 0xbb); });
  t.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ---- ZX_VMO_OP_ZERO ----

TEST(PagerWriteback, OpZero) {
  UserPager pager;
  auto vmo = pager.CreateVmo(3, kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected(P(4), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  // Zeroing a clean and an absent page needs no READ.
  TestThread t([&] { return ZeroPages(*vmo, 0, 2); });
  t.Start();
  ASSERT_TRUE(t.Wait());
  std::fill(expected.begin(), expected.begin() + P(2), 0);
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 2, kZ}}));

  // Zeroing the untouched grown tail is a no-op.
  ASSERT_EQ(Status::kOk, Resize(*vmo, 4));
  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 3, 1));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 2, kZ}, {3, 1, kZ}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(CheckData(*vmo, 3, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWriteback, OpZeroTrapDirty) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2, kVmoResizable | kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 2));
  std::vector<uint8_t> expected(P(4), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  UserPager::Pattern(vmo->key, 1, expected.data() + P(1));
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  // Zeroing a whole page needs no DIRTY request.
  TestThread t([&] { return ZeroPages(*vmo, 0, 1); });
  t.Start();
  ASSERT_TRUE(t.Wait());
  std::fill(expected.begin(), expected.begin() + P(1), 0);
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, kZ}}));

  ASSERT_EQ(Status::kOk, Resize(*vmo, 4));
  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 2, 2));
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, kZ}, {2, 2, kZ}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 4, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(OpZeroTail, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  std::vector<uint8_t> expected(P(3), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, kZ}}));
  EXPECT_EQ(P(1), CommittedBytes(*vmo));

  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 1, 2));
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, kZ}}));
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(OpZeroDecommit, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  std::vector<uint8_t> expected(P(3), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, kZ}}));

  TestThread t1([&] { return WriteByte(*vmo, P(2), 0xaa); });
  t1.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
  }
  ASSERT_TRUE(t1.Wait());
  expected[P(2)] = 0xaa;
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}}));
  EXPECT_EQ(P(2), CommittedBytes(*vmo));

  // Zeroing everything needs no request and leaves one zero range from 0.
  TestThread t2([&] { return ZeroPages(*vmo, 0, 3); });
  t2.Start();
  ASSERT_TRUE(t2.Wait());
  std::fill(expected.begin(), expected.end(), 0);
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 3, kZ}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(OpZeroResize, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  const std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  // Partial pages need READ; shrinking under the waiters fails them with OUT_OF_RANGE.
  TestThread t1([&] {
    return vmo->vmo.OpRange(kVmoOpZero, P(1) + sizeof(uint64_t), P(2)) == Status::kOutOfRange;
  });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  TestThread t2([&] {
    return vmo->vmo.OpRange(kVmoOpZero, P(2), P(1) - sizeof(uint64_t)) == Status::kOutOfRange;
  });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 2, 1));

  ASSERT_EQ(Status::kOk, Resize(*vmo, 1));
  EXPECT_TRUE(t1.Wait());
  EXPECT_TRUE(t2.Wait());
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(OpZeroPartialPage, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected(P(2), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 2));
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));

  // A few bytes in the middle of a clean page: DIRTY if trapping.
  TestThread t([&] { return vmo->vmo.OpRange(kVmoOpZero, sizeof(uint64_t), sizeof(uint64_t)); });
  t.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  ASSERT_TRUE(t.Wait());
  std::fill(expected.begin() + sizeof(uint64_t), expected.begin() + 2 * sizeof(uint64_t), 0);
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}, {1, 1, kZ}}));

  // From the end of the dirty page into the zero tail: no requests, no change to the tail.
  ASSERT_EQ(Status::kOk, vmo->vmo.OpRange(kVmoOpZero, P(1) - sizeof(uint64_t), P(1)));
  std::fill(expected.begin() + P(1) - sizeof(uint64_t), expected.begin() + P(1), 0);
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}, {1, 1, kZ}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(OpZeroExpandsTail, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2, create_option);
  ASSERT_NE(vmo, nullptr);
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  std::vector<uint8_t> expected(P(3), 0);
  EXPECT_TRUE(CheckData(*vmo, 2, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 1, kZ}}));

  // Zeroing the absent page before the tail extends the tail without requests.
  TestThread t1([&] { return ZeroPages(*vmo, 1, 1); });
  t1.Start();
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(CheckData(*vmo, 1, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, kZ}}));

  // A partial zero of the absent first page needs READ (and DIRTY if trapping).
  TestThread t2(
      [&] { return vmo->vmo.OpRange(kVmoOpZero, P(1) - sizeof(uint64_t), sizeof(uint64_t)); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  EXPECT_TRUE(NoRequests(pager, *vmo));
  ASSERT_TRUE(t2.Wait());
  UserPager::Pattern(vmo->key, 0, expected.data());
  std::fill(expected.begin() + P(1) - sizeof(uint64_t), expected.begin() + P(1), 0);
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}, {1, 2, kZ}}));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(OpZeroWriteback, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected(P(2), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 2));
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));

  // Zeroing page 0 during the tail's writeback merges it into the tail, whose start moves:
  // ending the old writeback cleans nothing (10.5).
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 1));
  std::fill(expected.begin(), expected.end(), 0);
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 2, kZ}}));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 0, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(OpZeroWithMarkers, 0) {
  UserPager pager;
  auto vmo = pager.CreateVmo(5, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 2, 1));
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 3, 2));
  std::vector<uint8_t> expected(P(5), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  UserPager::Pattern(vmo->key, 2, expected.data() + P(2));
  EXPECT_TRUE(CheckData(*vmo, 0, 5, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 1, 1));
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, 5, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 3, 2));
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, 5, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(OpZeroUnblocksReadRequest, 0) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  std::vector<uint8_t> data(P(1), 0x5a);
  TestThread t([&] { return vmo->vmo.Read(data.data(), P(1), P(1)); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 1, 1));
  ASSERT_TRUE(t.Wait());

  std::vector<uint8_t> expected(P(2), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));
  EXPECT_TRUE(std::equal(data.begin(), data.end(), expected.begin() + P(1)));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ---- Delayed resolutions (OP_ZERO group) ----

// Scenario 19.
TEST(PagerWriteback, DelayedDirtyNotFound) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));

  TestThread t([&] { return WriteByte(*vmo, P(1), 0xaa); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));

  // Writing the zero range back meanwhile makes the page absent.
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));

  // The stale ack fails; the writer retries with READ, then DIRTY.
  EXPECT_EQ(Status::kNotFound, pager.DirtyPages(*vmo, 1, 1));
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 1, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWriteback, DelayedReadZeroRange) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(vmo, nullptr);

  TestThread t([&] {
    uint8_t data = 0xaa;
    return vmo->vmo.Read(&data, 0, 1) == Status::kOk && data == 0;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));

  // OP_ZERO resolves the READ: the reader gets zeros.
  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, kZ}}));
  ASSERT_TRUE(t.Wait());

  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
}

TEST(PagerWriteback, DelayedDirtyZeroRange) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));

  TestThread t([&] { return WriteByte(*vmo, 0, 0xaa); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));

  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, kZ}}));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  EXPECT_EQ(Status::kNotFound, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 0, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

}  // namespace
}  // namespace upager::testing
