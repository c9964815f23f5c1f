// Mapped clones at the process's VMA limit (vm.max_map_count, docs/clones.md, Mapped clones):
// each run of forked pages of a mapped clone is one more VMA. At the limit a fork cannot be
// placed in a mapping: the store that needed it fails with SIGBUS carrying kNoMemory,
// Vmo::Write returns kNoMemory, and nothing is left half done (a page is forked and shown
// by every mapping of the clone, or not forked at all); the root is never written.
//
// Each case runs in a child process (this binary, run again for one DISABLED_ case), which
// uses up almost all of its VMA budget with small anonymous mappings that cannot merge.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "mapping_util.h"
#include "upager/mapping.h"
#include "upager/vmo.h"
#include "user_pager.h"
#include "vma_fill.h"

extern char** environ;

namespace upager::testing {
namespace {

inline constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }

uint64_t VmoWord(const Vmo& vmo, uint64_t page) {
  uint64_t word = 0;
  EXPECT_EQ(vmo.Read(&word, P(page), sizeof word), Status::kOk);
  return word;
}

// What a mapping shows at `page` (the load must not fault).
uint64_t MapWord(const Mapping& map, uint64_t page) {
  uint64_t word = 0;
  const Probe probe = ProbeLoad(map.data() + P(page), &word);
  EXPECT_TRUE(probe.ok) << "load of page " << page << " faulted";
  return word;
}

// A pager VMO of `pages`, all supplied, with an at-least-on-write clone of all of it.
struct Tree {
  UserPager pager;
  std::unique_ptr<TestVmo> root;
  TestVmo clone;
  explicit Tree(uint64_t pages) {
    root = pager.CreateVmo(pages);
    EXPECT_NE(root, nullptr);
    EXPECT_EQ(pager.SupplyPages(*root, 0, pages), Status::kOk);
    clone.key = root->key;
    EXPECT_EQ(root->vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, P(pages), &clone.vmo),
              Status::kOk);
  }
  uint64_t RootWord(uint64_t page) const { return VmoWord(root->vmo, page); }
};

constexpr uint64_t kPages = 512;
uint64_t Value(uint64_t page) { return 0xf0f0000000000000ull + page; }

// The root still holds its own bytes: no store through a clone reached it.
void ExpectRootIntact(const Tree& tree) {
  for (uint64_t page = 0; page < kPages; ++page) {
    std::vector<char> data(kPageSize);
    ASSERT_EQ(tree.root->vmo.Read(data.data(), P(page), kPageSize), Status::kOk);
    ASSERT_TRUE(UserPager::CheckPattern(tree.root->key, page, 1, data.data())) << page;
  }
}

// A page the clone does not own is its root's, live: a root write there is seen by every
// mapping of the clone (none kept a copy of a fork taken back).
void ExpectRootSeenWhereUnforked(const Tree& tree, const std::vector<bool>& owned,
                                 const Mapping& map1, const Mapping& map2) {
  for (uint64_t page = 0; page < kPages; ++page) {
    if (owned[page]) continue;
    const uint64_t value = 0xabcd000000000000ull + page;
    ASSERT_EQ(tree.root->vmo.Write(&value, P(page), sizeof value), Status::kOk);
    ASSERT_EQ(VmoWord(tree.clone.vmo, page), value) << page;
    ASSERT_EQ(MapWord(map1, page), value) << page;
    ASSERT_EQ(MapWord(map2, page), value) << page;
  }
}

// ---- The cases, each run in a child process (RunInChild below) ----

// N adjacent forks cost one VMA, not N: the pieces mapped over each page merge.
TEST(CloneMapLimitChild, DISABLED_AdjacentForksMakeOneVma) {
  Tree tree(kPages);
  Mapping map;
  ASSERT_EQ(Mapping::Create(tree.clone.vmo, 0, P(kPages), kMapRead | kMapWrite, &map), Status::kOk);
  // A first fork first: the fault thread's first allocation may map an arena.
  ASSERT_TRUE(ProbeStore(map.data() + P(kPages - 2), Value(kPages - 2)).ok);
  const int64_t before = MapCount();
  for (uint64_t page = 100; page < 116; ++page) {
    ASSERT_TRUE(ProbeStore(map.data() + P(page), Value(page)).ok);
  }
  // The root's VMA split in three: root, the 16 forks, root.
  EXPECT_EQ(MapCount(), before + 2);
  // Forks written backwards, and through Vmo::Write, merge as well.
  for (uint64_t page = 215; page >= 200; --page) {
    ASSERT_TRUE(ProbeStore(map.data() + P(page), Value(page)).ok);
  }
  for (uint64_t page = 300; page < 316; ++page) {
    const uint64_t value = Value(page);
    ASSERT_EQ(tree.clone.vmo.Write(&value, P(page), sizeof value), Status::kOk);
  }
  EXPECT_EQ(MapCount(), before + 6);
  // A fork filling the gap between two runs joins them.
  for (uint64_t page = 116; page < 200; ++page) {
    ASSERT_TRUE(ProbeStore(map.data() + P(page), Value(page)).ok);
  }
  EXPECT_EQ(MapCount(), before + 4);
  // Every fork is whole: in the mapping and in the clone.
  for (uint64_t page = 100; page < 216; ++page) {
    ASSERT_EQ(MapWord(map, page), Value(page));
    ASSERT_EQ(VmoWord(tree.clone.vmo, page), Value(page));
  }
  ExpectRootIntact(tree);
}

// Stores to alternating pages of a mapped clone until a fork cannot be placed: that store
// fails with kNoMemory, the page stays unforked, and the rest of the mapping keeps working.
TEST(CloneMapLimitChild, DISABLED_StoresFailWithNoMemoryAtTheLimit) {
  Tree tree(kPages);
  Mapping map;
  ASSERT_EQ(Mapping::Create(tree.clone.vmo, 0, P(kPages), kMapRead | kMapWrite, &map), Status::kOk);
  for (uint64_t page = 0; page < kPages; ++page) ASSERT_EQ(MapWord(map, page), tree.RootWord(page));
  const int64_t max = MaxMapCount();
  ASSERT_GT(max, 1000);
  Fillers fillers;
  fillers.Reserve(static_cast<size_t>(max));
  ASSERT_TRUE(fillers.SetCount(max - 40));
  uint64_t failed = kPages;
  for (uint64_t page = 1; page < kPages; page += 2) {
    const Probe probe = ProbeStore(map.data() + P(page), Value(page));
    if (!probe.ok) {
      EXPECT_EQ(probe.signo, SIGBUS);
      EXPECT_EQ(FaultStatusForAddress(map.data() + P(page)), Status::kNoMemory);
      failed = page;
      break;
    }
  }
  ASSERT_LT(failed, kPages) << "no store failed";
  ASSERT_GT(failed, 1u) << "no store succeeded";
  // Still at the limit: the same store fails the same way (no hang, no silent store).
  const Probe again = ProbeStore(map.data() + P(failed), Value(failed));
  EXPECT_FALSE(again.ok);
  EXPECT_EQ(FaultStatusForAddress(map.data() + P(failed)), Status::kNoMemory);
  // Every fork made is whole, the failed page is not forked, the rest reads as it did.
  for (uint64_t page = 0; page < kPages; ++page) {
    const bool forked = page % 2 == 1 && page < failed;
    const uint64_t want = forked ? Value(page) : tree.RootWord(page);
    ASSERT_EQ(MapWord(map, page), want) << page;
    ASSERT_EQ(VmoWord(tree.clone.vmo, page), want) << page;
  }
  ExpectRootIntact(tree);
  VmoInfo info{};
  ASSERT_EQ(tree.clone.vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, P(failed / 2));
  // Stores to forked pages need no VMA.
  ASSERT_TRUE(ProbeStore(map.data() + P(1), 7).ok);
  EXPECT_EQ(VmoWord(tree.clone.vmo, 1), 7u);
  // Room again: the store forks.
  ASSERT_TRUE(fillers.SetCount(max - 40));
  ASSERT_TRUE(ProbeStore(map.data() + P(failed), Value(failed)).ok);
  EXPECT_EQ(VmoWord(tree.clone.vmo, failed), Value(failed));
  EXPECT_EQ(MapWord(map, failed), Value(failed));
  ExpectRootIntact(tree);
}

// Vmo::Write on a clone mapped twice, at each VMA count near the limit: a fork is placed in
// both mappings or in neither (a piece already placed in the first is taken back when the
// second cannot take it), and the write says which.
void WriteAtEachCount(bool through_store) {
  Tree tree(kPages);
  Mapping map1, map2;
  ASSERT_EQ(Mapping::Create(tree.clone.vmo, 0, P(kPages), kMapRead | kMapWrite, &map1),
            Status::kOk);
  ASSERT_EQ(Mapping::Create(tree.clone.vmo, 0, P(kPages), kMapRead | kMapWrite, &map2),
            Status::kOk);
  for (uint64_t page = 0; page < kPages; ++page) {
    ASSERT_EQ(MapWord(map1, page), tree.RootWord(page));
    ASSERT_EQ(MapWord(map2, page), tree.RootWord(page));
  }
  const int64_t max = MaxMapCount();
  ASSERT_GT(max, 1000);
  Fillers fillers;
  fillers.Reserve(static_cast<size_t>(max));
  std::vector<bool> forked(kPages, false);
  int failures = 0;
  int successes = 0;
  uint64_t page = 1;
  // Each count from well below the limit to above what any fork could take, twice.
  for (int round = 0; round < 2; ++round) {
    for (int64_t below = 6; below >= -1; --below, page += 2) {
      ASSERT_TRUE(fillers.SetCount(max - below)) << below;
      const uint64_t value = Value(page);
      Status s;
      if (through_store) {
        const Probe probe = ProbeStore(map1.data() + P(page), value);
        s = probe.ok ? Status::kOk : FaultStatusForAddress(map1.data() + P(page));
      } else {
        s = tree.clone.vmo.Write(&value, P(page), sizeof value);
      }
      if (s == Status::kOk) {
        forked[page] = true;
        ++successes;
      } else {
        ASSERT_EQ(s, Status::kNoMemory) << below;
        ++failures;
      }
      // No VMA left behind by a fork taken back.
      if (s != Status::kOk) {
        EXPECT_LE(MapCount(), max - below) << below;
      }
      ASSERT_TRUE(fillers.SetCount(max - 64));
      for (uint64_t p = 0; p < kPages; ++p) {
        const uint64_t want = forked[p] ? Value(p) : tree.RootWord(p);
        ASSERT_EQ(VmoWord(tree.clone.vmo, p), want) << p << " at " << below;
        ASSERT_EQ(MapWord(map1, p), want) << p << " at " << below;
        ASSERT_EQ(MapWord(map2, p), want) << p << " at " << below;
      }
    }
  }
  EXPECT_GT(failures, 0);
  EXPECT_GT(successes, 0);
  ExpectRootIntact(tree);
  ExpectRootSeenWhereUnforked(tree, forked, map1, map2);
  // Forked pages: a store through either mapping is seen by the other.
  for (uint64_t p = 0; p < kPages; ++p) {
    if (!forked[p]) continue;
    ASSERT_TRUE(ProbeStore(map2.data() + P(p), p).ok);
    ASSERT_EQ(MapWord(map1, p), p);
  }
}

TEST(CloneMapLimitChild, DISABLED_WriteWithTwoMappings) { WriteAtEachCount(false); }
TEST(CloneMapLimitChild, DISABLED_StoreWithTwoMappings) { WriteAtEachCount(true); }

// ZERO of whole pages makes zero markers, mapped over the root's pages as forks are.
TEST(CloneMapLimitChild, DISABLED_ZeroWithTwoMappings) {
  Tree tree(kPages);
  Mapping map1, map2;
  ASSERT_EQ(Mapping::Create(tree.clone.vmo, 0, P(kPages), kMapRead | kMapWrite, &map1),
            Status::kOk);
  ASSERT_EQ(Mapping::Create(tree.clone.vmo, 0, P(kPages), kMapRead, &map2), Status::kOk);
  for (uint64_t page = 0; page < kPages; ++page) {
    ASSERT_EQ(MapWord(map1, page), tree.RootWord(page));
    ASSERT_EQ(MapWord(map2, page), tree.RootWord(page));
  }
  const int64_t max = MaxMapCount();
  Fillers fillers;
  fillers.Reserve(static_cast<size_t>(max));
  std::vector<bool> zeroed(kPages, false);
  int failures = 0;
  uint64_t page = 1;
  for (int64_t below = 6; below >= -1; --below, page += 2) {
    ASSERT_TRUE(fillers.SetCount(max - below)) << below;
    const Status s = tree.clone.vmo.OpRange(kVmoOpZero, P(page), kPageSize);
    if (s == Status::kOk) {
      zeroed[page] = true;
    } else {
      ASSERT_EQ(s, Status::kNoMemory) << below;
      ++failures;
    }
    ASSERT_TRUE(fillers.SetCount(max - 64));
    for (uint64_t p = 0; p < kPages; ++p) {
      const uint64_t want = zeroed[p] ? 0 : tree.RootWord(p);
      ASSERT_EQ(VmoWord(tree.clone.vmo, p), want) << p << " at " << below;
      ASSERT_EQ(MapWord(map1, p), want) << p << " at " << below;
      ASSERT_EQ(MapWord(map2, p), want) << p << " at " << below;
    }
  }
  EXPECT_GT(failures, 0);
  ExpectRootIntact(tree);
  ExpectRootSeenWhereUnforked(tree, zeroed, map1, map2);
}

// A new mapping of a clone maps the clone's own pages over its root's: at the limit, the
// mapping is refused, not made with the root's pages where the clone has its own.
TEST(CloneMapLimitChild, DISABLED_MappingACloneWithForksAtTheLimit) {
  Tree tree(kPages);
  for (uint64_t page = 1; page < 64; page += 2) {
    const uint64_t value = Value(page);
    ASSERT_EQ(tree.clone.vmo.Write(&value, P(page), sizeof value), Status::kOk);
  }
  // Mapped into a range reserved before (a sanitizer's interceptor would take VMAs of its
  // own for a new range at the limit).
  void* range = ::mmap(nullptr, P(kPages), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(range, MAP_FAILED);
  const int64_t max = MaxMapCount();
  Fillers fillers;
  fillers.Reserve(static_cast<size_t>(max));
  ASSERT_TRUE(fillers.SetCount(max - 20));
  Mapping map;
  EXPECT_EQ(Mapping::CreateAt(tree.clone.vmo, 0, P(kPages), kMapRead | kMapWrite, range, &map),
            Status::kNoMemory);
  ASSERT_TRUE(fillers.SetCount(max - 200));
  ASSERT_EQ(Mapping::CreateAt(tree.clone.vmo, 0, P(kPages), kMapRead | kMapWrite, range, &map),
            Status::kOk);
  for (uint64_t page = 0; page < kPages; ++page) {
    const uint64_t want = page % 2 == 1 && page < 64 ? Value(page) : tree.RootWord(page);
    ASSERT_EQ(MapWord(map, page), want) << page;
  }
}

// ---- The parent side ----

// Runs `test` (a DISABLED_ case above) in a new process of this binary; true if it passed.
// A child that hangs is killed after two minutes and fails the test.
void RunInChild(const char* test) {
  UPAGER_REQUIRE_MAPPINGS();
  const std::string filter = std::string("--gtest_filter=CloneMapLimitChild.") + test;
  std::vector<char*> argv = {const_cast<char*>("/proc/self/exe"),
                             const_cast<char*>("--gtest_also_run_disabled_tests"),
                             const_cast<char*>(filter.c_str()), nullptr};
  pid_t pid = -1;
  ASSERT_EQ(::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    ASSERT_NE(r, -1);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL() << test << " hung";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polls the child's state
  }
  ASSERT_TRUE(WIFEXITED(status)) << test << " died by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << test << " failed (its output is above)";
}

TEST(CloneMapLimit, AdjacentForksMakeOneVma) { RunInChild("DISABLED_AdjacentForksMakeOneVma"); }
TEST(CloneMapLimit, StoresFailWithNoMemoryAtTheLimit) {
  RunInChild("DISABLED_StoresFailWithNoMemoryAtTheLimit");
}
TEST(CloneMapLimit, WriteWithTwoMappings) { RunInChild("DISABLED_WriteWithTwoMappings"); }
TEST(CloneMapLimit, StoreWithTwoMappings) { RunInChild("DISABLED_StoreWithTwoMappings"); }
TEST(CloneMapLimit, ZeroWithTwoMappings) { RunInChild("DISABLED_ZeroWithTwoMappings"); }
// Not built under ASan or TSan (a skip would fail CI): the refused mapping is unmapped at
// the limit, and their munmap interceptors map shadow memory of their own there, which fails
// and ends the process (UPAGER_TEST_SANITIZER_MAPS). The plain builds run it.
#if !defined(UPAGER_TEST_SANITIZER_MAPS)
TEST(CloneMapLimit, MappingACloneWithForksAtTheLimit) {
  RunInChild("DISABLED_MappingACloneWithForksAtTheLimit");
}
#endif

}  // namespace
}  // namespace upager::testing
