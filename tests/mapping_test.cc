// Mappings: loads and stores through a Mapping reach the pager (issue 4's basics; mappings
// served by a PagerLoop are in mapping_loop_test.cc, the Zircon peer tests' Vmar variants in
// pager_vmar_test.cc).
#include "upager/mapping.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "base/handle_access.h"
#include "mapping_util.h"
#include "mapping_word.h"
#include "test_util.h"
#include "user_pager.h"
#include "vm/vm_object_paged.h"

namespace upager::testing {
namespace {

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
  ASSERT_TRUE(internal::HandleAccess::Object(vmo->vmo)->EvictPage(0));
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
  // A faulting thread counts as blocked only once its fault joined or sent a request: every
  // packet the 32 faults caused is queued by now.
  EXPECT_FALSE(pager.AnyPacket());
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  for (auto& t : threads) EXPECT_TRUE(t->Wait());
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(Mapping, ReadOnlyMappingStoreIsSegv) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapRead, &map), Status::kOk);
  const Probe probe = ProbeStore(map.data(), 1);
  EXPECT_FALSE(probe.ok);
  EXPECT_EQ(probe.signo, SIGSEGV);
  EXPECT_FALSE(pager.AnyPacket());
  EXPECT_FALSE(pager.IsModified(*vmo));
}

TEST(Mapping, DetachFailsBlockedFaultAndKeepsDirtyPagesReadable) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, 2 * kPageSize, kMapRead | kMapWrite, &map), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  ASSERT_TRUE(ProbeStore(map.data() + kPageSize, 5).ok);  // no trap: page 1 Dirty
  Probe probe;
  uint64_t value = 0;
  TestThread t([&] {
    probe = ProbeLoad(map.data() + 16, &value);
    return true;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(probe.signo, SIGBUS);
  EXPECT_EQ(probe.addr, map.data() + 16);
  EXPECT_EQ(FaultStatusForAddress(probe.addr), Status::kBadState);
  ASSERT_TRUE(ProbeLoad(map.data() + kPageSize, &value).ok);
  EXPECT_EQ(value, 5u);
  // Later accesses of absent pages fail at once, without a packet.
  const Probe again = ProbeLoad(map.data(), &value);
  EXPECT_EQ(again.signo, SIGBUS);
  EXPECT_TRUE(pager.WaitForPageComplete(vmo->key));
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(Mapping, ShrinkFailsBlockedFaultOutOfRange) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(3, kVmoResizable);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, 3 * kPageSize, kMapRead, &map), Status::kOk);
  Probe probe;
  uint64_t value = 0;
  TestThread t([&] {
    probe = ProbeLoad(map.data() + 2 * kPageSize + 8, &value);
    return true;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 2, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_EQ(vmo->vmo.SetSize(kPageSize), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(probe.signo, SIGBUS);
  EXPECT_EQ(probe.addr, map.data() + 2 * kPageSize + 8);
  EXPECT_EQ(FaultStatusForAddress(probe.addr), Status::kOutOfRange);
  EXPECT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOutOfRange);
}

TEST(Mapping, TwoMappingsAndVmoReadShareOneRequest) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  Mapping whole, part;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, 4 * kPageSize, kMapRead, &whole), Status::kOk);
  ASSERT_EQ(Mapping::Create(vmo->vmo, 2 * kPageSize, 2 * kPageSize, kMapRead, &part), Status::kOk);
  uint64_t a = 0, b = 0, c = 0;
  TestThread ta([&] { return ProbeLoad(whole.data() + 2 * kPageSize, &a).ok; });
  ta.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 2, 1));
  TestThread tb([&] { return ProbeLoad(part.data() + 8, &b).ok; });
  tb.Start();
  TestThread tc([&] { return vmo->vmo.Read(&c, 2 * kPageSize + 16, 8) == Status::kOk; });
  tc.Start();
  ASSERT_TRUE(ta.WaitForBlocked());
  ASSERT_TRUE(tb.WaitForBlocked());
  ASSERT_TRUE(tc.WaitForBlocked());
  // All three joined the request by now (blocked means its packet is queued or joined).
  EXPECT_FALSE(pager.AnyPacket());
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOk);
  ASSERT_TRUE(ta.Wait());
  ASSERT_TRUE(tb.Wait());
  ASSERT_TRUE(tc.Wait());
  EXPECT_EQ(a, Word(vmo->key, 2, 0));
  EXPECT_EQ(b, Word(vmo->key, 2, 1));
  EXPECT_EQ(c, Word(vmo->key, 2, 2));
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(Mapping, UnmapWhileBlockedGivesSegv) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapRead, &map), Status::kOk);
  std::byte* addr = map.data();
  Probe probe;
  uint64_t value = 0;
  TestThread t([&] {
    probe = ProbeLoad(addr, &value);
    return true;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  map.Reset();
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(probe.signo, SIGSEGV);
  EXPECT_EQ(probe.addr, addr);
  // The request was withdrawn with the mapping: supplying now wakes nobody and is fine.
  EXPECT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
}

TEST(Mapping, CreateRejectsBadArguments) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  Mapping map;
  EXPECT_EQ(Mapping::Create(Vmo(), 0, kPageSize, kMapRead, &map), Status::kBadHandle);
  EXPECT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, 0, &map), Status::kInvalidArgs);
  EXPECT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapWrite, &map), Status::kInvalidArgs);
  EXPECT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, 4 | kMapRead, &map), Status::kInvalidArgs);
  EXPECT_EQ(Mapping::Create(vmo->vmo, 1, kPageSize, kMapRead, &map), Status::kInvalidArgs);
  EXPECT_EQ(Mapping::Create(vmo->vmo, 0, 100, kMapRead, &map), Status::kInvalidArgs);
  EXPECT_EQ(Mapping::Create(vmo->vmo, 0, 0, kMapRead, &map), Status::kInvalidArgs);
  EXPECT_EQ(Mapping::Create(vmo->vmo, kPageSize, 2 * kPageSize, kMapRead, &map),
            Status::kOutOfRange);
  EXPECT_EQ(Mapping::Create(vmo->vmo, ~0ull & ~(kPageSize - 1), 2 * kPageSize, kMapRead, &map),
            Status::kOutOfRange);
  EXPECT_FALSE(map.is_valid());
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(Mapping, AnonymousVmoMappingSharesContent) {
  UPAGER_REQUIRE_MAPPINGS();
  Vmo vmo;
  ASSERT_EQ(Vmo::Create(2 * kPageSize, 0, &vmo), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo, 0, 2 * kPageSize, kMapRead | kMapWrite, &map), Status::kOk);
  ASSERT_TRUE(ProbeStore(map.data() + kPageSize, 0xabcd).ok);
  uint64_t v = 0;
  ASSERT_EQ(vmo.Read(&v, kPageSize, 8), Status::kOk);
  EXPECT_EQ(v, 0xabcdu);
  v = 0x1234;
  ASSERT_EQ(vmo.Write(&v, 8, 8), Status::kOk);
  EXPECT_EQ(*reinterpret_cast<uint64_t*>(map.data() + 8), 0x1234u);
}

TEST(Mapping, NoTrapStoreDirtiesSilentlyAndSetsModified) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, 2 * kPageSize, kMapRead | kMapWrite, &map), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  uint64_t v = 0;
  ASSERT_TRUE(ProbeLoad(map.data() + kPageSize, &v).ok);
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(pager.DirtyRanges(*vmo).empty());
  ASSERT_TRUE(ProbeStore(map.data() + kPageSize, 9).ok);
  EXPECT_FALSE(pager.AnyPacket());
  EXPECT_TRUE(pager.IsModified(*vmo));
  auto ranges = pager.DirtyRanges(*vmo);
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0].offset, 1u);
  EXPECT_EQ(ranges[0].length, 1u);
  // After the stats reset, another store to the (already dirty) page is seen again.
  ASSERT_TRUE(ProbeStore(map.data() + kPageSize + 8, 10).ok);
  EXPECT_TRUE(pager.IsModified(*vmo));
  EXPECT_FALSE(pager.IsModified(*vmo));
}

TEST(Mapping, ZeroMarkerReadsZeroAndTrapsOnStore) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  Vmo empty;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &empty), Status::kOk);
  ASSERT_EQ(pager.pager().SupplyPages(vmo->vmo, 0, kPageSize, empty, 0), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapRead | kMapWrite, &map), Status::kOk);
  uint64_t v = 1;
  ASSERT_TRUE(ProbeLoad(map.data() + 64, &v).ok);
  EXPECT_EQ(v, 0u);
  EXPECT_FALSE(pager.AnyPacket());
  TestThread t([&] { return ProbeStore(map.data() + 64, 3).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(pager.DirtyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  VmoInfo info{};
  ASSERT_EQ(vmo->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, kPageSize);
  ASSERT_EQ(vmo->vmo.Read(&v, 64, 8), Status::kOk);
  EXPECT_EQ(v, 3u);
}

TEST(Mapping, UnansweredFaultTimesOutWithSigbus) {
  UPAGER_REQUIRE_MAPPINGS();
  const PagerTimeouts saved = GetPagerTimeouts();
  SetPagerTimeouts({.overtime_wait = std::chrono::milliseconds(100),
                    .overtime_timeout = std::chrono::milliseconds(300)});
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapRead, &map), Status::kOk);
  Probe probe;
  uint64_t value = 0;
  const auto start = std::chrono::steady_clock::now();
  TestThread t([&] {
    probe = ProbeLoad(map.data() + 40, &value);
    return true;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_TRUE(t.Wait());  // nobody answers: the fault gives up
  const auto waited = std::chrono::steady_clock::now() - start;
  SetPagerTimeouts(saved);
  EXPECT_EQ(probe.signo, SIGBUS);
  EXPECT_EQ(probe.addr, map.data() + 40);
  EXPECT_EQ(FaultStatusForAddress(probe.addr), Status::kTimedOut);
  EXPECT_GE(waited, std::chrono::milliseconds(300));
  EXPECT_FALSE(t.handle().IsBlockedOnPager());
  // The request was withdrawn: a supply now finds nobody waiting, a new access asks again.
  TestThread t2([&] { return ProbeLoad(map.data(), &value).ok; });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t2.Wait());
  EXPECT_EQ(value, Word(vmo->key, 0));
}

// Without userfaultfd, pager-backed VMOs cannot be mapped (kNotSupported, with a reason)
// and everything else still works. Run in a child process started with
// UPAGER_NO_USERFAULTFD set, since the probe happens once per process.
TEST(MappingUnavailable, CreateReturnsNotSupportedAndTheRestWorks) {
  if (std::getenv("UPAGER_NO_USERFAULTFD") == nullptr) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      setenv("UPAGER_NO_USERFAULTFD", "1", 1);
      execl("/proc/self/exe", "mapping_test",
            "--gtest_filter=MappingUnavailable.CreateReturnsNotSupportedAndTheRestWorks",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    int wstatus = 0;
    ASSERT_EQ(waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFEXITED(wstatus));
    EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "the child run failed";
    return;
  }
  std::string why;
  EXPECT_EQ(MappingSupport(&why), Status::kNotSupported);
  EXPECT_NE(why.find("UPAGER_NO_USERFAULTFD"), std::string::npos) << why;
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  Mapping map;
  EXPECT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapRead, &map), Status::kNotSupported);
  EXPECT_FALSE(map.is_valid());
  // The VMO works without mappings.
  TestThread t([&] {
    uint64_t v = 0;
    return vmo->vmo.Read(&v, 8, 8) == Status::kOk && v == Word(vmo->key, 0, 1);
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  EXPECT_TRUE(t.Wait());
  // Anonymous VMOs need no fault service: they still map.
  Vmo anon;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &anon), Status::kOk);
  EXPECT_EQ(Mapping::Create(anon, 0, kPageSize, kMapRead | kMapWrite, &map), Status::kOk);
}

TEST(Mapping, ForkedChildHasNothingMapped) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, kPageSize, kMapRead, &map), Status::kOk);
  uint64_t v = 0;
  ASSERT_TRUE(ProbeLoad(map.data(), &v).ok);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const Probe probe = ProbeLoad(map.data(), &v);
    _exit(!probe.ok && probe.signo == SIGSEGV ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
}

}  // namespace
}  // namespace upager::testing
