// Zircon's pager writeback tests through mappings (see pager_writeback_vmar_test.cc for
// the conventions): detach with dirty state (moved out of
// pager_writeback_vmar_modified_test.cc).
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

// ---- Detach with dirty state ----

// WritebackDirtyPagesAfterDetach: a page dirtied through a mapping survives detach and stays
// readable through the mapping and with a vmo read.
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(WritebackDirtyPagesAfterDetachVmar, 0) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);

  SetWord(&expected, 0, Bytes(0xaa));
  TestThread t([&] { return ProbeStore(map.data(), Bytes(0xaa)).ok; });
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

  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// WritebackResizedRangeAfterDetach: the dirty zero tail and a page dirtied through a mapping
// survive detach and read back through the mapping.
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(WritebackResizedRangeAfterDetachVmar, kVmoResizable) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 3, &map));
  std::vector<uint8_t> expected(P(3), 0);

  SetWord(&expected, P(2), Bytes(0xbb));
  TestThread t([&] { return ProbeStore(map.data() + P(2), Bytes(0xbb)).ok; });
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
  EXPECT_TRUE(CheckMapped(map, 1, 2, expected));
  EXPECT_TRUE(CheckData(*vmo, 1, 2, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 1, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// NoDirtyRequestsAfterDetach (Vmar variant): after detach a mapped write to a clean or an
// AwaitingClean page crashes with BAD_STATE instead of trapping; WRITEBACK_END still cleans.
TEST(PagerWritebackVmar, NoDirtyRequestsAfterDetachVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo1 = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo1, nullptr);
  Mapping map1;
  ASSERT_EQ(Status::kOk, Map(*vmo1, 0, 1, &map1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo1, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo1, {}));
  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo1));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo1->key));

  Probe probe1;
  TestThread t1([&] {
    probe1 = ProbeStore(map1.data(), Bytes(0xaa));
    return true;
  });
  t1.Start();
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(CrashedWith(probe1, map1.data(), Status::kBadState));
  EXPECT_TRUE(NoRequests(pager, *vmo1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo1, {}));

  // An AwaitingClean page: kept by the detach and readable, but a write still crashes.
  auto vmo2 = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo2, nullptr);
  Mapping map2;
  ASSERT_EQ(Status::kOk, Map(*vmo2, 0, 1, &map2));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo2, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo2, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo2, {{0, 1, 0}}));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo2, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo2));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo2->key));
  const std::vector<uint8_t> expected = Pattern(*vmo2, 0, 1);
  EXPECT_TRUE(CheckMapped(map2, 0, 1, expected));

  Probe probe2;
  TestThread t2([&] {
    probe2 = ProbeStore(map2.data() + 8, Bytes(0xaa));
    return true;
  });
  t2.Start();
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(CrashedWith(probe2, map2.data() + 8, Status::kBadState));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo2, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo2, 0, 1, expected));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo2, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo2, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo2));
}

// DetachWithPendingDirtyRequest (Vmar variant): detach crashes a mapped write waiting for its
// DIRTY request with BAD_STATE and drops the clean page.
TEST(PagerWritebackVmar, DetachWithPendingDirtyRequestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  EXPECT_EQ(P(1), CommittedBytes(*vmo));

  Probe probe;
  TestThread t([&] {
    probe = ProbeStore(map.data(), Bytes(0xaa));
    return true;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(CrashedWith(probe, map.data(), Status::kBadState));

  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

}  // namespace
}  // namespace upager::testing
