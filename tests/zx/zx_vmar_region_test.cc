// zx_vmar_allocate / destroy / map (SPECIFIC, SPECIFIC_OVERWRITE, MAP_RANGE) / unmap and
// protect of parts / op_range: the checks in Zircon's order with their statuses, and the
// behaviour of Zircon's VmarRemapTest and VmarMapRangeTest with exact packets and bytes.
#include <gtest/gtest.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/object.h>

#include <cstring>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "../mapping_util.h"
#include "../skip.h"
#include "../test_util.h"
#include "upager/mapping.h"
#include "upager/thread.h"
#include "zx_test_util.h"

namespace upager::zx::testing {
namespace {

using ::upager::testing::Probe;
using ::upager::testing::ProbeLoad;
using ::upager::testing::ProbeStore;

constexpr uint64_t kPage = 4096;

// The byte pattern a test supplies for page `page` of the VMO with key `key`.
uint8_t PatternByte(uint64_t key, uint64_t page, uint64_t i) {
  return static_cast<uint8_t>(key * 31 + page * 7 + i % 251);
}

class ZxVmarRegion : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (upager::MappingSupport(&why) != upager::Status::kOk) UPAGER_SKIP_OR_FAIL(why);
    ASSERT_EQ(zx_pager_create(0, pager_.out()), ZX_OK);
    ASSERT_EQ(zx_port_create(0, port_.out()), ZX_OK);
  }
  Owned PagedVmo(uint64_t key, uint64_t pages) {
    Owned vmo;
    EXPECT_EQ(zx_pager_create_vmo(pager_.get(), 0, port_.get(), key, pages * kPage, vmo.out()),
              ZX_OK);
    return vmo;
  }
  void Supply(zx_handle_t vmo, uint64_t key, uint64_t first, uint64_t count) {
    Owned aux;
    ASSERT_EQ(zx_vmo_create(count * kPage, 0, aux.out()), ZX_OK);
    std::vector<uint8_t> bytes(count * kPage);
    for (uint64_t i = 0; i < bytes.size(); ++i) {
      bytes[i] = PatternByte(key, first + i / kPage, i % kPage);
    }
    ASSERT_EQ(zx_vmo_write(aux.get(), bytes.data(), 0, bytes.size()), ZX_OK);
    ASSERT_EQ(zx_pager_supply_pages(pager_.get(), vmo, first * kPage, count * kPage, aux.get(), 0),
              ZX_OK);
  }
  // The next packet must be a READ of exactly [first, first+count) pages of `key`.
  void ExpectRead(uint64_t key, uint64_t first, uint64_t count) {
    zx_port_packet_t packet{};
    ASSERT_EQ(zx_port_wait(port_.get(), zx_deadline_after(ZX_SEC(30)), &packet), ZX_OK);
    EXPECT_EQ(packet.key, key);
    EXPECT_EQ(packet.type, ZX_PKT_TYPE_PAGE_REQUEST);
    EXPECT_EQ(packet.page_request.command, ZX_PAGER_VMO_READ);
    EXPECT_EQ(packet.page_request.offset, first * kPage);
    EXPECT_EQ(packet.page_request.length, count * kPage);
  }
  void ExpectNoPacket() {
    zx_port_packet_t packet{};
    EXPECT_EQ(zx_port_wait(port_.get(), 0, &packet), ZX_ERR_TIMED_OUT);
  }
  bool PageIs(zx_vaddr_t addr, uint64_t key, uint64_t page) {
    const auto* p = reinterpret_cast<const uint8_t*>(addr);
    for (uint64_t i = 0; i < kPage; ++i) {
      if (p[i] != PatternByte(key, page, i)) return false;
    }
    return true;
  }
  Owned pager_, port_;
};

constexpr zx_vm_option_t kRw = ZX_VM_PERM_READ | ZX_VM_PERM_WRITE;
constexpr zx_vm_option_t kCanRw = ZX_VM_CAN_MAP_READ | ZX_VM_CAN_MAP_WRITE;

TEST_F(ZxVmarRegion, AllocateChecksInOrder) {
  const zx_handle_t root = zx_vmar_root_self();
  Owned child;
  zx_vaddr_t addr = 0;
  Owned event;
  ASSERT_EQ(zx_event_create(0, event.out()), ZX_OK);
  EXPECT_EQ(zx_vmar_allocate(kBogusHandle, kCanRw, 0, kPage, child.out(), &addr),
            ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_vmar_allocate(event.get(), kCanRw, 0, kPage, child.out(), &addr), ZX_ERR_WRONG_TYPE);
  Owned root_ro = Without(root, ZX_RIGHT_WRITE);
  EXPECT_EQ(zx_vmar_allocate(root_ro.get(), kCanRw, 0, kPage, child.out(), &addr),
            ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_vmar_allocate(root, kCanRw | (1u << 20), 0, kPage, child.out(), &addr),
            ZX_ERR_INVALID_ARGS);  // an unknown option
  EXPECT_EQ(zx_vmar_allocate(root, kCanRw | (5u << ZX_VM_ALIGN_BASE), 0, kPage, child.out(), &addr),
            ZX_ERR_INVALID_ARGS);  // an alignment under 1 KiB
  EXPECT_EQ(zx_vmar_allocate(root, kCanRw | ZX_VM_PERM_READ, 0, kPage, child.out(), &addr),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_allocate(root, kCanRw, 0, kPage + 1, child.out(), &addr), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_allocate(root, kCanRw | ZX_VM_SPECIFIC_OVERWRITE, 0, kPage, child.out(), &addr),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_allocate(root, kCanRw, 0, 0, child.out(), &addr), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_allocate(root, kCanRw, kPage, kPage, child.out(), &addr), ZX_ERR_INVALID_ARGS);
  // In a region without CAN_MAP_SPECIFIC or CAN_MAP_WRITE.
  Owned region;
  zx_vaddr_t base = 0;
  ASSERT_EQ(zx_vmar_allocate(root, ZX_VM_CAN_MAP_READ, 0, 4 * kPage, region.out(), &base), ZX_OK);
  EXPECT_EQ(RightsOf(region.get()), ZX_DEFAULT_VMAR_RIGHTS | ZX_RIGHT_READ);
  EXPECT_EQ(zx_vmar_allocate(region.get(), ZX_VM_CAN_MAP_READ | ZX_VM_SPECIFIC, 0, kPage,
                             child.out(), &addr),
            ZX_ERR_ACCESS_DENIED);
  Owned wide;
  ASSERT_EQ(
      zx_vmar_allocate(root, kCanRw | ZX_VM_CAN_MAP_SPECIFIC, 0, 4 * kPage, wide.out(), &base),
      ZX_OK);
  EXPECT_EQ(
      zx_vmar_allocate(wide.get(), kCanRw | ZX_VM_CAN_MAP_EXECUTE, 0, kPage, child.out(), &addr),
      ZX_ERR_ACCESS_DENIED);  // the handle has no ZX_RIGHT_EXECUTE
  EXPECT_EQ(
      zx_vmar_allocate(wide.get(), kCanRw | ZX_VM_SPECIFIC, 4 * kPage, kPage, child.out(), &addr),
      ZX_ERR_INVALID_ARGS);  // past the end
  EXPECT_EQ(
      zx_vmar_allocate(wide.get(), kCanRw | ZX_VM_SPECIFIC, kPage + 1, kPage, child.out(), &addr),
      ZX_ERR_INVALID_ARGS);
  Owned a;
  ASSERT_EQ(zx_vmar_allocate(wide.get(), kCanRw | ZX_VM_SPECIFIC, kPage, 2 * kPage, a.out(), &addr),
            ZX_OK);
  EXPECT_EQ(addr, base + kPage);
  EXPECT_EQ(
      zx_vmar_allocate(wide.get(), kCanRw | ZX_VM_SPECIFIC, 2 * kPage, kPage, child.out(), &addr),
      ZX_ERR_ALREADY_EXISTS);
  Owned b, c;
  ASSERT_EQ(zx_vmar_allocate(wide.get(), kCanRw, 0, kPage, b.out(), &addr), ZX_OK);
  EXPECT_EQ(addr, base);  // the first free spot
  ASSERT_EQ(zx_vmar_allocate(wide.get(), kCanRw, 0, kPage, c.out(), &addr), ZX_OK);
  EXPECT_EQ(addr, base + 3 * kPage);
  EXPECT_EQ(zx_vmar_allocate(wide.get(), kCanRw, 0, kPage, child.out(), &addr),
            ZX_ERR_NO_RESOURCES);
  EXPECT_EQ(child.get(), ZX_HANDLE_INVALID);
  // ZX_INFO_VMAR.
  zx_info_vmar_t info{};
  ASSERT_EQ(zx_object_get_info(a.get(), ZX_INFO_VMAR, &info, sizeof info, nullptr, nullptr), ZX_OK);
  EXPECT_EQ(info.base, base + kPage);
  EXPECT_EQ(info.len, 2 * kPage);
  EXPECT_EQ(zx_vmar_destroy(wide.get()), ZX_OK);
  EXPECT_EQ(zx_vmar_destroy(a.get()), ZX_ERR_BAD_STATE);  // destroyed with its parent
  EXPECT_EQ(zx_vmar_destroy(region.get()), ZX_OK);
  EXPECT_EQ(zx_vmar_destroy(root), ZX_ERR_NOT_SUPPORTED);
  Owned no_op = Without(root, ZX_RIGHT_OP_CHILDREN);
  EXPECT_EQ(zx_vmar_destroy(no_op.get()), ZX_ERR_ACCESS_DENIED);
}

TEST_F(ZxVmarRegion, MapInARegionFaultsThroughThePagerAndDestroyUnmaps) {
  Owned vmo = PagedVmo(1, 2);
  Owned region;
  zx_vaddr_t base = 0;
  ASSERT_EQ(zx_vmar_allocate(zx_vmar_root_self(), kCanRw | ZX_VM_CAN_MAP_SPECIFIC, 0, 8 * kPage,
                             region.out(), &base),
            ZX_OK);
  zx_vaddr_t addr = 0;
  EXPECT_EQ(zx_vmar_map(region.get(), ZX_VM_PERM_READ | ZX_VM_SPECIFIC, 7 * kPage, vmo.get(), 0,
                        2 * kPage, &addr),
            ZX_ERR_INVALID_ARGS);  // does not fit
  ASSERT_EQ(
      zx_vmar_map(region.get(), kRw | ZX_VM_SPECIFIC, 3 * kPage, vmo.get(), 0, 2 * kPage, &addr),
      ZX_OK);
  EXPECT_EQ(addr, base + 3 * kPage);
  zx_vaddr_t other = 0;
  EXPECT_EQ(zx_vmar_map(region.get(), ZX_VM_PERM_READ | ZX_VM_SPECIFIC, 4 * kPage, vmo.get(), 0,
                        kPage, &other),
            ZX_ERR_ALREADY_EXISTS);
  bool ok = false;
  std::thread reader([&] { ok = PageIs(addr + kPage, 1, 1); });
  ExpectRead(1, 1, 1);
  Supply(vmo.get(), 1, 1, 1);
  reader.join();
  EXPECT_TRUE(ok);
  ExpectNoPacket();
  // Destroyed: the mapping goes, and every call on the handle says so.
  ASSERT_EQ(zx_vmar_destroy(region.get()), ZX_OK);
  uint64_t value = 0;
  EXPECT_EQ(ProbeLoad(reinterpret_cast<void*>(addr + kPage), &value).signo, SIGSEGV);
  EXPECT_EQ(zx_vmar_map(region.get(), ZX_VM_PERM_READ, 0, vmo.get(), 0, kPage, &other),
            ZX_ERR_BAD_STATE);
  Owned child;
  EXPECT_EQ(zx_vmar_allocate(region.get(), ZX_VM_CAN_MAP_READ, 0, kPage, child.out(), &other),
            ZX_ERR_BAD_STATE);
  EXPECT_EQ(zx_vmar_unmap(region.get(), base, kPage), ZX_ERR_BAD_STATE);
  EXPECT_EQ(zx_vmar_protect(region.get(), ZX_VM_PERM_READ, base, kPage), ZX_ERR_BAD_STATE);
  EXPECT_EQ(zx_vmar_op_range(region.get(), ZX_VMAR_OP_MAP_RANGE, base, kPage, nullptr, 0),
            ZX_ERR_BAD_STATE);
  EXPECT_EQ(zx_vmar_destroy(region.get()), ZX_ERR_BAD_STATE);
  ExpectNoPacket();
}

// Zircon's VmarRemapTest, through the root VMAR and ZX_INFO_VMAR.
TEST_F(ZxVmarRegion, OverwriteMovesBlockedFaultsToTheNewMapping) {
  constexpr uint64_t kPages = 8;
  Owned vmo1 = PagedVmo(1, kPages);
  Owned vmo2 = PagedVmo(2, kPages);
  const zx_handle_t root = zx_vmar_root_self();
  zx_vaddr_t addr = 0;
  ASSERT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ, 0, vmo1.get(), 0, kPages * kPage, &addr), ZX_OK);
  std::vector<std::thread> threads;
  std::vector<ThreadHandle> handles(kPages);
  bool ok[kPages] = {};
  for (uint64_t t = 0; t < kPages; ++t) {
    std::promise<ThreadHandle> started;
    auto handle = started.get_future();
    threads.emplace_back([&, t, started = std::move(started)]() mutable {
      started.set_value(ThreadHandle::Current());
      ok[t] = PageIs(addr + t * kPage, 2, t);
    });
    handles[t] = handle.get();
    ExpectRead(1, t, 1);
    ASSERT_TRUE(upager::testing::WaitForBlocked(handles[t]));
  }
  zx_info_vmar_t info{};
  ASSERT_EQ(zx_object_get_info(root, ZX_INFO_VMAR, &info, sizeof info, nullptr, nullptr), ZX_OK);
  zx_vaddr_t new_addr = 0;
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, addr - info.base, vmo2.get(), 0,
                        kPages * kPage, &new_addr),
            ZX_ERR_ALREADY_EXISTS);
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ | ZX_VM_SPECIFIC_OVERWRITE | ZX_VM_MAP_RANGE,
                        addr - info.base, vmo2.get(), 0, kPages * kPage, &new_addr),
            ZX_ERR_INVALID_ARGS);
  ASSERT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ | ZX_VM_SPECIFIC_OVERWRITE, addr - info.base,
                        vmo2.get(), 0, kPages * kPage, &new_addr),
            ZX_OK);
  EXPECT_EQ(new_addr, addr);
  // vmo1's pages leave the threads blocked: they now read vmo2.
  Supply(vmo1.get(), 1, 0, kPages);
  for (uint64_t t = 0; t < kPages; ++t) {
    zx_port_packet_t packet{};
    ASSERT_EQ(zx_port_wait(port_.get(), zx_deadline_after(ZX_SEC(30)), &packet), ZX_OK);
    EXPECT_EQ(packet.key, 2u);
    EXPECT_EQ(packet.page_request.command, ZX_PAGER_VMO_READ);
    EXPECT_EQ(packet.page_request.length, kPage);
    const uint64_t page = packet.page_request.offset / kPage;
    ASSERT_LT(page, kPages);
    ASSERT_TRUE(upager::testing::WaitForBlocked(handles[page]));
    Supply(vmo2.get(), 2, page, 1);
  }
  for (auto& thread : threads) thread.join();
  for (uint64_t t = 0; t < kPages; ++t) EXPECT_TRUE(ok[t]) << t;
  ExpectNoPacket();
  EXPECT_EQ(zx_vmar_unmap(root, addr, kPages * kPage), ZX_OK);
}

// Zircon's VmarMapRangeTest: no request at map time, one for the absent page when touched.
TEST_F(ZxVmarRegion, MapRangeAsksForNothing) {
  Owned vmo = PagedVmo(3, 2);
  Supply(vmo.get(), 3, 0, 1);
  zx_vaddr_t addr = 0;
  ASSERT_EQ(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_MAP_RANGE, 0, vmo.get(), 0,
                        2 * kPage, &addr),
            ZX_OK);
  ExpectNoPacket();
  EXPECT_TRUE(PageIs(addr, 3, 0));
  ExpectNoPacket();
  bool ok = false;
  std::thread reader([&] { ok = PageIs(addr + kPage, 3, 1); });
  ExpectRead(3, 1, 1);
  Supply(vmo.get(), 3, 1, 1);
  reader.join();
  EXPECT_TRUE(ok);
  // op_range(MAP_RANGE) over it is fine too, and asks for nothing.
  EXPECT_EQ(
      zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_MAP_RANGE, addr, 2 * kPage, nullptr, 0),
      ZX_OK);
  ExpectNoPacket();
  EXPECT_EQ(zx_vmar_unmap(zx_vmar_root_self(), addr, 2 * kPage), ZX_OK);
}

TEST_F(ZxVmarRegion, ProtectAndUnmapParts) {
  Owned vmo = PagedVmo(4, 3);
  Supply(vmo.get(), 4, 0, 3);
  const zx_handle_t root = zx_vmar_root_self();
  zx_vaddr_t addr = 0;
  ASSERT_EQ(zx_vmar_map(root, kRw, 0, vmo.get(), 0, 3 * kPage, &addr), ZX_OK);
  auto* bytes = reinterpret_cast<uint8_t*>(addr);
  // The middle page read-only: a store there is a SIGSEGV, the others work.
  EXPECT_EQ(zx_vmar_protect(root, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, addr + kPage, kPage),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_protect(root, ZX_VM_PERM_READ, addr + kPage + 1, kPage), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_protect(root, ZX_VM_PERM_READ, addr + kPage, 0), ZX_ERR_INVALID_ARGS);
  ASSERT_EQ(zx_vmar_protect(root, ZX_VM_PERM_READ, addr + kPage, kPage), ZX_OK);
  Probe store = ProbeStore(bytes + kPage + 8, 0x77);
  EXPECT_EQ(store.signo, SIGSEGV);
  EXPECT_EQ(store.addr, bytes + kPage + 8);
  EXPECT_TRUE(ProbeStore(bytes + 8, 0x1234).ok);
  EXPECT_TRUE(ProbeStore(bytes + 2 * kPage + 8, 0x5678).ok);
  EXPECT_TRUE(PageIs(addr + kPage, 4, 1));
  // Unmap the first page: the rest keeps working, the first is gone.
  ASSERT_EQ(zx_vmar_unmap(root, addr, kPage), ZX_OK);
  uint64_t value = 0;
  EXPECT_EQ(ProbeLoad(bytes + 8, &value).signo, SIGSEGV);
  EXPECT_EQ(zx_vmar_protect(root, kRw, addr, 3 * kPage), ZX_ERR_NOT_FOUND);  // a gap
  ASSERT_EQ(zx_vmar_protect(root, kRw, addr + kPage, 2 * kPage), ZX_OK);
  EXPECT_TRUE(ProbeStore(bytes + kPage + 8, 0x9abc).ok);
  uint64_t words[3] = {};
  ASSERT_EQ(zx_vmo_read(vmo.get(), &words[0], 8, 8), ZX_OK);
  ASSERT_EQ(zx_vmo_read(vmo.get(), &words[1], kPage + 8, 8), ZX_OK);
  ASSERT_EQ(zx_vmo_read(vmo.get(), &words[2], 2 * kPage + 8, 8), ZX_OK);
  EXPECT_EQ(words[0], 0x1234u);
  EXPECT_EQ(words[1], 0x9abcu);
  EXPECT_EQ(words[2], 0x5678u);
  // A mapping made through a handle without WRITE can never be given write access.
  Owned ro_vmo = Without(vmo.get(), ZX_RIGHT_WRITE);
  zx_vaddr_t ro = 0;
  ASSERT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ, 0, ro_vmo.get(), 0, kPage, &ro), ZX_OK);
  EXPECT_EQ(zx_vmar_protect(root, kRw, ro, kPage), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_vmar_unmap(root, ro, kPage), ZX_OK);
  EXPECT_EQ(zx_vmar_unmap(root, addr + kPage, 2 * kPage), ZX_OK);
  ExpectNoPacket();
}

TEST_F(ZxVmarRegion, OpRangeChecksAndCommits) {
  Owned vmo = PagedVmo(5, 2);
  Owned region;
  zx_vaddr_t base = 0;
  ASSERT_EQ(zx_vmar_allocate(zx_vmar_root_self(), kCanRw | ZX_VM_CAN_MAP_SPECIFIC, 0, 4 * kPage,
                             region.out(), &base),
            ZX_OK);
  zx_vaddr_t addr = 0;
  ASSERT_EQ(zx_vmar_map(region.get(), kRw | ZX_VM_SPECIFIC, 0, vmo.get(), 0, 2 * kPage, &addr),
            ZX_OK);
  const zx_handle_t r = region.get();
  uint8_t buf[8];
  EXPECT_EQ(zx_vmar_op_range(kBogusHandle, ZX_VMAR_OP_COMMIT, addr, kPage, nullptr, 0),
            ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_vmar_op_range(r, 99, addr, kPage, nullptr, 0), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, addr, kPage, buf, sizeof buf),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, addr, 0, nullptr, 0), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, addr + 1, kPage, nullptr, 0),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, base, 5 * kPage, nullptr, 0),
            ZX_ERR_OUT_OF_RANGE);
  EXPECT_EQ(zx_vmar_op_range(r, ZX_VMAR_OP_DONT_NEED, base, 3 * kPage, nullptr, 0),
            ZX_ERR_BAD_STATE);  // a gap after the mapping
  EXPECT_EQ(zx_vmar_op_range(r, ZX_VMAR_OP_ZERO, addr, kPage, nullptr, 0), ZX_ERR_NOT_SUPPORTED);
  EXPECT_EQ(zx_vmar_op_range(r, ZX_VMAR_OP_DECOMMIT, addr, kPage, nullptr, 0),
            ZX_ERR_NOT_SUPPORTED);  // a pager-backed VMO
  // Through the parent: COMMIT, DECOMMIT and PREFETCH only on its own mappings.
  EXPECT_EQ(zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_COMMIT, addr, kPage, nullptr, 0),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_op_range(zx_vmar_root_self(), ZX_VMAR_OP_DONT_NEED, addr, kPage, nullptr, 0),
            ZX_OK);
  // COMMIT asks for the absent pages and returns once they are supplied.
  zx_status_t committed = ZX_ERR_INTERNAL;
  std::thread committer(
      [&] { committed = zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, addr, 2 * kPage, nullptr, 0); });
  ExpectRead(5, 0, 2);
  Supply(vmo.get(), 5, 0, 2);
  committer.join();
  EXPECT_EQ(committed, ZX_OK);
  EXPECT_TRUE(PageIs(addr, 5, 0));
  EXPECT_TRUE(PageIs(addr + kPage, 5, 1));
  EXPECT_EQ(zx_vmar_op_range(r, ZX_VMAR_OP_PREFETCH, addr, 2 * kPage, nullptr, 0), ZX_OK);
  EXPECT_EQ(zx_vmar_op_range(r, ZX_VMAR_OP_ALWAYS_NEED, addr, 2 * kPage, nullptr, 0), ZX_OK);
  ExpectNoPacket();
  // A read-only mapping through a handle without WRITE: no COMMIT.
  Owned ro_vmo = Without(vmo.get(), ZX_RIGHT_WRITE);
  zx_vaddr_t ro = 0;
  ASSERT_EQ(
      zx_vmar_map(r, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, 2 * kPage, ro_vmo.get(), 0, kPage, &ro),
      ZX_OK);
  EXPECT_EQ(zx_vmar_op_range(r, ZX_VMAR_OP_COMMIT, ro, kPage, nullptr, 0), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_vmar_destroy(r), ZX_OK);
}

TEST_F(ZxVmarRegion, ChildrenThroughTheParent) {
  Owned vmo = PagedVmo(6, 1);
  Supply(vmo.get(), 6, 0, 1);
  Owned outer, inner;
  zx_vaddr_t outer_base = 0, inner_base = 0;
  ASSERT_EQ(zx_vmar_allocate(zx_vmar_root_self(), kCanRw | ZX_VM_CAN_MAP_SPECIFIC, 0, 16 * kPage,
                             outer.out(), &outer_base),
            ZX_OK);
  // An upper limit, an alignment.
  Owned low;
  zx_vaddr_t low_base = 0;
  EXPECT_EQ(zx_vmar_allocate(outer.get(), kCanRw | ZX_VM_OFFSET_IS_UPPER_LIMIT, kPage, 2 * kPage,
                             low.out(), &low_base),
            ZX_ERR_INVALID_ARGS);  // larger than the limit
  ASSERT_EQ(zx_vmar_allocate(outer.get(), kCanRw | ZX_VM_OFFSET_IS_UPPER_LIMIT, 2 * kPage,
                             2 * kPage, low.out(), &low_base),
            ZX_OK);
  EXPECT_EQ(low_base, outer_base);
  EXPECT_EQ(zx_vmar_allocate(outer.get(), kCanRw | ZX_VM_OFFSET_IS_UPPER_LIMIT, 3 * kPage,
                             2 * kPage, inner.out(), &inner_base),
            ZX_ERR_NO_RESOURCES);  // [0, 3 pages) has one page left
  ASSERT_EQ(zx_vmar_allocate(outer.get(), kCanRw | (14u << ZX_VM_ALIGN_BASE), 0, 4 * kPage,
                             inner.out(), &inner_base),
            ZX_OK);
  EXPECT_EQ(inner_base % (4 * kPage), 0u);
  EXPECT_GE(inner_base, outer_base + 2 * kPage);
  zx_vaddr_t addr = 0;
  ASSERT_EQ(zx_vmar_map(inner.get(), ZX_VM_PERM_READ, 0, vmo.get(), 0, kPage, &addr), ZX_OK);
  EXPECT_EQ(addr, inner_base);
  // Overwriting a sub-region is refused; unmapping part of one too, and all of one without
  // OP_CHILDREN.
  zx_vaddr_t over = 0;
  EXPECT_EQ(zx_vmar_map(outer.get(), ZX_VM_PERM_READ | ZX_VM_SPECIFIC_OVERWRITE,
                        inner_base - outer_base, vmo.get(), 0, kPage, &over),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_unmap(outer.get(), inner_base, kPage), ZX_ERR_INVALID_ARGS);
  Owned outer_no_op = Without(outer.get(), ZX_RIGHT_OP_CHILDREN);
  EXPECT_EQ(zx_vmar_unmap(outer_no_op.get(), inner_base, 4 * kPage), ZX_ERR_INVALID_ARGS);
  // Protect through the parent: OP_CHILDREN needed, no permission added.
  EXPECT_EQ(zx_vmar_protect(outer_no_op.get(), ZX_VM_PERM_READ, addr, kPage), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_protect(outer.get(), kRw, addr, kPage), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_vmar_protect(outer.get(), ZX_VM_PERM_READ, addr, kPage), ZX_OK);
  EXPECT_EQ(zx_vmar_protect(inner.get(), kRw, addr, kPage), ZX_OK);  // its own region may
  EXPECT_TRUE(ProbeStore(reinterpret_cast<void*>(addr + 8), 0x42).ok);
  uint64_t word = 0;
  ASSERT_EQ(zx_vmo_read(vmo.get(), &word, 8, 8), ZX_OK);
  EXPECT_EQ(word, 0x42u);
  // Unmapping the whole sub-region through the parent destroys it.
  ASSERT_EQ(zx_vmar_unmap(outer.get(), inner_base, 4 * kPage), ZX_OK);
  EXPECT_EQ(zx_vmar_map(inner.get(), ZX_VM_PERM_READ, 0, vmo.get(), 0, kPage, &over),
            ZX_ERR_BAD_STATE);
  uint64_t value = 0;
  EXPECT_EQ(ProbeLoad(reinterpret_cast<void*>(addr), &value).signo, SIGSEGV);
  EXPECT_EQ(zx_vmar_destroy(outer.get()), ZX_OK);
  ExpectNoPacket();
}

TEST_F(ZxVmarRegion, SpecificInTheRootNeverMapsOverOthersMemory) {
  Owned vmo = PagedVmo(7, 1);
  Supply(vmo.get(), 7, 0, 1);
  const zx_handle_t root = zx_vmar_root_self();
  zx_info_vmar_t info{};
  ASSERT_EQ(zx_object_get_info(root, ZX_INFO_VMAR, &info, sizeof info, nullptr, nullptr), ZX_OK);
  // A free address: one the kernel gave, given back.
  zx_vaddr_t addr = 0;
  ASSERT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ, 0, vmo.get(), 0, kPage, &addr), ZX_OK);
  ASSERT_EQ(zx_vmar_unmap(root, addr, kPage), ZX_OK);
  zx_vaddr_t got = 0;
  ASSERT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, addr - info.base, vmo.get(), 0,
                        kPage, &got),
            ZX_OK);
  EXPECT_EQ(got, addr);
  EXPECT_TRUE(PageIs(addr, 7, 0));
  zx_vaddr_t again = 0;
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, addr - info.base, vmo.get(), 0,
                        kPage, &again),
            ZX_ERR_ALREADY_EXISTS);
  // Memory the layer did not map (this test's heap): never replaced.
  auto heap = std::make_unique<uint8_t[]>(4 * kPage);
  const zx_vaddr_t page = (reinterpret_cast<zx_vaddr_t>(heap.get()) + kPage - 1) & ~(kPage - 1);
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, page - info.base, vmo.get(), 0,
                        kPage, &again),
            ZX_ERR_ALREADY_EXISTS);
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ | ZX_VM_SPECIFIC_OVERWRITE, page - info.base,
                        vmo.get(), 0, kPage, &again),
            ZX_ERR_NOT_SUPPORTED);
  heap[page - reinterpret_cast<zx_vaddr_t>(heap.get())] = 1;  // still the heap's
  EXPECT_EQ(zx_vmar_unmap(root, addr, kPage), ZX_OK);
  ExpectNoPacket();
}

}  // namespace
}  // namespace upager::zx::testing
