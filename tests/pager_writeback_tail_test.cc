// Zircon's pager writeback tests through Vmo (see pager_writeback_test.cc for the
// conventions): writeback of a resized tail under random writes, fragmented tails.
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

std::vector<std::pair<uint64_t, uint64_t>> RandomRuns(std::mt19937& rng, uint64_t len) {
  std::vector<std::pair<uint64_t, uint64_t>> runs;
  for (uint64_t i = 1; i <= len; ++i) {
    if (rng() % 2 == 0) continue;
    if (!runs.empty() && runs.back().first + runs.back().second == i) {
      ++runs.back().second;
    } else {
      runs.emplace_back(i, 1);
    }
  }
  return runs;
}

// ResizeWritebackIntersectingRandomWrites (writeback_len == extended_len) and
// ResizePartialWritebackIntersectingRandomWrites (half of it).
void ResizeWritebackRandomWrites(uint32_t create_option, bool partial, uint32_t seed) {
  constexpr uint64_t kExtendedLen = 40;
  const uint64_t writeback_len = partial ? kExtendedLen / 2 : kExtendedLen;
  std::mt19937 rng(seed);
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 1 + kExtendedLen));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, kExtendedLen, kZ}}));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, writeback_len));

  const auto runs = RandomRuns(rng, kExtendedLen);
  TestThread t([&] {
    for (const auto& [first, count] : runs) {
      if (WriteFill(*vmo, first, count, 0xaa) != Status::kOk) return false;
    }
    return true;
  });
  t.Start();
  if (create_option & kVmoTrapDirty) {
    for (const auto& [first, count] : runs) {
      ASSERT_TRUE(pager.WaitForPageDirty(*vmo, first, count));
      ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, first, count));
    }
  }
  ASSERT_TRUE(t.Wait());

  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, writeback_len));
  // Written pages stay dirty; zero pieces clean inside the written-back range only.
  std::vector<VmoDirtyRange> expected;
  const uint64_t clean_end = 1 + writeback_len;
  uint64_t pos = 1;
  for (const auto& [first, count] : runs) {
    const uint64_t zero_from = std::max(pos, clean_end);
    if (first > zero_from) expected.push_back({zero_from, first - zero_from, kZ});
    expected.push_back({first, count, 0});
    pos = first + count;
  }
  const uint64_t zero_from = std::max(pos, clean_end);
  if (1 + kExtendedLen > zero_from)
    expected.push_back({zero_from, 1 + kExtendedLen - zero_from, kZ});
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, kExtendedLen + 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, kExtendedLen + 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackIntersectingRandomWrites, kVmoResizable) {
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE(seed);
    ResizeWritebackRandomWrites(create_option, /*partial=*/false, seed);
  }
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizePartialWritebackIntersectingRandomWrites, kVmoResizable) {
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE(seed);
    ResizeWritebackRandomWrites(create_option, /*partial=*/true, seed);
  }
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackIntersectingResize, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, kZ}}));
  std::vector<uint8_t> expected(P(3), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));

  // Shrinking into the awaiting-clean range trims it.
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, 2));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_EQ(Status::kOutOfRange, pager.WritebackEndPages(*vmo, 1, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  // Regrowth makes a new tail; shrinking through the whole awaiting-clean range drops it.
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 1, kZ}}));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 1, 1));  // written back: the pager supplies it
  UserPager::Pattern(vmo->key, 1, expected.data() + P(1));
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 2, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_EQ(Status::kOutOfRange, pager.WritebackEndPages(*vmo, 2, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));

  // Shrinking to before the start of the range.
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 1, kZ}}));
  std::fill(expected.begin() + P(2), expected.end(), 0);
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 2, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_EQ(Status::kOutOfRange, pager.WritebackEndPages(*vmo, 2, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackNonIntersectingResize, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, kZ}}));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackAfterGap, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, kZ}}));
  ASSERT_NO_FATAL_FAILURE(WriteAndAck(pager, *vmo, create_option, 2, 1, 0xaa));
  std::vector<uint8_t> expected(P(3), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  std::fill(expected.begin() + P(2), expected.end(), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}}));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 2, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 2, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));

  // The cleaned page traps again.
  ASSERT_NO_FATAL_FAILURE(WriteAndAck(pager, *vmo, create_option, 2, 1, 0xbb));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}}));
  std::fill(expected.begin() + P(2), expected.end(), 0xbb);
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackMulipleGaps, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 6));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 5, kZ}}));
  ASSERT_NO_FATAL_FAILURE(WriteAndAck(pager, *vmo, create_option, 2, 1, 0xaa));
  ASSERT_NO_FATAL_FAILURE(WriteAndAck(pager, *vmo, create_option, 4, 1, 0xaa));
  std::vector<uint8_t> expected(P(6), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  std::fill(expected.begin() + P(2), expected.begin() + P(3), 0xaa);
  std::fill(expected.begin() + P(4), expected.begin() + P(5), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, 6, expected));
  EXPECT_TRUE(
      DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}, {3, 1, kZ}, {4, 1, 0}, {5, 1, kZ}}));

  // Writing a gap and an AwaitingClean page during the writeback: one DIRTY request.
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 1, 5));
  ASSERT_NO_FATAL_FAILURE(WriteAndAck(pager, *vmo, create_option, 3, 2, 0xbb));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 5));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{3, 2, 0}}));
  std::fill(expected.begin() + P(3), expected.begin() + P(5), 0xbb);
  EXPECT_TRUE(CheckPages(*vmo, {0, 2, 3, 4}, expected));  // 1 and 5 are absent now (10.5)
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackSequential, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 6));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 5, kZ}}));
  ASSERT_NO_FATAL_FAILURE(WriteAndAck(pager, *vmo, create_option, 2, 1, 0xaa));
  ASSERT_NO_FATAL_FAILURE(WriteAndAck(pager, *vmo, create_option, 4, 1, 0xaa));
  const std::vector<VmoDirtyRange> ranges = {
      {1, 1, kZ}, {2, 1, 0}, {3, 1, kZ}, {4, 1, 0}, {5, 1, kZ}};
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, ranges));

  for (const VmoDirtyRange& r : ranges) {
    if (r.options == kZ) {
      ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, r.offset, r.length));
    } else {
      ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, r.offset, r.length));
    }
  }
  for (const VmoDirtyRange& r : ranges) {
    ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, r.offset, r.length));
  }
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackPartialEnd, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 5));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 4, kZ}}));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 3, kZ}}));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 2, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 2, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{3, 2, kZ}}));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 3, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 3, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackRepeated, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 5));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 4, kZ}}));

  // A smaller begin does not override the bigger one (10.5).
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, 4));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 4));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  ASSERT_EQ(Status::kOk, Resize(*vmo, 10));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{5, 5, kZ}}));
  // Ends with no matching begin do nothing.
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{5, 5, kZ}}));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 5, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{5, 5, kZ}}));

  // A duplicate begin is a no-op; a begin not at the interval start has no effect.
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 5, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 5, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{5, 5, kZ}}));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 7, 3));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 5, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 7, 3));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{7, 3, kZ}}));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 5, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{7, 3, kZ}}));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 7, 3));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 7, 3));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackDirtyAfterQuery, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 4));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 3, kZ}}));

  TestThread t([&] { return WriteByte(*vmo, P(2), 0xaa); });
  t.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
  }
  ASSERT_TRUE(t.Wait());

  // The zero range queried before the write is written back; the page written since stays.
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, 3));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 3));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// A VMO of 10 pages: page 0 clean, the rest a grown tail with pages 1, 6 and 9 written.
std::unique_ptr<TestVmo> FragmentedTail(UserPager& pager, uint32_t create_option) {
  auto vmo = pager.CreateVmo(1, create_option);
  if (vmo == nullptr) return nullptr;
  EXPECT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  EXPECT_EQ(Status::kOk, Resize(*vmo, 10));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 9, kZ}}));
  TestThread t([&] {
    return WriteByte(*vmo, P(1), 0xaa) == Status::kOk &&
           WriteByte(*vmo, P(6), 0xaa) == Status::kOk && WriteByte(*vmo, P(9), 0xaa) == Status::kOk;
  });
  t.Start();
  if (create_option & kVmoTrapDirty) {
    for (uint64_t page : {1, 6, 9}) {
      EXPECT_TRUE(pager.WaitForPageDirty(*vmo, page, 1));
      EXPECT_EQ(Status::kOk, pager.DirtyPages(*vmo, page, 1));
    }
  }
  EXPECT_TRUE(t.Wait());
  return vmo;
}

const std::vector<VmoDirtyRange> kFragmentedRanges = {
    {1, 1, 0}, {2, 4, kZ}, {6, 1, 0}, {7, 2, kZ}, {9, 1, 0}};
constexpr size_t kShuffled[] = {3, 0, 2, 1, 4};

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(WritebackCombined, kVmoResizable) {
  UserPager pager;
  auto vmo = FragmentedTail(pager, create_option);
  ASSERT_NE(vmo, nullptr);
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, kFragmentedRanges));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 1, 9));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 9));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(WritebackOutOfOrder, kVmoResizable) {
  UserPager pager;
  auto vmo = FragmentedTail(pager, create_option);
  ASSERT_NE(vmo, nullptr);
  const auto& r = kFragmentedRanges;
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, r));
  for (size_t i : kShuffled) {
    ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, r[i].offset, r[i].length));
  }
  for (size_t i : kShuffled) {
    ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, r[i].offset, r[i].length));
  }
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(WritebackOutOfOrderCombinedEnd, kVmoResizable) {
  UserPager pager;
  auto vmo = FragmentedTail(pager, create_option);
  ASSERT_NE(vmo, nullptr);
  const auto& r = kFragmentedRanges;
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, r));
  for (size_t i : kShuffled) {
    ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, r[i].offset, r[i].length));
  }
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 9));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(WritebackOutOfOrderCombinedBegin, kVmoResizable) {
  UserPager pager;
  auto vmo = FragmentedTail(pager, create_option);
  ASSERT_NE(vmo, nullptr);
  const auto& r = kFragmentedRanges;
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, r));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 1, 9));
  for (size_t i : kShuffled) {
    ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, r[i].offset, r[i].length));
  }
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

}  // namespace
}  // namespace upager::testing
