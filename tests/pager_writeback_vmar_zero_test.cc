// Zircon's pager writeback tests on zero page markers, accessed through a mapping (moved out
// of pager_writeback_vmar_test.cc, whose header comment describes how the peer's entries are
// named and reproduced here).
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

// ---- Zero page markers ----

TEST(PagerWritebackVmar, DirtyRequestsForZeroPages) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kNumPages = 2;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 0, kNumPages));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  std::vector<uint8_t> expected(P(kNumPages), 0);
  expected[0] = 0xaa;
  TestThread t1([&] {
    const uint8_t data = 0xaa;
    return vmo->vmo.Write(&data, 0, 1) == Status::kOk;
  });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.Wait());
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));

  // The second page, through a mapping of that page alone.
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 1, 1, &map));
  SetWord(&expected, P(1), Bytes(0xbb));
  TestThread t2([&] { return ProbeStore(map.data(), Bytes(0xbb)).ok; });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  ASSERT_TRUE(t2.Wait());
  EXPECT_EQ(P(kNumPages), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 2, 0}}));
  uint64_t word = 0;
  ASSERT_TRUE(ProbeLoad(map.data(), &word).ok);
  EXPECT_EQ(Bytes(0xbb), word);
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// FailDirtyRequestsForZeroPages through a mapping: the store crashes; nothing is committed.
TEST(PagerWritebackVmar, FailDirtyRequestsForZeroPagesVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 0, 1));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  const std::vector<uint8_t> expected(P(1), 0);

  Probe probe;
  TestThread t([&] {
    probe = ProbeStore(map.data() + 8, Bytes(0xaa));
    return true;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 0, 1));
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(CrashedWith(probe, map.data() + 8, Status::kIo));

  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// CannotOverwriteZeroPage through a mapping: the marker reads as zeros through the mapping, a
// supply over it changes nothing, and a store forks it into a real dirty page.
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(CannotOverwriteZeroPageVmar, 0) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  Vmo aux;
  ASSERT_EQ(Status::kOk, Vmo::Create(P(1), 0, &aux));
  ASSERT_EQ(Status::kOk, pager.pager().SupplyPages(vmo->vmo, 0, P(1), aux, 0));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  std::vector<uint8_t> expected(P(1), 0);
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));

  const uint8_t data = 0xaa;
  ASSERT_EQ(Status::kOk, aux.Write(&data, 0, 1));
  ASSERT_EQ(Status::kOk, pager.pager().SupplyPages(vmo->vmo, 0, P(1), aux, 0));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  SetWord(&expected, 0, Bytes(0xbb));
  TestThread t([&] { return ProbeStore(map.data(), Bytes(0xbb)).ok; });
  t.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

}  // namespace
}  // namespace upager::testing
