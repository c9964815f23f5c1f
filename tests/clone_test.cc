// Clones of pager-backed VMOs through Vmo::Read/Write/OpRange (docs/clones.md): the clone
// entries of Zircon's pager.cc catalogue (zircon-peer-tests.md), named after the peer tests,
// with exact packets, statuses and bytes. Argument checks, kinds and info are in
// clone_kinds_test.cc.
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
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

// An at-least-on-write child of `parent` over its first `pages` pages (as a TestVmo with
// the root's key, so that the pattern checks of the root apply to it).
std::unique_ptr<TestVmo> Clone(const TestVmo& parent, uint64_t pages, uint64_t first = 0,
                               uint32_t options = kVmoChildSnapshotAtLeastOnWrite) {
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

std::vector<char> Bytes(char c, uint64_t len) { return std::vector<char>(len, c); }

// Reading an unpopulated page through a clone makes a READ on the root's key.
TEST(Pager, CloneReadFromCloneTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 1);
  ASSERT_NE(clone, nullptr);

  TestThread t([c = clone.get()] { return CheckVmo(*c, 0, 1); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(pager.AnyPacket());
}

// Once the root has the page, the clone reads it without a request.
TEST(Pager, CloneReadFromParentTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 1);
  ASSERT_NE(clone, nullptr);

  TestThread t([v = vmo.get()] { return CheckVmo(*v, 0, 1); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());

  EXPECT_TRUE(CheckVmo(*clone, 0, 1));
  EXPECT_FALSE(pager.AnyPacket());
}

// Reads of the same page through the parent and through the clone make one request.
TEST(Pager, CloneSimultaneousReadTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 1);
  ASSERT_NE(clone, nullptr);

  TestThread t1([v = vmo.get()] { return CheckVmo(*v, 0, 1); });
  TestThread t2([c = clone.get()] { return CheckVmo(*c, 0, 1); });
  t1.Start();
  t2.Start();
  ASSERT_TRUE(t1.WaitForBlocked());
  ASSERT_TRUE(t2.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t1.Wait());
  ASSERT_TRUE(t2.Wait());
  EXPECT_FALSE(pager.AnyPacket());
}

// Reads through two sibling clones make one request.
TEST(Pager, CloneSimultaneousChildReadTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  auto a = Clone(*vmo, 1);
  auto b = Clone(*vmo, 1);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  TestThread t1([c = a.get()] { return CheckVmo(*c, 0, 1); });
  TestThread t2([c = b.get()] { return CheckVmo(*c, 0, 1); });
  t1.Start();
  t2.Start();
  ASSERT_TRUE(t1.WaitForBlocked());
  ASSERT_TRUE(t2.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t1.Wait());
  ASSERT_TRUE(t2.Wait());
  EXPECT_FALSE(pager.AnyPacket());
}

// A write through a clone forks the page (after a READ); the parent keeps its content.
TEST(Pager, CloneWriteToCloneTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 1);
  ASSERT_NE(clone, nullptr);

  TestThread t([c = clone.get()] {
    const uint64_t word = 0xc0ffee;
    return c->vmo.Write(&word, 0, sizeof(word));
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());

  std::vector<char> expected = Expected(*vmo, 0, 1);
  EXPECT_TRUE(CheckVmoData(*vmo, 0, 1, expected.data()));
  const uint64_t word = 0xc0ffee;
  std::memcpy(expected.data(), &word, sizeof(word));
  EXPECT_TRUE(CheckVmoData(*clone, 0, 1, expected.data()));
  EXPECT_EQ(Info(*clone).committed_bytes, P(1));
  EXPECT_EQ(Info(*vmo).committed_bytes, P(1));
  EXPECT_FALSE(pager.AnyPacket());
}

// After detach, the clone's forked page survives and its unforked page fails kBadState,
// without a READ.
TEST(Pager, CloneDetachTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  const std::vector<char> ones = Bytes(1, P(1));
  ASSERT_EQ(clone->vmo.Write(ones.data(), 0, P(1)), Status::kOk);

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));

  EXPECT_TRUE(CheckVmoData(*clone, 0, 1, ones.data()));
  EXPECT_EQ(ReadPages(*clone, 1, 1), Status::kBadState);
  EXPECT_EQ(ReadPages(*vmo, 0, 1), Status::kBadState);
  EXPECT_FALSE(pager.AnyPacket());
}

// Committing a clone asks for the whole run on the root once and populates the clone.
TEST(Pager, CloneCommitTest) {
  UserPager pager;
  constexpr uint64_t kNumPages = 32;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, kNumPages);
  ASSERT_NE(clone, nullptr);

  TestThread t([c = clone.get()] { return CommitPages(*c, 0, kNumPages); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kNumPages), Status::kOk);
  ASSERT_TRUE(t.Wait());

  EXPECT_EQ(Info(*clone).committed_bytes, P(kNumPages));
  EXPECT_EQ(Info(*clone).populated_bytes, P(kNumPages));
  EXPECT_TRUE(CheckVmo(*clone, 0, kNumPages));
  EXPECT_FALSE(pager.AnyPacket());
}

// Committing a clone of a clone populates the leaf only.
TEST(Pager, CloneChainCommitTest) {
  UserPager pager;
  constexpr uint64_t kNumPages = 32;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, kNumPages);
  ASSERT_NE(clone, nullptr);
  auto leaf = Clone(*clone, kNumPages);
  ASSERT_NE(leaf, nullptr);

  TestThread t([c = leaf.get()] { return CommitPages(*c, 0, kNumPages); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kNumPages), Status::kOk);
  ASSERT_TRUE(t.Wait());

  EXPECT_EQ(Info(*leaf).committed_bytes, P(kNumPages));
  EXPECT_EQ(Info(*clone).committed_bytes, 0u);
  EXPECT_TRUE(CheckVmo(*leaf, 0, kNumPages));
  EXPECT_FALSE(pager.AnyPacket());
}

// A parent with pages 1-2 present splits a clone commit of [0,4) into READ[0,1), READ[3,4).
TEST(Pager, CloneSplitCommitTest) {
  UserPager pager;
  constexpr uint64_t kNumPages = 4;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, kNumPages);
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 2), Status::kOk);

  TestThread t([c = clone.get()] { return CommitPages(*c, 0, kNumPages); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 3, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 3, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());

  EXPECT_EQ(Info(*clone).committed_bytes, P(kNumPages));
  EXPECT_TRUE(CheckVmo(*clone, 0, kNumPages));
  EXPECT_FALSE(pager.AnyPacket());
}

// A present middle page splits the batch in two; two present pages in three.
TEST(Pager, CloneCommitTwoBatches) {
  UserPager pager;
  auto vmo = pager.CreateVmo(5);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 5);
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOk);

  TestThread t([c = clone.get()] { return CommitPages(*c, 0, 5); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 3, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 3, 2), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(Info(*clone).committed_bytes, P(5));
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(Pager, CloneCommitMultipleBatches) {
  UserPager pager;
  auto vmo = pager.CreateVmo(8);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 8);
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 5, 1), Status::kOk);

  TestThread t([c = clone.get()] { return CommitPages(*c, 0, 8); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 3, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 3, 2), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 6, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 6, 2), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(Info(*clone).committed_bytes, P(8));
  EXPECT_TRUE(CheckVmo(*clone, 0, 8));
  EXPECT_FALSE(pager.AnyPacket());
}

// READ batching through a slice of a grandchild skips what any ancestor forked.
TEST(Pager, PageRequestBatchingChecksAncestorPages) {
  UserPager pager;
  auto vmo = pager.CreateVmo(5);
  ASSERT_NE(vmo, nullptr);
  auto child = Clone(*vmo, 5);
  ASSERT_NE(child, nullptr);
  // The child forks page 1 (zeros, no READ: OP_ZERO), the grandchild page 2.
  ASSERT_EQ(child->vmo.OpRange(kVmoOpZero, P(1), P(1)), Status::kOk);
  auto grandchild = Clone(*child, 5);
  ASSERT_NE(grandchild, nullptr);
  ASSERT_EQ(grandchild->vmo.OpRange(kVmoOpZero, P(2), P(1)), Status::kOk);
  auto slice = Clone(*grandchild, 5, 0, kVmoChildSlice);
  ASSERT_NE(slice, nullptr);
  EXPECT_FALSE(pager.AnyPacket());

  TestThread t([s = slice.get()] { return ReadPages(*s, 0, 5); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 3, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 3, 2), Status::kOk);
  ASSERT_TRUE(t.Wait());

  std::vector<char> expected = Expected(*vmo, 0, 5);
  std::memset(expected.data() + P(1), 0, P(2));
  EXPECT_TRUE(CheckVmoData(*slice, 0, 5, expected.data()));
  EXPECT_FALSE(pager.AnyPacket());
}

// Pages cut off by a shrink of the parent stay hidden from the clone when it grows again.
TEST(Pager, CloneShrinkGrowParent) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2, kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  EXPECT_TRUE(CheckVmo(*clone, 0, 2));

  ASSERT_EQ(vmo->vmo.SetSize(P(1)), Status::kOk);
  ASSERT_EQ(vmo->vmo.SetSize(P(2)), Status::kOk);
  const std::vector<char> ones = Bytes(1, P(1));
  ASSERT_EQ(vmo->vmo.Write(ones.data(), P(1), P(1)), Status::kOk);

  std::vector<char> expected = Expected(*vmo, 0, 2);
  std::memset(expected.data() + P(1), 0, P(1));
  EXPECT_TRUE(CheckVmoData(*clone, 0, 2, expected.data()));
  uint64_t size = 0;
  ASSERT_EQ(clone->vmo.GetSize(&size), Status::kOk);
  EXPECT_EQ(size, P(2));
  EXPECT_FALSE(pager.AnyPacket());
}

// A clone waiting for a page the parent's shrink cuts off is woken and reads zeros.
TEST(Pager, CloneParentShrinkWakesReader) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2, kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  std::vector<char> got(P(1), 1);
  TestThread t([&] { return clone->vmo.Read(got.data(), P(1), P(1)); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(vmo->vmo.SetSize(P(1)), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(got, Bytes(0, P(1)));
}

// Writing an at-least-on-write clone of a trapping VMO makes READs on the parent, never
// DIRTY requests, and never dirties or marks the parent; the clone is not the pager's.
TEST(PagerWriteback, NoDirtyRequestsForClones) {
  UserPager pager;
  auto vmo = pager.CreateVmo(3, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  auto clone = Clone(*vmo, 3);
  ASSERT_NE(clone, nullptr);

  const std::vector<char> ones = Bytes(1, P(3));
  TestThread t([&] { return clone->vmo.Write(ones.data(), 0, P(3)); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 2), Status::kOk);
  ASSERT_TRUE(t.Wait());

  EXPECT_TRUE(CheckVmoData(*clone, 0, 3, ones.data()));
  EXPECT_TRUE(CheckVmo(*vmo, 0, 3));
  EXPECT_FALSE(pager.AnyPacket());
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(pager.DirtyRanges(*vmo).empty());
}

// Clone writes never mark the parent; dirty and stats queries on the clone are kInvalidArgs.
TEST(PagerWriteback, NotModifiedCloneWrite) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  auto clone = Clone(*vmo, 1);
  ASSERT_NE(clone, nullptr);
  const uint64_t word = 7;
  ASSERT_EQ(clone->vmo.Write(&word, 0, sizeof(word)), Status::kOk);
  EXPECT_FALSE(pager.IsModified(*vmo));

  PagerVmoStats stats{};
  EXPECT_EQ(pager.pager().QueryVmoStats(clone->vmo, 0, &stats, sizeof(stats)),
            Status::kInvalidArgs);
  size_t actual = 0;
  size_t avail = 0;
  EXPECT_EQ(pager.pager().QueryDirtyRanges(clone->vmo, 0, P(1), nullptr, 0, &actual, &avail),
            Status::kInvalidArgs);
  EXPECT_EQ(pager.pager().SupplyPages(clone->vmo, 0, P(1), vmo->vmo, 0), Status::kInvalidArgs);
}

// Zeroing a clone neither requests nor dirties anything in the parent.
TEST(PagerWriteback, OpZeroClone) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(clone->vmo.OpRange(kVmoOpZero, 0, P(2)), Status::kOk);
  EXPECT_TRUE(CheckVmoData(*clone, 0, 2, Bytes(0, P(2)).data()));
  EXPECT_FALSE(pager.AnyPacket());
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_EQ(Info(*clone).committed_bytes, 0u);
  EXPECT_EQ(Info(*vmo).committed_bytes, 0u);
}

// PREFETCH through a clone asks the root for what the clone has not forked, and forks
// nothing; through a slice, for the slice's range.
TEST(Pager, Prefetch) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 4);
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(clone->vmo.OpRange(kVmoOpZero, P(1), P(1)), Status::kOk);

  TestThread t([c = clone.get()] { return c->vmo.OpRange(kVmoOpPrefetch, 0, P(4)); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 2, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 2), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(Info(*clone).committed_bytes, 0u);
  EXPECT_EQ(Info(*vmo).committed_bytes, P(3));

  auto slice = Clone(*vmo, 2, 1, kVmoChildSlice);
  ASSERT_NE(slice, nullptr);
  TestThread t2([s = slice.get()] { return s->vmo.OpRange(kVmoOpPrefetch, 0, P(2)); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  ASSERT_TRUE(t2.Wait());
  EXPECT_FALSE(pager.AnyPacket());
}

// ALWAYS_NEED through a clone asks only for the pages it has not forked; DONT_NEED is
// accepted.
TEST(Pager, EvictionHintsWithClones) {
  UserPager pager;
  auto vmo = pager.CreateVmo(3);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 3);
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(clone->vmo.OpRange(kVmoOpZero, 0, P(1)), Status::kOk);
  auto grandchild = Clone(*clone, 3);
  ASSERT_NE(grandchild, nullptr);

  TestThread t([g = grandchild.get()] { return g->vmo.OpRange(kVmoOpAlwaysNeed, 0, P(3)); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 2), Status::kOk);
  ASSERT_TRUE(t.Wait());
  // The root's pages the grandchild reads are always-need now: never evicted.
  EXPECT_FALSE(internal::HandleAccess::Object(vmo->vmo)->EvictPage(1));
  EXPECT_FALSE(internal::HandleAccess::Object(vmo->vmo)->EvictPage(2));
  EXPECT_EQ(grandchild->vmo.OpRange(kVmoOpDontNeed, 0, P(3)), Status::kOk);
  EXPECT_EQ(clone->vmo.OpRange(kVmoOpDontNeed, 0, P(3)), Status::kOk);
  EXPECT_FALSE(pager.AnyPacket());
}

// A root page the clone has not forked is evicted: the clone's next read goes through the
// root again (a new READ); a page it forked stays.
TEST(Pager, CloneReadAfterRootEviction) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  const std::vector<char> ones = Bytes(1, P(1));
  ASSERT_EQ(clone->vmo.Write(ones.data(), P(1), P(1)), Status::kOk);
  EXPECT_TRUE(CheckVmo(*clone, 0, 1));

  ASSERT_TRUE(internal::HandleAccess::Object(vmo->vmo)->EvictPage(0));
  ASSERT_TRUE(internal::HandleAccess::Object(vmo->vmo)->EvictPage(1));
  TestThread t([c = clone.get()] { return CheckVmo(*c, 0, 1); });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(CheckVmoData(*clone, 1, 1, ones.data()));
  EXPECT_FALSE(pager.AnyPacket());
}

// A clone keeps the root open: closing the root's last handle sends no COMPLETE while the
// clone lives, and the clone still reads through it; the COMPLETE comes with the clone's end.
TEST(Pager, CloseRootKeepsClone) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  const uint64_t key = vmo->key;
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Clone(*vmo, 2);
  ASSERT_NE(clone, nullptr);
  vmo->vmo.Reset();
  EXPECT_FALSE(pager.AnyPacket());
  EXPECT_TRUE(CheckVmo(*clone, 0, 2));
  clone.reset();
  EXPECT_TRUE(pager.WaitForPageComplete(key));
  EXPECT_FALSE(pager.AnyPacket());
}

// A chain of nested at-least-on-write children can be built, read through and torn down.
TEST(Pager, DeepHierarchy) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  std::vector<std::unique_ptr<TestVmo>> chain;
  const TestVmo* parent = vmo.get();
  for (int i = 0; i < 1000; ++i) {
    chain.push_back(Clone(*parent, 1));
    ASSERT_NE(chain.back(), nullptr) << i;
    parent = chain.back().get();
  }
  EXPECT_TRUE(CheckVmo(*chain.back(), 0, 1));
  const uint64_t key = vmo->key;
  vmo.reset();
  EXPECT_FALSE(pager.AnyPacket());
  chain.clear();
  EXPECT_TRUE(pager.WaitForPageComplete(key));
}

}  // namespace
}  // namespace upager::testing
