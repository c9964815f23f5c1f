// lib/zx's C++ wrappers (<lib/zx/...>): a small pager written with them, and the handle,
// result and time helpers Fuchsia code leans on.
#include <gtest/gtest.h>
#include <lib/zx/clock.h>
#include <lib/zx/event.h>
#include <lib/zx/handle.h>
#include <lib/zx/pager.h>
#include <lib/zx/port.h>
#include <lib/zx/result.h>
#include <lib/zx/time.h>
#include <lib/zx/vmar.h>
#include <lib/zx/vmo.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kKey = 0x1234;

// One page of `seed` bytes.
std::vector<uint8_t> Page(uint8_t seed) { return std::vector<uint8_t>(kPage, seed); }

bool Valid(zx_handle_t h) {
  return zx_object_get_info(h, ZX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr) == ZX_OK;
}

// The next packet: a page request of `command` for [offset, offset+length) with kKey.
void ExpectRequest(const zx::port& port, uint16_t command, uint64_t offset, uint64_t length) {
  zx_port_packet_t packet;
  ASSERT_EQ(port.wait(zx::deadline_after(zx::sec(30)), &packet), ZX_OK);
  EXPECT_EQ(packet.key, kKey);
  EXPECT_EQ(packet.type, ZX_PKT_TYPE_PAGE_REQUEST);
  EXPECT_EQ(packet.status, ZX_OK);
  EXPECT_EQ(packet.page_request.command, command);
  EXPECT_EQ(packet.page_request.offset, offset);
  EXPECT_EQ(packet.page_request.length, length);
}

class LibZxPager : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(zx::pager::create(0, &pager_), ZX_OK);
    ASSERT_EQ(zx::port::create(0, &port_), ZX_OK);
    ASSERT_EQ(pager_.create_vmo(0, port_, kKey, 4 * kPage, &vmo_), ZX_OK);
    ASSERT_EQ(zx::vmo::create(4 * kPage, 0, &aux_), ZX_OK);
  }
  // Supplies page `index` filled with `seed`.
  void Supply(uint64_t index, uint8_t seed) {
    const std::vector<uint8_t> bytes = Page(seed);
    ASSERT_EQ(aux_.write(bytes.data(), 0, kPage), ZX_OK);
    ASSERT_EQ(pager_.supply_pages(vmo_, index * kPage, kPage, aux_, 0), ZX_OK);
  }

  zx::pager pager_;
  zx::port port_;
  zx::vmo vmo_, aux_;
};

TEST_F(LibZxPager, ServesAReadThenAChildReadsThroughAndForks) {
  std::vector<uint8_t> got(kPage);
  zx_status_t read_status = ZX_ERR_INTERNAL;
  std::thread reader([&] { read_status = vmo_.read(got.data(), kPage, kPage); });
  ExpectRequest(port_, ZX_PAGER_VMO_READ, kPage, kPage);
  Supply(1, 0x11);
  reader.join();
  ASSERT_EQ(read_status, ZX_OK);
  EXPECT_EQ(got, Page(0x11));

  zx::vmo child;
  ASSERT_EQ(vmo_.create_child(ZX_VMO_CHILD_SNAPSHOT_AT_LEAST_ON_WRITE, 0, 4 * kPage, &child),
            ZX_OK);
  ASSERT_EQ(child.read(got.data(), kPage, kPage), ZX_OK);  // present in the root: no request
  EXPECT_EQ(got, Page(0x11));
  // A page missing in the root: the child's read asks the pager for the root's page.
  std::thread child_reader([&] { read_status = child.read(got.data(), 0, kPage); });
  ExpectRequest(port_, ZX_PAGER_VMO_READ, 0, kPage);
  Supply(0, 0x22);
  child_reader.join();
  ASSERT_EQ(read_status, ZX_OK);
  EXPECT_EQ(got, Page(0x22));

  // A write forks the child's page; the parent keeps its bytes.
  const uint8_t w = 0x77;
  ASSERT_EQ(child.write(&w, kPage, 1), ZX_OK);
  uint8_t byte = 0;
  ASSERT_EQ(child.read(&byte, kPage, 1), ZX_OK);
  EXPECT_EQ(byte, 0x77);
  ASSERT_EQ(vmo_.read(&byte, kPage, 1), ZX_OK);
  EXPECT_EQ(byte, 0x11);
  zx_port_packet_t packet;
  EXPECT_EQ(port_.wait(zx::time::infinite_past(), &packet), ZX_ERR_TIMED_OUT);  // nothing else

  child.reset();
  ASSERT_EQ(pager_.detach_vmo(vmo_), ZX_OK);
  ExpectRequest(port_, ZX_PAGER_VMO_COMPLETE, 0, 0);
  EXPECT_EQ(vmo_.read(&byte, 0, 1), ZX_ERR_BAD_STATE);
}

TEST_F(LibZxPager, OpFailAndMapping) {
  uint8_t byte = 0;
  zx_status_t read_status = ZX_ERR_INTERNAL;
  std::thread reader([&] { read_status = vmo_.read(&byte, 2 * kPage, 1); });
  ExpectRequest(port_, ZX_PAGER_VMO_READ, 2 * kPage, kPage);
  ASSERT_EQ(
      pager_.op_range(ZX_PAGER_OP_FAIL, vmo_, 2 * kPage, kPage, static_cast<uint64_t>(ZX_ERR_IO)),
      ZX_OK);
  reader.join();
  EXPECT_EQ(read_status, ZX_ERR_IO);

  // A mapping reads what was supplied.
  Supply(3, 0x33);
  zx_vaddr_t addr = 0;
  ASSERT_EQ(zx::vmar::root_self()->map(ZX_VM_PERM_READ, 0, vmo_, 3 * kPage, kPage, &addr), ZX_OK);
  EXPECT_EQ(std::memcmp(reinterpret_cast<const void*>(addr), Page(0x33).data(), kPage), 0);
  EXPECT_EQ(zx::vmar::root_self()->unmap(addr, kPage), ZX_OK);
}

TEST(LibZx, HandleOwnership) {
  zx::vmo vmo;
  EXPECT_FALSE(vmo.is_valid());
  ASSERT_EQ(zx::vmo::create(kPage, 0, &vmo), ZX_OK);
  ASSERT_TRUE(vmo);
  const zx_handle_t value = vmo.get();

  zx::vmo read_only;
  ASSERT_EQ(vmo.duplicate(ZX_RIGHT_READ | ZX_RIGHT_INSPECT, &read_only), ZX_OK);
  zx_info_handle_basic_t info{};
  ASSERT_EQ(read_only.get_info(ZX_INFO_HANDLE_BASIC, &info, sizeof info, nullptr, nullptr), ZX_OK);
  EXPECT_EQ(info.rights, ZX_RIGHT_READ | ZX_RIGHT_INSPECT);
  EXPECT_EQ(info.type, ZX_OBJ_TYPE_VMO);
  const uint8_t b = 1;
  EXPECT_EQ(read_only.write(&b, 0, 1), ZX_ERR_ACCESS_DENIED);

  {
    zx::unowned_vmo borrowed(vmo);
    uint64_t size = 0;
    ASSERT_EQ(borrowed->get_size(&size), ZX_OK);
    EXPECT_EQ(size, kPage);
    zx::unowned_vmo copy = vmo.borrow();
    EXPECT_EQ(copy->get(), value);
  }
  EXPECT_TRUE(Valid(value));  // an unowned handle never closes

  // create_child may store into the handle it is called on.
  ASSERT_EQ(vmo.create_child(ZX_VMO_CHILD_SNAPSHOT, 0, kPage, &vmo), ZX_OK);
  EXPECT_NE(vmo.get(), value);
  EXPECT_FALSE(Valid(value));  // the parent's handle was closed by the reset

  const zx_handle_t child_value = vmo.get();
  zx::handle any(std::move(vmo));  // any type moves into a zx::handle
  EXPECT_FALSE(vmo.is_valid());    // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(any.get(), child_value);
  zx::vmo back(std::move(any));
  EXPECT_EQ(back.get(), child_value);
  zx::vmo replaced;
  ASSERT_EQ(back.replace(ZX_RIGHT_SAME_RIGHTS, &replaced), ZX_OK);
  EXPECT_FALSE(back.is_valid());
  EXPECT_FALSE(Valid(child_value));
  EXPECT_TRUE(Valid(replaced.get()));
  const zx_handle_t last = replaced.get();
  replaced.reset();
  EXPECT_FALSE(Valid(last));
}

TEST(LibZx, EventWaitsAndPortPackets) {
  zx::event event;
  zx::port port;
  ASSERT_EQ(zx::event::create(0, &event), ZX_OK);
  ASSERT_EQ(zx::port::create(0, &port), ZX_OK);
  zx_signals_t pending = 0;
  EXPECT_EQ(event.wait_one(ZX_USER_SIGNAL_0, zx::time::infinite_past(), &pending),
            ZX_ERR_TIMED_OUT);
  ASSERT_EQ(event.wait_async(port, 7, ZX_USER_SIGNAL_0, 0), ZX_OK);
  ASSERT_EQ(event.signal(0, ZX_USER_SIGNAL_0), ZX_OK);
  ASSERT_EQ(event.wait_one(ZX_USER_SIGNAL_0, zx::deadline_after(zx::sec(30)), &pending), ZX_OK);
  EXPECT_EQ(pending, ZX_USER_SIGNAL_0);
  zx_port_packet_t packet;
  ASSERT_EQ(port.wait(zx::deadline_after(zx::sec(30)), &packet), ZX_OK);
  EXPECT_EQ(packet.key, 7u);
  EXPECT_EQ(packet.type, ZX_PKT_TYPE_SIGNAL_ONE);
  EXPECT_EQ(packet.signal.trigger, ZX_USER_SIGNAL_0);
  EXPECT_EQ(packet.signal.observed, ZX_USER_SIGNAL_0);

  // cancel withdraws a wait that has not fired.
  ASSERT_EQ(event.wait_async(port, 8, ZX_USER_SIGNAL_1, 0), ZX_OK);
  ASSERT_EQ(port.cancel(event, 8), ZX_OK);
  ASSERT_EQ(event.signal(0, ZX_USER_SIGNAL_1), ZX_OK);
  EXPECT_EQ(port.wait(zx::time::infinite_past(), &packet), ZX_ERR_TIMED_OUT);

  zx_port_packet_t user{};
  user.key = 9;
  user.type = ZX_PKT_TYPE_USER;
  user.user.u64[0] = 0xfeed;
  ASSERT_EQ(port.queue(&user), ZX_OK);
  ASSERT_EQ(port.wait(zx::time::infinite(), &packet), ZX_OK);
  EXPECT_EQ(std::memcmp(&packet, &user, sizeof packet), 0);
}

zx::result<uint64_t> SizeOf(const zx::vmo& vmo) {
  uint64_t size = 0;
  return zx::make_result(vmo.get_size(&size), size);
}

TEST(LibZx, ResultAndTime) {
  zx::vmo vmo;
  ASSERT_EQ(zx::vmo::create(3 * kPage, 0, &vmo), ZX_OK);
  zx::result<uint64_t> size = SizeOf(vmo);
  ASSERT_TRUE(size.is_ok());
  EXPECT_EQ(size.status_value(), ZX_OK);
  EXPECT_EQ(*size, 3 * kPage);
  zx::result<uint64_t> bad = SizeOf(zx::vmo());
  ASSERT_TRUE(bad.is_error());
  EXPECT_EQ(bad.error_value(), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(bad.value_or(5u), 5u);
  EXPECT_EQ(std::string(bad.status_string()), "ZX_ERR_BAD_HANDLE");
  zx::result<> done = zx::make_result(ZX_OK);
  EXPECT_TRUE(done.is_ok());
  zx::result<> failed = zx::error(ZX_ERR_NO_MEMORY);
  EXPECT_EQ(failed.status_value(), ZX_ERR_NO_MEMORY);

  EXPECT_EQ(zx::msec(3).get(), 3'000'000);
  EXPECT_EQ((zx::sec(1) + zx::usec(2)).to_nsecs(), 1'000'002'000);
  EXPECT_EQ(zx::sec(INT64_MAX), zx::duration::infinite());  // saturates
  const zx::time before = zx::clock::get_monotonic();
  const zx::time deadline = zx::deadline_after(zx::msec(1));
  EXPECT_GE(deadline - before, zx::msec(1));
  EXPECT_EQ(zx::nanosleep(deadline), ZX_OK);
  EXPECT_GE(zx::clock::get_monotonic(), deadline);
  EXPECT_EQ(zx::time::infinite() + zx::sec(1), zx::time::infinite());
}

}  // namespace
