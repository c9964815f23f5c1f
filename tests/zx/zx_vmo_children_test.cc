// ZX_VMO_ZERO_CHILDREN: asserted while a VMO has no children, deasserted by
// zx_vmo_create_child, asserted again when the last child goes (its last handle and mapping).
#include <gtest/gtest.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/port.h>

#include <cstring>
#include <thread>

#include "zx_test_util.h"

namespace upager::zx::testing {
namespace {

constexpr uint64_t kPage = 4096;

// The VMO's signals right now (a wait_one that has expired already).
zx_signals_t SignalsOf(zx_handle_t vmo) {
  zx_signals_t observed = ~0u;
  const zx_status_t s = zx_object_wait_one(vmo, ZX_VMO_ZERO_CHILDREN, 0, &observed);
  EXPECT_TRUE(s == ZX_OK || s == ZX_ERR_TIMED_OUT) << s;
  EXPECT_EQ(s == ZX_OK, (observed & ZX_VMO_ZERO_CHILDREN) != 0);
  return observed;
}

TEST(ZxVmoZeroChildren, FollowsTheChildCountThroughHandles) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(4 * kPage, 0, vmo.out()), ZX_OK);
  EXPECT_EQ(SignalsOf(vmo.get()), ZX_VMO_ZERO_CHILDREN);

  Owned child;
  ASSERT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT, 0, kPage, child.out()), ZX_OK);
  zx_signals_t observed = ~0u;
  EXPECT_EQ(zx_object_wait_one(vmo.get(), ZX_VMO_ZERO_CHILDREN, 0, &observed), ZX_ERR_TIMED_OUT);
  EXPECT_EQ(observed, 0u);
  // The child has no children of its own.
  EXPECT_EQ(SignalsOf(child.get()), ZX_VMO_ZERO_CHILDREN);

  // A second child, and a duplicate of the first: all must go.
  Owned child2;
  ASSERT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT, kPage, kPage, child2.out()),
            ZX_OK);
  zx_handle_t dup = ZX_HANDLE_INVALID;
  ASSERT_EQ(zx_handle_duplicate(child.get(), ZX_RIGHT_SAME_RIGHTS, &dup), ZX_OK);
  ASSERT_EQ(zx_handle_close(child.release()), ZX_OK);
  EXPECT_EQ(SignalsOf(vmo.get()), 0u);
  ASSERT_EQ(zx_handle_close(dup), ZX_OK);
  EXPECT_EQ(SignalsOf(vmo.get()), 0u);  // child2 is still there
  zx_info_vmo_t info{};
  ASSERT_EQ(zx_object_get_info(vmo.get(), ZX_INFO_VMO, &info, sizeof info, nullptr, nullptr),
            ZX_OK);
  EXPECT_EQ(info.num_children, 1u);
  ASSERT_EQ(zx_handle_close(child2.release()), ZX_OK);
  EXPECT_EQ(SignalsOf(vmo.get()), ZX_VMO_ZERO_CHILDREN);

  // And down again with the next child.
  Owned child3;
  ASSERT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT, 0, kPage, child3.out()), ZX_OK);
  EXPECT_EQ(SignalsOf(vmo.get()), 0u);
}

// A mapping keeps the child: the signal comes back when it is unmapped.
TEST(ZxVmoZeroChildren, AMappingKeepsTheChild) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(2 * kPage, 0, vmo.out()), ZX_OK);
  Owned child;
  ASSERT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT, 0, 2 * kPage, child.out()),
            ZX_OK);
  zx_vaddr_t addr = 0;
  ASSERT_EQ(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, child.get(), 0,
                        2 * kPage, &addr),
            ZX_OK);
  ASSERT_EQ(zx_handle_close(child.release()), ZX_OK);
  EXPECT_EQ(SignalsOf(vmo.get()), 0u);
  reinterpret_cast<volatile char*>(addr)[0] = 1;  // the child is alive and usable
  ASSERT_EQ(zx_vmar_unmap(zx_vmar_root_self(), addr, 2 * kPage), ZX_OK);
  EXPECT_EQ(SignalsOf(vmo.get()), ZX_VMO_ZERO_CHILDREN);
}

// A thread blocked in wait_one wakes when the last child goes.
TEST(ZxVmoZeroChildren, WaitOneWakesWhenTheLastChildGoes) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(kPage, 0, vmo.out()), ZX_OK);
  Owned child;
  ASSERT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT, 0, kPage, child.out()), ZX_OK);
  zx_signals_t observed = 0;
  zx_status_t status = ZX_ERR_INTERNAL;
  std::thread waiter([&] {
    status = zx_object_wait_one(vmo.get(), ZX_VMO_ZERO_CHILDREN, ZX_TIME_INFINITE, &observed);
  });
  ASSERT_EQ(zx_handle_close(child.release()), ZX_OK);
  waiter.join();
  EXPECT_EQ(status, ZX_OK);
  EXPECT_EQ(observed, ZX_VMO_ZERO_CHILDREN);
}

// wait_async: a packet at once while asserted; none while a child lives; one, exactly, when
// it goes.
TEST(ZxVmoZeroChildren, WaitAsyncPackets) {
  Owned vmo, port;
  ASSERT_EQ(zx_vmo_create(kPage, 0, vmo.out()), ZX_OK);
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  zx_port_packet_t packet;
  zx_port_packet_t expected;
  std::memset(&expected, 0, sizeof expected);
  expected.type = ZX_PKT_TYPE_SIGNAL_ONE;
  expected.status = ZX_OK;
  expected.signal.trigger = ZX_VMO_ZERO_CHILDREN;
  expected.signal.observed = ZX_VMO_ZERO_CHILDREN;
  expected.signal.count = 1;

  ASSERT_EQ(zx_object_wait_async(vmo.get(), port.get(), 1, ZX_VMO_ZERO_CHILDREN, 0), ZX_OK);
  ASSERT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_OK);
  expected.key = 1;
  EXPECT_EQ(std::memcmp(&packet, &expected, sizeof packet), 0);

  Owned child;
  ASSERT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT, 0, kPage, child.out()), ZX_OK);
  ASSERT_EQ(zx_object_wait_async(vmo.get(), port.get(), 2, ZX_VMO_ZERO_CHILDREN, 0), ZX_OK);
  EXPECT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_ERR_TIMED_OUT);
  ASSERT_EQ(zx_handle_close(child.release()), ZX_OK);
  ASSERT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_OK);
  expected.key = 2;
  EXPECT_EQ(std::memcmp(&packet, &expected, sizeof packet), 0);
  EXPECT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_ERR_TIMED_OUT);

  // An edge wait set while asserted fires on the next rise only.
  ASSERT_EQ(
      zx_object_wait_async(vmo.get(), port.get(), 3, ZX_VMO_ZERO_CHILDREN, ZX_WAIT_ASYNC_EDGE),
      ZX_OK);
  EXPECT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_ERR_TIMED_OUT);
  ASSERT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT, 0, kPage, child.out()), ZX_OK);
  EXPECT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_ERR_TIMED_OUT);
  ASSERT_EQ(zx_handle_close(child.release()), ZX_OK);
  ASSERT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_OK);
  expected.key = 3;
  EXPECT_EQ(std::memcmp(&packet, &expected, sizeof packet), 0);
}

// A pager-backed VMO with a read-through clone and a slice: asserted once both are gone.
TEST(ZxVmoZeroChildren, PagerBackedCloneAndSlice) {
  Owned pager, port, vmo;
  ASSERT_EQ(zx_pager_create(0, pager.out()), ZX_OK);
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  ASSERT_EQ(zx_pager_create_vmo(pager.get(), 0, port.get(), 7, 4 * kPage, vmo.out()), ZX_OK);
  EXPECT_EQ(SignalsOf(vmo.get()), ZX_VMO_ZERO_CHILDREN);
  Owned clone, slice;
  ASSERT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 4 * kPage,
                                clone.out()),
            ZX_OK);
  EXPECT_EQ(SignalsOf(vmo.get()), 0u);
  ASSERT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SLICE, kPage, kPage, slice.out()), ZX_OK);
  ASSERT_EQ(zx_handle_close(clone.release()), ZX_OK);
  EXPECT_EQ(SignalsOf(vmo.get()), 0u);
  ASSERT_EQ(zx_handle_close(slice.release()), ZX_OK);
  EXPECT_EQ(SignalsOf(vmo.get()), ZX_VMO_ZERO_CHILDREN);
}

// A failed create_child (no out pointer) leaves the signal asserted.
TEST(ZxVmoZeroChildren, FailedCreateChildLeavesItAsserted) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(kPage, 0, vmo.out()), ZX_OK);
  EXPECT_EQ(zx_vmo_create_child(vmo.get(), ZX_VMO_CHILD_SNAPSHOT, 0, kPage, nullptr),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(SignalsOf(vmo.get()), ZX_VMO_ZERO_CHILDREN);
  EXPECT_EQ(zx_vmo_create_child(vmo.get(), 1u << 30, 0, kPage, nullptr), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(SignalsOf(vmo.get()), ZX_VMO_ZERO_CHILDREN);
}

}  // namespace
}  // namespace upager::zx::testing
