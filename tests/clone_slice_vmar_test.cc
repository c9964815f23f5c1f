// Mappings of slices of clones (docs/clones.md, Mapped clones): a slice (of a slice ...) of a
// read-through clone is a window onto that clone with its pages exactly
// (docs/zircon-semantics.md 16), so its mapping is one of the clone's mappings at the translated
// offset: unforked pages are the root's (READs on the root's key, at the root's offsets), the
// clone's forks are placed in it, and a store through it forks the clone's page. Each case checks
// the mapping against Vmo::Read of the nodes concerned. Exact packets, statuses and bytes.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>
#include <memory>
#include <vector>

#include "base/handle_access.h"
#include "clone_slice_util.h"
#include "pager_vmar_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager.h"
#include "upager/vmo.h"
#include "user_pager.h"
#include "vm/vm_object_paged.h"

namespace upager::testing {
namespace {

// Loads through a slice of a clone are READs on the ROOT's key at the root's range, the clone
// offset and the slice offset added; the mapping then shows the root's bytes, as Vmo::Read of
// the slice and of the clone do, and nothing is forked.
TEST(CloneSliceVmar, ReadsAreTheRootsAtTheTranslatedOffset) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(8);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 2, 5);  // root pages 2..6
  ASSERT_NE(clone, nullptr);
  auto slice = Slice(*clone, 1, 3);  // clone pages 1..3: root pages 3..5
  ASSERT_NE(slice, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*slice, &map, kMapRead), Status::kOk);

  std::vector<char> data;
  TestThread t([&] { return LoadMapped(map.data(), 1, 1, &data).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 4, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  EXPECT_FALSE(pager.AnyPacket());
  ASSERT_EQ(pager.SupplyPages(*vmo, 4, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(data, Pattern(*vmo, 4, 1));
  EXPECT_EQ(VmoPages(*slice, 1, 1), Pattern(*vmo, 4, 1));
  EXPECT_EQ(VmoPages(*clone, 2, 1), Pattern(*vmo, 4, 1));

  // The other pages of the window: one READ each, at root pages 3 and 5.
  TestThread u([&] { return LoadMapped(map.data(), 0, 3, &data).ok; });
  u.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 3, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 3, 1), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 5, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 5, 1), Status::kOk);
  ASSERT_TRUE(u.Wait());
  EXPECT_EQ(data, Pattern(*vmo, 3, 3));
  EXPECT_EQ(VmoPages(*slice, 0, 3), Pattern(*vmo, 3, 3));
  EXPECT_FALSE(pager.AnyPacket());
  VmoInfo info{};
  ASSERT_EQ(clone->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, 0u);
}

// A store through a slice of a clone forks the clone's page (after a READ on the root if the
// page was absent): the clone's Vmo::Read, a mapping of the clone and another slice of it see
// the store; the root (Vmo::Read and its mapping) never does, and it makes no DIRTY request
// on the root, which stays unmodified, even trapping dirty.
TEST(CloneSliceVmar, StoreForksTheClonesPage) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(4, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 1, 3);  // root pages 1..3
  ASSERT_NE(clone, nullptr);
  auto slice = Slice(*clone, 1, 2);  // clone pages 1..2: root pages 2..3
  ASSERT_NE(slice, nullptr);
  auto other = Slice(*clone, 2, 1);  // clone page 2: root page 3
  ASSERT_NE(other, nullptr);
  Mapping root_map;
  ASSERT_EQ(MapVmo(*vmo, &root_map, kMapRead), Status::kOk);
  Mapping clone_map;
  ASSERT_EQ(MapVmo(*clone, &clone_map, kMapRead), Status::kOk);
  Mapping slice_map;
  ASSERT_EQ(MapVmo(*slice, &slice_map), Status::kOk);
  Mapping other_map;
  ASSERT_EQ(MapVmo(*other, &other_map, kMapRead), Status::kOk);

  // Slice page 1 is clone page 2, root page 3, absent: READ[3,4) on the root, then the fork.
  TestThread t([&] { return ProbeStore(slice_map.data() + P(1) + 16, 0x51ce).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 3, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 4), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(pager.AnyPacket());  // no DIRTY on the root

  const std::vector<char> forked = WithWord(Pattern(*vmo, 3, 1), 16, 0x51ce);
  EXPECT_EQ(MappedPages(slice_map, 1, 1), forked);
  EXPECT_EQ(MappedPages(clone_map, 2, 1), forked);
  EXPECT_EQ(MappedPages(other_map, 0, 1), forked);
  EXPECT_EQ(VmoPages(*clone, 2, 1), forked);
  EXPECT_EQ(VmoPages(*slice, 1, 1), forked);
  EXPECT_EQ(VmoPages(*other, 0, 1), forked);
  EXPECT_EQ(MappedPages(root_map, 0, 4), Pattern(*vmo, 0, 4));
  EXPECT_EQ(VmoPages(*vmo, 0, 4), Pattern(*vmo, 0, 4));
  EXPECT_FALSE(pager.IsModified(*vmo));

  // A store to a present, unforked page forks it without any request.
  ASSERT_TRUE(ProbeStore(slice_map.data(), 0x51cf).ok);
  EXPECT_EQ(MappedPages(clone_map, 1, 1), WithWord(Pattern(*vmo, 2, 1), 0, 0x51cf));
  EXPECT_EQ(VmoPages(*clone, 1, 1), WithWord(Pattern(*vmo, 2, 1), 0, 0x51cf));
  EXPECT_EQ(MappedPages(root_map, 2, 1), Pattern(*vmo, 2, 1));
  EXPECT_EQ(VmoPages(*vmo, 2, 1), Pattern(*vmo, 2, 1));
  VmoInfo info{};
  ASSERT_EQ(clone->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, P(2));
  ASSERT_EQ(vmo->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, P(4));
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_FALSE(pager.AnyPacket());
}

// What the clone forks by any means (a store through its mapping, Vmo::Write, a ZERO of a
// whole page) and what the root writes to pages the clone has not forked are seen through
// the slice's mapping, as through the clone's.
TEST(CloneSliceVmar, ClonesWritesAreSeenThroughTheSlice) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(5);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 5), Status::kOk);
  auto clone = Clone(*vmo, 0, 5);
  ASSERT_NE(clone, nullptr);
  auto slice = Slice(*clone, 1, 4);  // clone pages 1..4
  ASSERT_NE(slice, nullptr);
  Mapping clone_map;
  ASSERT_EQ(MapVmo(*clone, &clone_map), Status::kOk);
  Mapping slice_map;
  ASSERT_EQ(MapVmo(*slice, &slice_map, kMapRead), Status::kOk);
  EXPECT_EQ(MappedPages(slice_map, 0, 4), Pattern(*vmo, 1, 4));

  ASSERT_TRUE(ProbeStore(clone_map.data() + P(1), 0xa1).ok);
  const uint64_t word = 0xa2;
  ASSERT_EQ(clone->vmo.Write(&word, P(2) + 8, sizeof(word)), Status::kOk);
  ASSERT_EQ(clone->vmo.OpRange(kVmoOpZero, P(3), P(1)), Status::kOk);
  const uint64_t root_word = 0xb4;
  ASSERT_EQ(vmo->vmo.Write(&root_word, P(4), sizeof(root_word)), Status::kOk);

  std::vector<char> expected = WithWord(Pattern(*vmo, 1, 1), 0, 0xa1);
  const std::vector<char> page2 = WithWord(Pattern(*vmo, 2, 1), 8, 0xa2);
  expected.insert(expected.end(), page2.begin(), page2.end());
  expected.insert(expected.end(), P(1), 0);
  const std::vector<char> page4 = VmoPages(*vmo, 4, 1);  // the root's page, written
  ASSERT_EQ(Word(vmo->vmo, P(4)), 0xb4u);
  expected.insert(expected.end(), page4.begin(), page4.end());
  EXPECT_EQ(MappedPages(slice_map, 0, 4), expected);
  EXPECT_EQ(VmoPages(*slice, 0, 4), expected);
  EXPECT_EQ(MappedPages(clone_map, 1, 4), expected);
  EXPECT_EQ(VmoPages(*vmo, 1, 3), Pattern(*vmo, 1, 3));

  // Vmo::Write on the slice is the clone's own write: seen through both mappings.
  const uint64_t slice_word = 0xa5;
  ASSERT_EQ(slice->vmo.Write(&slice_word, P(3) + 24, sizeof(slice_word)), Status::kOk);
  EXPECT_EQ(MappedWord(slice_map, P(3) + 24), 0xa5u);
  EXPECT_EQ(MappedWord(clone_map, P(4) + 24), 0xa5u);
  EXPECT_EQ(Word(clone->vmo, P(4) + 24), 0xa5u);
  EXPECT_EQ(VmoPages(*vmo, 4, 1), page4);
  EXPECT_FALSE(pager.AnyPacket());
}

// A slice of a slice of a clone, each at a nonzero offset: the offsets add up to the root's
// (READs there), a store forks the clone's page, and the mapping is bounded by the innermost
// slice's size.
TEST(CloneSliceVmar, SliceOfSliceOfClone) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(8);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 1, 6);  // root pages 1..6
  ASSERT_NE(clone, nullptr);
  auto slice = Slice(*clone, 2, 4);  // clone pages 2..5: root pages 3..6
  ASSERT_NE(slice, nullptr);
  auto inner = Slice(*slice, 1, 2);  // slice pages 1..2: clone pages 3..4, root pages 4..5
  ASSERT_NE(inner, nullptr);
  Mapping map;
  EXPECT_EQ(Mapping::Create(inner->vmo, 0, P(3), kMapRead, &map), Status::kOutOfRange);
  EXPECT_EQ(Mapping::Create(inner->vmo, P(1), P(2), kMapRead, &map), Status::kOutOfRange);
  ASSERT_EQ(MapVmo(*inner, &map), Status::kOk);
  Mapping tail;
  ASSERT_EQ(Mapping::Create(inner->vmo, P(1), P(1), kMapRead, &tail), Status::kOk);
  Mapping clone_map;
  ASSERT_EQ(MapVmo(*clone, &clone_map, kMapRead), Status::kOk);

  std::vector<char> data;
  TestThread t([&] { return LoadMapped(map.data(), 0, 1, &data).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 4, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 4, 2), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(data, Pattern(*vmo, 4, 1));
  EXPECT_EQ(MappedPages(tail, 0, 1), Pattern(*vmo, 5, 1));

  ASSERT_TRUE(ProbeStore(map.data() + P(1) + 8, 0x55).ok);
  const std::vector<char> forked = WithWord(Pattern(*vmo, 5, 1), 8, 0x55);
  EXPECT_EQ(MappedPages(map, 1, 1), forked);
  EXPECT_EQ(MappedPages(tail, 0, 1), forked);
  EXPECT_EQ(MappedPages(clone_map, 4, 1), forked);
  EXPECT_EQ(VmoPages(*clone, 4, 1), forked);
  EXPECT_EQ(VmoPages(*slice, 2, 1), forked);
  EXPECT_EQ(VmoPages(*inner, 0, 2), [&] {
    std::vector<char> both = Pattern(*vmo, 4, 1);
    both.insert(both.end(), forked.begin(), forked.end());
    return both;
  }());
  EXPECT_EQ(VmoPages(*vmo, 4, 2), Pattern(*vmo, 4, 2));
  EXPECT_FALSE(pager.AnyPacket());
}

// A slice's parent is never resizable (kNotSupported), and a clone that is not cannot be
// shrunk (kUnavailable): the clone is never cut below a slice's window by its own shrink. What
// a clone larger than its root sees beyond the root (zeros) the slice's mapping sees too,
// and a store there forks a zero page of the clone.
TEST(CloneSliceVmar, BeyondTheRootReadsZeros) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto resizable = Child(*vmo, kVmoChildSnapshotAtLeastOnWrite | kVmoChildResizable, 0, 4);
  ASSERT_NE(resizable, nullptr);
  Vmo refused;
  EXPECT_EQ(resizable->vmo.CreateChild(kVmoChildSlice, 0, P(1), &refused), Status::kNotSupported);
  auto clone = Clone(*vmo, 1, 3);  // root page 1, then two pages beyond the root
  ASSERT_NE(clone, nullptr);
  auto slice = Slice(*clone, 0, 3);
  ASSERT_NE(slice, nullptr);
  EXPECT_EQ(clone->vmo.SetSize(P(1)), Status::kUnavailable);
  Mapping clone_map;
  ASSERT_EQ(MapVmo(*clone, &clone_map, kMapRead), Status::kOk);
  Mapping map;
  ASSERT_EQ(MapVmo(*slice, &map), Status::kOk);

  std::vector<char> expected = Pattern(*vmo, 1, 1);
  expected.insert(expected.end(), P(2), 0);
  EXPECT_EQ(MappedPages(map, 0, 3), expected);
  EXPECT_EQ(VmoPages(*slice, 0, 3), expected);
  ASSERT_TRUE(ProbeStore(map.data() + P(2), 0xbe).ok);
  EXPECT_EQ(Word(clone->vmo, P(2)), 0xbeu);
  EXPECT_EQ(MappedWord(clone_map, P(2)), 0xbeu);
  EXPECT_EQ(MappedWord(map, P(2)), 0xbeu);
  EXPECT_EQ(MappedPages(map, 1, 1), std::vector<char>(P(1), 0));
  EXPECT_EQ(VmoPages(*vmo, 0, 2), Pattern(*vmo, 0, 2));
  EXPECT_FALSE(pager.AnyPacket());
}

// The root shrunk under the clone: the slice's mapping sees the cut pages as zeros, as the
// clone's own mapping does, keeps the clone's fork there, stays cut when the root grows
// again, and a store to a cut page forks a zero page of the clone. A load waiting for a page
// the shrink cuts is woken and reads zeros.
TEST(CloneSliceVmar, RootShrinkCutsTheSliceAsTheClone) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(5, kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 3), Status::kOk);
  auto clone = Clone(*vmo, 0, 5);
  ASSERT_NE(clone, nullptr);
  auto slice = Slice(*clone, 1, 4);  // clone pages 1..4
  ASSERT_NE(slice, nullptr);
  Mapping clone_map;
  ASSERT_EQ(MapVmo(*clone, &clone_map, kMapRead), Status::kOk);
  Mapping map;
  ASSERT_EQ(MapVmo(*slice, &map), Status::kOk);
  ASSERT_TRUE(ProbeStore(map.data() + P(1), 0xf0).ok);  // clone page 2 forked

  // Slice page 3 is root page 4, absent: the load waits for it, and the shrink wakes it.
  const std::vector<char> zeros(P(1), 0);
  std::vector<char> data;
  TestThread t([&] { return LoadMapped(map.data(), 3, 1, &data).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 4, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_EQ(vmo->vmo.SetSize(P(2)), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(data, zeros);

  std::vector<char> expected = Pattern(*vmo, 1, 1);
  const std::vector<char> forked = WithWord(Pattern(*vmo, 2, 1), 0, 0xf0);
  expected.insert(expected.end(), forked.begin(), forked.end());
  expected.insert(expected.end(), P(2), 0);
  EXPECT_EQ(MappedPages(map, 0, 4), expected);
  EXPECT_EQ(MappedPages(clone_map, 1, 4), expected);
  EXPECT_EQ(VmoPages(*slice, 0, 4), expected);

  ASSERT_EQ(vmo->vmo.SetSize(P(5)), Status::kOk);
  const std::vector<char> ones(P(1), 1);
  ASSERT_EQ(vmo->vmo.Write(ones.data(), P(3), P(1)), Status::kOk);
  EXPECT_EQ(MappedPages(map, 2, 1), zeros);
  EXPECT_EQ(VmoPages(*slice, 2, 1), zeros);
  ASSERT_TRUE(ProbeStore(map.data() + P(2) + 8, 0xf1).ok);
  EXPECT_EQ(VmoPages(*clone, 3, 1), WithWord(zeros, 8, 0xf1));
  EXPECT_EQ(MappedPages(clone_map, 3, 1), WithWord(zeros, 8, 0xf1));
  EXPECT_EQ(VmoPages(*vmo, 3, 1), ones);
  EXPECT_FALSE(pager.AnyPacket());
}

// After the root is detached, what the clone forked still reads through the slice's mapping,
// and an unforked page fails with kBadState there, as through the clone's own mapping and
// Vmo::Read.
TEST(CloneSliceVmar, CloneDetachTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(3);
  ASSERT_NE(vmo, nullptr);
  auto clone = Clone(*vmo, 0, 3);
  ASSERT_NE(clone, nullptr);
  auto slice = Slice(*clone, 1, 2);  // clone pages 1..2
  ASSERT_NE(slice, nullptr);
  Mapping clone_map;
  ASSERT_EQ(MapVmo(*clone, &clone_map, kMapRead), Status::kOk);
  Mapping map;
  ASSERT_EQ(MapVmo(*slice, &map), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  ASSERT_TRUE(ProbeStore(map.data(), 0xde).ok);
  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));

  const std::vector<char> forked = WithWord(Pattern(*vmo, 1, 1), 0, 0xde);
  EXPECT_EQ(MappedPages(map, 0, 1), forked);
  EXPECT_EQ(MappedPages(clone_map, 1, 1), forked);
  EXPECT_EQ(VmoPages(*slice, 0, 1), forked);
  uint64_t word = 0;
  EXPECT_TRUE(CrashedAt(Load(map.data() + P(1), &word), map.data() + P(1), Status::kBadState));
  EXPECT_TRUE(
      CrashedAt(Load(clone_map.data() + P(2), &word), clone_map.data() + P(2), Status::kBadState));
  std::vector<char> data(P(1));
  EXPECT_EQ(slice->vmo.Read(data.data(), P(1), P(1)), Status::kBadState);
  EXPECT_EQ(clone->vmo.Read(data.data(), P(2), P(1)), Status::kBadState);
  EXPECT_FALSE(pager.AnyPacket());
}

// A no-write slice of a clone (kVmoChildSlice | kVmoChildNoWrite, which Zircon allows): no
// writable mapping, no Vmo::Write; read-only it maps the clone's forks and the root's pages,
// and a store through it faults without forking.
TEST(CloneSliceVmar, NoWriteSliceOfCloneVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Clone(*vmo, 0, 2);
  ASSERT_NE(clone, nullptr);
  const uint64_t word = 0xc1;
  ASSERT_EQ(clone->vmo.Write(&word, 0, sizeof(word)), Status::kOk);
  auto ro = Child(*clone, kVmoChildSlice | kVmoChildNoWrite, 0, 2);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(ro->vmo.rights() & kRightWrite, 0u);
  Mapping map;
  EXPECT_EQ(MapVmo(*ro, &map), Status::kAccessDenied);
  ASSERT_EQ(MapVmo(*ro, &map, kMapRead), Status::kOk);
  EXPECT_EQ(MappedWord(map, 0), 0xc1u);
  EXPECT_EQ(MappedPages(map, 1, 1), Pattern(*vmo, 1, 1));
  EXPECT_EQ(ro->vmo.Write(&word, P(1), sizeof(word)), Status::kAccessDenied);
  const Probe store = ProbeStore(map.data() + P(1), 0xc2);
  EXPECT_FALSE(store.ok);
  EXPECT_EQ(store.signo, SIGSEGV);
  EXPECT_EQ(VmoPages(*clone, 1, 1), Pattern(*vmo, 1, 1));
  VmoInfo info{};
  ASSERT_EQ(clone->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, P(1));
  // The clone's later fork shows through it.
  ASSERT_EQ(clone->vmo.Write(&word, P(1), sizeof(word)), Status::kOk);
  EXPECT_EQ(MappedWord(map, P(1)), 0xc1u);
  EXPECT_FALSE(pager.AnyPacket());
}

// Snapshot.SnapshotVmoWithSlice through mappings: a slice of a clone keeps tracking that clone
// (its forks from before the mapping too) after a snapshot of it, and the snapshot keeps
// what it saw.
TEST(CloneSliceVmar, SnapshotVmoWithSliceVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);
  auto clone = Child(*vmo, kVmoChildSnapshotModified, 0, 2);
  ASSERT_NE(clone, nullptr);
  const uint64_t c0 = 0xc0;
  ASSERT_EQ(clone->vmo.Write(&c0, P(1), sizeof(c0)), Status::kOk);
  auto slice = Slice(*clone, 0, 2);
  ASSERT_NE(slice, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*slice, &map), Status::kOk);
  EXPECT_EQ(MappedWord(map, P(1)), 0xc0u);
  auto snapshot = Child(*clone, kVmoChildSnapshotModified, 0, 2);
  ASSERT_NE(snapshot, nullptr);
  Mapping snapshot_map;
  ASSERT_EQ(MapVmo(*snapshot, &snapshot_map, kMapRead), Status::kOk);
  VmoInfo info{};
  ASSERT_EQ(clone->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.num_children, 2u);

  const uint64_t c1 = 0xc1;
  ASSERT_EQ(clone->vmo.Write(&c1, 0, sizeof(c1)), Status::kOk);
  EXPECT_EQ(MappedWord(map, 0), 0xc1u);
  ASSERT_TRUE(ProbeStore(map.data(), 0xc2).ok);
  EXPECT_EQ(Word(clone->vmo, 0), 0xc2u);
  EXPECT_EQ(Word(slice->vmo, 0), 0xc2u);
  EXPECT_EQ(MappedPages(snapshot_map, 0, 1), Pattern(*vmo, 0, 1));
  EXPECT_EQ(VmoPages(*snapshot, 0, 1), Pattern(*vmo, 0, 1));
  EXPECT_EQ(MappedWord(snapshot_map, P(1)), 0xc0u);
  EXPECT_EQ(VmoPages(*vmo, 0, 2), Pattern(*vmo, 0, 2));
  EXPECT_FALSE(pager.AnyPacket());
}

}  // namespace
}  // namespace upager::testing
