// Mappings: loads and stores through a Mapping reach the pager (issue 4's basics; the
// Zircon peer tests' Vmar variants live in pager_vmar_test.cc).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "mapping_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "user_pager.h"
#include "vm/vm_object_paged.h"

namespace upager::testing {
namespace {

uint64_t Word(uint64_t key, uint64_t page, uint64_t word = 0) {
  return (key << 32) + page * (kPageSize / sizeof(uint64_t)) + word;
}

TEST(Mapping, ReadFaultSuppliedByPager) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, 2 * kPageSize, kMapRead, &map), Status::kOk);
  uint64_t value = 0;
  TestThread t([&] { return ProbeLoad(map.data() + kPageSize + 8, &value).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(value, Word(vmo->key, 1, 1));
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(Mapping, FailedReadRaisesSigbus) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapRead, &map), Status::kOk);
  Probe probe;
  uint64_t value = 0;
  TestThread t([&] {
    probe = ProbeLoad(map.data() + 24, &value);
    return true;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.FailPages(*vmo, 0, 1, Status::kIoDataIntegrity), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(probe.ok);
  EXPECT_EQ(probe.signo, SIGBUS);
  EXPECT_EQ(probe.addr, map.data() + 24);
  EXPECT_EQ(FaultStatusForAddress(probe.addr), Status::kIoDataIntegrity);
  // Not sticky: the next access asks again.
  TestThread t2([&] { return ProbeLoad(map.data(), &value).ok; });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t2.Wait());
  EXPECT_EQ(value, Word(vmo->key, 0));
}

TEST(Mapping, WriteTrapsDirty) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapRead | kMapWrite, &map), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  uint64_t value = 0;
  ASSERT_TRUE(ProbeLoad(map.data(), &value).ok);
  EXPECT_EQ(value, Word(vmo->key, 0));
  EXPECT_FALSE(pager.IsModified(*vmo));
  TestThread t([&] { return ProbeStore(map.data() + 8, 77).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_EQ(pager.DirtyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  uint64_t read_back = 0;
  ASSERT_EQ(vmo->vmo.Read(&read_back, 8, 8), Status::kOk);
  EXPECT_EQ(read_back, 77u);
  EXPECT_TRUE(pager.IsModified(*vmo));
  // A second store needs no request; it still marks the VMO modified.
  ASSERT_TRUE(ProbeStore(map.data() + 16, 78).ok);
  EXPECT_FALSE(pager.AnyPacket());
  EXPECT_TRUE(pager.IsModified(*vmo));
  auto ranges = pager.DirtyRanges(*vmo);
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0].offset, 0u);
  // Writeback write-protects again: the next store traps.
  ASSERT_EQ(pager.WritebackBeginPages(*vmo, 0, 1), Status::kOk);
  ASSERT_EQ(pager.WritebackEndPages(*vmo, 0, 1), Status::kOk);
  TestThread t2([&] { return ProbeStore(map.data() + 24, 79).ok; });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(pager.DirtyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t2.Wait());
}

TEST(Mapping, EvictedPageFaultsAgain) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapRead, &map), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  uint64_t value = 0;
  ASSERT_TRUE(ProbeLoad(map.data(), &value).ok);
  ASSERT_TRUE(vmo->vmo.object()->EvictPage(0));
  TestThread t([&] { return ProbeLoad(map.data() + 8, &value).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(value, Word(vmo->key, 0, 1));
}

TEST(Mapping, ManyThreadsOnePageOneRequest) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapRead, &map), Status::kOk);
  std::vector<std::unique_ptr<TestThread>> threads;
  for (int i = 0; i < 32; ++i) {
    threads.push_back(std::make_unique<TestThread>([&, i] {
      uint64_t v = 0;
      return ProbeLoad(map.data() + 8 * i, &v).ok && v == Word(vmo->key, 0, i);
    }));
    threads.back()->Start();
  }
  for (auto& t : threads) ASSERT_TRUE(t->WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  EXPECT_FALSE(pager.AnyPacket(std::chrono::milliseconds(50)));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  for (auto& t : threads) EXPECT_TRUE(t->Wait());
  EXPECT_FALSE(pager.AnyPacket());
}

}  // namespace
}  // namespace upager::testing
