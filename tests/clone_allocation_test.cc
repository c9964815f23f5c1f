// Reading through a clone, writing and committing pages it has forked, zeroing whole pages
// and prefetching allocate nothing once the root has the pages: this binary replaces the
// global allocator with a counting one and reads the counter around each operation
// (docs/clones.md).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "counting_allocator.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/vmo.h"

namespace upager {
namespace {

TEST(CloneAllocation, ReadForkCommitZeroAllocateNothing) {
  constexpr uint64_t kPages = 64;
  Pager pager;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(pager.CreateVmo(0, port, 1, kPages * kPageSize, &vmo), Status::kOk);
  std::vector<char> data(kPages * kPageSize, 'r');
  ASSERT_EQ(pager.SupplyPagesFromBuffer(vmo, 0, data.size(), data.data()), Status::kOk);
  Vmo clone;
  ASSERT_EQ(vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, data.size(), &clone), Status::kOk);
  Vmo grandchild;
  ASSERT_EQ(clone.CreateChild(kVmoChildSnapshotModified, 0, data.size(), &grandchild), Status::kOk);
  std::vector<char> out(data.size());
  const uint64_t word = 7;
  // Warm whatever is lazily made once per process (the zero file of ReadZeros).
  ASSERT_EQ(grandchild.Read(out.data(), 0, out.size()), Status::kOk);

  auto count = [](auto&& op) {
    const uint64_t before = testing::AllocationCount();
    EXPECT_EQ(op(), Status::kOk);
    return testing::AllocationCount() - before;
  };
  // A fork records the page in the clone's page list, whose bookkeeping grows as Zircon's
  // page-list nodes do: not counted here.
  ASSERT_EQ(clone.Write(&word, kPageSize, sizeof(word)), Status::kOk);
  ASSERT_EQ(clone.OpRange(kVmoOpCommit, 0, 16 * kPageSize), Status::kOk);
  ASSERT_EQ(grandchild.Write(&word, 3 * kPageSize, sizeof(word)), Status::kOk);

  EXPECT_EQ(count([&] { return clone.Read(out.data(), 0, out.size()); }), 0u);
  EXPECT_EQ(count([&] { return grandchild.Read(out.data(), 0, out.size()); }), 0u);
  EXPECT_EQ(count([&] { return clone.Write(&word, kPageSize, sizeof(word)); }), 0u);
  EXPECT_EQ(count([&] { return clone.OpRange(kVmoOpCommit, 0, 16 * kPageSize); }), 0u);
  EXPECT_EQ(count([&] { return clone.OpRange(kVmoOpZero, 2 * kPageSize, 2 * kPageSize); }), 0u);
  EXPECT_EQ(count([&] { return grandchild.Write(&word, 3 * kPageSize, sizeof(word)); }), 0u);
  EXPECT_EQ(count([&] { return grandchild.OpRange(kVmoOpPrefetch, 0, out.size()); }), 0u);

  EXPECT_EQ(grandchild.Read(out.data(), 0, 4 * kPageSize), Status::kOk);
  EXPECT_EQ(out[0], 'r');
  EXPECT_EQ(out[kPageSize + 8], 'r');  // the clone's later fork is not the grandchild's
  EXPECT_EQ(out[3 * kPageSize], 7);
}

}  // namespace
}  // namespace upager
