// Mappings of clones (docs/clones.md, Mapped clones): the mapped (VMAR) variants of the clone
// entries of Zircon's pager.cc, named after the peer tests (XVmar for a VMO_VMAR_TEST X), and
// the memory test of issue 13. Exact packets, statuses and bytes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/handle_access.h"
#include "pager_vmar_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager.h"
#include "upager/vmo.h"
#include "user_pager.h"
#include "vm/vm_object_paged.h"

namespace upager::testing {
namespace {

std::unique_ptr<TestVmo> Clone(const TestVmo& parent, uint64_t pages, uint64_t first = 0,
                               uint32_t options = kVmoChildSnapshotAtLeastOnWrite) {
  auto child = std::make_unique<TestVmo>();
  child->key = parent.key;
  if (parent.vmo.CreateChild(options, P(first), P(pages), &child->vmo) != Status::kOk) {
    return nullptr;
  }
  return child;
}

bool CheckVmo(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<char> data(P(count));
  return vmo.vmo.Read(data.data(), P(first), P(count)) == Status::kOk &&
         UserPager::CheckPattern(vmo.key, first, count, data.data());
}

uint64_t Word(const Vmo& vmo, uint64_t offset) {
  uint64_t word = 0;
  EXPECT_EQ(vmo.Read(&word, offset, sizeof(word)), Status::kOk);
  return word;
}

uint64_t MappedWord(const Mapping& map, uint64_t offset) {
  uint64_t word = 0;
  EXPECT_TRUE(Load(map.data() + offset, &word).ok);
  return word;
}

std::vector<char> Pattern(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<char> data(P(count));
  for (uint64_t i = 0; i < count; ++i) UserPager::Pattern(vmo.key, first + i, &data[P(i)]);
  return data;
}

// Reading an unpopulated page through a mapped clone makes one READ on the root's key, and
// the faulting thread waits for it like any mapped fault.
TEST(PagerVmar, CloneReadFromCloneTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*clone, &map), Status::kOk);

  TestThread t([&] { return CheckMapped(map, *vmo, 1, 1); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(pager.AnyPacket());
  // Nothing was forked: the clone holds no page of its own.
  VmoInfo info{};
  ASSERT_EQ(clone->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, 0u);
}

// Once the root has the page, a mapped clone reads it without a request.
TEST(PagerVmar, CloneReadFromParentTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  auto clone = Clone(*vmo, 1);
  ASSERT_NE(clone, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*clone, &map), Status::kOk);
  EXPECT_TRUE(CheckMapped(map, *vmo, 0, 1));
  EXPECT_FALSE(pager.AnyPacket());
}

// A store to a mapped clone forks only that page: no mapping of the parent sees it,
// Vmo::Read on the clone and another mapping of it do, and the other pages still follow the
// root (a later root write shows through the clone's mapping).
TEST(PagerVmar, CloneWriteForksOnePageVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(3);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 3);
  ASSERT_NE(clone, nullptr);
  Mapping root_map;
  ASSERT_EQ(MapVmo(*vmo, &root_map), Status::kOk);
  Mapping map;
  ASSERT_EQ(MapVmo(*clone, &map), Status::kOk);
  Mapping map2;
  ASSERT_EQ(MapVmo(*clone, &map2, kMapRead), Status::kOk);

  // The store to an absent page reads it into the root first (a READ), then forks it.
  TestThread t([&] { return ProbeStore(map.data() + P(1), 0xc10e).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 3), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(pager.AnyPacket());

  EXPECT_EQ(MappedWord(map, P(1)), 0xc10eu);
  EXPECT_EQ(MappedWord(map2, P(1)), 0xc10eu);
  EXPECT_EQ(Word(clone->vmo, P(1)), 0xc10eu);
  EXPECT_TRUE(CheckMapped(root_map, *vmo, 0, 3));
  EXPECT_TRUE(CheckVmo(*vmo, 0, 3));
  // The rest of the page is the root's content at the fork.
  std::vector<char> expected = Pattern(*vmo, 1, 1);
  const uint64_t word = 0xc10e;
  std::memcpy(expected.data(), &word, sizeof(word));
  EXPECT_TRUE(CheckMappedData(map2, 1, 1, expected.data()));
  EXPECT_FALSE(pager.IsModified(*vmo));

  // One page forked; the others are the root's, live.
  VmoInfo info{};
  ASSERT_EQ(clone->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, P(1));
  ASSERT_TRUE(ProbeStore(root_map.data(), 0x4007).ok);
  EXPECT_EQ(MappedWord(map, 0), 0x4007u);
  EXPECT_EQ(MappedWord(map2, 0), 0x4007u);
  ASSERT_TRUE(ProbeStore(root_map.data() + P(1), 0x4008).ok);
  EXPECT_EQ(MappedWord(map, P(1)), 0xc10eu);
  EXPECT_EQ(pager.AnyPacket(), false);
}

// Vmo::Write on a mapped clone forks the page into its mappings too.
TEST(PagerVmar, CloneVmoWriteSeenInMappingVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*clone, &map), Status::kOk);
  EXPECT_TRUE(CheckMapped(map, *vmo, 0, 2));
  const uint64_t word = 0x77;
  ASSERT_EQ(clone->vmo.Write(&word, P(1), sizeof(word)), Status::kOk);
  EXPECT_EQ(MappedWord(map, P(1)), 0x77u);
  EXPECT_TRUE(CheckVmo(*vmo, 0, 2));
  // A zeroed page of the clone reads zeros in the mapping, and a store there is the clone's.
  ASSERT_EQ(clone->vmo.OpRange(kVmoOpZero, 0, P(1)), Status::kOk);
  EXPECT_EQ(MappedWord(map, 0), 0u);
  ASSERT_TRUE(ProbeStore(map.data() + 8, 0x99).ok);
  EXPECT_EQ(Word(clone->vmo, 8), 0x99u);
  EXPECT_TRUE(CheckVmo(*vmo, 0, 2));
  EXPECT_FALSE(pager.AnyPacket());
}

// A clone of a clone that forked a page maps that fork (snapshot-modified), and the root's
// pages for the rest; its own stores stay its own.
TEST(PagerVmar, CloneOfCloneVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  const uint64_t word = 0x11;
  ASSERT_EQ(clone->vmo.Write(&word, 0, sizeof(word)), Status::kOk);
  auto leaf = Clone(*clone, 2, 0, kVmoChildSnapshotModified);
  ASSERT_NE(leaf, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*leaf, &map), Status::kOk);
  EXPECT_EQ(MappedWord(map, 0), 0x11u);
  EXPECT_TRUE(CheckMapped(map, *vmo, 1, 1));
  ASSERT_TRUE(ProbeStore(map.data() + P(1), 0x22).ok);
  EXPECT_EQ(Word(leaf->vmo, P(1)), 0x22u);
  EXPECT_TRUE(CheckVmo(*clone, 1, 1));
  EXPECT_TRUE(CheckVmo(*vmo, 0, 2));
  EXPECT_FALSE(pager.AnyPacket());
}

// A mapped slice is the root's own mapping: its READs, its DIRTY requests, its modified flag.
TEST(PagerVmar, SliceMappingIsTheRootsVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(3, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  auto slice = Clone(*vmo, 2, 1, kVmoChildSlice);
  ASSERT_NE(slice, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*slice, &map), Status::kOk);

  std::vector<char> data;
  TestThread t([&] { return LoadMapped(map.data(), 1, 1, &data).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 2, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(data, Pattern(*vmo, 2, 1));

  TestThread w([&] { return ProbeStore(map.data() + P(1), 0x51).ok; });
  w.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
  ASSERT_EQ(pager.DirtyPages(*vmo, 2, 1), Status::kOk);
  ASSERT_TRUE(w.Wait());
  EXPECT_EQ(Word(vmo->vmo, P(2)), 0x51u);
  EXPECT_TRUE(pager.IsModified(*vmo));
  EXPECT_FALSE(pager.AnyPacket());
}

// A no-write child maps read-only and refuses a writable mapping.
TEST(PagerVmar, NoWriteChildVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  auto ro = Clone(*vmo, 1, 0, kVmoChildSnapshotAtLeastOnWrite | kVmoChildNoWrite);
  ASSERT_NE(ro, nullptr);
  Mapping map;
  EXPECT_EQ(MapVmo(*ro, &map), Status::kAccessDenied);
  ASSERT_EQ(MapVmo(*ro, &map, kMapRead), Status::kOk);
  EXPECT_TRUE(CheckMapped(map, *vmo, 0, 1));
  auto ro_slice = Clone(*vmo, 1, 0, kVmoChildSlice | kVmoChildNoWrite);
  ASSERT_NE(ro_slice, nullptr);
  Mapping slice_map;
  EXPECT_EQ(MapVmo(*ro_slice, &slice_map), Status::kAccessDenied);
  EXPECT_FALSE(pager.AnyPacket());
}

// The root evicting a clean page: the clone's mapping faults it back through the root (a
// READ on the root's key), while the clone's forked page stays.
TEST(PagerVmar, CloneReadAfterRootEvictionVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*clone, &map), Status::kOk);
  EXPECT_TRUE(CheckMapped(map, *vmo, 0, 2));
  ASSERT_TRUE(ProbeStore(map.data() + P(1), 0x33).ok);
  ASSERT_TRUE(internal::HandleAccess::Object(vmo->vmo)->EvictPage(0));
  ASSERT_TRUE(internal::HandleAccess::Object(vmo->vmo)->EvictPage(1));

  TestThread t([&] { return CheckMapped(map, *vmo, 0, 1); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(MappedWord(map, P(1)), 0x33u);
  EXPECT_FALSE(pager.AnyPacket());
}

// A clone larger than its parent maps zeros beyond it, and a store there is the clone's.
TEST(PagerVmar, CloneBeyondParentReadsZerosVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*clone, &map), Status::kOk);
  EXPECT_TRUE(CheckMapped(map, *vmo, 0, 1));
  const std::vector<char> zeros(P(1), 0);
  EXPECT_TRUE(CheckMappedData(map, 1, 1, zeros.data()));
  ASSERT_TRUE(ProbeStore(map.data() + P(1), 0xbe).ok);
  EXPECT_EQ(Word(clone->vmo, P(1)), 0xbeu);
  EXPECT_FALSE(pager.AnyPacket());
}

// Shrinking the resizable parent does not break the clone's mapping: the cut pages read as
// zeros there, and stay zeros when the parent grows again (CloneShrinkGrowParent).
TEST(PagerVmar, CloneResizeParentOKVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2, kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*clone, &map), Status::kOk);
  EXPECT_TRUE(CheckMapped(map, *vmo, 0, 2));

  ASSERT_EQ(vmo->vmo.SetSize(P(1)), Status::kOk);
  const std::vector<char> zeros(P(1), 0);
  EXPECT_TRUE(CheckMapped(map, *vmo, 0, 1));
  EXPECT_TRUE(CheckMappedData(map, 1, 1, zeros.data()));
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(PagerVmar, CloneShrinkGrowParentVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2, kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*clone, &map), Status::kOk);
  EXPECT_TRUE(CheckMapped(map, *vmo, 0, 2));

  ASSERT_EQ(vmo->vmo.SetSize(P(1)), Status::kOk);
  ASSERT_EQ(vmo->vmo.SetSize(P(2)), Status::kOk);
  const std::vector<char> ones(P(1), 1);
  ASSERT_EQ(vmo->vmo.Write(ones.data(), P(1), P(1)), Status::kOk);
  const std::vector<char> zeros(P(1), 0);
  EXPECT_TRUE(CheckMapped(map, *vmo, 0, 1));
  EXPECT_TRUE(CheckMappedData(map, 1, 1, zeros.data()));
  ASSERT_TRUE(ProbeStore(map.data() + P(1), 0x5a).ok);
  EXPECT_EQ(Word(clone->vmo, P(1)), 0x5au);
  EXPECT_EQ(Word(vmo->vmo, P(1)), 0x0101010101010101u);
  EXPECT_FALSE(pager.AnyPacket());
}

// Shrinking a resizable clone makes its mapping fault with OUT_OF_RANGE beyond the new end,
// on loads and stores.
TEST(PagerVmar, CloneResizeCloneHazardVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Clone(*vmo, 2, 0, kVmoChildSnapshotAtLeastOnWrite | kVmoChildResizable);
  ASSERT_NE(clone, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*clone, &map), Status::kOk);
  EXPECT_TRUE(CheckMapped(map, *vmo, 0, 2));

  ASSERT_EQ(clone->vmo.SetSize(P(1)), Status::kOk);
  uint64_t word = 0;
  EXPECT_TRUE(CrashedAt(Load(map.data() + P(1), &word), map.data() + P(1), Status::kOutOfRange));
  EXPECT_TRUE(
      CrashedAt(FencedRun([&] { *reinterpret_cast<volatile uint64_t*>(map.data() + P(1)) = 1; }),
                map.data() + P(1), Status::kOutOfRange));
  EXPECT_TRUE(CheckMapped(map, *vmo, 0, 1));
  EXPECT_TRUE(CheckVmo(*vmo, 0, 2));
  EXPECT_FALSE(pager.AnyPacket());
}

// A mapped clone waiting for a page its parent's shrink cuts off is woken and reads zeros.
TEST(PagerVmar, CloneParentShrinkWakesReaderVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2, kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*clone, &map), Status::kOk);
  const std::vector<char> zeros(P(1), 0);
  TestThread t([&] { return CheckMappedData(map, 1, 1, zeros.data()); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_EQ(vmo->vmo.SetSize(P(1)), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(pager.AnyPacket());
}

// After detach, a mapped clone's forked pages still read, and its unforked ones fail with
// kBadState (the root's source answers no more).
TEST(PagerVmar, CloneDetachTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*clone, &map), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(ProbeStore(map.data(), 0xde).ok);
  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  EXPECT_EQ(MappedWord(map, 0), 0xdeu);
  uint64_t word = 0;
  EXPECT_TRUE(CrashedAt(Load(map.data() + P(1), &word), map.data() + P(1), Status::kBadState));
  EXPECT_FALSE(pager.AnyPacket());
}

// Threads storing at once to the unforked pages of a mapped clone (through two mappings and
// Vmo::Write) fork each page once and lose no store; the root's mapping sees none of them.
TEST(PagerVmar, ConcurrentStoresForkOnceVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kPages = 16;
  constexpr int kThreads = 4;
  UserPager pager;
  auto vmo = pager.CreateVmo(kPages);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kPages), Status::kOk);
  auto clone = Clone(*vmo, kPages);
  ASSERT_NE(clone, nullptr);
  Mapping root_map;
  ASSERT_EQ(MapVmo(*vmo, &root_map, kMapRead), Status::kOk);
  Mapping maps[2];
  ASSERT_EQ(MapVmo(*clone, &maps[0]), Status::kOk);
  ASSERT_EQ(MapVmo(*clone, &maps[1]), Status::kOk);

  std::vector<std::unique_ptr<TestThread>> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.push_back(std::make_unique<TestThread>([&, i] {
      bool ok = true;
      for (uint64_t p = 0; p < kPages; ++p) {
        const uint64_t value = (p << 8) | static_cast<uint64_t>(i + 1);
        const uint64_t offset = P(p) + 8 * static_cast<uint64_t>(i + 1);
        if (i == kThreads - 1) {
          ok &= clone->vmo.Write(&value, offset, sizeof(value)) == Status::kOk;
        } else {
          ok &= ProbeStore(maps[i % 2].data() + offset, value).ok;
        }
      }
      return ok;
    }));
  }
  for (auto& t : threads) t->Start();
  for (auto& t : threads) ASSERT_TRUE(t->Wait());

  for (uint64_t p = 0; p < kPages; ++p) {
    std::vector<char> expected = Pattern(*vmo, p, 1);
    for (int i = 0; i < kThreads; ++i) {
      const uint64_t value = (p << 8) | static_cast<uint64_t>(i + 1);
      std::memcpy(expected.data() + 8 * (i + 1), &value, sizeof(value));
    }
    EXPECT_TRUE(CheckMappedData(maps[0], p, 1, expected.data())) << "page " << p;
    EXPECT_TRUE(CheckMappedData(maps[1], p, 1, expected.data())) << "page " << p;
  }
  VmoInfo info{};
  ASSERT_EQ(clone->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, P(kPages));
  EXPECT_TRUE(CheckMapped(root_map, *vmo, 0, kPages));
  EXPECT_FALSE(pager.AnyPacket());
}

// ---- Memory ----

// The process's proportional set size of shared memory (smaps_rollup Pss_Shmem, the memfds'
// pages), in bytes: a page mapped by n mappings counts 1/n in each, so shared pages count
// once however often they are mapped. (Not Pss: a sanitizer's shadow of the mappings is
// anonymous memory, and counts there.)
uint64_t ProcessPss() {
  FILE* f = std::fopen("/proc/self/smaps_rollup", "r");
  if (f == nullptr) return 0;
  char line[256];
  uint64_t kb = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    unsigned long long v = 0;
    if (std::sscanf(line, "Pss_Shmem: %llu kB", &v) == 1) kb = v;
  }
  std::fclose(f);
  return kb * 1024;
}

// The bytes a VMO's own storage (its memfd) holds.
uint64_t StorageBytes(const Vmo& vmo) {
  struct stat st {};
  if (::fstat(internal::HandleAccess::Object(vmo)->own_memfd(), &st) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

// Issue 13's memory test: 16 at-least-on-write children of a 64 MiB pager-backed VMO, each
// mapped and fully read, cost about one copy (the root's pages, mapped 16 times); each child
// that writes one page adds one page.
TEST(PagerVmar, SixteenMappedClonesShareOneCopy) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kPages = (64ull << 20) / kPageSize;
  constexpr int kChildren = 16;
  UserPager pager;
  auto vmo = pager.CreateVmo(kPages);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kPages), Status::kOk);
  const uint64_t root_bytes = StorageBytes(vmo->vmo);
  ASSERT_EQ(root_bytes, P(kPages));

  const uint64_t pss_before = ProcessPss();
  std::vector<std::unique_ptr<TestVmo>> children;
  std::vector<Mapping> maps(kChildren);
  uint64_t sum = 0;
  for (int i = 0; i < kChildren; ++i) {
    children.push_back(Clone(*vmo, kPages));
    ASSERT_NE(children.back(), nullptr);
    ASSERT_EQ(MapVmo(*children.back(), &maps[i]), Status::kOk);
    const auto* words = reinterpret_cast<const volatile uint64_t*>(maps[i].data());
    for (uint64_t w = 0; w < P(kPages) / sizeof(uint64_t); w += 512) sum += words[w];
  }
  EXPECT_NE(sum, 0u);
  const uint64_t pss_read = ProcessPss();
  // The root's pages, resident in its storage already, now count in the process's Pss as
  // they are mapped: 16 mappings of them count one copy (64 MiB, each page 1/16 in each
  // mapping), plus page tables; 16 copies would be 1 GiB.
  EXPECT_GE(pss_read - pss_before, P(kPages) - (1ull << 20));
  EXPECT_LT(pss_read - pss_before, P(kPages) + (4ull << 20))
      << "Pss grew by " << (pss_read - pss_before);
  for (const auto& child : children) EXPECT_EQ(StorageBytes(child->vmo), 0u);
  EXPECT_EQ(StorageBytes(vmo->vmo), root_bytes);
  EXPECT_FALSE(pager.AnyPacket());

  // One page written by each child: one page each, in its own storage.
  for (int i = 0; i < kChildren; ++i) {
    ASSERT_TRUE(ProbeStore(maps[i].data() + P(7 + i), 0x1000 + i).ok);
  }
  for (int i = 0; i < kChildren; ++i) {
    EXPECT_EQ(StorageBytes(children[i]->vmo), P(1));
    EXPECT_EQ(MappedWord(maps[i], P(7 + i)), 0x1000u + i);
    VmoInfo info{};
    ASSERT_EQ(children[i]->vmo.GetInfo(&info), Status::kOk);
    EXPECT_EQ(info.committed_bytes, P(1));
  }
  EXPECT_EQ(StorageBytes(vmo->vmo), root_bytes);
  const uint64_t pss_written = ProcessPss();
  EXPECT_LT(pss_written - pss_read, P(kChildren) + (1ull << 20));
  EXPECT_FALSE(pager.AnyPacket());
}

}  // namespace
}  // namespace upager::testing
