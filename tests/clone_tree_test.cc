// Clone hierarchies over a pager root through Vmo::Read/Write/OpRange (docs/clones.md): more
// of the clone entries of Zircon's pager.cc and snapshot.cc catalogue (zircon-peer-tests.md),
// named after the peer tests: detach, early wake, offsets and limits, slices, zeroing,
// commits and closing nodes.
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "base/handle_access.h"
#include "pager_test_util.h"
#include "test_util.h"
#include "upager/pager.h"
#include "upager/vmo.h"
#include "user_pager.h"
#include "vm/vm_object_paged.h"

namespace upager::testing {
namespace {

std::unique_ptr<TestVmo> Child(const TestVmo& parent, uint32_t options, uint64_t pages,
                               uint64_t first = 0) {
  auto child = std::make_unique<TestVmo>();
  child->key = parent.key;
  if (parent.vmo.CreateChild(options, P(first), P(pages), &child->vmo) != Status::kOk) {
    return nullptr;
  }
  return child;
}

VmoInfo Info(const TestVmo& vmo) {
  VmoInfo info{};
  EXPECT_EQ(vmo.vmo.GetInfo(&info), Status::kOk);
  return info;
}

uint64_t Word(const TestVmo& vmo, uint64_t offset) {
  uint64_t word = ~0ull;
  EXPECT_EQ(vmo.vmo.Read(&word, offset, sizeof(word)), Status::kOk);
  return word;
}

void SetWord(const TestVmo& vmo, uint64_t offset, uint64_t word) {
  ASSERT_EQ(vmo.vmo.Write(&word, offset, sizeof(word)), Status::kOk);
}

// The first word of page `page` of the root's pattern.
uint64_t PatternWord(const TestVmo& vmo, uint64_t page) {
  uint64_t word = 0;
  std::vector<char> data(kPageSize);
  UserPager::Pattern(vmo.key, page, data.data());
  std::memcpy(&word, data.data(), sizeof(word));
  return word;
}

constexpr uint32_t kAlow = kVmoChildSnapshotAtLeastOnWrite;
constexpr uint32_t kModified = kVmoChildSnapshotModified;

// Detach drops the root's clean pages; the clone's unforked pages then fail kBadState, and
// no READ is made for them.
TEST(Pager, DecommitOnDetachTestClone) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Child(*vmo, kAlow, 2);
  ASSERT_NE(clone, nullptr);
  EXPECT_EQ(Info(*vmo).committed_bytes, P(2));
  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  EXPECT_EQ(Info(*vmo).committed_bytes, 0u);
  EXPECT_EQ(ReadPages(*clone, 0, 1), Status::kBadState);
  const uint64_t word = 1;
  EXPECT_EQ(clone->vmo.Write(&word, P(1), sizeof(word)), Status::kBadState);
  EXPECT_EQ(CommitPages(*clone, 0, 2), Status::kBadState);
  EXPECT_EQ(Info(*clone).committed_bytes, 0u);
  EXPECT_FALSE(pager.AnyPacket());
}

// A clone read over [missing, missing, present at root, forked in the clone, missing] asks
// for the first run only, is woken early by its supply, takes the present and forked pages
// without waiting, then asks for the tail.
TEST(Pager, EarlyWakeCloneRace) {
  UserPager pager;
  auto vmo = pager.CreateVmo(5);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 2), Status::kOk);
  auto clone = Child(*vmo, kAlow, 5);
  ASSERT_NE(clone, nullptr);
  SetWord(*clone, P(3), 0x3333);
  ASSERT_TRUE(internal::HandleAccess::Object(vmo->vmo)->EvictPage(3));

  std::vector<char> got(P(5));
  TestThread t([&] { return clone->vmo.Read(got.data(), 0, P(5)); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 4, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 4, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());

  std::vector<char> expected = Expected(*vmo, 0, 5);
  const uint64_t word = 0x3333;
  std::memcpy(expected.data() + P(3), &word, sizeof(word));
  EXPECT_EQ(std::memcmp(got.data(), expected.data(), P(5)), 0);
  EXPECT_FALSE(pager.AnyPacket());
}

// Clones hung at various offsets of an intermediate clone see the pages it had forked when
// they were made, the root's pages elsewhere, and zeros beyond the intermediate's limit.
TEST(Pager, CloneSeesCorrectParentPages) {
  UserPager pager;
  constexpr uint64_t kPages = 4;
  auto vmo = pager.CreateVmo(kPages);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kPages), Status::kOk);
  // The intermediate covers root pages [1, 4) and has forked its page 1 (root page 2).
  auto mid = Child(*vmo, kAlow, 3, 1);
  ASSERT_NE(mid, nullptr);
  SetWord(*mid, P(1), 0xf00d);
  for (uint64_t offset = 0; offset < 4; ++offset) {
    SCOPED_TRACE(offset);
    auto leaf = Child(*mid, kAlow, 3, offset);
    ASSERT_NE(leaf, nullptr);
    for (uint64_t page = 0; page < 3; ++page) {
      const uint64_t mid_page = offset + page;
      uint64_t expected = 0;
      if (mid_page == 1) {
        expected = 0xf00d;
      } else if (mid_page < 3) {
        expected = PatternWord(*vmo, mid_page + 1);
      }
      EXPECT_EQ(Word(*leaf, P(page)), expected) << page;
    }
  }
  EXPECT_FALSE(pager.AnyPacket());
}

// Children of an intermediate clone see at least its state when they were made (here: the
// state they were made with stays theirs whatever the intermediate writes later).
TEST(Pager, CloneMightSeeIntermediateForks) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto mid = Child(*vmo, kAlow, 2);
  ASSERT_NE(mid, nullptr);
  SetWord(*mid, 0, 0x1);
  auto leaf = Child(*mid, kAlow, 2);
  ASSERT_NE(leaf, nullptr);
  SetWord(*mid, 0, 0x2);
  SetWord(*mid, P(1), 0x3);
  EXPECT_EQ(Word(*leaf, 0), 0x1u);
  EXPECT_EQ(Word(*leaf, P(1)), PatternWord(*vmo, 1));
  EXPECT_FALSE(pager.AnyPacket());
}

// A clone commit over an empty parent is one READ; random pre-population is completed by
// supplying the gaps.
TEST(Pager, CloneCommitSingleBatch) {
  UserPager pager;
  auto vmo = pager.CreateVmo(16);
  ASSERT_NE(vmo, nullptr);
  auto clone = Child(*vmo, kAlow, 16);
  ASSERT_NE(clone, nullptr);
  TestThread t([c = clone.get()] { return CommitPages(*c, 0, 16); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 16));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 16), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(Info(*clone).committed_bytes, P(16));
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(Pager, CloneCommitRandomBatches) {
  UserPager pager;
  constexpr uint64_t kPages = 64;
  auto vmo = pager.CreateVmo(kPages);
  ASSERT_NE(vmo, nullptr);
  std::mt19937 rng(7);
  std::vector<bool> present(kPages);
  for (uint64_t page = 0; page < kPages; ++page) {
    present[page] = rng() % 4 == 0;
    if (present[page]) {
      ASSERT_EQ(pager.SupplyPages(*vmo, page, 1), Status::kOk);
    }
  }
  auto clone = Child(*vmo, kAlow, kPages);
  ASSERT_NE(clone, nullptr);
  TestThread t([c = clone.get()] { return CommitPages(*c, 0, kPages); });
  t.Start();
  // Each absent run is asked for in order, once.
  for (uint64_t page = 0; page < kPages;) {
    if (present[page]) {
      ++page;
      continue;
    }
    uint64_t end = page;
    while (end < kPages && !present[end]) ++end;
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, page, end - page)) << page;
    ASSERT_EQ(pager.SupplyPages(*vmo, page, end - page), Status::kOk);
    page = end;
  }
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(Info(*clone).committed_bytes, P(kPages));
  EXPECT_TRUE(CheckVmo(*clone, 0, kPages));
  EXPECT_FALSE(pager.AnyPacket());
}

// Writes through a slice dirty and modify the parent (SliceWrite); OP_ZERO through a slice
// makes a dirty zero range on the parent without a DIRTY request (SliceOpZero).
TEST(PagerWriteback, SliceWrite) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto slice = Child(*vmo, kVmoChildSlice, 1, 1);
  ASSERT_NE(slice, nullptr);
  SetWord(*slice, 0, 0x51);
  EXPECT_EQ(Word(*vmo, P(1)), 0x51u);
  EXPECT_TRUE(pager.IsModified(*vmo));
  const std::vector<VmoDirtyRange> dirty = pager.DirtyRanges(*vmo);
  ASSERT_EQ(dirty.size(), 1u);
  EXPECT_EQ(dirty[0].offset, 1u);
  EXPECT_EQ(dirty[0].length, 1u);
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(PagerWriteback, SliceOpZero) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto slice = Child(*vmo, kVmoChildSlice, 1, 1);
  ASSERT_NE(slice, nullptr);
  ASSERT_EQ(slice->vmo.OpRange(kVmoOpZero, 0, P(1)), Status::kOk);
  EXPECT_EQ(Word(*vmo, P(1)), 0u);
  const std::vector<VmoDirtyRange> dirty = pager.DirtyRanges(*vmo);
  ASSERT_EQ(dirty.size(), 1u);
  EXPECT_EQ(dirty[0].offset, 1u);
  EXPECT_EQ(dirty[0].length, 1u);
  EXPECT_EQ(dirty[0].options, kVmoDirtyRangeIsZero);
  EXPECT_FALSE(pager.AnyPacket());
}

// Dirty pages of the parent are the parent's, not the at-least-on-write child's, also once
// the parent's handle is gone.
TEST(PagerWriteback, ChildAttributedCounts) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  SetWord(*vmo, 0, 0xd1);
  auto clone = Child(*vmo, kAlow, 2);
  ASSERT_NE(clone, nullptr);
  EXPECT_EQ(Word(*clone, 0), 0xd1u);
  EXPECT_EQ(Info(*clone).committed_bytes, 0u);
  EXPECT_EQ(Info(*clone).populated_bytes, 0u);
  EXPECT_EQ(Info(*vmo).committed_bytes, P(2));
  vmo->vmo.Reset();
  EXPECT_EQ(Word(*clone, 0), 0xd1u);
  EXPECT_EQ(Info(*clone).committed_bytes, 0u);
}

// ---- snapshot.cc ----

// Each level's reads return its own writes.
TEST(Snapshot, Read) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  auto clone = Child(*vmo, kModified, 1);
  ASSERT_NE(clone, nullptr);
  auto snapshot = Child(*clone, kModified, 1);
  ASSERT_NE(snapshot, nullptr);
  SetWord(*vmo, 0, 0xa);
  SetWord(*clone, 0, 0xb);
  SetWord(*snapshot, 0, 0xc);
  EXPECT_EQ(Word(*vmo, 0), 0xau);
  EXPECT_EQ(Word(*clone, 0), 0xbu);
  EXPECT_EQ(Word(*snapshot, 0), 0xcu);
}

// OP_ZERO in a snapshot keeps zeros whatever the root is supplied with later, or holds.
TEST(Snapshot, ZeroRangeLeftInSnapshotNoPagesInParent) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  auto clone = Child(*vmo, kModified, 2);
  ASSERT_NE(clone, nullptr);
  auto snapshot = Child(*clone, kModified, 2);
  ASSERT_NE(snapshot, nullptr);
  ASSERT_EQ(snapshot->vmo.OpRange(kVmoOpZero, 0, P(1)), Status::kOk);
  EXPECT_FALSE(pager.AnyPacket());
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  EXPECT_EQ(Word(*snapshot, 0), 0u);
  EXPECT_EQ(Word(*snapshot, P(1)), PatternWord(*vmo, 1));
  EXPECT_EQ(Word(*clone, 0), PatternWord(*vmo, 0));
  EXPECT_EQ(Info(*snapshot).committed_bytes, 0u);
}

TEST(Snapshot, ZeroRangeLeftInSnapshotPagesInParentChain) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  auto a = Child(*vmo, kModified, 1);
  ASSERT_NE(a, nullptr);
  SetWord(*a, 0, 0xaa);
  auto b = Child(*a, kModified, 1);
  ASSERT_NE(b, nullptr);
  auto c = Child(*b, kModified, 1);
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->vmo.OpRange(kVmoOpZero, 0, P(1)), Status::kOk);
  EXPECT_EQ(Word(*c, 0), 0u);
  EXPECT_EQ(Word(*b, 0), 0xaau);
  EXPECT_EQ(Word(*a, 0), 0xaau);
  EXPECT_EQ(Word(*vmo, 0), PatternWord(*vmo, 0));
  EXPECT_EQ(Info(*c).committed_bytes, 0u);
}

// OP_ZERO at the end of a clone leaves the root alone.
TEST(Snapshot, ZeroRangeFromEndOfParent) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Child(*vmo, kModified, 2);
  ASSERT_NE(clone, nullptr);
  SetWord(*clone, P(1), 0x1);
  ASSERT_EQ(clone->vmo.OpRange(kVmoOpZero, P(1), P(1)), Status::kOk);
  EXPECT_EQ(Word(*clone, P(1)), 0u);
  EXPECT_EQ(Info(*clone).committed_bytes, 0u);
  EXPECT_TRUE(CheckVmo(*vmo, 0, 2));
  EXPECT_FALSE(pager.IsModified(*vmo));
}

// COMMIT in a snapshot makes its own copy of every page.
TEST(Snapshot, CommitRangeInSnapshot) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Child(*vmo, kModified, 2);
  ASSERT_NE(clone, nullptr);
  SetWord(*clone, 0, 0x7);
  auto snapshot = Child(*clone, kModified, 2);
  ASSERT_NE(snapshot, nullptr);
  ASSERT_EQ(snapshot->vmo.OpRange(kVmoOpCommit, 0, P(2)), Status::kOk);
  EXPECT_EQ(Info(*snapshot).committed_bytes, P(2));
  SetWord(*vmo, P(1), 0x9);
  EXPECT_EQ(Word(*snapshot, 0), 0x7u);
  EXPECT_EQ(Word(*snapshot, P(1)), PatternWord(*vmo, 1));
  EXPECT_FALSE(pager.AnyPacket());
}

// Snapshots of the root and of its slice all see later root writes while unforked.
TEST(Snapshot, CloneAfterSliceRoot) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  auto slice = Child(*vmo, kVmoChildSlice, 1);
  ASSERT_NE(slice, nullptr);
  auto of_root = Child(*vmo, kModified, 1);
  auto of_slice = Child(*slice, kModified, 1);
  ASSERT_NE(of_root, nullptr);
  ASSERT_NE(of_slice, nullptr);
  SetWord(*vmo, 0, 0x42);
  EXPECT_EQ(Word(*slice, 0), 0x42u);
  EXPECT_EQ(Word(*of_root, 0), 0x42u);
  EXPECT_EQ(Word(*of_slice, 0), 0x42u);
}

// A slice of a clone keeps tracking that clone after more snapshots of it; the clone's
// children count the slice.
TEST(Snapshot, SnapshotVmoWithSlice) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Child(*vmo, kModified, 2);
  ASSERT_NE(clone, nullptr);
  SetWord(*clone, P(1), 0xc0);  // a slice of a clone that has forked pages shares them
  auto slice = Child(*clone, kVmoChildSlice, 2);
  ASSERT_NE(slice, nullptr);
  EXPECT_EQ(Word(*slice, P(1)), 0xc0u);
  auto snapshot = Child(*clone, kModified, 2);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(Info(*clone).num_children, 2u);
  SetWord(*clone, 0, 0xc1);
  EXPECT_EQ(Word(*slice, 0), 0xc1u);
  SetWord(*slice, 0, 0xc2);
  EXPECT_EQ(Word(*clone, 0), 0xc2u);
  EXPECT_EQ(Word(*snapshot, 0), PatternWord(*vmo, 0));
}

// Dropping nodes: child counts follow, the others' data stays, and a write after a sibling
// is dropped works (DropVmos, WriteAfterDropSibling).
TEST(Snapshot, DropVmos) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  auto clone = Child(*vmo, kModified, 1);
  ASSERT_NE(clone, nullptr);
  SetWord(*clone, 0, 0x1);
  auto snapshot = Child(*clone, kModified, 1);
  auto sibling = Child(*clone, kModified, 1);
  ASSERT_NE(snapshot, nullptr);
  ASSERT_NE(sibling, nullptr);
  EXPECT_EQ(Info(*vmo).num_children, 1u);
  EXPECT_EQ(Info(*clone).num_children, 2u);
  sibling.reset();
  EXPECT_EQ(Info(*clone).num_children, 1u);
  SetWord(*snapshot, 0, 0x2);
  clone.reset();
  EXPECT_EQ(Info(*vmo).num_children, 1u);  // the clone lives on under its snapshot
  EXPECT_EQ(Word(*snapshot, 0), 0x2u);
  snapshot.reset();
  EXPECT_EQ(Info(*vmo).num_children, 0u);
  EXPECT_TRUE(CheckVmo(*vmo, 0, 1));
}

// Shrinking a clone does not change what its snapshot sees; shrinking the snapshot drops it.
TEST(Snapshot, ResizeShrinkSnapshot) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Child(*vmo, kModified | kVmoChildResizable, 2);
  ASSERT_NE(clone, nullptr);
  SetWord(*clone, P(1), 0x11);
  auto snapshot = Child(*clone, kModified | kVmoChildResizable, 2);
  ASSERT_NE(snapshot, nullptr);
  ASSERT_EQ(clone->vmo.SetSize(P(1)), Status::kOk);
  EXPECT_EQ(Word(*snapshot, P(1)), 0x11u);
  EXPECT_EQ(Info(*snapshot).committed_bytes, P(1));
  ASSERT_EQ(snapshot->vmo.SetSize(P(1)), Status::kOk);
  EXPECT_EQ(Info(*snapshot).committed_bytes, 0u);
  EXPECT_EQ(ReadPages(*snapshot, 1, 1), Status::kOutOfRange);
  EXPECT_TRUE(CheckVmo(*vmo, 0, 2));
}

}  // namespace
}  // namespace upager::testing

namespace upager::testing {
namespace {

// Concurrency: writers fork pages of their own clones and read the rest while the root's
// clean pages are evicted and a pager thread answers every READ. Each clone ends holding
// exactly its own writes over the root's content (run under TSan too).
TEST(Pager, CloneConcurrentForkReadEvict) {
  UserPager pager;
  constexpr uint64_t kPages = 16;
  constexpr int kClones = 3;
  constexpr int kRounds = 200;
  auto vmo = pager.CreateVmo(kPages);
  ASSERT_NE(vmo, nullptr);
  std::vector<std::unique_ptr<TestVmo>> clones;
  for (int i = 0; i < kClones; ++i) {
    clones.push_back(Child(*vmo, kAlow, kPages));
    ASSERT_NE(clones.back(), nullptr);
  }
  std::atomic<bool> stop{false};
  std::atomic<bool> stop_evicting{false};
  std::thread server([&] {
    while (!stop.load()) {
      uint64_t offset = 0;
      uint64_t length = 0;
      if (pager.GetPageReadRequest(*vmo, std::chrono::milliseconds(5), &offset, &length)) {
        EXPECT_EQ(pager.SupplyPages(*vmo, offset, length), Status::kOk);
      }
    }
  });
  std::thread evictor([&] {
    for (uint64_t i = 0; !stop_evicting.load(); ++i) {
      internal::HandleAccess::Object(vmo->vmo)->EvictPage(i % kPages);
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> writers;
  for (int c = 0; c < kClones; ++c) {
    writers.emplace_back([&, c] {
      // Clone c writes the pages p with p % kClones == c, reads all of them every round.
      for (int round = 0; round < kRounds; ++round) {
        const uint64_t page = (static_cast<uint64_t>(round) * kClones + c) % kPages;
        if (page % kClones == static_cast<uint64_t>(c)) {
          const uint64_t word = 0x1000 * (c + 1) + page;
          EXPECT_EQ(clones[c]->vmo.Write(&word, P(page), sizeof(word)), Status::kOk);
        }
        std::vector<char> all(P(kPages));
        EXPECT_EQ(clones[c]->vmo.Read(all.data(), 0, P(kPages)), Status::kOk);
        if (::testing::Test::HasFailure()) return;
      }
    });
  }
  for (std::thread& w : writers) w.join();
  stop_evicting.store(true);
  evictor.join();

  // Final content: each clone's own writes; every other page the root's pattern.
  for (int c = 0; c < kClones; ++c) {
    std::vector<char> all(P(kPages));
    EXPECT_EQ(clones[c]->vmo.Read(all.data(), 0, P(kPages)), Status::kOk);
    std::vector<char> expected = Expected(*vmo, 0, kPages);
    for (uint64_t page = 0; page < kPages; ++page) {
      bool written = false;
      for (int round = 0; round < kRounds; ++round) {
        written |= (static_cast<uint64_t>(round) * kClones + c) % kPages == page;
      }
      if (written && page % kClones == static_cast<uint64_t>(c)) {
        const uint64_t word = 0x1000 * (c + 1) + page;
        std::memcpy(expected.data() + P(page), &word, sizeof(word));
      }
    }
    EXPECT_EQ(std::memcmp(all.data(), expected.data(), P(kPages)), 0) << c;
  }
  stop.store(true);  // the reads above may still need the pager (evicted root pages)
  server.join();
}

}  // namespace
}  // namespace upager::testing
