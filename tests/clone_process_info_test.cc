// VmoInfo of clones held by another process (docs/clones.md, docs/processes.md): a holder's
// GetInfo reports every field exactly as the owner's own handle of the same VMO does,
// num_children and parent_koid included, whichever process made the children. The holder is
// clone_process_holder's; an owner that exits is this file's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "base/handle_access.h"
#include "clone_process_holder.h"
#include "pager/vmo_export.h"
#include "process_util.h"
#include "user_pager.h"

namespace upager {
namespace {

using namespace clone_process;  // NOLINT: the holder protocol and its helpers
using testing::TestVmo;
using testing::UserPager;

void ExpectSameInfo(const VmoInfo& held, const VmoInfo& own) {
  EXPECT_EQ(held.koid, own.koid);
  EXPECT_EQ(held.size_bytes, own.size_bytes);
  EXPECT_EQ(held.committed_bytes, own.committed_bytes);
  EXPECT_EQ(held.populated_bytes, own.populated_bytes);
  EXPECT_EQ(held.flags, own.flags);
  EXPECT_EQ(held.num_children, own.num_children);
  EXPECT_EQ(held.parent_koid, own.parent_koid);
}

VmoInfo InfoOf(const Vmo& vmo) {
  VmoInfo info{};
  EXPECT_EQ(vmo.GetInfo(&info), Status::kOk);
  return info;
}

// A child of a root, sent to a holder: the holder's GetInfo names the root as its parent,
// counts the grandchild the holder then makes of it (made here, by kCreateChild), and the
// grandchild names the child; each equal, field by field, to this process's own GetInfo.
TEST(CloneProcessInfo, HeldChildReportsItsParentAndItsChildren) {
  UserPager pager;
  auto root = pager.CreateVmo(4);
  ASSERT_NE(root, nullptr);
  ASSERT_EQ(pager.SupplyPages(*root, 0, 2), Status::kOk);
  Vmo child = MakeChild(*root, kVmoChildSnapshotAtLeastOnWrite, 4);
  const std::vector<char> f = Filled('f', P(1));
  ASSERT_EQ(child.Write(f.data(), P(1), P(1)), Status::kOk);  // one fork
  Vmo mine;
  ASSERT_EQ(child.Duplicate(&mine), Status::kOk);
  upager::Child holder = StartHolder(std::move(child));

  VmoInfo held{};
  ASSERT_EQ(HeldInfo(holder, 0, &held), Status::kOk);
  ExpectSameInfo(held, InfoOf(mine));
  EXPECT_EQ(held.koid, mine.koid());
  EXPECT_EQ(held.parent_koid, root->vmo.koid());
  EXPECT_EQ(held.num_children, 0u);
  EXPECT_EQ(held.committed_bytes, P(1));
  EXPECT_EQ(held.populated_bytes, P(1));
  EXPECT_EQ(held.size_bytes, P(4));
  EXPECT_EQ(held.flags, kVmoInfoPagerBacked);
  EXPECT_EQ(InfoOf(root->vmo).num_children, 1u);

  // The holder's own child of the child it holds.
  const Note made = Ask(holder, kChild, kVmoChildSnapshotAtLeastOnWrite, 0, P(2));
  ASSERT_EQ(made.status, 0);
  const auto g = static_cast<int32_t>(made.value);
  ASSERT_EQ(HeldInfo(holder, 0, &held), Status::kOk);
  EXPECT_EQ(held.num_children, 1u);
  ExpectSameInfo(held, InfoOf(mine));
  EXPECT_EQ(InfoOf(root->vmo).num_children, 1u);  // a grandchild is not the root's child
  // The grandchild forks one page from the holder; its info there is its owner's.
  ASSERT_EQ(Ask(holder, kWrite | ('g' << 8), g, 0, P(1)).status, 0);
  VmoInfo grand{};
  ASSERT_EQ(HeldInfo(holder, g, &grand), Status::kOk);
  EXPECT_EQ(grand.parent_koid, mine.koid());
  EXPECT_EQ(grand.num_children, 0u);
  // Its fork, and the copy of its parent's fork it took at creation (docs/clones.md).
  EXPECT_EQ(grand.committed_bytes, P(2));
  EXPECT_EQ(grand.size_bytes, P(2));
  EXPECT_EQ(grand.flags, kVmoInfoPagerBacked);
  // Sent back here, the grandchild is a local handle again: the owner's own GetInfo.
  Vmo back = TakeBack(holder, g);
  ASSERT_TRUE(back.is_valid());
  EXPECT_EQ(internal::HandleAccess::Remote(back), nullptr);
  ExpectSameInfo(grand, InfoOf(back));
  ASSERT_TRUE(internal::WaitForExportCount(1, Soon()));  // the holder's handle 0 alone
  ASSERT_EQ(HeldInfo(holder, 0, &held), Status::kOk);
  EXPECT_EQ(held.num_children, 1u);  // alive, held here now
  // Its last handle gone, the child the holder holds counts none, there as here.
  back.Reset();
  ASSERT_EQ(HeldInfo(holder, 0, &held), Status::kOk);
  EXPECT_EQ(held.num_children, 0u);
  ExpectSameInfo(held, InfoOf(mine));
  EXPECT_FALSE(pager.AnyPacket());
  Finish(holder);
}

// A root held by another process with two children, one made here and one made by the
// holder: the holder's GetInfo counts both, follows the pages the pager supplies, and counts
// one less once a child goes; the holder's child names the root.
TEST(CloneProcessInfo, HeldRootWithTwoChildren) {
  UserPager pager;
  auto root = pager.CreateVmo(4);
  ASSERT_NE(root, nullptr);
  ASSERT_EQ(pager.SupplyPages(*root, 0, 1), Status::kOk);
  Vmo copy;
  ASSERT_EQ(root->vmo.Duplicate(&copy), Status::kOk);
  upager::Child holder = StartHolder(std::move(copy));
  VmoInfo held{};
  ASSERT_EQ(HeldInfo(holder, 0, &held), Status::kOk);
  ExpectSameInfo(held, InfoOf(root->vmo));
  EXPECT_EQ(held.num_children, 0u);
  EXPECT_EQ(held.parent_koid, 0u);

  Vmo here = MakeChild(*root, kVmoChildSnapshotAtLeastOnWrite, 2);
  const Note made = Ask(holder, kChild, kVmoChildSnapshotAtLeastOnWrite, P(1), P(3));
  ASSERT_EQ(made.status, 0);
  const auto theirs = static_cast<int32_t>(made.value);
  ASSERT_EQ(pager.SupplyPages(*root, 1, 2), Status::kOk);
  ASSERT_EQ(HeldInfo(holder, 0, &held), Status::kOk);
  ExpectSameInfo(held, InfoOf(root->vmo));
  EXPECT_EQ(held.num_children, 2u);
  EXPECT_EQ(held.committed_bytes, P(3));
  EXPECT_EQ(held.parent_koid, 0u);
  VmoInfo child{};
  ASSERT_EQ(HeldInfo(holder, theirs, &child), Status::kOk);
  EXPECT_EQ(child.parent_koid, root->vmo.koid());
  EXPECT_EQ(child.size_bytes, P(3));
  EXPECT_EQ(child.committed_bytes, 0u);  // it reads through, forks nothing
  EXPECT_EQ(child.num_children, 0u);

  here.Reset();
  ASSERT_EQ(HeldInfo(holder, 0, &held), Status::kOk);
  EXPECT_EQ(held.num_children, 1u);
  ExpectSameInfo(held, InfoOf(root->vmo));
  EXPECT_FALSE(pager.AnyPacket());
  Finish(holder);
  ASSERT_TRUE(internal::WaitForExportCount(0, Soon()));
  EXPECT_EQ(InfoOf(root->vmo).num_children, 0u);
}

// ---- An owner in another process ----

// The owner: makes a 2-page root and a child of it that forks one page, sends the child with
// the root's koid, answers each note with its own GetInfo of the child, and exits when the
// test closes the channel.
int CloneOwnerChild(const Channel& parent) {
  UserPager pager;
  auto root = pager.CreateVmo(2);
  if (root == nullptr || pager.SupplyPages(*root, 0, 2) != Status::kOk) return 20;
  Vmo child;
  if (root->vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, P(2), &child) != Status::kOk) {
    return 21;
  }
  const std::vector<char> f = Filled('f', P(1));
  if (child.Write(f.data(), 0, P(1)) != Status::kOk) return 22;
  Vmo copy;
  if (child.Duplicate(&copy) != Status::kOk) return 23;
  if (Send(parent, Note{0, 0, root->vmo.koid(), 0}, &copy) != Status::kOk) return 24;
  Note note;
  while (Receive(parent, &note) == Status::kOk) {
    VmoInfo info{};
    const Status s = child.GetInfo(&info);
    std::vector<char> reply(sizeof(Note) + sizeof info);
    const Note answer{static_cast<int32_t>(s), 0, 0, sizeof info};
    std::memcpy(reply.data(), &answer, sizeof answer);
    std::memcpy(reply.data() + sizeof answer, &info, sizeof info);
    if (parent.Write(reply.data(), static_cast<uint32_t>(reply.size()), nullptr, 0) !=
        Status::kOk) {
      return 25;
    }
  }
  return 0;
}

int RunChild(const char* role, const Channel& parent) {
  if (std::strcmp(role, "clone_owner") == 0) return CloneOwnerChild(parent);
  return clone_process::RunChild(role, parent);
}

// A child held from its owner's process: GetInfo here is the owner's own, exactly; once the
// owner has exited, the handle is detached and still names its parent (from the welcome),
// with no children (they went with the owner).
TEST(CloneProcessInfo, HeldFromAnOwnerThatExits) {
  upager::Child owner = Spawn("clone_owner");
  Note sent{};
  Vmo held;
  ASSERT_EQ(Receive(owner.channel, &sent, &held), Status::kOk);
  ASSERT_TRUE(held.is_valid());
  const uint64_t root_koid = sent.offset;
  VmoInfo info{};
  ASSERT_EQ(held.GetInfo(&info), Status::kOk);
  std::vector<char> bytes;
  Note answer{};
  ASSERT_EQ(Send(owner.channel, Note{}), Status::kOk);
  ASSERT_EQ(Receive(owner.channel, &answer, nullptr, &bytes), Status::kOk);
  ASSERT_EQ(answer.status, 0);
  VmoInfo own{};
  ASSERT_EQ(bytes.size(), sizeof own);
  std::memcpy(&own, bytes.data(), sizeof own);
  ExpectSameInfo(info, own);
  EXPECT_EQ(info.parent_koid, root_koid);
  EXPECT_EQ(info.committed_bytes, P(1));
  EXPECT_EQ(info.size_bytes, P(2));

  Finish(owner);
  VmoInfo detached{};
  ASSERT_EQ(held.GetInfo(&detached), Status::kOk);
  EXPECT_EQ(detached.koid, own.koid);
  EXPECT_EQ(detached.parent_koid, root_koid);
  EXPECT_EQ(detached.num_children, 0u);
  EXPECT_EQ(detached.flags, kVmoInfoPagerBacked);
}

}  // namespace
}  // namespace upager

UPAGER_TEST_MAIN(upager::RunChild)
