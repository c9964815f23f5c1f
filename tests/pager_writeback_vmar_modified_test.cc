// Zircon's pager writeback tests through mappings (see pager_writeback_vmar_test.cc for
// the conventions): ZX_VMO_OP_ZERO and the modified flag.
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

// ---- ZX_VMO_OP_ZERO with mappings ----

// OpZeroDecommit through a mapping: zeroing drops the pages from the mapping (including one
// mapped writable), which then reads zeros; a store to a zeroed page is seen again.
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(OpZeroDecommitVmar, kVmoResizable) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 3, &map));
  std::vector<uint8_t> expected(P(3), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  EXPECT_TRUE(CheckMapped(map, 0, 3, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, kZ}}));

  SetWord(&expected, P(2), Bytes(0xaa));
  TestThread t1([&] { return ProbeStore(map.data() + P(2), Bytes(0xaa)).ok; });
  t1.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
  }
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(CheckMapped(map, 0, 3, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}}));
  EXPECT_EQ(P(2), CommittedBytes(*vmo));

  // Zeroing everything needs no request and leaves one zero range from 0.
  TestThread t2([&] { return ZeroPages(*vmo, 0, 3); });
  t2.Start();
  ASSERT_TRUE(t2.Wait());
  std::fill(expected.begin(), expected.end(), 0);
  EXPECT_TRUE(CheckMapped(map, 0, 3, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 3, kZ}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));

  // Page 2 was mapped writable before the zeroing; a store to it is seen again.
  SetWord(&expected, P(2), Bytes(0xbb));
  TestThread t3([&] { return ProbeStore(map.data() + P(2), Bytes(0xbb)).ok; });
  t3.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
  }
  ASSERT_TRUE(t3.Wait());
  EXPECT_TRUE(CheckMapped(map, 0, 3, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 2, kZ}, {2, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// OpZeroUnblocksReadRequest through a mapping: zeroing a page a mapped load waits for
// resolves the READ and the load gets zeros.
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(OpZeroUnblocksReadRequestVmar, 0) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 2, &map));

  uint64_t word = ~0ull;
  TestThread t([&] { return ProbeLoad(map.data() + P(1) + 24, &word).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 1, 1));
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(0u, word);

  std::vector<uint8_t> expected(P(2), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// DelayedDirtyNotFound (scenario 19) through a mapping: the stale ack fails and the blocked
// store retries with READ, then DIRTY.
TEST(PagerWritebackVmar, DelayedDirtyNotFoundVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 2, &map));

  TestThread t([&] { return ProbeStore(map.data() + P(1), Bytes(0xaa)).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));

  EXPECT_EQ(Status::kNotFound, pager.DirtyPages(*vmo, 1, 1));
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 1, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, 0}}));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 2);
  SetWord(&expected, P(1), Bytes(0xaa));
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 2, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// DelayedReadZeroRange through a mapping.
TEST(PagerWritebackVmar, DelayedReadZeroRangeVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));

  uint64_t word = ~0ull;
  TestThread t([&] { return ProbeLoad(map.data(), &word).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));

  // OP_ZERO resolves the READ: the load gets zeros.
  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, kZ}}));
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(0u, word);

  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
}

// DelayedDirtyZeroRange through a mapping.
TEST(PagerWritebackVmar, DelayedDirtyZeroRangeVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));

  TestThread t([&] { return ProbeStore(map.data() + 8, Bytes(0xaa)).ok; });
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
  std::vector<uint8_t> expected(P(1), 0);
  SetWord(&expected, 8, Bytes(0xaa));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ---- Modified statistics ----

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ModifiedOnMappingWrite, 0) {
  UPAGER_REQUIRE_MAPPINGS();
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
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  EXPECT_FALSE(pager.IsModified(*vmo));

  SetWord(&expected, 0, Bytes(0xbb));
  ASSERT_TRUE(ProbeStore(map.data(), Bytes(0xbb)).ok);
  EXPECT_TRUE(pager.IsModified(*vmo));
  EXPECT_FALSE(pager.IsModified(*vmo));  // the query reset it
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(NotModifiedOnMappingRead, 0) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  const std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  EXPECT_FALSE(pager.IsModified(*vmo));

  uint64_t word = 0;
  ASSERT_TRUE(ProbeLoad(map.data(), &word).ok);
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  uint64_t want;
  std::memcpy(&want, expected.data(), 8);
  EXPECT_EQ(want, word);
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWritebackVmar, NotModifiedOnFailedDirtyRequest) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  const std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_FALSE(pager.IsModified(*vmo));

  // A vmo_write whose DIRTY request fails.
  TestThread t1([&] {
    const uint8_t data = 0xaa;
    return vmo->vmo.Write(&data, 0, 1);
  });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.WaitForFailure(Status::kIo));
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  // A mapped write whose DIRTY request fails.
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  Probe probe;
  TestThread t2([&] {
    probe = ProbeStore(map.data(), Bytes(0xbb));
    return true;
  });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 0, 1));
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(CrashedWith(probe, map.data(), Status::kIo));
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// A vmo_write whose source buffer is a mapping of another pager VMO faults in that mapping
// from inside the copy. When the pager fails that READ, the copy must fail like one from an
// unmapped buffer: the write returns an error. If the failure is delivered as a SIGBUS queued
// to the writing thread instead, that signal arrives after the system call; threads under
// SourceFaultGuard count and ignore it (the test then fails on the count) instead of dying,
// and other threads keep mapping_util's handler.
class SourceFaultGuard {
 public:
  SourceFaultGuard() {
    mapping_util_internal::InstallHandlers();
    absorbed_ = 0;
    struct sigaction sa {};
    sa.sa_sigaction = &OnSigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &previous_);
  }
  ~SourceFaultGuard() { sigaction(SIGBUS, &previous_, nullptr); }
  SourceFaultGuard(const SourceFaultGuard&) = delete;
  SourceFaultGuard& operator=(const SourceFaultGuard&) = delete;

  // Called by the thread making the write.
  static void Enter() { t_inside_ = true; }
  static int absorbed() { return absorbed_.load(); }

 private:
  static void OnSigbus(int signo, siginfo_t* info, void* context) {
    if (t_inside_) {
      absorbed_++;
      return;
    }
    previous_.sa_sigaction(signo, info, context);
  }

  static inline thread_local bool t_inside_ = false;
  static inline std::atomic<int> absorbed_{0};
  static inline struct sigaction previous_ {};
};

// Runs vmo->vmo.Write(source, 0, len) on a thread, waits for the READ of `src` page
// `fail_page`, fails it, and returns whether the write then failed within a few seconds. If it
// did not, it reports whether the write asked for the failed page again, supplies it so that
// the thread ends, and returns false.
bool WriteFromFailedSource(UserPager& pager, const TestVmo& vmo, const TestVmo& src,
                           const Mapping& src_map, uint64_t len, uint64_t fail_page) {
  std::atomic<bool> done{false};
  TestThread t([&] {
    SourceFaultGuard::Enter();
    const Status result = vmo.vmo.Write(src_map.data(), 0, len);
    done = true;
    return result;
  });
  t.Start();
  EXPECT_TRUE(pager.WaitForPageRead(src, fail_page, 1));
  EXPECT_EQ(Status::kOk, pager.FailPages(src, fail_page, 1));
  const bool returned = PollUntil([&] { return done.load(); }, std::chrono::seconds(2));
  EXPECT_TRUE(returned) << "Vmo::Write did not return after the READ of its source was failed";
  if (!returned) {
    EXPECT_FALSE(pager.WaitForPageRead(src, fail_page, 1, std::chrono::milliseconds(500)))
        << "the write asked for the failed source page again";
    EXPECT_EQ(Status::kOk, pager.SupplyPages(src, fail_page, 1));  // let the thread end
  }
  // The write returns the status its source's READ was failed with (FailPages: kIo).
  const ::testing::AssertionResult failed = t.WaitForFailure(Status::kIo);
  EXPECT_TRUE(failed);
  EXPECT_EQ(0, SourceFaultGuard::absorbed()) << "a SIGBUS reached the writing thread";
  return returned && failed;
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(NotModifiedOnFailedVmoWrite, 0) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  const std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  if (create_option & kVmoTrapDirty) {
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));  // so that the write does not trap
  }
  EXPECT_FALSE(pager.IsModified(*vmo));

  // The source is a mapping of an unsupplied pager VMO whose READ is failed.
  auto src = pager.CreateVmo(1);
  ASSERT_NE(src, nullptr);
  Mapping src_map;
  ASSERT_EQ(Status::kOk, Mapping::Create(src->vmo, 0, P(1), kMapRead | kMapWrite, &src_map));
  SourceFaultGuard guard;
  EXPECT_TRUE(WriteFromFailedSource(pager, *vmo, *src, src_map, 1, 0));

  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  // Pages are dirtied when looked up, before the copy (10.3).
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(NoRequests(pager, *src));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ModifiedOnPartialVmoWrite, 0) {
  UPAGER_REQUIRE_MAPPINGS();
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

  // The source is a mapping of a pager VMO with page 0 supplied and page 1's READ failed: the
  // write copies one page and fails.
  auto src = pager.CreateVmo(2);
  ASSERT_NE(src, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*src, 0, 1));
  Mapping src_map;
  ASSERT_EQ(Status::kOk, Mapping::Create(src->vmo, 0, P(2), kMapRead | kMapWrite, &src_map));
  {
    SourceFaultGuard guard;
    EXPECT_TRUE(WriteFromFailedSource(pager, *vmo, *src, src_map, P(2), 1));
  }
  EXPECT_TRUE(pager.IsModified(*vmo));
  UserPager::Pattern(src->key, 0, expected.data());
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 2, 0}}));
  EXPECT_TRUE(NoRequests(pager, *src));

  if (!(create_option & kVmoTrapDirty)) return;

  // A write whose DIRTY request for its second page is failed also modifies the VMO.
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 2));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  TestThread t([&] {
    std::vector<uint8_t> data(P(2), 0xaa);
    return vmo->vmo.Write(data.data(), 0, P(2));
  });
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

}  // namespace
}  // namespace upager::testing
