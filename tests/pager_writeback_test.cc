// Zircon's pager writeback tests (zircon/system/utest/core/pager-writeback/pager-writeback.cc),
// reproduced through Vmo::Read/Write/OpRange/SetSize/GetInfo and the Pager API. A
// VMO_VMAR_TEST(PagerWriteback, X) appears here as XVmo, a TEST_WITH_AND_WITHOUT_TRAP_DIRTY
// entry X as XTrapDirty and XNoTrapDirty, a plain TEST as X. Behaviour follows
// docs/zircon-semantics.md (section numbers in the comments); "blocked" is
// TestThread::WaitForBlocked, "no packet" a poll with a zero timeout.
//
// Not here: tests that need mappings, clones, pins or rights (rights_test.cc), and the mapping
// halves of VMO_VMAR tests and of mixed tests (crash expectations). Where the peer reads a
// written-back zero gap through a mapping that still maps the zero page, the Vmo read would need a
// READ (10.5), so only the other pages are checked. A source buffer whose copy faults is an
// anonymous mapping with a PROT_NONE page instead of a pager VMO whose READ is failed.
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

// ---- DIRTY request generation ----

// SimpleTrapDirty (Vmo variant).
TEST(PagerWriteback, SimpleTrapDirtyVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);

  TestThread t1([&] { return ReadPages(*vmo, 0, 1); });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.Wait());

  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  expected[0] = 0x77;
  TestThread t2([&] { return WriteByte(*vmo, 0, 0x77); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t2.Wait());

  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));

  // Without TRAP_DIRTY a write goes through without blocking.
  auto vmo_no_trap = pager.CreateVmo(1);
  ASSERT_NE(vmo_no_trap, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo_no_trap, 0, 1));
  ASSERT_EQ(Status::kOk, WriteByte(*vmo_no_trap, 0, 0xcc));
  expected = Pattern(*vmo_no_trap, 0, 1);
  expected[0] = 0xcc;
  EXPECT_TRUE(CheckData(*vmo_no_trap, 0, 1, expected));

  // An ordinary VMO cannot trap dirty.
  Vmo plain;
  EXPECT_EQ(Status::kInvalidArgs, Vmo::Create(kPageSize, kVmoTrapDirty, &plain));

  EXPECT_TRUE(NoRequests(pager, *vmo_no_trap));
}

// A vmo_write asks for at most 256 pages at a time, READ and DIRTY alike (1, 10.2), while a
// read of the same range asks for all of it at once.
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(WriteBatchLimit, 0) {
  constexpr uint64_t kNumPages = 600;
  constexpr uint64_t kBatch = 256;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, create_option);
  ASSERT_NE(vmo, nullptr);

  // Absent pages: READ per batch, then (trap) DIRTY for the supplied batch.
  TestThread t1([&] { return WriteFill(*vmo, 0, kNumPages, 0xaa); });
  t1.Start();
  for (uint64_t first = 0; first < kNumPages; first += kBatch) {
    const uint64_t count = std::min(kBatch, kNumPages - first);
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, first, count)) << "page " << first;
    ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, first, count));
    if (create_option & kVmoTrapDirty) {
      ASSERT_TRUE(pager.WaitForPageDirty(*vmo, first, count)) << "page " << first;
      ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, first, count));
    }
  }
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, kNumPages, 0}}));
  std::vector<uint8_t> expected(P(kNumPages), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));

  if (create_option & kVmoTrapDirty) {
    // All pages present and clean: DIRTY per batch.
    ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, kNumPages));
    ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, kNumPages));
    TestThread t2([&] { return WriteFill(*vmo, 0, kNumPages, 0xbb); });
    t2.Start();
    for (uint64_t first = 0; first < kNumPages; first += kBatch) {
      const uint64_t count = std::min(kBatch, kNumPages - first);
      ASSERT_TRUE(pager.WaitForPageDirty(*vmo, first, count)) << "page " << first;
      ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, first, count));
    }
    ASSERT_TRUE(t2.Wait());
    EXPECT_TRUE(NoRequests(pager, *vmo));
    std::fill(expected.begin(), expected.end(), 0xbb);
    EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  }

  // A read is not limited.
  auto vmo2 = pager.CreateVmo(kNumPages, create_option);
  ASSERT_NE(vmo2, nullptr);
  TestThread t3([&] { return ReadPages(*vmo2, 0, kNumPages); });
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo2, 0, kNumPages));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo2, 0, kNumPages));
  ASSERT_TRUE(t3.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo2));
}

// A vmo_write does not use early wake (6.1). The write of [0,3) asks for READ[0,3); page 0
// is supplied, then page 1 failed: not the request's first page and no wake offset, so the
// failure is not the writer's (7.2). The writer stays blocked until page 2 completes the
// request, then retries and asks for page 1 alone. An early-woken writer would have taken
// page 0 and then ended with kIo before page 2 was supplied.
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(NoEarlyWakeForWrite, 0) {
  UserPager pager;
  auto vmo = pager.CreateVmo(3, create_option);
  ASSERT_NE(vmo, nullptr);

  TestThread t([&] { return WriteFill(*vmo, 0, 3, 0xaa); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 3));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 1, 1, Status::kIo));
  ASSERT_TRUE(t.WaitForBlocked());
  // Not woken: page 0 is still clean.
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_FALSE(pager.IsModified(*vmo));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 2, 1));

  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 1, 1));
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 2));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 2));
  }
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 3, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 3, std::vector<uint8_t>(P(3), 0xaa)));
}

// OP_DIRTY whose end lies past the (shrunk) size fails with kOutOfRange and dirties nothing,
// but still resolves the DIRTY requests in its in-bounds part, whose waiters retry and ask
// again (10.6).
TEST(PagerWriteback, OpDirtyPastShrinkResolvesInBoundsWaiters) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 4));

  TestThread t([&] { return WriteByte(*vmo, P(1), 0xaa); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, vmo->vmo.SetSize(P(2)));  // page 1 stays in bounds: its request too
  ASSERT_TRUE(t.WaitForBlocked());
  EXPECT_TRUE(NoRequests(pager, *vmo));

  EXPECT_EQ(Status::kOutOfRange, pager.DirtyPages(*vmo, 0, 4));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  // The writer was woken, found page 1 still clean, and asks again.
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWriteback, OpDirtyNoWrite) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));

  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, Pattern(*vmo, 0, 1)));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWriteback, DirtyRequestsOnVmoWrite) {
  constexpr uint64_t kNumPages = 20;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, kNumPages));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, kNumPages);

  // Writes single bytes to pages 0, 2, 4, 6, 8 and 3, then 5 whole pages at 11.
  for (uint64_t i = 0; i < kNumPages / 2; i += 2) expected[P(i)] = 0x77;
  expected[P(3)] = 0x77;
  std::fill(expected.begin() + P(11), expected.begin() + P(16), 0);
  TestThread t([&] {
    for (uint64_t i = 0; i < kNumPages / 2; i += 2) {
      if (WriteByte(*vmo, P(i), 0x77) != Status::kOk) return false;
    }
    if (WriteByte(*vmo, P(3), 0x77) != Status::kOk) return false;
    return WriteFill(*vmo, 11, 5, 0) == Status::kOk;
  });
  t.Start();

  for (uint64_t i = 0; i < kNumPages / 2; i += 2) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, i, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, i, 1));
  }
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 3, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 3, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 11, 5));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 11, 5));
  ASSERT_TRUE(t.Wait());

  EXPECT_TRUE(
      DirtyRangesAre(pager, *vmo, {{0, 1, 0}, {2, 3, 0}, {6, 1, 0}, {8, 1, 0}, {11, 5, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// Vmo variant: a read never produces DIRTY requests or dirty pages.
TEST(PagerWriteback, NoDirtyRequestsOnRead) {
  constexpr uint64_t kNumPages = 3;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);

  TestThread t([&] { return ReadPages(*vmo, 0, kNumPages); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, kNumPages));
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoDirty));

  ASSERT_EQ(Status::kOk, ReadPages(*vmo, 0, kNumPages));
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, Pattern(*vmo, 0, kNumPages)));
}

TEST(PagerWriteback, DirtyRequestsRepeatedWrites) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);

  expected[0] = 0xcc;
  TestThread t1([&] { return WriteByte(*vmo, 0, 0xcc); });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // The second write does not trap.
  expected[0] = 0xdd;
  TestThread t2([&] { return WriteByte(*vmo, 0, 0xdd); });
  t2.Start();
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
}

TEST(PagerWriteback, DirtyRequestsOnWriteAfterRead) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);

  TestThread t1([&] { return ReadPages(*vmo, 0, 1); });
  t1.Start();
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));

  expected[0] = 0xdd;
  TestThread t2([&] { return WriteByte(*vmo, 0, 0xdd); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// Scenario 14.
TEST(PagerWriteback, DirtyRequestsOverlap) {
  constexpr uint64_t kNumPages = 20;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, kNumPages));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, kNumPages);
  EXPECT_TRUE(NoRequests(pager, *vmo));

  TestThread t1([&] { return WriteFill(*vmo, 4, 5, 0xaa); });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 4, 5));
  EXPECT_TRUE(NoRequests(pager, *vmo));

  // Only the part not already requested is asked for.
  std::fill(expected.begin() + P(2), expected.begin() + P(9), 0xbb);
  TestThread t2([&] { return WriteFill(*vmo, 2, 7, 0xbb); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 2));
  EXPECT_TRUE(NoRequests(pager, *vmo));

  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 4, 5));
  ASSERT_TRUE(t1.Wait());
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 2));
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 7, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));

  std::fill(expected.begin() + P(11), expected.begin() + P(16), 0xcc);
  TestThread t3([&] { return WriteFill(*vmo, 11, 5, 0xcc); });
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 11, 5));

  TestThread t4([&] { return WriteFill(*vmo, 15, 4, 0xdd); });
  t4.Start();
  ASSERT_TRUE(t4.WaitForBlocked());
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoDirty));

  // t3 finishes; t4 wakes and blocks again for the rest.
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 11, 5));
  ASSERT_TRUE(t3.Wait());
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 16, 3));
  ASSERT_TRUE(t4.WaitForBlocked());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 7, 0}, {11, 5, 0}}));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 16, 3));
  ASSERT_TRUE(t4.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 7, 0}, {11, 8, 0}}));

  // Page 15 holds whichever of t3 and t4 wrote last.
  std::fill(expected.begin() + P(15), expected.begin() + P(19), 0xdd);
  const bool outcome1 = CheckData(*vmo, 0, kNumPages, expected);
  std::fill(expected.begin() + P(15), expected.begin() + P(16), 0xcc);
  const bool outcome2 = CheckData(*vmo, 0, kNumPages, expected);
  EXPECT_TRUE(outcome1 || outcome2);
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// Scenario 15, over several random layouts of absent, clean and dirty pages.
TEST(PagerWriteback, DirtyRequestsRandomOffsets) {
  constexpr uint64_t kNumPages = 10;
  std::mt19937 rng(42);
  for (int round = 0; round < 8; ++round) {
    UserPager pager;
    auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
    ASSERT_NE(vmo, nullptr);
    int state[kNumPages];  // 0 absent, 1 clean, 2 dirty
    for (uint64_t i = 0; i < kNumPages; ++i) {
      state[i] = static_cast<int>(rng() % 3);
      if (state[i] >= 1) {
        ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, i, 1));
      }
      if (state[i] == 2) {
        ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, i, 1));
      }
    }

    TestThread t([&] { return WriteFill(*vmo, 0, kNumPages, 0x5a); });
    t.Start();
    uint64_t clean_start = 0;
    uint64_t clean_len = 0;
    for (int64_t i = 0; i < static_cast<int64_t>(kNumPages); ++i) {
      if (state[i] == 0) {
        if (clean_len > 0) {
          ASSERT_TRUE(pager.WaitForPageDirty(*vmo, clean_start, clean_len));
          ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, clean_start, clean_len));
        }
        uint64_t run = 1;
        while (i + run < kNumPages && state[i + run] == 0) ++run;
        ASSERT_TRUE(t.WaitForBlocked());
        ASSERT_TRUE(pager.WaitForPageRead(*vmo, i, run));
        ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, i, run));
        for (uint64_t j = i; j < i + run; ++j) state[j] = 1;
        --i;  // revisit: the supplied pages may join a clean run
        clean_start = i + 1;
        clean_len = 0;
      } else if (state[i] == 1) {
        ++clean_len;
      } else {
        if (clean_len > 0) {
          ASSERT_TRUE(pager.WaitForPageDirty(*vmo, clean_start, clean_len));
          ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, clean_start, clean_len));
        }
        clean_start = i + 1;
        clean_len = 0;
      }
    }
    if (clean_len > 0) {
      ASSERT_TRUE(pager.WaitForPageDirty(*vmo, clean_start, clean_len));
      ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, clean_start, clean_len));
    }
    ASSERT_TRUE(t.Wait());
    EXPECT_TRUE(NoRequests(pager, *vmo));
    EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, kNumPages, 0}}));
  }
}

// Vmo variant of FailDirtyRequests (the mapping half expects a crash).
TEST(PagerWriteback, FailDirtyRequests) {
  constexpr uint64_t kNumPages = 2;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, kNumPages));
  const std::vector<uint8_t> expected = Pattern(*vmo, 0, kNumPages);

  for (uint64_t page = 0; page < kNumPages; ++page) {
    TestThread t([&] { return WriteByte(*vmo, P(page), 0xdd); });
    t.Start();
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, page, 1));
    ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, page, 1));
    ASSERT_TRUE(t.WaitForFailure(Status::kIo));
    EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
    EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  }
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWriteback, NoDirtyRequestsOnCommit) {
  constexpr uint64_t kNumPages = 5;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 2));

  TestThread t([&] { return vmo->vmo.OpRange(kVmoOpCommit, 0, P(kNumPages)); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 2, kNumPages - 2));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 2, kNumPages - 2));
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
}

TEST(PagerWriteback, SimpleDirtyNoTrap) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  expected[0] = 0x77;
  ASSERT_EQ(Status::kOk, WriteByte(*vmo, 0, 0x77));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // A later write dirties the page again (the peer writes through a mapping here).
  expected[0] = 0x55;
  ASSERT_EQ(Status::kOk, WriteByte(*vmo, 0, 0x55));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWriteback, DirtyNoTrapRandomOffsets) {
  constexpr uint64_t kNumPages = 10;
  std::mt19937 rng(7);
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages);
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
  EXPECT_EQ(P(non_zero), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));

  uint8_t value = 0x77;
  for (uint64_t i = 0; i < kNumPages; ++i) expected[P(i)] = value++;
  ASSERT_EQ(Status::kOk, vmo->vmo.Write(expected.data(), 0, P(kNumPages)));
  EXPECT_EQ(P(kNumPages), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, kNumPages, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

}  // namespace
}  // namespace upager::testing
