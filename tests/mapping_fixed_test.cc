// Parts of mappings (src/fault/mapping_replace.cc): a mapping at a fixed address replacing
// another while threads are blocked in its faults (Zircon's VmarRemapTest), unmapping and
// protecting part of a mapping, and MapRange (ZX_VM_MAP_RANGE: present pages only).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "mapping_util.h"
#include "mapping_word.h"
#include "upager/mapping.h"
#include "user_pager.h"
#include "vm/page_reclaimer.h"

namespace upager::testing {
namespace {

// Whether `addr` has a page table entry in this process (/proc/self/pagemap, bit 63).
bool PtePresent(const void* addr) {
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  uint64_t entry = 0;
  const off_t at = static_cast<off_t>(reinterpret_cast<uintptr_t>(addr) / kPageSize * 8);
  const bool read = ::pread(fd, &entry, sizeof entry, at) == static_cast<ssize_t>(sizeof entry);
  ::close(fd);
  return read && (entry >> 63) != 0;
}

TEST(MappingFixed, ReplacingAMappingMovesBlockedFaultsToTheNewOne) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kPages = 4;
  UserPager pager;
  auto vmo1 = pager.CreateVmo(kPages);
  auto vmo2 = pager.CreateVmo(kPages);
  Mapping map1;
  ASSERT_EQ(Mapping::Create(vmo1->vmo, 0, kPages * kPageSize, kMapRead, &map1), Status::kOk);
  std::byte* const base = map1.data();
  uint64_t values[kPages] = {};
  std::vector<std::unique_ptr<TestThread>> threads;
  for (uint64_t i = 0; i < kPages; ++i) {
    threads.push_back(std::make_unique<TestThread>(
        [&, i] { return ProbeLoad(base + i * kPageSize + 16, &values[i]).ok; }));
    threads.back()->Start();
    ASSERT_TRUE(pager.WaitForPageRead(*vmo1, i, 1));
    ASSERT_TRUE(threads.back()->WaitForBlocked());
  }
  // Over the whole range: the threads are asleep in map1's faults.
  Mapping map2;
  ASSERT_EQ(Mapping::CreateAt(vmo2->vmo, 0, kPages * kPageSize, kMapRead, base, &map2),
            Status::kOk);
  EXPECT_EQ(map2.data(), base);
  // Answering vmo1 now leaves them blocked: they retry in map2 and ask vmo2's pager.
  ASSERT_EQ(pager.SupplyPages(*vmo1, 0, kPages), Status::kOk);
  for (uint64_t i = 0; i < kPages; ++i) {
    uint64_t offset = 0, length = 0;
    ASSERT_TRUE(pager.GetPageReadRequest(*vmo2, std::chrono::seconds(30), &offset, &length));
    EXPECT_EQ(length, 1u);
    ASSERT_TRUE(threads[offset]->WaitForBlocked());
  }
  EXPECT_FALSE(pager.AnyPacket());
  // map1 gave the whole range up: dropping it leaves map2 mapped.
  map1.Reset();
  ASSERT_EQ(pager.SupplyPages(*vmo2, 0, kPages), Status::kOk);
  for (uint64_t i = 0; i < kPages; ++i) {
    ASSERT_TRUE(threads[i]->Wait());
    EXPECT_EQ(values[i], Word(vmo2->key, i, 2));
  }
  uint64_t again = 0;
  ASSERT_TRUE(ProbeLoad(base + kPageSize, &again).ok);
  EXPECT_EQ(again, Word(vmo2->key, 1, 0));
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(MappingFixed, ReplacingTheMiddleKeepsBothEnds) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo1 = pager.CreateVmo(3);
  auto vmo2 = pager.CreateVmo(1);
  Mapping map1;
  ASSERT_EQ(Mapping::Create(vmo1->vmo, 0, 3 * kPageSize, kMapRead, &map1), Status::kOk);
  std::byte* const base = map1.data();
  Mapping map2;
  EXPECT_EQ(Mapping::CreateAt(vmo2->vmo, 0, kPageSize, kMapRead, base + 1, &map2),
            Status::kInvalidArgs);
  ASSERT_EQ(Mapping::CreateAt(vmo2->vmo, 0, kPageSize, kMapRead, base + kPageSize, &map2),
            Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo1, 0, 3), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo2, 0, 1), Status::kOk);
  for (uint64_t page : {0, 2}) {
    uint64_t value = 0;
    ASSERT_TRUE(ProbeLoad(base + page * kPageSize + 8, &value).ok);
    EXPECT_EQ(value, Word(vmo1->key, page, 1));
  }
  uint64_t value = 0;
  ASSERT_TRUE(ProbeLoad(base + kPageSize + 8, &value).ok);
  EXPECT_EQ(value, Word(vmo2->key, 0, 1));
  // map1's part is gone: protecting or unmapping it says so.
  EXPECT_EQ(map1.Protect(kPageSize, kPageSize, kMapRead), Status::kNotFound);
  EXPECT_EQ(map1.Protect(0, 3 * kPageSize, kMapRead), Status::kNotFound);
  map1.Reset();  // unmaps pages 0 and 2 only
  ASSERT_TRUE(ProbeLoad(base + kPageSize + 8, &value).ok);
  EXPECT_EQ(value, Word(vmo2->key, 0, 1));
  uint64_t gone = 0;
  EXPECT_EQ(ProbeLoad(base + 8, &gone).signo, SIGSEGV);
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(MappingFixed, UnmappingPartWakesItsBlockedFaultAndKeepsTheRest) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(3);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, 3 * kPageSize, kMapRead, &map), Status::kOk);
  std::byte* const base = map.data();
  Probe probe;
  uint64_t value = 0;
  TestThread t([&] {
    probe = ProbeLoad(base + kPageSize + 8, &value);
    return true;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  EXPECT_EQ(map.Unmap(kPageSize, 0), Status::kInvalidArgs);
  EXPECT_EQ(map.Unmap(kPageSize + 1, kPageSize), Status::kInvalidArgs);
  EXPECT_EQ(map.Unmap(kPageSize, 3 * kPageSize), Status::kOutOfRange);
  ASSERT_EQ(map.Unmap(kPageSize, kPageSize), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(probe.ok);
  EXPECT_EQ(probe.signo, SIGSEGV);
  EXPECT_EQ(probe.addr, base + kPageSize + 8);
  // The two ends still fault to the pager.
  for (uint64_t page : {0, 2}) {
    TestThread reader([&, page] { return ProbeLoad(base + page * kPageSize, &value).ok; });
    reader.Start();
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, page, 1));
    ASSERT_EQ(pager.SupplyPages(*vmo, page, 1), Status::kOk);
    ASSERT_TRUE(reader.Wait());
    EXPECT_EQ(value, Word(vmo->key, page, 0));
  }
  EXPECT_EQ(map.Unmap(kPageSize, kPageSize), Status::kOk);  // already unmapped: nothing to do
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(MappingFixed, ProtectingPartMakesItsStoresFault) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  Mapping ro;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, 2 * kPageSize, kMapRead, &ro), Status::kOk);
  EXPECT_EQ(ro.Protect(0, kPageSize, kMapRead | kMapWrite), Status::kAccessDenied);
  EXPECT_EQ(ro.Protect(0, kPageSize, kMapWrite), Status::kInvalidArgs);
  EXPECT_EQ(ro.Protect(0, 3 * kPageSize, kMapRead), Status::kOutOfRange);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, 2 * kPageSize, kMapRead | kMapWrite, &map), Status::kOk);
  std::byte* const base = map.data();
  ASSERT_EQ(map.Protect(0, kPageSize, kMapRead), Status::kOk);
  Probe store = ProbeStore(base + 8, 0x1111);
  EXPECT_EQ(store.signo, SIGSEGV);
  EXPECT_EQ(store.addr, base + 8);
  ASSERT_TRUE(ProbeStore(base + kPageSize + 8, 0x2222).ok);
  uint64_t value = 0;
  ASSERT_TRUE(ProbeLoad(base + 8, &value).ok);
  EXPECT_EQ(value, Word(vmo->key, 0, 1));
  // No access at all, then read and write again: the page is still clean, and its first
  // store still dirties it.
  ASSERT_EQ(map.Protect(0, kPageSize, 0), Status::kOk);
  EXPECT_EQ(ProbeLoad(base + 8, &value).signo, SIGSEGV);
  ASSERT_EQ(map.Protect(0, kPageSize, kMapRead | kMapWrite), Status::kOk);
  ASSERT_TRUE(ProbeStore(base + 8, 0x3333).ok);
  uint64_t words[2] = {};
  ASSERT_EQ(vmo->vmo.Read(&words[0], 8, 8), Status::kOk);
  ASSERT_EQ(vmo->vmo.Read(&words[1], kPageSize + 8, 8), Status::kOk);
  EXPECT_EQ(words[0], 0x3333u);
  EXPECT_EQ(words[1], 0x2222u);
  const std::vector<VmoDirtyRange> ranges = pager.DirtyRanges(*vmo);
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0].offset, 0u);
  EXPECT_EQ(ranges[0].length, 2u);  // pages
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(MappingFixed, MapRangeMapsPresentPagesAndAsksForNone) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo->vmo, 0, 2 * kPageSize, kMapRead, &map), Status::kOk);
  EXPECT_EQ(map.MapRange(0, 3 * kPageSize), Status::kOutOfRange);
  EXPECT_EQ(map.MapRange(1, kPageSize), Status::kInvalidArgs);
  EXPECT_FALSE(PtePresent(map.data()));
  ASSERT_EQ(map.MapRange(0, 2 * kPageSize), Status::kOk);
  EXPECT_FALSE(pager.AnyPacket());
  // With MINOR faults the present page is in the page tables now; without, the kernel maps
  // it from the memfd at the first access, which never reaches the pager either.
  if (internal::PageReclaimer::Default().clock()) {
    EXPECT_TRUE(PtePresent(map.data()));
  }
  EXPECT_FALSE(PtePresent(map.data() + kPageSize));
  uint64_t value = 0;
  ASSERT_TRUE(ProbeLoad(map.data() + 8, &value).ok);
  EXPECT_EQ(value, Word(vmo->key, 0, 1));
  EXPECT_FALSE(pager.AnyPacket());
  TestThread t([&] { return ProbeLoad(map.data() + kPageSize + 8, &value).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(value, Word(vmo->key, 1, 1));
  EXPECT_FALSE(pager.AnyPacket());
}

}  // namespace
}  // namespace upager::testing
