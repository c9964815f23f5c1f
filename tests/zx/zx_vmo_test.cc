// zx_vmo_* on anonymous VMOs: results, and the checks in Zircon's order.
#include <gtest/gtest.h>
#include <zircon/syscalls.h>

#include <cstring>
#include <vector>

#include "zx_test_util.h"

namespace upager::zx::testing {
namespace {

constexpr uint64_t kPage = 4096;

TEST(ZxVmo, CreateChecks) {
  zx_handle_t out = ZX_HANDLE_INVALID;
  EXPECT_EQ(zx_vmo_create(kPage, 1u << 9, &out), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmo_create(kPage, ZX_VMO_TRAP_DIRTY, &out), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmo_create(kPage, ZX_VMO_DISCARDABLE | ZX_VMO_RESIZABLE, &out), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmo_create(kPage, ZX_VMO_DISCARDABLE, &out), ZX_ERR_NOT_SUPPORTED);
  EXPECT_EQ(zx_vmo_create(UINT64_MAX, 0, &out), ZX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(zx_vmo_create(kPage, 0, nullptr), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(out, ZX_HANDLE_INVALID);
}

TEST(ZxVmo, ReadWriteSizeAndInfo) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(kPage + 1, ZX_VMO_RESIZABLE, vmo.out()), ZX_OK);
  uint64_t size = 0;
  ASSERT_EQ(zx_vmo_get_size(vmo.get(), &size), ZX_OK);
  EXPECT_EQ(size, 2 * kPage);  // rounded up to pages
  std::vector<uint8_t> data(3000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  ASSERT_EQ(zx_vmo_write(vmo.get(), data.data(), 2000, data.size()), ZX_OK);
  std::vector<uint8_t> got(data.size());
  ASSERT_EQ(zx_vmo_read(vmo.get(), got.data(), 2000, got.size()), ZX_OK);
  EXPECT_EQ(got, data);
  EXPECT_EQ(zx_vmo_read(vmo.get(), got.data(), 2 * kPage - 1, 2), ZX_ERR_OUT_OF_RANGE);

  zx_info_vmo_t info;
  std::memset(&info, 0xcc, sizeof info);
  size_t actual = 0, avail = 0;
  ASSERT_EQ(zx_object_get_info(vmo.get(), ZX_INFO_VMO, &info, sizeof info, &actual, &avail), ZX_OK);
  zx_info_handle_basic_t basic{};
  ASSERT_EQ(
      zx_object_get_info(vmo.get(), ZX_INFO_HANDLE_BASIC, &basic, sizeof basic, nullptr, nullptr),
      ZX_OK);
  EXPECT_EQ(actual, 1u);
  EXPECT_EQ(info.koid, basic.koid);
  EXPECT_EQ(info.size_bytes, 2 * kPage);
  EXPECT_EQ(info.flags, ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_RESIZABLE | ZX_INFO_VMO_VIA_HANDLE);
  EXPECT_EQ(info.handle_rights, ZX_DEFAULT_VMO_RIGHTS | ZX_RIGHT_RESIZE);
  EXPECT_EQ(info.committed_bytes, 2 * kPage);  // the write touched pages 0 and 1
  EXPECT_EQ(info.parent_koid, 0u);
  EXPECT_EQ(info.name[0], '\0');
  EXPECT_EQ(info.cache_policy, ZX_CACHE_POLICY_CACHED);

  ASSERT_EQ(zx_vmo_set_size(vmo.get(), 5 * kPage - 3), ZX_OK);
  ASSERT_EQ(zx_vmo_get_size(vmo.get(), &size), ZX_OK);
  EXPECT_EQ(size, 5 * kPage);
}

TEST(ZxVmo, InfoNeedsInspect) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(kPage, 0, vmo.out()), ZX_OK);
  Owned blind = Without(vmo.get(), ZX_RIGHT_INSPECT);
  zx_info_vmo_t info{};
  EXPECT_EQ(zx_object_get_info(blind.get(), ZX_INFO_VMO, &info, sizeof info, nullptr, nullptr),
            ZX_ERR_ACCESS_DENIED);
  size_t actual = 9, avail = 9;
  EXPECT_EQ(zx_object_get_info(vmo.get(), ZX_INFO_VMO, &info, sizeof info - 8, &actual, &avail),
            ZX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(actual, 0u);
  EXPECT_EQ(avail, 1u);
}

TEST(ZxVmo, HandleChecksInOrder) {
  Owned vmo, event;
  ASSERT_EQ(zx_vmo_create(kPage, 0, vmo.out()), ZX_OK);
  ASSERT_EQ(zx_event_create(0, event.out()), ZX_OK);
  char byte = 0;
  uint64_t size = 0;
  EXPECT_EQ(zx_vmo_read(kBogusHandle, &byte, 0, 1), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_vmo_read(event.get(), &byte, 0, 1), ZX_ERR_WRONG_TYPE);
  Owned no_read = Without(vmo.get(), ZX_RIGHT_READ);
  // The right is checked before the range.
  EXPECT_EQ(zx_vmo_read(no_read.get(), &byte, 10 * kPage, 1), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_vmo_write(kBogusHandle, &byte, 0, 1), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_vmo_write(event.get(), &byte, 0, 1), ZX_ERR_WRONG_TYPE);
  Owned no_write = Without(vmo.get(), ZX_RIGHT_WRITE);
  EXPECT_EQ(zx_vmo_write(no_write.get(), &byte, 10 * kPage, 1), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_vmo_write(no_read.get(), &byte, 10 * kPage, 1), ZX_ERR_OUT_OF_RANGE);
  // get_size needs no right.
  Owned bare;
  ASSERT_EQ(zx_handle_duplicate(vmo.get(), ZX_RIGHT_NONE, bare.out()), ZX_OK);
  EXPECT_EQ(zx_vmo_get_size(bare.get(), &size), ZX_OK);
  EXPECT_EQ(zx_vmo_get_size(event.get(), &size), ZX_ERR_WRONG_TYPE);
  EXPECT_EQ(zx_vmo_get_size(vmo.get(), nullptr), ZX_ERR_INVALID_ARGS);
  // set_size: WRITE, then (for a resizable VMO) RESIZE, then UNAVAILABLE for a fixed one.
  EXPECT_EQ(zx_vmo_set_size(no_write.get(), kPage), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_vmo_set_size(vmo.get(), 2 * kPage), ZX_ERR_UNAVAILABLE);
  Owned resizable;
  ASSERT_EQ(zx_vmo_create(kPage, ZX_VMO_RESIZABLE, resizable.out()), ZX_OK);
  Owned no_resize = Without(resizable.get(), ZX_RIGHT_RESIZE);
  EXPECT_EQ(zx_vmo_set_size(no_resize.get(), 2 * kPage), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_vmo_set_size(resizable.get(), 2 * kPage), ZX_OK);
}

TEST(ZxVmo, OpRangeRightsPerOp) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(2 * kPage, 0, vmo.out()), ZX_OK);
  Owned no_write = Without(vmo.get(), ZX_RIGHT_WRITE);
  Owned no_read = Without(vmo.get(), ZX_RIGHT_READ);
  Owned bare;
  ASSERT_EQ(zx_handle_duplicate(vmo.get(), ZX_RIGHT_NONE, bare.out()), ZX_OK);
  EXPECT_EQ(zx_vmo_op_range(kBogusHandle, ZX_VMO_OP_COMMIT, 0, kPage, nullptr, 0),
            ZX_ERR_BAD_HANDLE);
  for (uint32_t op : {ZX_VMO_OP_COMMIT, ZX_VMO_OP_DECOMMIT, ZX_VMO_OP_ZERO}) {
    EXPECT_EQ(zx_vmo_op_range(no_write.get(), op, 0, kPage, nullptr, 0), ZX_ERR_ACCESS_DENIED)
        << op;
  }
  EXPECT_EQ(zx_vmo_op_range(no_read.get(), ZX_VMO_OP_PREFETCH, 0, kPage, nullptr, 0),
            ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_vmo_op_range(bare.get(), ZX_VMO_OP_DONT_NEED, 0, kPage, nullptr, 0), ZX_OK);
  EXPECT_EQ(zx_vmo_op_range(bare.get(), ZX_VMO_OP_ALWAYS_NEED, 0, kPage, nullptr, 0), ZX_OK);
  EXPECT_EQ(zx_vmo_op_range(vmo.get(), 5, 0, kPage, nullptr, 0), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmo_op_range(vmo.get(), 99, 0, kPage, nullptr, 0), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmo_op_range(vmo.get(), ZX_VMO_OP_COMMIT, kPage, 2 * kPage, nullptr, 0),
            ZX_ERR_OUT_OF_RANGE);
  // ZERO really zeroes.
  const uint8_t ones[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  ASSERT_EQ(zx_vmo_write(vmo.get(), ones, 100, sizeof ones), ZX_OK);
  ASSERT_EQ(zx_vmo_op_range(vmo.get(), ZX_VMO_OP_ZERO, 0, kPage, nullptr, 0), ZX_OK);
  uint8_t got[16];
  ASSERT_EQ(zx_vmo_read(vmo.get(), got, 100, sizeof got), ZX_OK);
  for (uint8_t b : got) EXPECT_EQ(b, 0);
}

TEST(ZxVmo, CreateChildChecksInZirconOrder) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(kPage, 0, vmo.out()), ZX_OK);
  zx_handle_t child = ZX_HANDLE_INVALID;
  EXPECT_EQ(zx_vmo_create_child(kBogusHandle, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0,
                                UINT64_MAX, &child),
            ZX_ERR_OUT_OF_RANGE);  // the size cannot be rounded: before the handle
  EXPECT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_NO_WRITE | ZX_VMO_CHILD_RESIZABLE, 0, kPage,
                                &child),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(
      zx_vmo_create_child(kBogusHandle, ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, kPage, &child),
      ZX_ERR_BAD_HANDLE);
  Owned no_dup = Without(vmo.get(), ZX_RIGHT_DUPLICATE);
  EXPECT_EQ(
      zx_vmo_create_child(no_dup.get(), ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, kPage, &child),
      ZX_ERR_ACCESS_DENIED);
  Owned no_read = Without(vmo.get(), ZX_RIGHT_READ);
  EXPECT_EQ(
      zx_vmo_create_child(no_read.get(), ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, kPage, &child),
      ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_vmo_create_child(vmo.get(), 0, 0, kPage, &child), ZX_ERR_INVALID_ARGS);  // no kind
  EXPECT_EQ(
      zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_SLICE, 0, kPage, &child),
      ZX_ERR_INVALID_ARGS);  // two kinds
  EXPECT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT, 1, kPage, &child),
            ZX_ERR_INVALID_ARGS);  // offset not page-aligned
  EXPECT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SLICE, kPage, kPage, &child),
            ZX_ERR_INVALID_ARGS);  // a slice outside its parent
  EXPECT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT, 0, kPage, nullptr),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(child, ZX_HANDLE_INVALID);
}

// The rights of a child's handle (Zircon's rule): the parent handle's rights, plus
// GET_PROPERTY and SET_PROPERTY; plus WRITE (minus EXECUTE) for a snapshot kind; minus WRITE
// with NO_WRITE; RESIZE exactly when the child is resizable.
TEST(ZxVmo, CreateChildRights) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(2 * kPage, 0, vmo.out()), ZX_OK);
  constexpr zx_rights_t kProps = ZX_RIGHT_GET_PROPERTY | ZX_RIGHT_SET_PROPERTY;
  const zx_rights_t parent = RightsOf(vmo.get());
  ASSERT_EQ(parent, ZX_DEFAULT_VMO_RIGHTS);

  Owned snapshot;
  ASSERT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT, 0, kPage, snapshot.out()), ZX_OK);
  EXPECT_EQ(RightsOf(snapshot.get()), parent | kProps | ZX_RIGHT_WRITE);

  Owned read_only = Without(vmo.get(), ZX_RIGHT_WRITE);
  Owned from_read_only;
  ASSERT_EQ(zx_vmo_create_child(read_only.get(), ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, kPage,
                                from_read_only.out()),
            ZX_OK);
  EXPECT_EQ(RightsOf(from_read_only.get()), parent | kProps);  // WRITE added back

  Owned no_write;
  ASSERT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_NO_WRITE, 0, kPage,
                                no_write.out()),
            ZX_OK);
  EXPECT_EQ(RightsOf(no_write.get()), (parent | kProps) & ~ZX_RIGHT_WRITE);
  const char byte = 'x';
  EXPECT_EQ(zx_vmo_write(no_write.get(), &byte, 0, 1), ZX_ERR_ACCESS_DENIED);

  Owned resizable;
  ASSERT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT | ZX_VMO_CHILD_RESIZABLE, 0, kPage,
                                resizable.out()),
            ZX_OK);
  EXPECT_EQ(RightsOf(resizable.get()), parent | kProps | ZX_RIGHT_WRITE | ZX_RIGHT_RESIZE);
  EXPECT_EQ(zx_vmo_set_size(resizable.get(), 3 * kPage), ZX_OK);
  EXPECT_EQ(zx_vmo_set_size(snapshot.get(), 3 * kPage), ZX_ERR_UNAVAILABLE);

  Owned slice;
  ASSERT_EQ(zx_vmo_create_child(read_only.get(), ZX_VMO_CHILD_SLICE, kPage, kPage, slice.out()),
            ZX_OK);
  EXPECT_EQ(RightsOf(slice.get()), (parent & ~ZX_RIGHT_WRITE) | kProps);  // no WRITE added
}

// A snapshot of an anonymous VMO: the child reads the parent's bytes at its offset, and
// later writes on either side stay on that side. ZX_INFO_VMO names the parent.
TEST(ZxVmo, CreateChildSnapshotBytesAndInfo) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(2 * kPage, 0, vmo.out()), ZX_OK);
  std::vector<char> page0(kPage, 'a'), page1(kPage, 'b');
  ASSERT_EQ(zx_vmo_write(vmo.get(), page0.data(), 0, kPage), ZX_OK);
  ASSERT_EQ(zx_vmo_write(vmo.get(), page1.data(), kPage, kPage), ZX_OK);

  Owned child;
  ASSERT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT, kPage, 2 * kPage, child.out()),
            ZX_OK);
  uint64_t size = 0;
  ASSERT_EQ(zx_vmo_get_size(child.get(), &size), ZX_OK);
  EXPECT_EQ(size, 2 * kPage);
  std::vector<char> got(2 * kPage, '?');
  ASSERT_EQ(zx_vmo_read(child.get(), got.data(), 0, got.size()), ZX_OK);
  std::vector<char> want(2 * kPage, 0);  // beyond the parent: zeros
  std::memset(want.data(), 'b', kPage);
  EXPECT_EQ(got, want);

  const char c = 'c', p = 'p';
  ASSERT_EQ(zx_vmo_write(child.get(), &c, 0, 1), ZX_OK);
  ASSERT_EQ(zx_vmo_write(vmo.get(), &p, kPage + 1, 1), ZX_OK);
  char two[2] = {};
  ASSERT_EQ(zx_vmo_read(child.get(), two, 0, 2), ZX_OK);
  EXPECT_EQ(two[0], 'c');
  EXPECT_EQ(two[1], 'b');  // the parent's later write is not seen
  ASSERT_EQ(zx_vmo_read(vmo.get(), two, kPage, 2), ZX_OK);
  EXPECT_EQ(two[0], 'b');  // nor the child's by the parent
  EXPECT_EQ(two[1], 'p');

  zx_info_vmo_t parent_info{}, child_info{};
  ASSERT_EQ(zx_object_get_info(vmo.get(), ZX_INFO_VMO, &parent_info, sizeof parent_info, nullptr,
                               nullptr),
            ZX_OK);
  ASSERT_EQ(zx_object_get_info(child.get(), ZX_INFO_VMO, &child_info, sizeof child_info, nullptr,
                               nullptr),
            ZX_OK);
  EXPECT_EQ(parent_info.num_children, 1u);
  EXPECT_EQ(parent_info.parent_koid, 0u);
  EXPECT_EQ(parent_info.flags & ZX_INFO_VMO_IS_COW_CLONE, 0u);
  EXPECT_EQ(child_info.parent_koid, parent_info.koid);
  EXPECT_NE(child_info.koid, parent_info.koid);
  EXPECT_EQ(child_info.flags & ZX_INFO_VMO_IS_COW_CLONE, ZX_INFO_VMO_IS_COW_CLONE);
}

// A slice shares its parent's pages both ways.
TEST(ZxVmo, CreateChildSliceSharesPages) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(2 * kPage, 0, vmo.out()), ZX_OK);
  Owned slice;
  ASSERT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SLICE, kPage, kPage, slice.out()), ZX_OK);
  const char s = 's', v = 'v';
  ASSERT_EQ(zx_vmo_write(slice.get(), &s, 0, 1), ZX_OK);
  ASSERT_EQ(zx_vmo_write(vmo.get(), &v, kPage + 1, 1), ZX_OK);
  char two[2] = {};
  ASSERT_EQ(zx_vmo_read(vmo.get(), two, kPage, 2), ZX_OK);
  EXPECT_EQ(two[0], 's');
  EXPECT_EQ(two[1], 'v');
  ASSERT_EQ(zx_vmo_read(slice.get(), two, 0, 2), ZX_OK);
  EXPECT_EQ(two[0], 's');
  EXPECT_EQ(two[1], 'v');
  zx_info_vmo_t info{};
  ASSERT_EQ(zx_object_get_info(slice.get(), ZX_INFO_VMO, &info, sizeof info, nullptr, nullptr),
            ZX_OK);
  EXPECT_EQ(info.flags & ZX_INFO_VMO_IS_COW_CLONE, 0u);
}

TEST(ZxVmo, UserSignalsAndZeroChildren) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(kPage, 0, vmo.out()), ZX_OK);
  zx_signals_t observed = 0;
  ASSERT_EQ(zx_object_wait_one(vmo.get(), ZX_VMO_ZERO_CHILDREN, 0, &observed), ZX_OK);
  EXPECT_EQ(observed, ZX_VMO_ZERO_CHILDREN);
  EXPECT_EQ(zx_object_signal(vmo.get(), 0, ZX_VMO_ZERO_CHILDREN), ZX_ERR_INVALID_ARGS);
  ASSERT_EQ(zx_object_signal(vmo.get(), 0, ZX_USER_SIGNAL_3), ZX_OK);
  ASSERT_EQ(zx_object_wait_one(vmo.get(), ZX_USER_SIGNAL_3, 0, &observed), ZX_OK);
  EXPECT_EQ(observed, ZX_VMO_ZERO_CHILDREN | ZX_USER_SIGNAL_3);
}

}  // namespace
}  // namespace upager::zx::testing
