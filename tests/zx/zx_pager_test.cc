// zx_pager_*: page requests as Zircon's packets, byte for byte, and every call's checks in
// Zircon's order (docs/zircon-semantics.md section 11).
#include <gtest/gtest.h>
#include <zircon/syscalls-next.h>
#include <zircon/syscalls.h>

#include <cstring>
#include <thread>
#include <vector>

#include "zx_test_util.h"

namespace upager::zx::testing {
namespace {

constexpr uint64_t kPage = 4096;

zx_port_packet_t PageRequest(uint64_t key, uint16_t command, uint64_t offset, uint64_t length) {
  zx_port_packet_t p;
  std::memset(&p, 0, sizeof p);
  p.key = key;
  p.type = ZX_PKT_TYPE_PAGE_REQUEST;
  p.status = ZX_OK;
  p.page_request.command = command;
  p.page_request.offset = offset;
  p.page_request.length = length;
  return p;
}

void ExpectPacket(const zx_port_packet_t& got, const zx_port_packet_t& want) {
  EXPECT_EQ(got.key, want.key);
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.status, want.status);
  EXPECT_EQ(got.page_request.command, want.page_request.command);
  EXPECT_EQ(got.page_request.flags, 0);
  EXPECT_EQ(got.page_request.reserved0, 0u);
  EXPECT_EQ(got.page_request.offset, want.page_request.offset);
  EXPECT_EQ(got.page_request.length, want.page_request.length);
  EXPECT_EQ(got.page_request.reserved1, 0u);
  EXPECT_EQ(std::memcmp(&got, &want, sizeof got), 0);
}

class ZxPager : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(zx_pager_create(0, pager_.out()), ZX_OK);
    ASSERT_EQ(zx_port_create(0, port_.out()), ZX_OK);
    ASSERT_EQ(zx_pager_create_vmo(pager_.get(), 0, port_.get(), kKey, 4 * kPage, vmo_.out()),
              ZX_OK);
    ASSERT_EQ(zx_vmo_create(4 * kPage, 0, aux_.out()), ZX_OK);
    ASSERT_EQ(zx_vmo_create(kPage, 0, anon_.out()), ZX_OK);
    ASSERT_EQ(zx_event_create(0, event_.out()), ZX_OK);
  }

  // Fills aux [0, len) with `seed` bytes and supplies it at `offset`.
  void Supply(uint64_t offset, uint64_t len, uint8_t seed) {
    std::vector<uint8_t> bytes(len, seed);
    ASSERT_EQ(zx_vmo_write(aux_.get(), bytes.data(), 0, len), ZX_OK);
    ASSERT_EQ(zx_pager_supply_pages(pager_.get(), vmo_.get(), offset, len, aux_.get(), 0), ZX_OK);
  }

  static constexpr uint64_t kKey = 0xabcdef;
  Owned pager_, port_, vmo_, aux_, anon_, event_;
};

TEST_F(ZxPager, CreateChecks) {
  zx_handle_t out = ZX_HANDLE_INVALID;
  EXPECT_EQ(zx_pager_create(1, &out), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_pager_create(0, nullptr), ZX_ERR_INVALID_ARGS);
  // create_vmo: pager (type, ATTACH_VMO), port (type, WRITE), then options and size.
  EXPECT_EQ(zx_pager_create_vmo(kBogusHandle, 1u << 9, kBogusHandle, 0, kPage, &out),
            ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_pager_create_vmo(port_.get(), 0, port_.get(), 0, kPage, &out), ZX_ERR_WRONG_TYPE);
  zx_handle_t no_attach;
  ASSERT_EQ(zx_handle_replace(pager_.release(), ZX_RIGHT_MANAGE_VMO | ZX_RIGHT_INSPECT, &no_attach),
            ZX_OK);
  Owned owned_no_attach(no_attach);
  EXPECT_EQ(zx_pager_create_vmo(no_attach, 0, kBogusHandle, 0, kPage, &out), ZX_ERR_ACCESS_DENIED);
  Owned pager;
  ASSERT_EQ(zx_pager_create(0, pager.out()), ZX_OK);
  EXPECT_EQ(zx_pager_create_vmo(pager.get(), 1u << 9, kBogusHandle, 0, kPage, &out),
            ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_pager_create_vmo(pager.get(), 1u << 9, event_.get(), 0, kPage, &out),
            ZX_ERR_WRONG_TYPE);
  Owned port_ro = Without(port_.get(), ZX_RIGHT_WRITE);
  EXPECT_EQ(zx_pager_create_vmo(pager.get(), 1u << 9, port_ro.get(), 0, kPage, &out),
            ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_pager_create_vmo(pager.get(), 1u << 9, port_.get(), 0, kPage, &out),
            ZX_ERR_INVALID_ARGS);
  // Unknown bits are INVALID_ARGS even alongside ZX_VMO_UNBOUNDED (Fuchsia's
  // Pager.InvalidPagerCreateVmo passes ~0u).
  EXPECT_EQ(zx_pager_create_vmo(pager.get(), ~0u, port_.get(), 0, kPage, &out),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_pager_create_vmo(pager.get(), 0, port_.get(), 0, UINT64_MAX, &out),
            ZX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(out, ZX_HANDLE_INVALID);
  // A pager VMO: default VMO rights (+RESIZE when resizable), flagged pager-backed.
  Owned resizable;
  ASSERT_EQ(zx_pager_create_vmo(pager.get(), ZX_VMO_RESIZABLE | ZX_VMO_TRAP_DIRTY, port_.get(), 1,
                                kPage, resizable.out()),
            ZX_OK);
  EXPECT_EQ(RightsOf(resizable.get()), ZX_DEFAULT_VMO_RIGHTS | ZX_RIGHT_RESIZE);
  zx_info_vmo_t info{};
  ASSERT_EQ(zx_object_get_info(resizable.get(), ZX_INFO_VMO, &info, sizeof info, nullptr, nullptr),
            ZX_OK);
  EXPECT_EQ(info.flags, ZX_INFO_VMO_TYPE_PAGED | ZX_INFO_VMO_RESIZABLE | ZX_INFO_VMO_VIA_HANDLE |
                            ZX_INFO_VMO_PAGER_BACKED);
}

TEST_F(ZxPager, ReadRequestPacketAndSupply) {
  std::vector<uint8_t> got(kPage);
  zx_status_t read_status = ZX_ERR_INTERNAL;
  std::thread reader(
      [&] { read_status = zx_vmo_read(vmo_.get(), got.data(), 2 * kPage, got.size()); });
  zx_port_packet_t packet;
  ASSERT_EQ(zx_port_wait(port_.get(), zx_deadline_after(ZX_SEC(30)), &packet), ZX_OK);
  ExpectPacket(packet, PageRequest(kKey, ZX_PAGER_VMO_READ, 2 * kPage, kPage));
  Supply(2 * kPage, kPage, 0x5a);
  reader.join();
  ASSERT_EQ(read_status, ZX_OK);
  EXPECT_EQ(got, std::vector<uint8_t>(kPage, 0x5a));
  // The aux range is decommitted by the supply.
  zx_info_vmo_t info{};
  ASSERT_EQ(zx_object_get_info(aux_.get(), ZX_INFO_VMO, &info, sizeof info, nullptr, nullptr),
            ZX_OK);
  EXPECT_EQ(info.committed_bytes, 0u);
  // Detach: the last packet for the key is COMPLETE, offset and length 0.
  ASSERT_EQ(zx_pager_detach_vmo(pager_.get(), vmo_.get()), ZX_OK);
  ASSERT_EQ(zx_port_wait(port_.get(), zx_deadline_after(ZX_SEC(30)), &packet), ZX_OK);
  ExpectPacket(packet, PageRequest(kKey, ZX_PAGER_VMO_COMPLETE, 0, 0));
  EXPECT_EQ(zx_vmo_read(vmo_.get(), got.data(), 0, 1), ZX_ERR_BAD_STATE);
}

TEST_F(ZxPager, OpFailFailsTheRead) {
  char byte;
  zx_status_t read_status = ZX_ERR_INTERNAL;
  std::thread reader([&] { read_status = zx_vmo_read(vmo_.get(), &byte, 0, 1); });
  zx_port_packet_t packet;
  ASSERT_EQ(zx_port_wait(port_.get(), zx_deadline_after(ZX_SEC(30)), &packet), ZX_OK);
  ExpectPacket(packet, PageRequest(kKey, ZX_PAGER_VMO_READ, 0, kPage));
  ASSERT_EQ(zx_pager_op_range(pager_.get(), ZX_PAGER_OP_FAIL, vmo_.get(), 0, kPage,
                              static_cast<uint64_t>(ZX_ERR_IO_DATA_INTEGRITY)),
            ZX_OK);
  reader.join();
  EXPECT_EQ(read_status, ZX_ERR_IO_DATA_INTEGRITY);
}

TEST_F(ZxPager, SupplyPagesChecksInOrder) {
  // Alignment first, before any handle.
  EXPECT_EQ(zx_pager_supply_pages(kBogusHandle, kBogusHandle, 1, kPage, kBogusHandle, 0),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_pager_supply_pages(kBogusHandle, kBogusHandle, 0, 1, kBogusHandle, 0),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_pager_supply_pages(kBogusHandle, kBogusHandle, 0, kPage, kBogusHandle, 1),
            ZX_ERR_INVALID_ARGS);
  // The pager, then the VMO, then "this pager's VMO", then aux.
  EXPECT_EQ(zx_pager_supply_pages(kBogusHandle, kBogusHandle, 0, kPage, kBogusHandle, 0),
            ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_pager_supply_pages(port_.get(), kBogusHandle, 0, kPage, kBogusHandle, 0),
            ZX_ERR_WRONG_TYPE);
  EXPECT_EQ(zx_pager_supply_pages(pager_.get(), kBogusHandle, 0, kPage, kBogusHandle, 0),
            ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_pager_supply_pages(pager_.get(), port_.get(), 0, kPage, kBogusHandle, 0),
            ZX_ERR_WRONG_TYPE);
  Owned ro = Without(vmo_.get(), ZX_RIGHT_WRITE);
  EXPECT_EQ(zx_pager_supply_pages(pager_.get(), ro.get(), 0, kPage, kBogusHandle, 0),
            ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_pager_supply_pages(pager_.get(), anon_.get(), 0, kPage, kBogusHandle, 0),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_pager_supply_pages(pager_.get(), vmo_.get(), 0, kPage, kBogusHandle, 0),
            ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_pager_supply_pages(pager_.get(), vmo_.get(), 0, kPage, event_.get(), 0),
            ZX_ERR_WRONG_TYPE);
  Owned aux_ro = Without(aux_.get(), ZX_RIGHT_WRITE);
  EXPECT_EQ(zx_pager_supply_pages(pager_.get(), vmo_.get(), 0, kPage, aux_ro.get(), 0),
            ZX_ERR_ACCESS_DENIED);
  Owned aux_wo = Without(aux_.get(), ZX_RIGHT_READ);
  EXPECT_EQ(zx_pager_supply_pages(pager_.get(), vmo_.get(), 0, kPage, aux_wo.get(), 0),
            ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_pager_supply_pages(pager_.get(), vmo_.get(), 0, kPage, aux_.get(), 4 * kPage),
            ZX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(zx_pager_supply_pages(pager_.get(), vmo_.get(), 4 * kPage, kPage, aux_.get(), 0),
            ZX_ERR_OUT_OF_RANGE);
  // A pager's handle without MANAGE_VMO (replace drops it; a pager handle cannot duplicate).
  zx_handle_t attach_only;
  ASSERT_EQ(zx_handle_replace(pager_.release(), ZX_RIGHT_ATTACH_VMO, &attach_only), ZX_OK);
  Owned owned(attach_only);
  EXPECT_EQ(zx_pager_supply_pages(attach_only, kBogusHandle, 0, kPage, kBogusHandle, 0),
            ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_pager_op_range(attach_only, ZX_PAGER_OP_FAIL, kBogusHandle, 0, kPage, 0),
            ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_pager_detach_vmo(attach_only, kBogusHandle), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_pager_query_vmo_stats(attach_only, kBogusHandle, 0, nullptr, 0),
            ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_pager_query_dirty_ranges(attach_only, kBogusHandle, 0, kPage, nullptr, 0, nullptr,
                                        nullptr),
            ZX_ERR_ACCESS_DENIED);
}

TEST_F(ZxPager, ForeignVmoOfAnotherPagerIsInvalidArgs) {
  Owned other_pager, other_vmo;
  ASSERT_EQ(zx_pager_create(0, other_pager.out()), ZX_OK);
  ASSERT_EQ(zx_pager_create_vmo(other_pager.get(), 0, port_.get(), 1, kPage, other_vmo.out()),
            ZX_OK);
  EXPECT_EQ(zx_pager_supply_pages(pager_.get(), other_vmo.get(), 0, kPage, aux_.get(), 0),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_pager_op_range(pager_.get(), ZX_PAGER_OP_FAIL, other_vmo.get(), 0, kPage,
                              static_cast<uint64_t>(ZX_ERR_IO)),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_pager_detach_vmo(pager_.get(), other_vmo.get()), ZX_ERR_INVALID_ARGS);
  zx_pager_vmo_stats_t stats{};
  EXPECT_EQ(zx_pager_query_vmo_stats(pager_.get(), other_vmo.get(), 0, &stats, sizeof stats),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_pager_query_dirty_ranges(pager_.get(), other_vmo.get(), 0, kPage, nullptr, 0,
                                        nullptr, nullptr),
            ZX_ERR_INVALID_ARGS);
  // A duplicate of this pager's VMO is still this pager's.
  Owned dup;
  ASSERT_EQ(zx_handle_duplicate(vmo_.get(), ZX_RIGHT_SAME_RIGHTS, dup.out()), ZX_OK);
  EXPECT_EQ(zx_pager_query_vmo_stats(pager_.get(), dup.get(), 0, &stats, sizeof stats), ZX_OK);
}

TEST_F(ZxPager, DetachChecksInOrder) {
  EXPECT_EQ(zx_pager_detach_vmo(kBogusHandle, kBogusHandle), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_pager_detach_vmo(vmo_.get(), vmo_.get()), ZX_ERR_WRONG_TYPE);
  EXPECT_EQ(zx_pager_detach_vmo(pager_.get(), kBogusHandle), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_pager_detach_vmo(pager_.get(), pager_.get()), ZX_ERR_WRONG_TYPE);
  Owned ro = Without(vmo_.get(), ZX_RIGHT_WRITE);
  EXPECT_EQ(zx_pager_detach_vmo(pager_.get(), ro.get()), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_pager_detach_vmo(pager_.get(), anon_.get()), ZX_ERR_INVALID_ARGS);
  // Idempotent: the second detach is fine too, and only one COMPLETE is queued.
  EXPECT_EQ(zx_pager_detach_vmo(pager_.get(), vmo_.get()), ZX_OK);
  EXPECT_EQ(zx_pager_detach_vmo(pager_.get(), vmo_.get()), ZX_OK);
  zx_port_packet_t packet;
  ASSERT_EQ(zx_port_wait(port_.get(), zx_deadline_after(ZX_SEC(30)), &packet), ZX_OK);
  ExpectPacket(packet, PageRequest(kKey, ZX_PAGER_VMO_COMPLETE, 0, 0));
  EXPECT_EQ(zx_port_wait(port_.get(), 0, &packet), ZX_ERR_TIMED_OUT);
  // A pager handle with MANAGE_VMO but not ATTACH_VMO cannot detach.
  zx_handle_t manage_only;
  ASSERT_EQ(zx_handle_replace(pager_.release(), ZX_RIGHT_MANAGE_VMO, &manage_only), ZX_OK);
  Owned owned(manage_only);
  EXPECT_EQ(zx_pager_detach_vmo(manage_only, vmo_.get()), ZX_ERR_ACCESS_DENIED);
}

TEST_F(ZxPager, OpRangeChecksInOrder) {
  EXPECT_EQ(zx_pager_op_range(kBogusHandle, 99, kBogusHandle, 1, kPage, 0), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_pager_op_range(kBogusHandle, 99, kBogusHandle, 0, kPage, 0), ZX_ERR_BAD_HANDLE);
  Owned ro = Without(vmo_.get(), ZX_RIGHT_WRITE);
  EXPECT_EQ(zx_pager_op_range(pager_.get(), 99, ro.get(), 0, kPage, 0), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_pager_op_range(pager_.get(), 99, anon_.get(), 0, kPage, 0), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_pager_op_range(pager_.get(), 99, vmo_.get(), 0, kPage, 0), ZX_ERR_NOT_SUPPORTED);
  EXPECT_EQ(zx_pager_op_range(pager_.get(), ZX_PAGER_OP_FAIL, vmo_.get(), 0, kPage, 1),
            ZX_ERR_INVALID_ARGS);  // not a failure code
  EXPECT_EQ(zx_pager_op_range(pager_.get(), ZX_PAGER_OP_DIRTY, vmo_.get(), 0, kPage, 0),
            ZX_ERR_NOT_SUPPORTED);  // no ZX_VMO_TRAP_DIRTY
  EXPECT_EQ(zx_pager_op_range(pager_.get(), ZX_PAGER_OP_FAIL, vmo_.get(), 4 * kPage, kPage,
                              static_cast<uint64_t>(ZX_ERR_IO)),
            ZX_ERR_OUT_OF_RANGE);
}

TEST_F(ZxPager, WritebackQueriesAndStats) {
  Supply(0, 2 * kPage, 0x11);
  const uint8_t byte = 0x22;
  ASSERT_EQ(zx_vmo_write(vmo_.get(), &byte, kPage + 5, 1), ZX_OK);
  zx_vmo_dirty_range_t ranges[4];
  size_t actual = 0, avail = 0;
  ASSERT_EQ(zx_pager_query_dirty_ranges(pager_.get(), vmo_.get(), 0, 4 * kPage, ranges,
                                        sizeof ranges, &actual, &avail),
            ZX_OK);
  ASSERT_EQ(actual, 1u);
  EXPECT_EQ(avail, 1u);
  EXPECT_EQ(ranges[0].offset, kPage);
  EXPECT_EQ(ranges[0].length, kPage);
  EXPECT_EQ(ranges[0].options, 0u);
  zx_pager_vmo_stats_t stats{};
  Owned vmo_noread = Without(vmo_.get(), ZX_RIGHT_READ);
  EXPECT_EQ(zx_pager_query_vmo_stats(pager_.get(), vmo_noread.get(), 0, &stats, sizeof stats),
            ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_pager_query_dirty_ranges(pager_.get(), vmo_noread.get(), 0, kPage, nullptr, 0,
                                        nullptr, nullptr),
            ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_pager_query_vmo_stats(pager_.get(), vmo_.get(), 0, &stats, sizeof stats - 1),
            ZX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(zx_pager_query_vmo_stats(pager_.get(), vmo_.get(), 7, &stats, sizeof stats),
            ZX_ERR_INVALID_ARGS);
  ASSERT_EQ(zx_pager_query_vmo_stats(pager_.get(), vmo_.get(), ZX_PAGER_RESET_VMO_STATS, &stats,
                                     sizeof stats),
            ZX_OK);
  EXPECT_EQ(stats.modified, ZX_PAGER_VMO_STATS_MODIFIED);
  ASSERT_EQ(zx_pager_query_vmo_stats(pager_.get(), vmo_.get(), 0, &stats, sizeof stats), ZX_OK);
  EXPECT_EQ(stats.modified, 0u);
  ASSERT_EQ(
      zx_pager_op_range(pager_.get(), ZX_PAGER_OP_WRITEBACK_BEGIN, vmo_.get(), kPage, kPage, 0),
      ZX_OK);
  ASSERT_EQ(zx_pager_op_range(pager_.get(), ZX_PAGER_OP_WRITEBACK_END, vmo_.get(), kPage, kPage, 0),
            ZX_OK);
  ASSERT_EQ(zx_pager_query_dirty_ranges(pager_.get(), vmo_.get(), 0, 4 * kPage, ranges,
                                        sizeof ranges, &actual, &avail),
            ZX_OK);
  EXPECT_EQ(actual, 0u);
  EXPECT_EQ(avail, 0u);
}

TEST_F(ZxPager, ClosingTheLastVmoHandleSendsComplete) {
  zx_handle_t dup;
  ASSERT_EQ(zx_handle_duplicate(vmo_.get(), ZX_RIGHT_SAME_RIGHTS, &dup), ZX_OK);
  ASSERT_EQ(zx_handle_close(vmo_.release()), ZX_OK);
  zx_port_packet_t packet;
  EXPECT_EQ(zx_port_wait(port_.get(), 0, &packet), ZX_ERR_TIMED_OUT);  // one handle remains
  ASSERT_EQ(zx_handle_close(dup), ZX_OK);
  ASSERT_EQ(zx_port_wait(port_.get(), zx_deadline_after(ZX_SEC(30)), &packet), ZX_OK);
  ExpectPacket(packet, PageRequest(kKey, ZX_PAGER_VMO_COMPLETE, 0, 0));
}

}  // namespace
}  // namespace upager::zx::testing
