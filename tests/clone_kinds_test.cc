// Vmo::CreateChild's argument checks and rights, and each kind of child (docs/clones.md):
// slices, no-write children, snapshots of anonymous VMOs, snapshot-modified hierarchies
// over a pager root (Zircon's snapshot.cc), resizable children, and VmoInfo per node.
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "pager_test_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager.h"
#include "upager/vmo.h"
#include "user_pager.h"

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

VmoInfo Info(const Vmo& vmo) {
  VmoInfo info{};
  EXPECT_EQ(vmo.GetInfo(&info), Status::kOk);
  return info;
}

uint64_t Word(const Vmo& vmo, uint64_t offset) {
  uint64_t word = ~0ull;
  EXPECT_EQ(vmo.Read(&word, offset, sizeof(word)), Status::kOk);
  return word;
}

void SetWord(const Vmo& vmo, uint64_t offset, uint64_t word) {
  ASSERT_EQ(vmo.Write(&word, offset, sizeof(word)), Status::kOk);
}

// ---- Arguments and rights ----

// Zircon's order: the size, NoWrite with Resizable, the handle, its rights, the kind, the
// object's checks.
TEST(VmoChild, ArgumentChecks) {
  Vmo invalid;
  Vmo child;
  EXPECT_EQ(invalid.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, kMaxVmoSize + 1, &child),
            Status::kOutOfRange);
  EXPECT_EQ(invalid.CreateChild(kVmoChildSnapshot | kVmoChildNoWrite | kVmoChildResizable, 0, P(1),
                                &child),
            Status::kInvalidArgs);
  EXPECT_EQ(invalid.CreateChild(kVmoChildSnapshot, 0, P(1), &child), Status::kBadHandle);

  Vmo vmo;
  ASSERT_EQ(Vmo::Create(P(4), 0, &vmo), Status::kOk);
  Vmo no_dup;
  ASSERT_EQ(vmo.Duplicate(kRightRead | kRightWrite, &no_dup), Status::kOk);
  EXPECT_EQ(no_dup.CreateChild(kVmoChildSnapshot, 0, P(1), &child), Status::kAccessDenied);
  Vmo no_read;
  ASSERT_EQ(vmo.Duplicate(kRightDuplicate | kRightWrite, &no_read), Status::kOk);
  EXPECT_EQ(no_read.CreateChild(kVmoChildSnapshot, 0, P(1), &child), Status::kAccessDenied);

  EXPECT_EQ(vmo.CreateChild(kVmoChildSnapshot, 0, P(1), nullptr), Status::kInvalidArgs);
  EXPECT_EQ(vmo.CreateChild(0, 0, P(1), &child), Status::kInvalidArgs);
  EXPECT_EQ(vmo.CreateChild(kVmoChildResizable, 0, P(1), &child), Status::kInvalidArgs);
  EXPECT_EQ(vmo.CreateChild(kVmoChildSnapshot | kVmoChildSnapshotAtLeastOnWrite, 0, P(1), &child),
            Status::kInvalidArgs);
  EXPECT_EQ(
      vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite | kVmoChildSnapshotModified, 0, P(1), &child),
      Status::kInvalidArgs);
  EXPECT_EQ(vmo.CreateChild(kVmoChildSlice | kVmoChildResizable, 0, P(1), &child),
            Status::kInvalidArgs);
  EXPECT_EQ(vmo.CreateChild(kVmoChildSlice | kVmoChildSnapshot, 0, P(1), &child),
            Status::kInvalidArgs);
  EXPECT_EQ(vmo.CreateChild(kVmoChildSnapshot | (1u << 1), 0, P(1), &child), Status::kInvalidArgs);
  EXPECT_EQ(vmo.CreateChild(kVmoChildSnapshot, 1, P(1), &child), Status::kInvalidArgs);
  EXPECT_EQ(vmo.CreateChild(kVmoChildSlice, P(1) + 1, P(1), &child), Status::kInvalidArgs);
  const uint64_t last_page = std::numeric_limits<uint64_t>::max() / kPageSize * kPageSize;
  EXPECT_EQ(vmo.CreateChild(kVmoChildSnapshot, last_page, P(2), &child), Status::kOutOfRange);
  EXPECT_EQ(vmo.CreateChild(kVmoChildSlice, P(3), P(2), &child), Status::kInvalidArgs);
  EXPECT_EQ(vmo.CreateChild(kVmoChildReference, 0, P(1), &child), Status::kInvalidArgs);  // no size
  EXPECT_FALSE(child.is_valid());

  Vmo resizable;
  ASSERT_EQ(Vmo::Create(P(4), kVmoResizable, &resizable), Status::kOk);
  EXPECT_EQ(resizable.CreateChild(kVmoChildSlice, 0, P(1), &child), Status::kNotSupported);

  // A snapshot of a pager-backed VMO is not supported; its size is rounded up to pages.
  UserPager pager;
  auto paged = pager.CreateVmo(2);
  ASSERT_NE(paged, nullptr);
  EXPECT_EQ(paged->vmo.CreateChild(kVmoChildSnapshot, 0, P(1), &child), Status::kNotSupported);
  ASSERT_EQ(paged->vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, 1, &child), Status::kOk);
  uint64_t size = 0;
  ASSERT_EQ(child.GetSize(&size), Status::kOk);
  EXPECT_EQ(size, P(1));
  EXPECT_FALSE(pager.AnyPacket());
}

// The child's handle has the parent handle's rights; copy-on-write kinds add kRightWrite,
// NoWrite removes it, a slice keeps what the parent handle had.
TEST(VmoChild, Rights) {
  Vmo vmo;
  ASSERT_EQ(Vmo::Create(P(1), 0, &vmo), Status::kOk);
  Vmo read_only;
  ASSERT_EQ(vmo.Duplicate(kRightRead | kRightDuplicate | kRightMap, &read_only), Status::kOk);
  constexpr uint32_t kProperty = kRightGetProperty | kRightSetProperty;

  Vmo snapshot;
  ASSERT_EQ(read_only.CreateChild(kVmoChildSnapshot, 0, P(1), &snapshot), Status::kOk);
  EXPECT_EQ(snapshot.rights(), kRightRead | kRightDuplicate | kRightMap | kRightWrite | kProperty);
  Vmo no_write;
  ASSERT_EQ(vmo.CreateChild(kVmoChildSnapshot | kVmoChildNoWrite, 0, P(1), &no_write), Status::kOk);
  EXPECT_EQ(no_write.rights(), kDefaultVmoRights & ~kRightWrite);
  const uint64_t word = 1;
  EXPECT_EQ(no_write.Write(&word, 0, sizeof(word)), Status::kAccessDenied);
  Vmo slice;
  ASSERT_EQ(read_only.CreateChild(kVmoChildSlice, 0, P(1), &slice), Status::kOk);
  EXPECT_EQ(slice.rights(), kRightRead | kRightDuplicate | kRightMap | kProperty);
  Vmo slice_no_write;
  ASSERT_EQ(vmo.CreateChild(kVmoChildSlice | kVmoChildNoWrite, 0, P(1), &slice_no_write),
            Status::kOk);
  EXPECT_EQ(slice_no_write.rights(), kDefaultVmoRights & ~kRightWrite);

  // A snapshot-modified child of a no-write child is writable (SnapshotReadOnlyVmo).
  UserPager pager;
  auto paged = pager.CreateVmo(1);
  ASSERT_NE(paged, nullptr);
  ASSERT_EQ(pager.SupplyPages(*paged, 0, 1), Status::kOk);
  auto ro = Child(*paged, kVmoChildSnapshotAtLeastOnWrite | kVmoChildNoWrite, 1);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ((ro->vmo.rights() & kRightWrite), 0u);
  auto writable = Child(*ro, kVmoChildSnapshotModified, 1);
  ASSERT_NE(writable, nullptr);
  EXPECT_NE((writable->vmo.rights() & kRightWrite), 0u);
  SetWord(writable->vmo, 0, 0xabc);
  EXPECT_EQ(Word(writable->vmo, 0), 0xabcu);
  EXPECT_TRUE(CheckVmo(*ro, 0, 1));
}

// ---- Slices ----

// A write through a slice is the root's own: its DIRTY request, its modified flag, the same
// pages; queries on the slice itself fail.
TEST(VmoChild, SliceDirtiesRoot) {
  UserPager pager;
  auto vmo = pager.CreateVmo(3, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 3), Status::kOk);
  auto slice = Child(*vmo, kVmoChildSlice, 2, 1);
  ASSERT_NE(slice, nullptr);
  EXPECT_TRUE(CheckVmoData(*slice, 0, 2, Expected(*vmo, 1, 2).data()));

  TestThread t([s = slice.get()] {
    const uint64_t word = 0x5117ce;
    return s->vmo.Write(&word, P(1), sizeof(word));
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
  ASSERT_EQ(pager.DirtyPages(*vmo, 2, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(Word(vmo->vmo, P(2)), 0x5117ceu);
  EXPECT_TRUE(pager.IsModified(*vmo));
  const std::vector<VmoDirtyRange> dirty = pager.DirtyRanges(*vmo);
  ASSERT_EQ(dirty.size(), 1u);
  EXPECT_EQ(dirty[0].offset, 2u);  // in pages (UserPager::DirtyRanges)
  EXPECT_EQ(dirty[0].length, 1u);
  EXPECT_EQ(Info(slice->vmo).committed_bytes, 0u);
  PagerVmoStats stats{};
  EXPECT_EQ(pager.pager().QueryVmoStats(slice->vmo, 0, &stats, sizeof(stats)),
            Status::kInvalidArgs);
  EXPECT_EQ(slice->vmo.Write(&stats, P(2), 1), Status::kOutOfRange);
  EXPECT_FALSE(pager.AnyPacket());
}

// An at-least-on-write child of a slice of the root is allowed (AlowSlice); of a slice of a
// clone it is not (SnapshotSliceAtLeastOnWrite), nor a snapshot-modified one (SnapshotSlice).
TEST(Snapshot, AlowSlice) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto slice = Child(*vmo, kVmoChildSlice, 1, 1);
  ASSERT_NE(slice, nullptr);
  auto alow = Child(*slice, kVmoChildSnapshotAtLeastOnWrite, 1);
  ASSERT_NE(alow, nullptr);
  EXPECT_TRUE(CheckVmoData(*alow, 0, 1, Expected(*vmo, 1, 1).data()));
  SetWord(alow->vmo, 0, 1);
  EXPECT_TRUE(CheckVmo(*vmo, 0, 2));

  auto clone = Child(*vmo, kVmoChildSnapshotModified, 2);
  ASSERT_NE(clone, nullptr);
  auto snapshot = Child(*clone, kVmoChildSnapshotModified, 2);
  ASSERT_NE(snapshot, nullptr);
  auto clone_slice = Child(*snapshot, kVmoChildSlice, 1);
  ASSERT_NE(clone_slice, nullptr);
  Vmo refused;
  EXPECT_EQ(clone_slice->vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, P(1), &refused),
            Status::kNotSupported);
  EXPECT_EQ(clone_slice->vmo.CreateChild(kVmoChildSnapshotModified, 0, P(1), &refused),
            Status::kNotSupported);
  auto root_slice_snapshot = Child(*slice, kVmoChildSnapshotModified, 1);
  EXPECT_NE(root_slice_snapshot, nullptr);
  // A slice of a slice of the root is a slice of the root: its children are allowed.
  auto slice_of_slice = Child(*slice, kVmoChildSlice, 1);
  ASSERT_NE(slice_of_slice, nullptr);
  auto alow2 = Child(*slice_of_slice, kVmoChildSnapshotAtLeastOnWrite, 1);
  ASSERT_NE(alow2, nullptr);
  EXPECT_TRUE(CheckVmoData(*alow2, 0, 1, Expected(*vmo, 1, 1).data()));
}

// ---- Snapshots of anonymous VMOs ----

// Neither side sees the other's later writes, whether written with Write or through a
// mapping of the parent; what lies beyond the parent reads as zeros.
TEST(VmoChild, SnapshotOfAnonymous) {
  Vmo vmo;
  ASSERT_EQ(Vmo::Create(P(2), 0, &vmo), Status::kOk);
  SetWord(vmo, 0, 0x1111);
  Vmo snapshot;
  ASSERT_EQ(vmo.CreateChild(kVmoChildSnapshot, 0, P(3), &snapshot), Status::kOk);
  Vmo alow;  // at-least-on-write of an anonymous VMO is a snapshot too
  ASSERT_EQ(vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, P(1), P(1), &alow), Status::kOk);

  SetWord(vmo, 0, 0x2222);
  Mapping mapping;
  ASSERT_EQ(Mapping::Create(vmo, 0, P(2), kMapRead | kMapWrite, &mapping), Status::kOk);
  const uint64_t mapped = 0x3333;
  std::memcpy(mapping.data() + P(1), &mapped, sizeof(mapped));
  SetWord(snapshot, 8, 0x4444);

  EXPECT_EQ(Word(snapshot, 0), 0x1111u);
  EXPECT_EQ(Word(snapshot, 8), 0x4444u);
  EXPECT_EQ(Word(snapshot, P(1)), 0u);
  EXPECT_EQ(Word(snapshot, P(2)), 0u);
  EXPECT_EQ(Word(alow, 0), 0u);
  EXPECT_EQ(Word(vmo, 0), 0x2222u);
  EXPECT_EQ(Word(vmo, 8), 0u);
  EXPECT_EQ(Word(vmo, P(1)), 0x3333u);
  // The snapshot is an ordinary VMO: it maps, and decommits.
  Mapping snapshot_mapping;
  ASSERT_EQ(Mapping::Create(snapshot, 0, P(1), kMapRead, &snapshot_mapping), Status::kOk);
  uint64_t seen = 0;
  std::memcpy(&seen, snapshot_mapping.data(), sizeof(seen));
  EXPECT_EQ(seen, 0x1111u);
  EXPECT_EQ(snapshot.OpRange(kVmoOpDecommit, 0, P(1)), Status::kOk);
  EXPECT_EQ(Word(snapshot, 0), 0u);
  // A snapshot of a slice copies the slice's window only: beyond it, zeros.
  Vmo slice;
  ASSERT_EQ(vmo.CreateChild(kVmoChildSlice, 0, P(1), &slice), Status::kOk);
  SetWord(vmo, 0, 0x5555);
  Vmo of_slice;
  ASSERT_EQ(slice.CreateChild(kVmoChildSnapshot, 0, P(2), &of_slice), Status::kOk);
  EXPECT_EQ(Word(of_slice, 0), 0x5555u);
  EXPECT_EQ(Word(of_slice, P(1)), 0u);
  Vmo past_slice;
  ASSERT_EQ(slice.CreateChild(kVmoChildSnapshot, P(1), P(1), &past_slice), Status::kOk);
  EXPECT_EQ(Word(past_slice, 0), 0u);
}

// ---- Snapshot-modified over a pager root (snapshot.cc) ----

// A snapshot-modified clone forks on write; a snapshot of it keeps the modification when the
// clone writes again.
TEST(Snapshot, Smoke) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  auto clone = Child(*vmo, kVmoChildSnapshotModified, 1);
  ASSERT_NE(clone, nullptr);
  SetWord(clone->vmo, 0, 0xdead1eaf);
  auto snapshot = Child(*clone, kVmoChildSnapshotModified, 1);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(Word(clone->vmo, 0), 0xdead1eafu);
  EXPECT_EQ(Word(snapshot->vmo, 0), 0xdead1eafu);
  SetWord(clone->vmo, 0, 0xc0ffee);
  EXPECT_EQ(Word(clone->vmo, 0), 0xc0ffeeu);
  EXPECT_EQ(Word(snapshot->vmo, 0), 0xdead1eafu);
  EXPECT_TRUE(CheckVmo(*vmo, 0, 1));
  EXPECT_EQ(Info(vmo->vmo).populated_bytes, P(1));
  EXPECT_EQ(Info(clone->vmo).populated_bytes, P(1));
  EXPECT_FALSE(pager.AnyPacket());
}

// An at-least-on-write child of a snapshot-modified node does not see its later writes.
TEST(Snapshot, AtLeastOnWriteAfterSnapshotModified) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  auto clone = Child(*vmo, kVmoChildSnapshotModified, 1);
  ASSERT_NE(clone, nullptr);
  SetWord(clone->vmo, 0, 0xdead1eaf);
  auto snapshot = Child(*clone, kVmoChildSnapshotModified, 1);
  ASSERT_NE(snapshot, nullptr);
  SetWord(clone->vmo, 0, 0xc0ffee);
  auto alow = Child(*snapshot, kVmoChildSnapshotAtLeastOnWrite, 1);
  ASSERT_NE(alow, nullptr);
  EXPECT_EQ(Word(snapshot->vmo, 0), 0xdead1eafu);
  EXPECT_EQ(Word(alow->vmo, 0), 0xdead1eafu);
  SetWord(snapshot->vmo, 0, 0xfff);
  EXPECT_EQ(Word(snapshot->vmo, 0), 0xfffu);
  EXPECT_EQ(Word(alow->vmo, 0), 0xdead1eafu);
  snapshot.reset();
  EXPECT_EQ(Word(alow->vmo, 0), 0xdead1eafu);
}

// Unforked pages follow the root's writes through every level; forked pages stay per node
// (CloneModifyChain, RootVmoWrite, CloneVmoWrite, SnapshotVmoWrite).
TEST(Snapshot, CloneModifyChain) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Child(*vmo, kVmoChildSnapshotModified, 2);
  ASSERT_NE(clone, nullptr);
  auto snapshot = Child(*clone, kVmoChildSnapshotModified, 2);
  ASSERT_NE(snapshot, nullptr);

  SetWord(vmo->vmo, P(1), 0x100);  // root write: seen by both, unforked
  EXPECT_EQ(Word(clone->vmo, P(1)), 0x100u);
  EXPECT_EQ(Word(snapshot->vmo, P(1)), 0x100u);
  SetWord(clone->vmo, 0, 0x200);  // clone write: the clone's only
  EXPECT_EQ(Word(clone->vmo, 0), 0x200u);
  EXPECT_NE(Word(snapshot->vmo, 0), 0x200u);
  EXPECT_NE(Word(vmo->vmo, 0), 0x200u);
  SetWord(snapshot->vmo, P(1), 0x300);  // snapshot write: the snapshot's only
  EXPECT_EQ(Word(snapshot->vmo, P(1)), 0x300u);
  EXPECT_EQ(Word(clone->vmo, P(1)), 0x100u);
  EXPECT_EQ(Word(vmo->vmo, P(1)), 0x100u);
  EXPECT_FALSE(pager.AnyPacket());
}

// Closing any one node of root / clone / snapshot leaves the others' data intact.
TEST(Snapshot, CloseRootCloneSnapshot) {
  for (int closed = 0; closed < 3; ++closed) {
    UserPager pager;
    auto vmo = pager.CreateVmo(1);
    ASSERT_NE(vmo, nullptr);
    ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
    auto clone = Child(*vmo, kVmoChildSnapshotModified, 1);
    ASSERT_NE(clone, nullptr);
    SetWord(clone->vmo, 0, 0x1);
    auto snapshot = Child(*clone, kVmoChildSnapshotModified, 1);
    ASSERT_NE(snapshot, nullptr);
    const uint64_t root_word = Word(vmo->vmo, 0);
    if (closed == 0) vmo->vmo.Reset();
    if (closed == 1) clone->vmo.Reset();
    if (closed == 2) snapshot->vmo.Reset();
    if (closed != 0) {
      EXPECT_EQ(Word(vmo->vmo, 0), root_word);
    }
    if (closed != 1) {
      EXPECT_EQ(Word(clone->vmo, 0), 0x1u);
    }
    if (closed != 2) {
      EXPECT_EQ(Word(snapshot->vmo, 0), 0x1u);
    }
    EXPECT_FALSE(pager.AnyPacket());
  }
}

// ---- Resizable children and info ----

// A resizable clone grows with zeros (no READ) and shrinks; a shrink hides the parent's
// pages for good; a clone created without kVmoChildResizable is kUnavailable to resize.
TEST(VmoChild, ResizableClone) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto fixed = Child(*vmo, kVmoChildSnapshotAtLeastOnWrite, 2);
  ASSERT_NE(fixed, nullptr);
  EXPECT_EQ(fixed->vmo.SetSize(P(1)), Status::kUnavailable);

  auto clone = Child(*vmo, kVmoChildSnapshotAtLeastOnWrite | kVmoChildResizable, 2);
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(clone->vmo.SetSize(P(3)), Status::kOk);
  EXPECT_TRUE(CheckVmo(*clone, 0, 2));
  EXPECT_EQ(Word(clone->vmo, P(2)), 0u);
  ASSERT_EQ(clone->vmo.SetSize(P(1)), Status::kOk);
  EXPECT_EQ(ReadPages(*clone, 1, 1), Status::kOutOfRange);  // CloneResizeCloneHazard
  const uint64_t word = 1;
  EXPECT_EQ(clone->vmo.Write(&word, P(1), sizeof(word)), Status::kOutOfRange);
  ASSERT_EQ(clone->vmo.SetSize(P(2)), Status::kOk);
  EXPECT_TRUE(CheckVmo(*clone, 0, 1));
  EXPECT_EQ(Word(clone->vmo, P(1)), 0u);
  EXPECT_FALSE(pager.AnyPacket());
}

// num_children, parent_koid and the pager-backed flag per node; pages a child reads are
// attributed to the root (ChildAttributedCounts).
TEST(VmoChild, InfoPerNode) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  EXPECT_EQ(Info(vmo->vmo).num_children, 0u);
  EXPECT_EQ(Info(vmo->vmo).parent_koid, 0u);
  auto clone = Child(*vmo, kVmoChildSnapshotAtLeastOnWrite, 2);
  ASSERT_NE(clone, nullptr);
  auto slice = Child(*vmo, kVmoChildSlice, 1);
  ASSERT_NE(slice, nullptr);
  auto grandchild = Child(*clone, kVmoChildSnapshotAtLeastOnWrite, 2);
  ASSERT_NE(grandchild, nullptr);
  EXPECT_EQ(Info(vmo->vmo).num_children, 2u);
  EXPECT_EQ(Info(clone->vmo).num_children, 1u);
  EXPECT_EQ(Info(clone->vmo).parent_koid, vmo->vmo.koid());
  EXPECT_EQ(Info(grandchild->vmo).parent_koid, clone->vmo.koid());
  EXPECT_EQ(Info(slice->vmo).parent_koid, vmo->vmo.koid());
  EXPECT_EQ(Info(grandchild->vmo).flags, kVmoInfoPagerBacked);
  EXPECT_TRUE(CheckVmo(*grandchild, 0, 2));
  EXPECT_EQ(Info(grandchild->vmo).committed_bytes, 0u);
  EXPECT_EQ(Info(vmo->vmo).committed_bytes, P(2));
  SetWord(grandchild->vmo, 0, 1);
  EXPECT_EQ(Info(grandchild->vmo).committed_bytes, P(1));
  EXPECT_EQ(Info(vmo->vmo).committed_bytes, P(2));
  slice.reset();
  EXPECT_EQ(Info(vmo->vmo).num_children, 1u);

  Vmo anonymous;
  ASSERT_EQ(Vmo::Create(P(1), 0, &anonymous), Status::kOk);
  Vmo snapshot;
  ASSERT_EQ(anonymous.CreateChild(kVmoChildSnapshot, 0, P(1), &snapshot), Status::kOk);
  EXPECT_EQ(Info(anonymous).num_children, 1u);
  EXPECT_EQ(Info(snapshot).parent_koid, anonymous.koid());
  EXPECT_EQ(Info(snapshot).flags, 0u);
  snapshot.Reset();
  EXPECT_EQ(Info(anonymous).num_children, 0u);
}

// Dirty ranges are queryable on the parent only: on a clone, kInvalidArgs.
TEST(PagerWriteback, NoQueryOnClone) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  SetWord(vmo->vmo, 0, 1);
  auto clone = Child(*vmo, kVmoChildSnapshotAtLeastOnWrite, 2);
  ASSERT_NE(clone, nullptr);
  SetWord(clone->vmo, P(1), 2);
  ASSERT_EQ(pager.DirtyRanges(*vmo).size(), 1u);
  size_t actual = 0;
  size_t avail = 0;
  EXPECT_EQ(pager.pager().QueryDirtyRanges(clone->vmo, 0, P(2), nullptr, 0, &actual, &avail),
            Status::kInvalidArgs);
}

// Dropping a whole clone under a partial one keeps the root and the partial clone's view
// intact, whichever side of the partial clone is released.
TEST(Snapshot, ReleaseCowParentPages) {
  for (uint64_t first : {0u, 1u, 2u}) {  // Right, LeftAndRight, Left
    SCOPED_TRACE(first);
    UserPager pager;
    auto vmo = pager.CreateVmo(3);
    ASSERT_NE(vmo, nullptr);
    ASSERT_EQ(pager.SupplyPages(*vmo, 0, 3), Status::kOk);
    auto full = Child(*vmo, kVmoChildSnapshotModified, 3);
    ASSERT_NE(full, nullptr);
    SetWord(full->vmo, P(first), 0xfu);
    auto part = Child(*full, kVmoChildSnapshotModified, 1, first);
    ASSERT_NE(part, nullptr);
    full.reset();
    EXPECT_EQ(Word(part->vmo, 0), 0xfu);
    EXPECT_TRUE(CheckVmo(*vmo, 0, 3));
    EXPECT_EQ(Info(vmo->vmo).num_children, 1u);
    SetWord(part->vmo, 8, 0x1u);
    EXPECT_EQ(Word(part->vmo, 0), 0xfu);
    EXPECT_TRUE(CheckVmo(*vmo, 0, 3));
    EXPECT_FALSE(pager.AnyPacket());
  }
}

// A snapshot of a modified clone captures the modification; OP_ZERO in a snapshot after
// the root was supplied does not show the root's content.
TEST(Snapshot, SnapshotModifiedClone) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Child(*vmo, kVmoChildSnapshotModified, 2);
  ASSERT_NE(clone, nullptr);
  SetWord(clone->vmo, 0, 0xaa);
  auto snapshot = Child(*clone, kVmoChildSnapshotModified, 2);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(Word(snapshot->vmo, 0), 0xaau);
  // ZeroRangeLeftInSnapshotPageInParent
  ASSERT_EQ(snapshot->vmo.OpRange(kVmoOpZero, 0, P(2)), Status::kOk);
  EXPECT_TRUE(CheckVmoData(*snapshot, 0, 2, std::vector<char>(P(2), 0).data()));
  EXPECT_EQ(Word(clone->vmo, 0), 0xaau);
  EXPECT_TRUE(CheckVmo(*vmo, 0, 2));
}

// A root shrink racing with snapshot creation: each snapshot sees the root's pages below
// the root's size at some instant and zeros above, and nothing breaks.
TEST(Snapshot, ResizeSnapshotRace) {
  UserPager pager;
  constexpr uint64_t kPages = 8;
  auto vmo = pager.CreateVmo(kPages, kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kPages), Status::kOk);
  auto clone = Child(*vmo, kVmoChildSnapshotModified, kPages);
  ASSERT_NE(clone, nullptr);
  SetWord(clone->vmo, P(kPages - 1), 0x77);
  std::vector<std::unique_ptr<TestVmo>> snapshots(kPages);
  TestThread shrinker([&] {
    for (uint64_t pages = kPages; pages-- > 1;) {
      if (vmo->vmo.SetSize(P(pages)) != Status::kOk) return false;
    }
    return true;
  });
  shrinker.Start();
  for (auto& snapshot : snapshots) {
    snapshot = Child(*clone, kVmoChildSnapshotModified, kPages);
    ASSERT_NE(snapshot, nullptr);
  }
  ASSERT_TRUE(shrinker.Wait());
  for (const auto& snapshot : snapshots) {
    // Page 0 is always the root's; the clone's modified last page is always the snapshot's;
    // every page in between is the root's or zeros, and zeros stay zeros upward.
    std::vector<char> data(P(kPages));
    ASSERT_EQ(snapshot->vmo.Read(data.data(), 0, P(kPages)), Status::kOk);
    const std::vector<char> expected = Expected(*vmo, 0, kPages);
    EXPECT_EQ(std::memcmp(data.data(), expected.data(), P(1)), 0);
    bool zeros = false;
    for (uint64_t page = 1; page + 1 < kPages; ++page) {
      const bool is_zero = std::all_of(data.begin() + P(page), data.begin() + P(page + 1),
                                       [](char c) { return c == 0; });
      if (!is_zero) {
        EXPECT_FALSE(zeros) << page;
        EXPECT_EQ(std::memcmp(data.data() + P(page), expected.data() + P(page), P(1)), 0);
      }
      zeros = zeros || is_zero;
    }
    EXPECT_EQ(Word(snapshot->vmo, P(kPages - 1)), 0x77u);
  }
  EXPECT_FALSE(pager.AnyPacket());
}

}  // namespace
}  // namespace upager::testing
