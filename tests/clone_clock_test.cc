// The reclaimer's clock through mappings of clones (docs/clones.md, docs/eviction.md): a
// clone's mapping takes MINOR faults on the pages it sees of its root, which mark the
// root's page referenced; the hand unmaps an aged root page from those mappings too, but
// never a page the clone forked (its own storage, mapped over the root's). Exact packets,
// counters, page table entries and bytes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "clock_model.h"
#include "mapping_util.h"
#include "mapping_word.h"
#include "upager/mapping.h"
#include "upager/page_budget.h"
#include "upager/pager_loop.h"
#include "upager/stats.h"
#include "upager/vmo.h"
#include "user_pager.h"
#include "vm/page_reclaimer.h"

namespace upager::testing {
namespace {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }

class CloneClockTest : public ::testing::Test {
 protected:
  void Limit(uint64_t pages) { PageBudget::Default().SetLimit(pages); }
  void TearDown() override { PageBudget::Default().SetLimit(PageBudget::kUnlimited); }
  uint64_t Used() { return PageBudget::Default().used(); }
};

// Skips (fails in CI) unless the mapping just made gets MINOR faults, so the clock runs.
#define UPAGER_REQUIRE_CLOCK()                                                          \
  do {                                                                                  \
    if (!internal::PageReclaimer::Default().clock()) {                                  \
      UPAGER_SKIP_OR_FAIL("no userfaultfd MINOR faults with write-protected CONTINUE"); \
    }                                                                                   \
  } while (0)

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

std::unique_ptr<TestVmo> Clone(const TestVmo& parent, uint64_t pages) {
  auto child = std::make_unique<TestVmo>();
  child->key = parent.key;
  if (parent.vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, P(pages), &child->vmo) !=
      Status::kOk) {
    return nullptr;
  }
  return child;
}

// A READ for `page` follows a Vmo::Read of it: it was evicted. Serves it.
bool ReadAsksAgain(UserPager& pager, const TestVmo& vmo, uint64_t page) {
  std::vector<char> buf(kPageSize);
  TestThread reader([&] { return vmo.vmo.Read(buf.data(), P(page), 1); });
  reader.Start();
  if (!pager.WaitForPageRead(vmo, page, 1)) return false;
  if (pager.SupplyPages(vmo, page, 1) != Status::kOk) return false;
  return reader.Wait();
}

// The mirror of ClockTest.PageUsedAfterItsBitWasClearedIsKeptOverOneNotUsed with the root
// not mapped at all: its pages are used only through a clone's mapping.
TEST_F(CloneClockTest, RootPageUsedOnlyThroughACloneIsKeptOverOneNotUsed) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(8);
  ASSERT_TRUE(vmo);
  auto clone = Clone(*vmo, 8);
  ASSERT_TRUE(clone);
  Mapping map;
  ASSERT_EQ(Mapping::Create(clone->vmo, 0, P(8), kMapRead, &map), Status::kOk);
  UPAGER_REQUIRE_CLOCK();
  const uint64_t base = Used();
  const Counters before = GetCounters();
  // The clone's mapping may map the root's pages: they start referenced.
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 4), Status::kOk);
  // Loads through the clone: the first takes a MINOR fault (the pages came through an aux
  // VMO, straight into the root's storage), which maps its referenced neighbours too.
  for (uint64_t page = 0; page < 4; ++page) {
    uint64_t value = 0;
    ASSERT_TRUE(ProbeLoad(map.data() + P(page), &value).ok);
    EXPECT_EQ(value, Word(vmo->key, page)) << "page " << page;
  }
  EXPECT_EQ(GetCounters().minor_faults - before.minor_faults, 1u);
  Limit(base + 4);
  // Page 4 needs room: the hand gives pages 0-3 their second chance (unmapped from the
  // clone's mapping too, bits cleared) and then evicts page 0, first again.
  ASSERT_EQ(pager.SupplyPages(*vmo, 4, 1), Status::kOk);
  for (uint64_t page = 0; page < 4; ++page) {
    EXPECT_FALSE(PtePresent(map.data() + P(page))) << "page " << page;
  }
  // Page 2 is used through the clone: a MINOR fault maps it back from the root's memfd (no
  // READ) and sets the root page's bit.
  uint64_t value = 0;
  ASSERT_TRUE(ProbeLoad(map.data() + P(2) + 8, &value).ok);
  EXPECT_EQ(value, Word(vmo->key, 2, 1));
  EXPECT_FALSE(pager.AnyPacket());
  // Page 5 evicts page 1 (not used). Page 6 meets page 2 first: used, so it goes to the
  // back, and page 3 (not used) is evicted although it was supplied after page 2.
  ASSERT_EQ(pager.SupplyPages(*vmo, 5, 1), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 6, 1), Status::kOk);
  EXPECT_EQ(Used(), base + 4);
  const Counters after = GetCounters();
  EXPECT_EQ(after.minor_faults - before.minor_faults, 2u);
  EXPECT_EQ(after.pages_aged - before.pages_aged, 5u);  // 0-3, then 2
  EXPECT_EQ(after.pages_evicted - before.pages_evicted, 3u);

  Limit(PageBudget::kUnlimited);
  std::vector<char> buf(kPageSize);
  for (uint64_t page : {2u, 4u, 5u, 6u}) {
    ASSERT_EQ(vmo->vmo.Read(buf.data(), P(page), kPageSize), Status::kOk) << "page " << page;
    EXPECT_TRUE(UserPager::CheckPattern(vmo->key, page, 1, buf.data())) << "page " << page;
  }
  EXPECT_FALSE(pager.AnyPacket());
  // An evicted page loaded through the clone is one READ on the root's key, and the supply
  // maps it into the clone's mapping, where the load waits: no MINOR fault after it.
  const uint64_t minor_before_load = GetCounters().minor_faults;
  TestThread loader([&] {
    uint64_t v = 0;
    return ProbeLoad(map.data() + P(0) + 16, &v).ok && v == Word(vmo->key, 0, 2);
  });
  loader.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_TRUE(loader.WaitForBlocked());
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(loader.Wait());
  EXPECT_EQ(GetCounters().minor_faults, minor_before_load);
  for (uint64_t page : {1u, 3u}) EXPECT_TRUE(ReadAsksAgain(pager, *vmo, page)) << page;
  EXPECT_FALSE(pager.AnyPacket());
  VmoInfo info{};
  ASSERT_EQ(clone->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, 0u);  // the clone forked nothing
}

// A root page mapped back into a writable clone mapping by a MINOR fault is write-protected:
// a store still forks exactly that page into the clone, and the root sees nothing (no
// DIRTY request, not modified), whether a load or the store itself took the MINOR fault.
TEST_F(CloneClockTest, StoreAfterAMinorFaultForksOnlyThatPage) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(4, kVmoTrapDirty);
  ASSERT_TRUE(vmo);
  auto clone = Clone(*vmo, 4);
  ASSERT_TRUE(clone);
  Mapping map;
  ASSERT_EQ(Mapping::Create(clone->vmo, 0, P(4), kMapRead | kMapWrite, &map), Status::kOk);
  UPAGER_REQUIRE_CLOCK();
  const uint64_t base = Used();
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 3), Status::kOk);
  Limit(base + 3);
  ASSERT_EQ(pager.SupplyPages(*vmo, 3, 1), Status::kOk);  // ages 0-2, evicts 0
  // Room for the two forks below: they are charged to the budget (docs/clones.md, Memory
  // budget), and making room for them would evict the root's pages this test looks at.
  Limit(base + 3 + 2);
  const Counters before = GetCounters();

  // Page 1: a load maps it back (MINOR), then a store forks it.
  uint64_t value = 0;
  ASSERT_TRUE(ProbeLoad(map.data() + P(1), &value).ok);
  EXPECT_EQ(value, Word(vmo->key, 1));
  EXPECT_EQ(GetCounters().minor_faults - before.minor_faults, 1u);
  // Page 2: the store itself takes the MINOR fault, then the write-protect fault.
  for (uint64_t page : {1u, 2u}) {
    ASSERT_TRUE(ProbeStore(map.data() + P(page) + 8, 100 + page).ok) << "page " << page;
  }
  EXPECT_EQ(GetCounters().minor_faults - before.minor_faults, 2u);
  EXPECT_FALSE(pager.AnyPacket());  // no DIRTY
  for (uint64_t page : {1u, 2u}) {
    std::vector<char> buf(kPageSize);
    ASSERT_EQ(clone->vmo.Read(buf.data(), P(page), kPageSize), Status::kOk);
    uint64_t words[2];
    std::memcpy(words, buf.data(), sizeof words);
    EXPECT_EQ(words[0], Word(vmo->key, page)) << "page " << page;
    EXPECT_EQ(words[1], 100 + page) << "page " << page;
    ASSERT_EQ(vmo->vmo.Read(buf.data(), P(page), kPageSize), Status::kOk);
    EXPECT_TRUE(UserPager::CheckPattern(vmo->key, page, 1, buf.data())) << "page " << page;
  }
  // Page 3 the clone did not store to: still the root's.
  ASSERT_TRUE(ProbeLoad(map.data() + P(3) + 8, &value).ok);
  EXPECT_EQ(value, Word(vmo->key, 3, 1));
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(pager.DirtyRanges(*vmo).empty());
  VmoInfo info{};
  ASSERT_EQ(clone->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, P(2));
  EXPECT_EQ(Used(), base + 3 + 2);  // the root's pages and the two forks (charged)
  EXPECT_FALSE(pager.AnyPacket());
}

// The hand ages and evicts the root's pages under a clone's forks, over and over: the
// forks stay mapped in the clone's mapping (never unmapped: they are the clone's own
// storage, not the root's page) with their bytes, while the root pages the clone still
// sees are unmapped from it as they age.
TEST_F(CloneClockTest, ForkedPagesAreNeverUnmappedByTheHand) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kPages = 8;
  UserPager pager;
  auto vmo = pager.CreateVmo(kPages);
  ASSERT_TRUE(vmo);
  auto clone = Clone(*vmo, kPages);
  ASSERT_TRUE(clone);
  Mapping map;
  ASSERT_EQ(Mapping::Create(clone->vmo, 0, P(kPages), kMapRead | kMapWrite, &map), Status::kOk);
  UPAGER_REQUIRE_CLOCK();
  const uint64_t base = Used();
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 4), Status::kOk);
  for (uint64_t page : {0u, 2u}) {
    ASSERT_TRUE(ProbeStore(map.data() + P(page) + 8, 0xf0 + page).ok) << "page " << page;
  }
  uint64_t value = 0;
  for (uint64_t page : {1u, 3u}) ASSERT_TRUE(ProbeLoad(map.data() + P(page), &value).ok);
  for (uint64_t page = 0; page < 4; ++page) {
    EXPECT_TRUE(PtePresent(map.data() + P(page))) << "page " << page;
  }
  Limit(base + 4 + 2);  // four root pages, and the two forks, which are charged
  const Counters before = GetCounters();
  // The forks read root pages 0 and 2 last (the order is 1, 3, 0, 2). Page 4 ages all
  // four and evicts page 1; the clone's mapping loses root pages 1 (evicted) and 3 (aged),
  // not its forks 0 and 2.
  ASSERT_EQ(pager.SupplyPages(*vmo, 4, 1), Status::kOk);
  EXPECT_EQ(GetCounters().pages_aged - before.pages_aged, 4u);
  EXPECT_EQ(GetCounters().pages_evicted - before.pages_evicted, 1u);
  for (uint64_t page = 0; page < 4; ++page) {
    EXPECT_EQ(PtePresent(map.data() + P(page)), page % 2 == 0) << "page " << page;
  }
  // Page 3 was aged, not evicted: a read needs no READ (and moves it to the back).
  std::vector<char> buf(kPageSize);
  ASSERT_EQ(vmo->vmo.Read(buf.data(), P(3), kPageSize), Status::kOk);
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 3, 1, buf.data()));
  EXPECT_FALSE(pager.AnyPacket());
  // Round after round, the hand going round: each supply makes room for a page first
  // (present or not): 24 more evictions, as the clock's order has it (0, 2, 4, 3 then).
  for (int round = 0; round < 3; ++round) {
    for (uint64_t page = 0; page < kPages; ++page) {
      ASSERT_EQ(pager.SupplyPages(*vmo, page, 1), Status::kOk);
    }
  }
  const Counters after = GetCounters();
  EXPECT_EQ(after.pages_evicted - before.pages_evicted, 25u);
  EXPECT_EQ(Used(), base + 4 + 2);
  // The forks were never unmapped: loads of them take no fault, and see the stores.
  for (uint64_t page : {0u, 2u}) {
    EXPECT_TRUE(PtePresent(map.data() + P(page))) << "page " << page;
    ASSERT_TRUE(ProbeLoad(map.data() + P(page) + 8, &value).ok);
    EXPECT_EQ(value, 0xf0 + page) << "page " << page;
    ASSERT_TRUE(ProbeLoad(map.data() + P(page), &value).ok);
    EXPECT_EQ(value, Word(vmo->key, page)) << "page " << page;
  }
  EXPECT_EQ(GetCounters().minor_faults, after.minor_faults);
  EXPECT_FALSE(pager.AnyPacket());
  VmoInfo info{};
  ASSERT_EQ(clone->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, P(2));
}

// ZX_VM_MAP_RANGE on a clone's mapping maps the root's pages the clone sees (no MINOR fault
// when they are loaded then), not what it forked or what the root lacks, and asks for none.
TEST_F(CloneClockTest, MapRangeOfACloneMapsTheRootPagesItSees) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_TRUE(vmo);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 3), Status::kOk);
  auto clone = Clone(*vmo, 4);
  ASSERT_TRUE(clone);
  const uint64_t forked = 0x5eed;
  ASSERT_EQ(clone->vmo.Write(&forked, P(1), sizeof forked), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(clone->vmo, 0, P(4), kMapRead, &map), Status::kOk);
  UPAGER_REQUIRE_CLOCK();
  ASSERT_EQ(map.MapRange(0, P(4)), Status::kOk);
  EXPECT_TRUE(PtePresent(map.data() + P(0)));
  EXPECT_TRUE(PtePresent(map.data() + P(2)));
  EXPECT_FALSE(PtePresent(map.data() + P(3)));  // absent at the root: nothing asked for
  EXPECT_FALSE(pager.AnyPacket());
  const Counters before = GetCounters();
  uint64_t value = 0;
  for (uint64_t page : {0u, 2u}) {
    ASSERT_TRUE(ProbeLoad(map.data() + P(page) + 8, &value).ok);
    EXPECT_EQ(value, Word(vmo->key, page, 1)) << "page " << page;
  }
  ASSERT_TRUE(ProbeLoad(map.data() + P(1), &value).ok);
  EXPECT_EQ(value, forked);
  EXPECT_EQ(GetCounters().minor_faults, before.minor_faults);
  EXPECT_FALSE(pager.AnyPacket());
}

// Loads through a clone's mapping (the root not mapped) under a small budget: the pages
// asked for are the clock's prediction, as for loads through the root's own mapping.
TEST_F(CloneClockTest, EvictionOrderThroughACloneIsTheClocks) {
  UPAGER_REQUIRE_MAPPINGS();
  const std::vector<uint64_t> loads = SkewedLoads();
  const std::vector<uint64_t> with_clock = PredictReads(loads, 5, true);
  ASSERT_LT(with_clock.size(), PredictReads(loads, 5, false).size());
  bool clock = false;
  const std::vector<uint64_t> reads = RunLoads(loads, 16, 5, &clock, LoadsThrough::kClone);
  if (!clock) UPAGER_SKIP_OR_FAIL("no userfaultfd MINOR faults with write-protected CONTINUE");
  EXPECT_EQ(reads, with_clock);
}

// Threads loading through a clone's mapping while the hand goes round under a small budget
// (it unmaps and evicts the root's pages under them) and a thread forks pages by storing to
// them: every load sees the page's bytes, before and after its fork; the forks and their
// stores survive the hand; the root never sees a store.
TEST_F(CloneClockTest, LoadsAndForksWhileTheHandGoesRound) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kPages = 32;
  constexpr int kLoaders = 3;
  constexpr int kLoads = 3000;
  PagerLoop loop(1);
  ASSERT_EQ(loop.Start(), Status::kOk);
  RecordingHandler handler;
  Vmo vmo;
  ASSERT_EQ(loop.CreateVmo(0, P(kPages), &handler, &vmo), Status::kOk);
  Vmo child;
  ASSERT_EQ(vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, P(kPages), &child), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(child, 0, P(kPages), kMapRead | kMapWrite, &map), Status::kOk);
  UPAGER_REQUIRE_CLOCK();
  const Counters before = GetCounters();
  // Six root pages, and the forks, which are charged (docs/clones.md, Memory budget).
  Limit(Used() + 6 + kPages / 4);
  // Every fourth page is forked, with the value 0xf000 + page in its second word.
  auto forked = [](uint64_t page) { return page % 4 == 1; };
  std::atomic<bool> ok{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < kLoaders; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t + 7);
      for (int i = 0; i < kLoads; ++i) {
        const uint64_t page = rng() % kPages;
        // The first word: the forking thread stores to the second (no race of the test's
        // own), and a fork copies the first.
        uint64_t value = 0;
        if (!ProbeLoad(map.data() + P(page), &value).ok || value != Word(1, page)) ok = false;
      }
    });
  }
  threads.emplace_back([&] {
    for (uint64_t page = 0; page < kPages; ++page) {
      if (forked(page) && !ProbeStore(map.data() + P(page) + 8, 0xf000 + page).ok) ok = false;
    }
  });
  for (std::thread& thread : threads) thread.join();
  EXPECT_TRUE(ok);
  Limit(PageBudget::kUnlimited);
  // The hand aged pages, and loads through the clone took MINOR faults.
  EXPECT_GT(GetCounters().pages_aged, before.pages_aged);
  EXPECT_GT(GetCounters().minor_faults, before.minor_faults);
  for (uint64_t page = 0; page < kPages; ++page) {
    uint64_t value = 0;
    ASSERT_TRUE(ProbeLoad(map.data() + P(page) + 8, &value).ok) << "page " << page;
    EXPECT_EQ(value, forked(page) ? 0xf000 + page : Word(1, page, 1)) << "page " << page;
    ASSERT_EQ(vmo.Read(&value, P(page) + 8, sizeof value), Status::kOk);
    EXPECT_EQ(value, Word(1, page, 1)) << "page " << page;
  }
  VmoInfo info{};
  ASSERT_EQ(child.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, P(kPages / 4));
  map.Reset();
  child.Reset();
  vmo.Reset();
  loop.Stop();
}

}  // namespace
}  // namespace upager::testing
