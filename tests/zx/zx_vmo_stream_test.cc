// ZX_VMO_UNBOUNDED (zx_vmo_create, zx_pager_create_vmo) and zx_vmo_get/set_stream_size:
// sizes, rights and argument checks in Zircon's order, and a pager's packets for a shrink.
#include <gtest/gtest.h>
#include <lib/zx/vmo.h>
#include <zircon/syscalls-next.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/port.h>

#include <cstring>
#include <thread>
#include <vector>

#include "upager/vmo.h"
#include "zx_test_util.h"

namespace upager::zx::testing {
namespace {

constexpr uint64_t kPage = 4096;

TEST(ZxVmoStream, UnboundedCreate) {
  zx_handle_t out = ZX_HANDLE_INVALID;
  EXPECT_EQ(zx_vmo_create(0, ZX_VMO_UNBOUNDED | ZX_VMO_RESIZABLE, &out), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmo_create(UINT64_MAX, ZX_VMO_UNBOUNDED, &out), ZX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(out, ZX_HANDLE_INVALID);
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(kPage + 3, ZX_VMO_UNBOUNDED, vmo.out()), ZX_OK);
  uint64_t size = 0;
  ASSERT_EQ(zx_vmo_get_size(vmo.get(), &size), ZX_OK);
  EXPECT_EQ(size, upager::kMaxVmoSize);
  ASSERT_EQ(zx_vmo_get_stream_size(vmo.get(), &size), ZX_OK);
  EXPECT_EQ(size, kPage + 3);
  EXPECT_EQ(RightsOf(vmo.get()) & ZX_RIGHT_RESIZE, 0u);
  EXPECT_EQ(zx_vmo_set_size(vmo.get(), kPage), ZX_ERR_UNAVAILABLE);
  // Far into it: written and read back.
  const uint64_t far = upager::kMaxVmoSize - 8;
  const uint64_t word = 0x0123456789abcdefull;
  ASSERT_EQ(zx_vmo_write(vmo.get(), &word, far, sizeof word), ZX_OK);
  uint64_t back = 0;
  ASSERT_EQ(zx_vmo_read(vmo.get(), &back, far, sizeof back), ZX_OK);
  EXPECT_EQ(back, word);
  zx_info_vmo_t info{};
  ASSERT_EQ(zx_object_get_info(vmo.get(), ZX_INFO_VMO, &info, sizeof info, nullptr, nullptr),
            ZX_OK);
  EXPECT_EQ(info.size_bytes, upager::kMaxVmoSize);
  EXPECT_EQ(info.committed_bytes, kPage);
}

TEST(ZxVmoStream, GetAndSetChecks) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(kPage, 0, vmo.out()), ZX_OK);
  uint64_t size = 0;
  EXPECT_EQ(zx_vmo_get_stream_size(kBogusHandle, &size), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_vmo_set_stream_size(kBogusHandle, 0), ZX_ERR_BAD_HANDLE);
  Owned event;
  ASSERT_EQ(zx_event_create(0, event.out()), ZX_OK);
  EXPECT_EQ(zx_vmo_get_stream_size(event.get(), &size), ZX_ERR_WRONG_TYPE);
  EXPECT_EQ(zx_vmo_set_stream_size(event.get(), 0), ZX_ERR_WRONG_TYPE);
  Owned no_read = Without(vmo.get(), ZX_RIGHT_READ);
  Owned no_write = Without(vmo.get(), ZX_RIGHT_WRITE);
  EXPECT_EQ(zx_vmo_get_stream_size(no_read.get(), nullptr), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_vmo_get_stream_size(vmo.get(), nullptr), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmo_set_stream_size(no_write.get(), 0), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_vmo_set_stream_size(vmo.get(), kPage + 1), ZX_ERR_OUT_OF_RANGE);
  ASSERT_EQ(zx_vmo_set_stream_size(vmo.get(), 10), ZX_OK);
  ASSERT_EQ(zx_vmo_get_stream_size(no_write.get(), &size), ZX_OK);
  EXPECT_EQ(size, 10u);

  // A resizable VMO grows with its stream size, which needs ZX_RIGHT_RESIZE.
  Owned resizable;
  ASSERT_EQ(zx_vmo_create(kPage, ZX_VMO_RESIZABLE, resizable.out()), ZX_OK);
  Owned no_resize = Without(resizable.get(), ZX_RIGHT_RESIZE);
  EXPECT_EQ(zx_vmo_set_stream_size(no_resize.get(), 3 * kPage), ZX_ERR_ACCESS_DENIED);
  ASSERT_EQ(zx_vmo_set_stream_size(resizable.get(), 3 * kPage - 1), ZX_OK);
  ASSERT_EQ(zx_vmo_get_size(resizable.get(), &size), ZX_OK);
  EXPECT_EQ(size, 3 * kPage);
  ASSERT_EQ(zx_vmo_get_stream_size(resizable.get(), &size), ZX_OK);
  EXPECT_EQ(size, 3 * kPage - 1);
}

// lib/zx's spelling, and a shrink that zeroes, on an anonymous unbounded VMO.
TEST(ZxVmoStream, LibZxShrinkZeroes) {
  ::zx::vmo vmo;
  ASSERT_EQ(::zx::vmo::create(2 * kPage, ZX_VMO_UNBOUNDED, &vmo), ZX_OK);
  std::vector<uint8_t> data(2 * kPage, 0x6b);
  ASSERT_EQ(vmo.write(data.data(), 0, data.size()), ZX_OK);
  ASSERT_EQ(vmo.set_stream_size(5), ZX_OK);
  uint64_t size = 0;
  ASSERT_EQ(vmo.get_stream_size(&size), ZX_OK);
  EXPECT_EQ(size, 5u);
  ASSERT_EQ(vmo.set_stream_size(2 * kPage), ZX_OK);
  std::vector<uint8_t> got(2 * kPage);
  ASSERT_EQ(vmo.read(got.data(), 0, got.size()), ZX_OK);
  std::vector<uint8_t> expected(2 * kPage, 0);
  std::memset(expected.data(), 0x6b, 5);
  EXPECT_EQ(got, expected);
}

// A pager-backed unbounded VMO: the shrink's partial page is read first (a READ packet), and
// the whole pages become a dirty zero range.
TEST(ZxVmoStream, PagerUnboundedShrink) {
  Owned pager, port, vmo;
  ASSERT_EQ(zx_pager_create(0, pager.out()), ZX_OK);
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  ASSERT_EQ(zx_pager_create_vmo(pager.get(), ZX_VMO_UNBOUNDED, port.get(), 9, 3 * kPage, vmo.out()),
            ZX_OK);
  uint64_t size = 0;
  ASSERT_EQ(zx_vmo_get_size(vmo.get(), &size), ZX_OK);
  EXPECT_EQ(size, upager::kMaxVmoSize);
  EXPECT_EQ(zx_pager_create_vmo(pager.get(), ZX_VMO_UNBOUNDED | ZX_VMO_RESIZABLE, port.get(), 9,
                                kPage, nullptr),
            ZX_ERR_INVALID_ARGS);

  zx_status_t shrink = ZX_ERR_INTERNAL;
  std::thread t([&] { shrink = zx_vmo_set_stream_size(vmo.get(), 100); });
  zx_port_packet_t packet;
  ASSERT_EQ(zx_port_wait(port.get(), zx_deadline_after(ZX_SEC(10)), &packet), ZX_OK);
  zx_port_packet_t expected;
  std::memset(&expected, 0, sizeof expected);
  expected.key = 9;
  expected.type = ZX_PKT_TYPE_PAGE_REQUEST;
  expected.page_request.command = ZX_PAGER_VMO_READ;
  expected.page_request.offset = 0;
  expected.page_request.length = kPage;
  EXPECT_EQ(std::memcmp(&packet, &expected, sizeof packet), 0);
  Owned aux;
  ASSERT_EQ(zx_vmo_create(kPage, 0, aux.out()), ZX_OK);
  std::vector<uint8_t> page(kPage, 0x5a);
  ASSERT_EQ(zx_vmo_write(aux.get(), page.data(), 0, kPage), ZX_OK);
  ASSERT_EQ(zx_pager_supply_pages(pager.get(), vmo.get(), 0, kPage, aux.get(), 0), ZX_OK);
  t.join();
  EXPECT_EQ(shrink, ZX_OK);
  EXPECT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_ERR_TIMED_OUT);

  zx_vmo_dirty_range_t ranges[4];
  size_t actual = 0;
  size_t avail = 0;
  ASSERT_EQ(zx_pager_query_dirty_ranges(pager.get(), vmo.get(), 0, 3 * kPage, ranges, sizeof ranges,
                                        &actual, &avail),
            ZX_OK);
  ASSERT_EQ(actual, 2u);
  EXPECT_EQ(ranges[0].offset, 0u);
  EXPECT_EQ(ranges[0].length, kPage);
  EXPECT_EQ(ranges[0].options, 0u);
  EXPECT_EQ(ranges[1].offset, kPage);
  EXPECT_EQ(ranges[1].length, 2 * kPage);
  EXPECT_EQ(ranges[1].options, ZX_VMO_DIRTY_RANGE_IS_ZERO);
  std::vector<uint8_t> got(kPage);
  ASSERT_EQ(zx_vmo_read(vmo.get(), got.data(), 0, kPage), ZX_OK);
  std::memset(page.data() + 100, 0, kPage - 100);
  EXPECT_EQ(got, page);
}

}  // namespace
}  // namespace upager::zx::testing
