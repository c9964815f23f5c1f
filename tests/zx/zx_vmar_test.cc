// zx_vmar_* on the root VMAR: a pager-backed VMO mapped, faulted in through the pager, and
// unmapped; the checks in Zircon's order.
#include <gtest/gtest.h>
#include <zircon/syscalls.h>

#include <cstring>
#include <thread>
#include <vector>

#include "../skip.h"
#include "upager/mapping.h"
#include "zx_test_util.h"

namespace upager::zx::testing {
namespace {

constexpr uint64_t kPage = 4096;

class ZxVmar : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (upager::MappingSupport(&why) != upager::Status::kOk) UPAGER_SKIP_OR_FAIL(why);
    ASSERT_EQ(zx_vmo_create(2 * kPage, 0, vmo_.out()), ZX_OK);
    ASSERT_EQ(zx_event_create(0, event_.out()), ZX_OK);
  }
  Owned vmo_, event_;
};

TEST_F(ZxVmar, RootSelfIsAVmar) {
  const zx_handle_t root = zx_vmar_root_self();
  EXPECT_EQ(zx_vmar_root_self(), root);
  zx_info_handle_basic_t info{};
  ASSERT_EQ(zx_object_get_info(root, ZX_INFO_HANDLE_BASIC, &info, sizeof info, nullptr, nullptr),
            ZX_OK);
  EXPECT_EQ(info.type, ZX_OBJ_TYPE_VMAR);
}

TEST_F(ZxVmar, MapChecksInOrder) {
  const zx_handle_t root = zx_vmar_root_self();
  zx_vaddr_t addr = 0;
  EXPECT_EQ(zx_vmar_map(kBogusHandle, ZX_VM_PERM_READ, 0, vmo_.get(), 0, kPage, &addr),
            ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_vmar_map(event_.get(), ZX_VM_PERM_READ, 0, vmo_.get(), 0, kPage, &addr),
            ZX_ERR_WRONG_TYPE);
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ, 0, kBogusHandle, 0, kPage, &addr),
            ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ, 0, event_.get(), 0, kPage, &addr),
            ZX_ERR_WRONG_TYPE);
  Owned no_map = Without(vmo_.get(), ZX_RIGHT_MAP);
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ, 0, no_map.get(), 0, 0, &addr), ZX_ERR_ACCESS_DENIED);
  Owned no_write = Without(vmo_.get(), ZX_RIGHT_WRITE);
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, no_write.get(), 0, 0, &addr),
            ZX_ERR_ACCESS_DENIED);
  // The protection itself, then flags that only regions take.
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_WRITE, 0, no_write.get(), 0, 0, &addr),
            ZX_ERR_INVALID_ARGS);  // write without read
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ | ZX_VM_CAN_MAP_READ, 0, no_write.get(), 0, 0, &addr),
            ZX_ERR_INVALID_ARGS);
  // The VMAR's rights count too.
  Owned root_ro = Without(root, ZX_RIGHT_WRITE);
  EXPECT_EQ(
      zx_vmar_map(root_ro.get(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo_.get(), 0, 0, &addr),
      ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_vmar_protect(root_ro.get(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 1, 0),
            ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_vmar_protect(root, ZX_VM_PERM_WRITE, 0, kPage), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ, 0, vmo_.get(), 0, 0, &addr), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ, 0, vmo_.get(), 1, kPage, &addr),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ, kPage, vmo_.get(), 0, kPage, &addr),
            ZX_ERR_INVALID_ARGS);  // an offset without ZX_VM_SPECIFIC
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ, 0, vmo_.get(), 0, 3 * kPage, &addr),
            ZX_ERR_OUT_OF_RANGE);
  // Past the root's end; an execute permission the VMO handle lacks.
  zx_info_vmar_t info{};
  ASSERT_EQ(zx_object_get_info(root, ZX_INFO_VMAR, &info, sizeof info, nullptr, nullptr), ZX_OK);
  EXPECT_EQ(
      zx_vmar_map(root, ZX_VM_PERM_READ | ZX_VM_SPECIFIC, info.len, vmo_.get(), 0, kPage, &addr),
      ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_map(root, ZX_VM_PERM_READ | ZX_VM_PERM_EXECUTE, 0, vmo_.get(), 0, kPage, &addr),
            ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(addr, 0u);
}

TEST_F(ZxVmar, AnonymousResizableVmoMappedAsABuffer) {
  // What Fuchsia's pager test harness does: read a pager VMO into a mapped scratch VMO.
  Owned scratch;
  ASSERT_EQ(zx_vmo_create(2 * kPage, ZX_VMO_RESIZABLE, scratch.out()), ZX_OK);
  zx_vaddr_t buf = 0;
  ASSERT_EQ(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, scratch.get(),
                        0, 2 * kPage, &buf),
            ZX_OK);
  std::vector<uint8_t> bytes(2 * kPage);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i % 251);
  ASSERT_EQ(zx_vmo_write(vmo_.get(), bytes.data(), 0, bytes.size()), ZX_OK);
  ASSERT_EQ(zx_vmo_read(vmo_.get(), reinterpret_cast<void*>(buf), 0, bytes.size()), ZX_OK);
  EXPECT_EQ(std::memcmp(reinterpret_cast<const void*>(buf), bytes.data(), bytes.size()), 0);
  // And the other way: a store through the mapping is the VMO's content.
  reinterpret_cast<volatile uint8_t*>(buf)[kPage + 3] = 0xee;
  uint8_t got = 0;
  ASSERT_EQ(zx_vmo_read(scratch.get(), &got, kPage + 3, 1), ZX_OK);
  EXPECT_EQ(got, 0xee);
  EXPECT_EQ(zx_vmar_unmap(zx_vmar_root_self(), buf, 2 * kPage), ZX_OK);
}

TEST_F(ZxVmar, MapFaultsThroughThePager) {
  Owned pager, port, paged, aux;
  ASSERT_EQ(zx_pager_create(0, pager.out()), ZX_OK);
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  ASSERT_EQ(zx_pager_create_vmo(pager.get(), 0, port.get(), 3, kPage, paged.out()), ZX_OK);
  ASSERT_EQ(zx_vmo_create(kPage, 0, aux.out()), ZX_OK);
  zx_vaddr_t addr = 0;
  ASSERT_EQ(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, paged.get(), 0,
                        kPage - 100, &addr),
            ZX_OK);  // the length is rounded up to pages
  ASSERT_NE(addr, 0u);
  uint64_t loaded = 0;
  std::thread toucher([&] { loaded = *reinterpret_cast<volatile uint64_t*>(addr + 8); });
  zx_port_packet_t packet;
  ASSERT_EQ(zx_port_wait(port.get(), zx_deadline_after(ZX_SEC(30)), &packet), ZX_OK);
  EXPECT_EQ(packet.key, 3u);
  EXPECT_EQ(packet.page_request.command, ZX_PAGER_VMO_READ);
  EXPECT_EQ(packet.page_request.offset, 0u);
  EXPECT_EQ(packet.page_request.length, kPage);
  std::vector<uint64_t> words(kPage / 8, 0x0123456789abcdefu);
  ASSERT_EQ(zx_vmo_write(aux.get(), words.data(), 0, kPage), ZX_OK);
  ASSERT_EQ(zx_pager_supply_pages(pager.get(), paged.get(), 0, kPage, aux.get(), 0), ZX_OK);
  toucher.join();
  EXPECT_EQ(loaded, 0x0123456789abcdefu);
  // Protect to the same permissions, then to read-only (zx_vmar_region_test.cc has more).
  EXPECT_EQ(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, addr, kPage),
            ZX_OK);
  EXPECT_EQ(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, addr, kPage), ZX_OK);
  EXPECT_EQ(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, addr + 1, kPage),
            ZX_ERR_INVALID_ARGS);
  // Unmap; unmapping where nothing is mapped any more is ZX_OK, as in Zircon.
  EXPECT_EQ(zx_vmar_unmap(zx_vmar_root_self(), addr, 0), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_vmar_unmap(kBogusHandle, addr, kPage), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_vmar_unmap(zx_vmar_root_self(), addr, kPage), ZX_OK);
  EXPECT_EQ(zx_vmar_unmap(zx_vmar_root_self(), addr, kPage), ZX_OK);
  EXPECT_EQ(zx_vmar_protect(zx_vmar_root_self(), ZX_VM_PERM_READ, addr, kPage), ZX_ERR_NOT_FOUND);
}

}  // namespace
}  // namespace upager::zx::testing
