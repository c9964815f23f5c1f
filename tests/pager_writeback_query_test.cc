// Zircon's pager writeback tests through Vmo (see pager_writeback_test.cc for the
// conventions): detach with dirty state, the modified flag, argument validation and
// query mechanics.
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

// ---- Argument validation and query mechanics ----

// The handle-type and ordinary-VMO-through-a-typed-handle cases of Zircon's matrix have no
// counterpart (handles are typed); the rights cases are in rights_test.cc.
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
