// The entries of Zircon's snapshot.cc (zircon-peer-tests.md) that the other clone tests do not
// cover, named after the peer tests: snapshot-modified clones next to at-least-on-write ones,
// shrinking a clone under its snapshot, dropping a clone under a partial snapshot, zeroing in
// a snapshot, the populated bytes per node, and closing each node of root / clone / snapshot.
// Zircon's tests load and store through mappings: each runs here twice, through Vmo::Read/Write
// (Snapshot.X) and through mappings of every node (SnapshotVmar.XVmar).
//
// Attribution (docs/clones.md, VmoInfo): a node counts its own pages. Zircon shares a page
// that a clone forked before a snapshot was taken between the two (a hidden node) and counts
// half of it to each; upager copies it into the snapshot when the snapshot is created, so the
// clone and the snapshot count a whole page each from then on. The assertions below are
// upager's values; where Zircon's differ, the comment gives Zircon's.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "clone_node.h"
#include "pager_vmar_util.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

constexpr uint32_t kAlow = kVmoChildSnapshotAtLeastOnWrite;
constexpr uint32_t kModified = kVmoChildSnapshotModified;

#define SNAPSHOT_TEST(Name)                          \
  void Name##Body(Access access);                    \
  TEST(Snapshot, Name) { Name##Body(Access::kVmo); } \
  TEST(SnapshotVmar, Name##Vmar) {                   \
    UPAGER_REQUIRE_MAPPINGS();                       \
    Name##Body(Access::kVmar);                       \
  }                                                  \
  void Name##Body(Access access)

// Snapshot-modified clones of a root that already has at-least-on-write children (and a
// snapshot of one of those) each see what they should.
SNAPSHOT_TEST(SnapshotModifiedAfterAtLeastOnWrite) {
  UserPager pager;
  auto vmo = CloneNode::Root(pager, 1, access);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(vmo->test_vmo(), 0, 1), Status::kOk);
  ASSERT_TRUE(vmo->Set(0, 0xdead1eaf));

  auto alow1 = vmo->Child(kAlow);
  auto alow2 = vmo->Child(kAlow);
  ASSERT_NE(alow1, nullptr);
  ASSERT_NE(alow2, nullptr);
  auto alow_snapshot = alow1->Child(kModified);
  ASSERT_NE(alow_snapshot, nullptr);
  auto clone = vmo->Child(kModified);
  ASSERT_NE(clone, nullptr);
  ASSERT_TRUE(clone->Set(0, 0xc0ffee));
  auto snapshot = clone->Child(kModified);
  ASSERT_NE(snapshot, nullptr);

  EXPECT_EQ(alow1->Page(0), PatternPage(*vmo, 0, 0xdead1eaf));
  EXPECT_EQ(alow2->Page(0), PatternPage(*vmo, 0, 0xdead1eaf));
  EXPECT_EQ(alow_snapshot->Page(0), PatternPage(*vmo, 0, 0xdead1eaf));
  EXPECT_EQ(clone->Page(0), PatternPage(*vmo, 0, 0xc0ffee));
  EXPECT_EQ(snapshot->Page(0), PatternPage(*vmo, 0, 0xc0ffee));
  EXPECT_EQ(vmo->Page(0), PatternPage(*vmo, 0, 0xdead1eaf));

  EXPECT_EQ(vmo->children(), 3u);
  EXPECT_EQ(alow1->children(), 1u);
  EXPECT_EQ(clone->children(), 1u);
  EXPECT_EQ(vmo->populated(), P(1));
  EXPECT_EQ(alow1->populated(), 0u);
  EXPECT_EQ(alow2->populated(), 0u);
  EXPECT_EQ(alow_snapshot->populated(), 0u);
  EXPECT_EQ(clone->populated(), P(1));     // Zircon: P(1) / 2
  EXPECT_EQ(snapshot->populated(), P(1));  // Zircon: P(1) / 2
  EXPECT_FALSE(pager.AnyPacket());
}

// Shrinking a clone and then its snapshot when neither has a page of its own: the snapshot
// keeps seeing the root's page the clone no longer covers until it shrinks itself, and
// nothing is counted anywhere but in the root.
SNAPSHOT_TEST(ResizeShrinkSnapshotWithEmptyParent) {
  UserPager pager;
  auto vmo = CloneNode::Root(pager, 2, access);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(vmo->test_vmo(), 0, 2), Status::kOk);
  ASSERT_TRUE(vmo->Set(0, 0x1eaf));
  ASSERT_TRUE(vmo->Set(P(1), 0x1eaf));

  auto clone = vmo->Child(kModified | kVmoChildResizable);
  ASSERT_NE(clone, nullptr);
  auto snapshot = clone->Child(kModified | kVmoChildResizable);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(vmo->populated(), P(2));
  EXPECT_EQ(clone->populated(), 0u);
  EXPECT_EQ(snapshot->populated(), 0u);

  ASSERT_EQ(clone->vmo().SetSize(P(1)), Status::kOk);
  EXPECT_EQ(vmo->populated(), P(2));
  EXPECT_EQ(clone->populated(), 0u);
  EXPECT_EQ(snapshot->populated(), 0u);
  EXPECT_EQ(snapshot->Page(0), PatternPage(*vmo, 0, 0x1eaf));
  EXPECT_EQ(snapshot->Page(1), PatternPage(*vmo, 1, 0x1eaf));
  EXPECT_EQ(clone->Page(0), PatternPage(*vmo, 0, 0x1eaf));

  ASSERT_EQ(snapshot->vmo().SetSize(P(1)), Status::kOk);
  EXPECT_EQ(vmo->populated(), P(2));
  EXPECT_EQ(clone->populated(), 0u);
  EXPECT_EQ(snapshot->populated(), 0u);
  EXPECT_EQ(snapshot->Page(0), PatternPage(*vmo, 0, 0x1eaf));
  std::vector<char> data(P(1));
  EXPECT_EQ(snapshot->vmo().Read(data.data(), P(1), P(1)), Status::kOutOfRange);
  EXPECT_EQ(vmo->Page(1), PatternPage(*vmo, 1, 0x1eaf));

  // Grown again, the clone reads zeros where it was cut, and so do the children it has from
  // now on; what it writes there is its own, and seen by its later children only.
  ASSERT_EQ(clone->vmo().SetSize(P(2)), Status::kOk);
  const std::vector<char> zeros(P(1), 0);
  EXPECT_EQ(clone->Page(1), zeros);
  auto later = clone->Child(kModified);
  ASSERT_NE(later, nullptr);
  EXPECT_EQ(later->Page(0), PatternPage(*vmo, 0, 0x1eaf));
  EXPECT_EQ(later->Page(1), zeros);
  ASSERT_TRUE(clone->Set(P(1), 0x77));
  auto last = clone->Child(kModified);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->Get(P(1)), 0x77u);
  EXPECT_EQ(later->Page(1), zeros);
  EXPECT_EQ(snapshot->Page(0), PatternPage(*vmo, 0, 0x1eaf));
  EXPECT_FALSE(pager.AnyPacket());
}

// Dropping a whole clone under a partial snapshot of it keeps the snapshot's view and the
// root's pages; the root is left with one child. `pages` root pages, the partial snapshot
// covering page `first`.
void ReleaseCowParentPages(Access access, uint64_t pages, uint64_t first) {
  UserPager pager;
  auto vmo = CloneNode::Root(pager, pages, access);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(vmo->test_vmo(), 0, pages), Status::kOk);
  for (uint64_t page = 0; page < pages; ++page) ASSERT_TRUE(vmo->Set(P(page), 0xdead1eaf));

  auto full = vmo->Child(kModified);
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(full->Get(P(first)), 0xdead1eafu);
  auto part = full->Child(kModified, first, P(1));
  ASSERT_NE(part, nullptr);
  EXPECT_EQ(part->Get(0), 0xdead1eafu);

  full.reset();
  EXPECT_EQ(part->Page(0), PatternPage(*vmo, first, 0xdead1eaf));
  EXPECT_EQ(vmo->children(), 1u);
  for (uint64_t page = 0; page < pages; ++page) {
    EXPECT_EQ(vmo->Page(page), PatternPage(*vmo, page, 0xdead1eaf)) << page;
  }
  EXPECT_EQ(vmo->populated(), P(pages));
  EXPECT_EQ(part->populated(), 0u);
  EXPECT_FALSE(pager.AnyPacket());
}

SNAPSHOT_TEST(ReleaseCowParentPagesRight) { ReleaseCowParentPages(access, 2, 0); }
SNAPSHOT_TEST(ReleaseCowParentPagesLeft) { ReleaseCowParentPages(access, 2, 1); }
SNAPSHOT_TEST(ReleaseCowParentPagesLeftAndRight) { ReleaseCowParentPages(access, 3, 1); }

// The dropped clone had forked the page the partial snapshot sees (in Zircon it lives in the
// hidden node): the snapshot keeps the clone's content. The root's second page was never
// supplied and nobody asks for it.
SNAPSHOT_TEST(ReleaseCowParentPagesRightInHiddenNode) {
  UserPager pager;
  auto vmo = CloneNode::Root(pager, 2, access);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(vmo->test_vmo(), 0, 1), Status::kOk);
  ASSERT_TRUE(vmo->Set(0, 0xdead1eaf));

  auto full = vmo->Child(kModified);
  ASSERT_NE(full, nullptr);
  ASSERT_TRUE(full->Set(0, 0xc0ffee));
  auto half = full->Child(kModified, 0, 1);  // one byte, rounded up to the page
  ASSERT_NE(half, nullptr);
  full.reset();

  EXPECT_EQ(half->Page(0), PatternPage(*vmo, 0, 0xc0ffee));
  EXPECT_EQ(half->populated(), P(1));  // Zircon: the page moves to `half` when `full` goes
  EXPECT_EQ(vmo->Page(0), PatternPage(*vmo, 0, 0xdead1eaf));
  EXPECT_EQ(vmo->children(), 1u);
  EXPECT_FALSE(pager.AnyPacket());
}

// Zeroing a page of a snapshot under a chain of three clones before the root has any page:
// no request, and zeros whatever the root is supplied with later; the clones and the
// snapshot's other page see the root.
SNAPSHOT_TEST(ZeroRangeLeftInSnapshotNoPagesInParentChain) {
  UserPager pager;
  auto vmo = CloneNode::Root(pager, 2, access);
  ASSERT_NE(vmo, nullptr);
  auto clone1 = vmo->Child(kModified);
  ASSERT_NE(clone1, nullptr);
  auto clone2 = clone1->Child(kModified);
  ASSERT_NE(clone2, nullptr);
  auto clone3 = clone2->Child(kModified);
  ASSERT_NE(clone3, nullptr);
  auto snapshot = clone3->Child(kModified);
  ASSERT_NE(snapshot, nullptr);

  ASSERT_EQ(snapshot->vmo().OpRange(kVmoOpZero, 0, P(1)), Status::kOk);
  const std::vector<char> zeros(P(1), 0);
  EXPECT_EQ(snapshot->Page(0), zeros);
  EXPECT_FALSE(pager.AnyPacket());

  ASSERT_EQ(pager.SupplyPages(vmo->test_vmo(), 0, 2), Status::kOk);
  EXPECT_EQ(snapshot->Page(0), zeros);
  EXPECT_EQ(vmo->Page(0), PatternPage(*vmo, 0));
  for (const CloneNode* clone : {clone1.get(), clone2.get(), clone3.get()}) {
    EXPECT_EQ(clone->Page(0), PatternPage(*vmo, 0));
    EXPECT_EQ(clone->Page(1), PatternPage(*vmo, 1));
    EXPECT_EQ(clone->populated(), 0u);
  }
  EXPECT_EQ(snapshot->Page(1), PatternPage(*vmo, 1));
  EXPECT_EQ(snapshot->populated(), 0u);  // a zeroed page is a marker, not a page
  EXPECT_FALSE(pager.AnyPacket());
}

// Zeroing a page the snapshot itself forked.
SNAPSHOT_TEST(ZeroRangeLeftInSnapshotPageInSnapshot) {
  UserPager pager;
  auto vmo = CloneNode::Root(pager, 2, access);
  ASSERT_NE(vmo, nullptr);
  auto clone = vmo->Child(kModified);
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(pager.SupplyPages(vmo->test_vmo(), 0, 2), Status::kOk);
  auto snapshot = clone->Child(kModified);
  ASSERT_NE(snapshot, nullptr);

  ASSERT_TRUE(snapshot->Set(0, 0xdead1eaf));
  EXPECT_EQ(snapshot->Page(0), PatternPage(*vmo, 0, 0xdead1eaf));
  EXPECT_EQ(snapshot->populated(), P(1));

  ASSERT_EQ(snapshot->vmo().OpRange(kVmoOpZero, 0, P(1)), Status::kOk);
  EXPECT_EQ(snapshot->Page(0), std::vector<char>(P(1), 0));
  EXPECT_EQ(snapshot->populated(), 0u);
  EXPECT_EQ(snapshot->Page(1), PatternPage(*vmo, 1));
  EXPECT_EQ(clone->Page(0), PatternPage(*vmo, 0));
  EXPECT_EQ(vmo->Page(0), PatternPage(*vmo, 0));
  EXPECT_FALSE(pager.AnyPacket());
}

// Zeroing a page in the snapshot while its sibling clone has forked that page after the
// snapshot was taken.
SNAPSHOT_TEST(ZeroRangeLeftInSnapshotPageInClone) {
  UserPager pager;
  auto vmo = CloneNode::Root(pager, 2, access);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(vmo->test_vmo(), 0, 2), Status::kOk);
  auto clone = vmo->Child(kModified);
  ASSERT_NE(clone, nullptr);
  auto snapshot = clone->Child(kModified);
  ASSERT_NE(snapshot, nullptr);

  ASSERT_TRUE(clone->Set(0, 0xdead1eaf));
  ASSERT_EQ(snapshot->vmo().OpRange(kVmoOpZero, 0, P(1)), Status::kOk);
  EXPECT_EQ(snapshot->Page(0), std::vector<char>(P(1), 0));
  EXPECT_EQ(clone->Page(0), PatternPage(*vmo, 0, 0xdead1eaf));
  EXPECT_EQ(clone->populated(), P(1));
  EXPECT_EQ(snapshot->populated(), 0u);
  EXPECT_EQ(snapshot->Page(1), PatternPage(*vmo, 1));
  EXPECT_EQ(vmo->Page(0), PatternPage(*vmo, 0));
  EXPECT_FALSE(pager.AnyPacket());
}

// Zeroing a page in the snapshot that the clone had forked before the snapshot was taken
// (Zircon: the page lives in the hidden node, shared; upager: the snapshot's own copy).
SNAPSHOT_TEST(ZeroRangeLeftInSnapshotPageInHiddenNode) {
  UserPager pager;
  auto vmo = CloneNode::Root(pager, 2, access);
  ASSERT_NE(vmo, nullptr);
  auto clone = vmo->Child(kModified);
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(pager.SupplyPages(vmo->test_vmo(), 0, 2), Status::kOk);
  ASSERT_TRUE(clone->Set(0, 0xdead1eaf));
  EXPECT_EQ(clone->Get(0), 0xdead1eafu);
  EXPECT_EQ(clone->populated(), P(1));

  auto snapshot = clone->Child(kModified);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->populated(), P(1));  // Zircon: P(1) / 2, and P(1) / 2 for the clone
  ASSERT_EQ(snapshot->vmo().OpRange(kVmoOpZero, 0, P(1)), Status::kOk);
  EXPECT_EQ(snapshot->Page(0), std::vector<char>(P(1), 0));
  EXPECT_EQ(snapshot->populated(), 0u);
  EXPECT_EQ(snapshot->Page(1), PatternPage(*vmo, 1));
  EXPECT_EQ(clone->Page(0), PatternPage(*vmo, 0, 0xdead1eaf));
  EXPECT_EQ(clone->populated(), P(1));
  EXPECT_EQ(vmo->Page(0), PatternPage(*vmo, 0));
  EXPECT_FALSE(pager.AnyPacket());
}

// populated_bytes (and committed_bytes) per node as root, clone and snapshot write.
SNAPSHOT_TEST(ObjMemAccounting) {
  UserPager pager;
  auto vmo = CloneNode::Root(pager, 2, access);
  ASSERT_NE(vmo, nullptr);
  EXPECT_EQ(vmo->populated(), 0u);
  ASSERT_EQ(pager.SupplyPages(vmo->test_vmo(), 0, 2), Status::kOk);
  EXPECT_EQ(vmo->populated(), P(2));
  ASSERT_TRUE(vmo->Set(0, 0xdeadbeef));
  ASSERT_TRUE(vmo->Set(P(1), 0xdeadbeef));
  EXPECT_EQ(vmo->populated(), P(2));

  auto clone = vmo->Child(kModified);
  ASSERT_NE(clone, nullptr);
  ASSERT_TRUE(clone->Set(0, 0x1eaf5));
  auto snapshot = clone->Child(kModified);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(vmo->populated(), P(2));
  EXPECT_EQ(clone->populated(), P(1));     // Zircon: P(1) / 2
  EXPECT_EQ(snapshot->populated(), P(1));  // Zircon: P(1) / 2

  ASSERT_TRUE(clone->Set(P(1), 0xc0ffee));
  EXPECT_EQ(vmo->populated(), P(2));
  EXPECT_EQ(clone->populated(), P(2));     // Zircon: 3 * P(1) / 2
  EXPECT_EQ(snapshot->populated(), P(1));  // Zircon: P(1) / 2

  ASSERT_TRUE(snapshot->Set(0, 0xcafe));
  EXPECT_EQ(vmo->populated(), P(2));
  EXPECT_EQ(clone->populated(), P(2));
  EXPECT_EQ(snapshot->populated(), P(1));

  ASSERT_TRUE(vmo->Set(P(1), 0x1eaf));
  ASSERT_TRUE(clone->Set(P(1), 0x1eaf));
  ASSERT_TRUE(snapshot->Set(P(1), 0x1eaf));
  EXPECT_EQ(vmo->populated(), P(2));
  EXPECT_EQ(clone->populated(), P(2));
  EXPECT_EQ(snapshot->populated(), P(2));
  EXPECT_EQ(snapshot->committed(), P(2));

  EXPECT_EQ(vmo->Page(0), PatternPage(*vmo, 0, 0xdeadbeef));
  EXPECT_EQ(clone->Page(0), PatternPage(*vmo, 0, 0x1eaf5));
  EXPECT_EQ(snapshot->Page(0), PatternPage(*vmo, 0, 0xcafe));
  for (const CloneNode* node : {vmo.get(), clone.get(), snapshot.get()}) {
    EXPECT_EQ(node->Page(1), PatternPage(*vmo, 1, 0x1eaf));
  }
  clone.reset();
  snapshot.reset();
  EXPECT_EQ(vmo->populated(), P(2));
  EXPECT_EQ(vmo->committed(), P(2));
  EXPECT_FALSE(pager.AnyPacket());
}

// Closing one node of root / clone / snapshot leaves the others' data intact. The root's
// COMPLETE comes once its last handle and its last child are gone.
enum class Depth { kRoot, kClone, kSnapshot };

void CloseTest(Access access, Depth depth) {
  UserPager pager;
  auto vmo = CloneNode::Root(pager, 1, access);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(vmo->test_vmo(), 0, 1), Status::kOk);
  const std::vector<char> original = PatternPage(*vmo, 0, 0xdead1eaf);
  ASSERT_TRUE(vmo->WritePage(0, original));
  auto clone = vmo->Child(kModified);
  ASSERT_NE(clone, nullptr);
  auto snapshot = clone->Child(kModified);
  ASSERT_NE(snapshot, nullptr);
  const uint64_t key = vmo->key();

  if (depth == Depth::kRoot) vmo.reset();
  if (depth == Depth::kClone) clone.reset();
  if (depth == Depth::kSnapshot) snapshot.reset();
  if (vmo != nullptr) {
    EXPECT_EQ(vmo->Page(0), original);
  }
  if (clone != nullptr) {
    EXPECT_EQ(clone->Page(0), original);
  }
  if (snapshot != nullptr) {
    EXPECT_EQ(snapshot->Page(0), original);
  }
  EXPECT_FALSE(pager.AnyPacket());

  clone.reset();
  snapshot.reset();
  if (depth == Depth::kRoot) {
    ASSERT_TRUE(pager.WaitForPageComplete(key));
  }
  EXPECT_FALSE(pager.AnyPacket());
}

SNAPSHOT_TEST(CloseClone) { CloseTest(access, Depth::kClone); }
SNAPSHOT_TEST(CloseSnapshot) { CloseTest(access, Depth::kSnapshot); }
SNAPSHOT_TEST(CloseRoot) { CloseTest(access, Depth::kRoot); }

}  // namespace
}  // namespace upager::testing
