// Zircon's pager writeback tests (zircon/system/utest/core/pager-writeback/pager-writeback.cc),
// reproduced through Vmo::Read/Write/OpRange/SetSize/GetInfo and the Pager API. A
// VMO_VMAR_TEST(PagerWriteback, X) appears here as XVmo, a TEST_WITH_AND_WITHOUT_TRAP_DIRTY
// entry X as XTrapDirty and XNoTrapDirty, a plain TEST as X. Behaviour follows
// zircon-semantics.md (section numbers in the comments); "blocked" is
// TestThread::WaitForBlocked, "no packet" a poll with a zero timeout.
//
// Not here: tests that need mappings, clones, pins or rights, and the mapping halves of
// VMO_VMAR tests and of mixed tests (crash expectations). Where the peer reads a written-back
// zero gap through a mapping that still maps the zero page, the Vmo read would need a READ
// (10.5), so only the other pages are checked. A source buffer whose copy faults is an
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

#include "test_util.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/thread.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
constexpr std::chrono::milliseconds kPoll{0};

// Expands a TEST_WITH_AND_WITHOUT_TRAP_DIRTY entry into NameTrapDirty and NameNoTrapDirty.
#define TEST_WITH_AND_WITHOUT_TRAP_DIRTY(name, base_options)                      \
  void name(uint32_t create_option);                                              \
  TEST(PagerWriteback, name##TrapDirty) { name((base_options) | kVmoTrapDirty); } \
  TEST(PagerWriteback, name##NoTrapDirty) { name(base_options); }                 \
  void name(uint32_t create_option)

// The content UserPager supplies for pages [first, first+count) of `vmo`.
std::vector<uint8_t> Pattern(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<uint8_t> out(P(count));
  for (uint64_t i = 0; i < count; ++i) {
    UserPager::Pattern(vmo.key, first + i, out.data() + P(i));
  }
  return out;
}

// check_buffer_data: pages [first, first+count) must hold `expected` (which covers them).
::testing::AssertionResult CheckData(const TestVmo& vmo, uint64_t first, uint64_t count,
                                     const uint8_t* expected) {
  std::vector<uint8_t> data(P(count));
  if (Status s = vmo.vmo.Read(data.data(), P(first), P(count)); s != Status::kOk) {
    return ::testing::AssertionFailure() << "read failed: " << s;
  }
  for (uint64_t i = 0; i < P(count); ++i) {
    if (data[i] != expected[i]) {
      return ::testing::AssertionFailure()
             << "byte " << i << " of page " << first << "+: " << int{data[i]} << " expected "
             << int{expected[i]};
    }
  }
  return ::testing::AssertionSuccess();
}
::testing::AssertionResult CheckData(const TestVmo& vmo, uint64_t first, uint64_t count,
                                     const std::vector<uint8_t>& expected) {
  return CheckData(vmo, first, count, expected.data());
}

// CheckData for single pages: written-back zero ranges are absent (10.5) and reading them
// would need a READ, which Zircon's mapping-based checks happen not to trigger.
::testing::AssertionResult CheckPages(const TestVmo& vmo, std::initializer_list<uint64_t> pages,
                                      const std::vector<uint8_t>& expected) {
  for (uint64_t page : pages) {
    if (auto r = CheckData(vmo, page, 1, expected.data() + P(page)); !r) return r;
  }
  return ::testing::AssertionSuccess();
}

constexpr uint64_t kZ = kVmoDirtyRangeIsZero;

// No READ or DIRTY request for `vmo` is waiting (GetPageRead/DirtyRequest with timeout 0).
bool NoRequests(UserPager& pager, const TestVmo& vmo) {
  return !pager.HasPageRequest(vmo, kPagerVmoRead, kPoll) &&
         !pager.HasPageRequest(vmo, kPagerVmoDirty, kPoll);
}

uint64_t CommittedBytes(const TestVmo& vmo) {
  VmoInfo info{};
  vmo.vmo.GetInfo(&info);
  return info.committed_bytes;
}

// Writes `count` pages of `value` at page `first`.
Status WriteFill(const TestVmo& vmo, uint64_t first, uint64_t count, uint8_t value) {
  std::vector<uint8_t> data(P(count), value);
  return vmo.vmo.Write(data.data(), P(first), P(count));
}
Status WriteByte(const TestVmo& vmo, uint64_t offset, uint8_t value) {
  return vmo.vmo.Write(&value, offset, 1);
}
Status ReadPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<uint8_t> data(P(count));
  return vmo.vmo.Read(data.data(), P(first), P(count));
}

// Supplies pages [first, first+count) from an aux VMO that has no committed pages, which
// leaves zero markers (10.1).
Status SupplyZeroPages(UserPager& pager, const TestVmo& vmo, uint64_t first, uint64_t count) {
  Vmo aux;
  if (Status s = Vmo::Create(P(count), 0, &aux); s != Status::kOk) return s;
  return pager.pager().SupplyPages(vmo.vmo, P(first), P(count), aux, 0);
}

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

Status Resize(const TestVmo& vmo, uint64_t pages) { return vmo.vmo.SetSize(P(pages)); }

// Writes `count` pages of `value` at `first` on a thread, acknowledging the DIRTY request
// [first, first+count) if the VMO traps.
void WriteAndAck(UserPager& pager, const TestVmo& vmo, uint32_t options, uint64_t first,
                 uint64_t count, uint8_t value) {
  TestThread t([&] { return WriteFill(vmo, first, count, value); });
  t.Start();
  if (options & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(vmo, first, count));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(vmo, first, count));
  }
  ASSERT_TRUE(t.Wait());
}

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

// ---- ZX_VMO_OP_ZERO ----

Status ZeroPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
  return vmo.vmo.OpRange(kVmoOpZero, P(first), P(count));
}

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

// ---- Detach with dirty state ----

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(WritebackDirtyPagesAfterDetach, 0) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  TestThread t([&] { return WriteByte(*vmo, 0, 0xaa); });
  t.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));

  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));

  // The dirty page survives, stays readable and can be written back.
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  expected[0] = 0xaa;
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(WritebackResizedRangeAfterDetach, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  TestThread t([&] { return WriteByte(*vmo, P(2), 0xbb); });
  t.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
  }
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}}));
  EXPECT_EQ(P(1), CommittedBytes(*vmo));

  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}}));
  std::vector<uint8_t> expected(P(2), 0);
  expected[P(1)] = 0xbb;
  EXPECT_TRUE(CheckData(*vmo, 1, 2, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 1, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(DecommitCleanOnDetach, 0) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWriteback, NoDirtyRequestsAfterDetachVmo) {
  UserPager pager;
  // A clean page: the write fails instead of trapping.
  auto vmo1 = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo1, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo1, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo1, {}));
  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo1));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo1->key));
  EXPECT_EQ(Status::kBadState, WriteByte(*vmo1, 0, 0xaa));
  EXPECT_TRUE(NoRequests(pager, *vmo1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo1, {}));

  // An AwaitingClean page: the same, and WRITEBACK_END still cleans it.
  auto vmo2 = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo2, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo2, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo2, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo2, {{0, 1, 0}}));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo2, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo2));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo2->key));
  EXPECT_EQ(Status::kBadState, WriteByte(*vmo2, 0, 0xaa));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo2, {{0, 1, 0}}));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo2, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo2, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo2));
}

TEST(PagerWriteback, DetachWithPendingDirtyRequestVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  EXPECT_EQ(P(1), CommittedBytes(*vmo));

  TestThread t([&] { return WriteByte(*vmo, 0, 0xaa) == Status::kBadState; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  ASSERT_TRUE(t.Wait());

  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWriteback, ResolveDirtyRequestAfterDetach) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));

  TestThread t([&] { return WriteByte(*vmo, 0, 0xaa) == Status::kBadState; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoDirty));

  EXPECT_EQ(Status::kBadState, pager.FailPages(*vmo, 0, 1));
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoDirty));
  EXPECT_EQ(Status::kBadState, pager.DirtyPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ---- Modified statistics ----

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ModifiedOnVmoWrite, 0) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  if (create_option & kVmoTrapDirty) {
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));  // so that the write does not trap
  }
  EXPECT_FALSE(pager.IsModified(*vmo));

  ASSERT_EQ(Status::kOk, WriteByte(*vmo, 0, 0xaa));
  EXPECT_TRUE(pager.IsModified(*vmo));
  EXPECT_FALSE(pager.IsModified(*vmo));  // the query reset it
  expected[0] = 0xaa;
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ModifiedOnResize, kVmoResizable) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, Pattern(*vmo, 0, 1)));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_FALSE(pager.IsModified(*vmo));

  ASSERT_EQ(Status::kOk, Resize(*vmo, 0));
  EXPECT_TRUE(pager.IsModified(*vmo));
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  ASSERT_EQ(Status::kOk, Resize(*vmo, 2));
  EXPECT_TRUE(pager.IsModified(*vmo));
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, 2, std::vector<uint8_t>(P(2), 0)));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 2, kZ}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ModifiedOnOpZero, 0) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 2));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 2);
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  if (create_option & kVmoTrapDirty) {
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  EXPECT_FALSE(pager.IsModified(*vmo));

  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 0, 1));
  EXPECT_TRUE(pager.IsModified(*vmo));
  EXPECT_FALSE(pager.IsModified(*vmo));
  std::fill(expected.begin(), expected.begin() + P(1), 0);
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, kZ}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(NotModifiedOnVmoRead, 0) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  const std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_FALSE(pager.IsModified(*vmo));

  uint8_t data;
  ASSERT_EQ(Status::kOk, vmo->vmo.Read(&data, 0, 1));
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// Vmo half of NotModifiedOnFailedDirtyRequest (the mapping half expects a crash).
TEST(PagerWriteback, NotModifiedOnFailedDirtyRequest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  const std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_FALSE(pager.IsModified(*vmo));

  TestThread t([&] { return WriteByte(*vmo, 0, 0xaa); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 0, 1));
  ASSERT_TRUE(t.WaitForFailure(Status::kIo));
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// A buffer whose first `good_pages` pages are readable and whose next page faults, standing in
// for the peer's source buffer mapped from a pager VMO whose READ is failed.
class FaultingBuffer {
 public:
  explicit FaultingBuffer(uint64_t good_pages) : size_(P(good_pages + 1)) {
    base_ = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base_ != MAP_FAILED) ::mprotect(static_cast<char*>(base_) + P(good_pages), P(1), PROT_NONE);
  }
  ~FaultingBuffer() {
    if (base_ != MAP_FAILED) ::munmap(base_, size_);
  }
  bool ok() const { return base_ != MAP_FAILED; }
  uint8_t* data() const { return static_cast<uint8_t*>(base_); }

 private:
  uint64_t size_;
  void* base_;
};

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ModifiedOnPartialVmoWrite, 0) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 2));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 2);
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_FALSE(pager.IsModified(*vmo));
  if (create_option & kVmoTrapDirty) {
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 2));
  }

  // The source buffer's second page faults: the write copies one page and fails.
  FaultingBuffer source(1);
  ASSERT_TRUE(source.ok());
  std::memset(source.data(), 0x3c, P(1));
  // An inaccessible source buffer is kInvalidArgs (a Zircon user copy that faults).
  EXPECT_EQ(Status::kInvalidArgs, vmo->vmo.Write(source.data(), 0, P(2)));
  EXPECT_TRUE(pager.IsModified(*vmo));
  std::fill(expected.begin(), expected.begin() + P(1), 0x3c);
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  // Pages are dirtied when looked up, before the copy (10.3).
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 2, 0}}));

  if (!(create_option & kVmoTrapDirty)) return;

  // A write whose DIRTY request for its second page is failed also modifies the VMO.
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 2));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  TestThread t([&] { return WriteFill(*vmo, 0, 2, 0xaa); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 1, 1));
  ASSERT_TRUE(t.WaitForFailure(Status::kIo));
  EXPECT_TRUE(pager.IsModified(*vmo));
  std::fill(expected.begin(), expected.begin() + P(1), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ModifiedNoReset, 0) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  if (create_option & kVmoTrapDirty) {
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  EXPECT_FALSE(pager.IsModified(*vmo));

  ASSERT_EQ(Status::kOk, WriteByte(*vmo, 0, 0xaa));
  PagerVmoStats stats{};
  ASSERT_EQ(Status::kOk, pager.pager().QueryVmoStats(vmo->vmo, 0, &stats, sizeof(stats)));
  EXPECT_EQ(kPagerVmoStatsModified, stats.modified);
  expected[0] = 0xaa;
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(pager.IsModified(*vmo));
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

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

// ---- Argument validation and query mechanics ----

// The rights, handle-type and ordinary-VMO-through-a-typed-handle cases of Zircon's matrix
// have no counterpart (handles carry no rights and are typed).
TEST(PagerWriteback, InvalidPagerOpRange) {
  constexpr uint32_t kOps[] = {kPagerOpFail, kPagerOpDirty, kPagerOpWritebackBegin,
                               kPagerOpWritebackEnd};
  Pager pager;
  ASSERT_EQ(Status::kOk, Pager::Create(0, &pager));
  Port port;
  ASSERT_EQ(Status::kOk, Port::Create(0, &port));

  for (uint32_t op : kOps) {
    SCOPED_TRACE(op);
    Vmo vmo;
    ASSERT_EQ(Status::kOk, pager.CreateVmo(kVmoTrapDirty, port, 0, P(1), &vmo));

    // Bad handles.
    EXPECT_EQ(Status::kBadHandle, Pager().OpRange(op, vmo, 0, 0, 0));
    EXPECT_EQ(Status::kBadHandle, pager.OpRange(op, Vmo(), 0, 0, 0));

    // A VMO that is not pager-backed, or belongs to another pager.
    Vmo plain;
    ASSERT_EQ(Status::kOk, Vmo::Create(P(1), 0, &plain));
    EXPECT_EQ(Status::kInvalidArgs, pager.OpRange(op, plain, 0, 0, 0));
    Pager pager2;
    ASSERT_EQ(Status::kOk, Pager::Create(0, &pager2));
    EXPECT_EQ(Status::kInvalidArgs, pager2.OpRange(op, vmo, 0, 0, 0));

    // Misaligned offset or length.
    EXPECT_EQ(Status::kInvalidArgs, pager.OpRange(op, vmo, 1, 0, 0));
    EXPECT_EQ(Status::kInvalidArgs, pager.OpRange(op, vmo, 0, 1, 0));

    // Out of range.
    const uint64_t data =
        op == kPagerOpFail ? static_cast<uint64_t>(static_cast<int64_t>(Status::kBadState)) : 0;
    EXPECT_EQ(Status::kOutOfRange, pager.OpRange(op, vmo, P(1), P(1), data));
  }

  Vmo vmo;
  ASSERT_EQ(Status::kOk, pager.CreateVmo(0, port, 0, P(1), &vmo));
  EXPECT_EQ(Status::kNotSupported, pager.OpRange(0, vmo, 0, 0, 0));
  // OP_FAIL: not a status, not a status a pager may report.
  EXPECT_EQ(Status::kInvalidArgs, pager.OpRange(kPagerOpFail, vmo, 0, 0, 0x11ffffffffull));
  EXPECT_EQ(Status::kInvalidArgs,
            pager.OpRange(kPagerOpFail, vmo, 0, 0,
                          static_cast<uint64_t>(static_cast<int64_t>(Status::kInternal))));
  EXPECT_EQ(Status::kInvalidArgs, pager.OpRange(kPagerOpFail, vmo, 0, 0, 100));
  // OP_DIRTY without TRAP_DIRTY.
  EXPECT_EQ(Status::kNotSupported, pager.OpRange(kPagerOpDirty, vmo, 0, 0, 0));

  ASSERT_EQ(Status::kOk, pager.CreateVmo(kVmoTrapDirty, port, 0, P(1), &vmo));
  // OP_DIRTY of an unsupplied page.
  EXPECT_EQ(Status::kNotFound, pager.OpRange(kPagerOpDirty, vmo, 0, P(1), 0));
  // Invalid data.
  EXPECT_EQ(Status::kInvalidArgs, pager.OpRange(kPagerOpDirty, vmo, 0, 0, 100));
  EXPECT_EQ(Status::kInvalidArgs, pager.OpRange(kPagerOpWritebackBegin, vmo, 0, 0, 100));
  EXPECT_EQ(Status::kInvalidArgs, pager.OpRange(kPagerOpWritebackEnd, vmo, 0, 0, 100));
}

// Without the rights and handle-type cases (see InvalidPagerOpRange).
TEST(PagerWriteback, InvalidQuery) {
  Pager pager;
  ASSERT_EQ(Status::kOk, Pager::Create(0, &pager));
  Port port;
  ASSERT_EQ(Status::kOk, Port::Create(0, &port));
  Vmo vmo;
  ASSERT_EQ(Status::kOk, pager.CreateVmo(0, port, 0, P(1), &vmo));

  // Bad handles.
  EXPECT_EQ(Status::kBadHandle, Pager().QueryDirtyRanges(vmo, 0, 0, nullptr, 0, nullptr, nullptr));
  EXPECT_EQ(Status::kBadHandle, pager.QueryDirtyRanges(Vmo(), 0, 0, nullptr, 0, nullptr, nullptr));
  EXPECT_EQ(Status::kBadHandle, Pager().QueryVmoStats(vmo, 0, nullptr, 0));
  EXPECT_EQ(Status::kBadHandle, pager.QueryVmoStats(Vmo(), 0, nullptr, 0));

  // A VMO that is not pager-backed, or belongs to another pager.
  Vmo plain;
  ASSERT_EQ(Status::kOk, Vmo::Create(P(1), 0, &plain));
  EXPECT_EQ(Status::kInvalidArgs,
            pager.QueryDirtyRanges(plain, 0, 0, nullptr, 0, nullptr, nullptr));
  EXPECT_EQ(Status::kInvalidArgs, pager.QueryVmoStats(plain, 0, nullptr, 0));
  Pager pager2;
  ASSERT_EQ(Status::kOk, Pager::Create(0, &pager2));
  EXPECT_EQ(Status::kInvalidArgs, pager2.QueryDirtyRanges(vmo, 0, 0, nullptr, 0, nullptr, nullptr));
  EXPECT_EQ(Status::kInvalidArgs, pager2.QueryVmoStats(vmo, 0, nullptr, 0));

  // Out of range.
  EXPECT_EQ(Status::kOutOfRange,
            pager.QueryDirtyRanges(vmo, P(1), P(1), nullptr, 0, nullptr, nullptr));

  // Invalid option; buffer too small.
  PagerVmoStats stats{};
  EXPECT_EQ(Status::kInvalidArgs, pager.QueryVmoStats(vmo, 100, &stats, sizeof(stats)));
  EXPECT_EQ(Status::kBufferTooSmall, pager.QueryVmoStats(vmo, 0, &stats, 0));
  EXPECT_EQ(Status::kBufferTooSmall, pager.QueryVmoStats(vmo, 0, &stats, sizeof(stats) - 1));
  // The buffer size is checked before the options (11).
  EXPECT_EQ(Status::kBufferTooSmall, pager.QueryVmoStats(vmo, 100, &stats, 0));
  EXPECT_EQ(Status::kBufferTooSmall, pager.QueryVmoStats(vmo, 100, nullptr, 0));

  // Invalid buffers, with a dirty page to enumerate.
  ASSERT_EQ(Status::kOk, pager.SupplyPages(vmo, 0, P(1), plain, 0));
  const uint64_t data = 42;
  ASSERT_EQ(Status::kOk, vmo.Write(&data, 0, sizeof(data)));
  EXPECT_EQ(Status::kInvalidArgs,
            pager.QueryDirtyRanges(vmo, 0, P(1), nullptr, sizeof(VmoDirtyRange), nullptr, nullptr));
  EXPECT_EQ(Status::kInvalidArgs, pager.QueryVmoStats(vmo, 0, nullptr, sizeof(stats)));
}

TEST(PagerWriteback, QueryEarlyTermination) {
  Pager pager;
  ASSERT_EQ(Status::kOk, Pager::Create(0, &pager));
  Port port;
  ASSERT_EQ(Status::kOk, Port::Create(0, &port));
  Vmo vmo;
  ASSERT_EQ(Status::kOk, pager.CreateVmo(0, port, 0, P(3), &vmo));
  Vmo aux;
  ASSERT_EQ(Status::kOk, Vmo::Create(P(1), 0, &aux));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(vmo, 0, P(1), aux, 0));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(vmo, P(2), P(1), aux, 0));
  uint64_t data = 42;
  ASSERT_EQ(Status::kOk, vmo.Write(&data, 0, sizeof(data)));
  ASSERT_EQ(Status::kOk, vmo.Write(&data, P(2), sizeof(data)));

  // A buffer too small for one entry: OK, nothing written.
  size_t actual = 99;
  ASSERT_EQ(Status::kOk,
            pager.QueryDirtyRanges(vmo, 0, P(1), &data, sizeof(data), &actual, nullptr));
  EXPECT_EQ(0u, actual);

  // Room for the first of two ranges.
  VmoDirtyRange range{};
  ASSERT_EQ(Status::kOk,
            pager.QueryDirtyRanges(vmo, 0, P(3), &range, sizeof(range), &actual, nullptr));
  EXPECT_EQ(0u, range.offset);
  EXPECT_EQ(P(1), range.length);
  EXPECT_EQ(1u, actual);

  // avail counts both.
  size_t avail = 0;
  ASSERT_EQ(Status::kOk,
            pager.QueryDirtyRanges(vmo, 0, P(3), &range, sizeof(range), &actual, &avail));
  EXPECT_EQ(1u, actual);
  EXPECT_EQ(2u, avail);

  // Room for both.
  VmoDirtyRange ranges[2] = {};
  ASSERT_EQ(Status::kOk,
            pager.QueryDirtyRanges(vmo, 0, P(3), ranges, sizeof(ranges), &actual, nullptr));
  EXPECT_EQ(2u, actual);
  EXPECT_EQ(0u, ranges[0].offset);
  EXPECT_EQ(P(1), ranges[0].length);
  EXPECT_EQ(P(2), ranges[1].offset);
  EXPECT_EQ(P(1), ranges[1].length);
}

}  // namespace
}  // namespace upager::testing
