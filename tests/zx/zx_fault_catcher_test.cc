// The zx test support's fault catching (compat/zx/testing: fault_catcher.h, memory-probe.h),
// without any Fuchsia file: a thread whose access to a pager-backed mapping fails reports the
// address and the pager's status, an unmapped address reports ZX_ERR_NOT_FOUND (SIGSEGV), and
// the memory probes answer what a real access would.
#include <gtest/gtest.h>
#include <lib/fzl/memory-probe.h>
#include <signal.h>
#include <sys/mman.h>
#include <zircon/syscalls.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "../skip.h"
#include "upager/mapping.h"
#include "upager_zx_testing/fault_catcher.h"
#include "zx_test_util.h"

namespace upager::zx::testing {
namespace {

using upager_zx_testing::FaultReport;
using upager_zx_testing::RunCatchingFaults;

constexpr uint64_t kPage = 4096;

// A pager-backed VMO of two pages mapped READ|WRITE.
class FaultCatcher : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (upager::MappingSupport(&why) != upager::Status::kOk) UPAGER_SKIP_OR_FAIL(why);
    ASSERT_EQ(zx_pager_create(0, pager_.out()), ZX_OK);
    ASSERT_EQ(zx_port_create(0, port_.out()), ZX_OK);
    ASSERT_EQ(zx_pager_create_vmo(pager_.get(), 0, port_.get(), 7, 2 * kPage, vmo_.out()), ZX_OK);
    ASSERT_EQ(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ | ZX_VM_PERM_WRITE, 0, vmo_.get(), 0,
                          2 * kPage, &addr_),
              ZX_OK);
  }
  void TearDown() override {
    if (addr_ != 0) {
      EXPECT_EQ(zx_vmar_unmap(zx_vmar_root_self(), addr_, 2 * kPage), ZX_OK);
    }
  }

  // Waits for the READ request of page `page` (the only packet expected).
  void ExpectRead(uint64_t page) {
    zx_port_packet_t packet;
    ASSERT_EQ(zx_port_wait(port_.get(), zx_deadline_after(ZX_SEC(30)), &packet), ZX_OK);
    EXPECT_EQ(packet.key, 7u);
    EXPECT_EQ(packet.type, ZX_PKT_TYPE_PAGE_REQUEST);
    EXPECT_EQ(packet.page_request.command, ZX_PAGER_VMO_READ);
    EXPECT_EQ(packet.page_request.offset, page * kPage);
    EXPECT_EQ(packet.page_request.length, kPage);
  }

  void Supply(uint64_t page, uint64_t word) {
    Owned aux;
    ASSERT_EQ(zx_vmo_create(kPage, 0, aux.out()), ZX_OK);
    std::vector<uint64_t> words(kPage / 8, word);
    ASSERT_EQ(zx_vmo_write(aux.get(), words.data(), 0, kPage), ZX_OK);
    ASSERT_EQ(zx_pager_supply_pages(pager_.get(), vmo_.get(), page * kPage, kPage, aux.get(), 0),
              ZX_OK);
  }

  Owned pager_, port_, vmo_;
  zx_vaddr_t addr_ = 0;
};

// Reads the word at `address` inside RunCatchingFaults on a thread of its own.
struct Reader {
  explicit Reader(uintptr_t address)
      : thread([this, address] {
          completed = RunCatchingFaults(
              [this, address] {
                value = *reinterpret_cast<volatile uint64_t*>(address);
                after_access = true;
              },
              &report);
        }) {}
  void Join() { thread.join(); }
  FaultReport report;
  uint64_t value = 0;
  bool completed = false;
  bool after_access = false;
  std::thread thread;  // last: starts once the fields above exist
};

TEST_F(FaultCatcher, ReturnsTrueWhenNothingFaults) {
  Supply(0, 0x1111);
  Reader reader(addr_ + 16);
  reader.Join();
  EXPECT_TRUE(reader.completed);
  EXPECT_TRUE(reader.after_access);
  EXPECT_EQ(reader.value, 0x1111u);
  EXPECT_EQ(reader.report.signo, 0);
  EXPECT_EQ(reader.report.address, 0u);
  EXPECT_EQ(reader.report.status, ZX_OK);
}

TEST_F(FaultCatcher, FailedPageRequestReportsAddressAndStatus) {
  Reader reader(addr_ + kPage + 24);
  ExpectRead(1);
  ASSERT_EQ(zx_pager_op_range(pager_.get(), ZX_PAGER_OP_FAIL, vmo_.get(), kPage, kPage, ZX_ERR_IO),
            ZX_OK);
  reader.Join();
  EXPECT_FALSE(reader.completed);
  EXPECT_FALSE(reader.after_access);  // the function was left at the access
  EXPECT_EQ(reader.report.signo, SIGBUS);
  EXPECT_EQ(reader.report.address, addr_ + kPage + 24);
  EXPECT_EQ(reader.report.status, ZX_ERR_IO);
}

TEST_F(FaultCatcher, EachFailureCodeIsReported) {
  for (zx_status_t code : {ZX_ERR_IO_DATA_INTEGRITY, ZX_ERR_NO_SPACE, ZX_ERR_BAD_STATE}) {
    Reader reader(addr_);
    ExpectRead(0);
    ASSERT_EQ(zx_pager_op_range(pager_.get(), ZX_PAGER_OP_FAIL, vmo_.get(), 0, kPage, code), ZX_OK);
    reader.Join();
    EXPECT_FALSE(reader.completed);
    EXPECT_EQ(reader.report.signo, SIGBUS);
    EXPECT_EQ(reader.report.address, addr_);
    EXPECT_EQ(reader.report.status, code);
  }
}

TEST_F(FaultCatcher, DetachReportsBadState) {
  Reader reader(addr_);
  ExpectRead(0);
  ASSERT_EQ(zx_pager_detach_vmo(pager_.get(), vmo_.get()), ZX_OK);
  reader.Join();
  EXPECT_FALSE(reader.completed);
  EXPECT_EQ(reader.report.signo, SIGBUS);
  EXPECT_EQ(reader.report.address, addr_);
  EXPECT_EQ(reader.report.status, ZX_ERR_BAD_STATE);
}

// A failure is forgotten once its page is unmapped (here a part of the mapping): an access
// there is a SIGSEGV that nothing upager failed explains. (Before the fix, the partial unmap
// left the page's ZX_ERR_IO in the failure log.)
TEST_F(FaultCatcher, UnmapForgetsTheFailure) {
  Reader reader(addr_ + kPage);
  ExpectRead(1);
  ASSERT_EQ(zx_pager_op_range(pager_.get(), ZX_PAGER_OP_FAIL, vmo_.get(), kPage, kPage, ZX_ERR_IO),
            ZX_OK);
  reader.Join();
  ASSERT_EQ(reader.report.status, ZX_ERR_IO);
  EXPECT_EQ(upager::FaultStatusForAddress(reinterpret_cast<void*>(addr_ + kPage)),
            upager::Status::kIo);
  ASSERT_EQ(zx_vmar_unmap(zx_vmar_root_self(), addr_ + kPage, kPage), ZX_OK);
  EXPECT_EQ(upager::FaultStatusForAddress(reinterpret_cast<void*>(addr_ + kPage)),
            upager::Status::kNotFound);
  Reader after(addr_ + kPage);
  after.Join();
  EXPECT_FALSE(after.completed);
  EXPECT_EQ(after.report.signo, SIGSEGV);
  EXPECT_EQ(after.report.status, ZX_ERR_NOT_FOUND);
  ASSERT_EQ(zx_vmar_unmap(zx_vmar_root_self(), addr_, kPage), ZX_OK);
  addr_ = 0;
}

TEST(FaultCatcherUnmapped, SegvReportsNotFound) {
  void* page = mmap(nullptr, kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  const uintptr_t address = reinterpret_cast<uintptr_t>(page) + 40;
  Reader reader(address);
  reader.Join();
  EXPECT_FALSE(reader.completed);
  EXPECT_EQ(reader.report.signo, SIGSEGV);
  EXPECT_EQ(reader.report.address, address);
  EXPECT_EQ(reader.report.status, ZX_ERR_NOT_FOUND);
  EXPECT_EQ(munmap(page, kPage), 0);
}

TEST(FaultCatcherUnmapped, NestedCallsCatchTheirOwnFaults) {
  void* page = mmap(nullptr, kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  FaultReport outer_report, inner_report;
  bool inner_completed = true, outer_went_on = false;
  const bool outer_completed = RunCatchingFaults(
      [&] {
        inner_completed =
            RunCatchingFaults([page] { (void)*static_cast<volatile char*>(page); }, &inner_report);
        outer_went_on = true;
      },
      &outer_report);
  EXPECT_TRUE(outer_completed);
  EXPECT_TRUE(outer_went_on);
  EXPECT_FALSE(inner_completed);
  EXPECT_EQ(inner_report.signo, SIGSEGV);
  EXPECT_EQ(inner_report.address, reinterpret_cast<uintptr_t>(page));
  EXPECT_EQ(outer_report.signo, 0);
  // The mask is restored after the jump: a second fault on this thread is caught too.
  FaultReport again;
  EXPECT_FALSE(RunCatchingFaults([page] { (void)*static_cast<volatile char*>(page); }, &again));
  EXPECT_EQ(again.signo, SIGSEGV);
  EXPECT_EQ(munmap(page, kPage), 0);
}

TEST(MemoryProbe, AnonymousMemory) {
  void* page = mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  auto* bytes = static_cast<unsigned char*>(page);
  bytes[0] = 0x5a;
  ASSERT_EQ(mprotect(bytes + kPage, kPage, PROT_READ), 0);
  EXPECT_EQ(probe_for_read(bytes), ZX_OK);
  EXPECT_EQ(probe_for_write(bytes), ZX_OK);
  EXPECT_EQ(bytes[0], 0x5a);  // written back unchanged
  EXPECT_EQ(probe_for_read(bytes + kPage), ZX_OK);
  EXPECT_EQ(probe_for_write(bytes + kPage), ZX_ERR_NOT_FOUND);  // SIGSEGV: nothing upager failed
  ASSERT_EQ(mprotect(bytes + kPage, kPage, PROT_NONE), 0);
  EXPECT_EQ(probe_for_read(bytes + kPage), ZX_ERR_NOT_FOUND);
  EXPECT_EQ(munmap(page, 2 * kPage), 0);
}

TEST_F(FaultCatcher, ProbeOfAnAbsentPageWaitsForThePager) {
  // Supplied: accessible without a request.
  Supply(0, 0x2222);
  EXPECT_EQ(probe_for_read(reinterpret_cast<void*>(addr_)), ZX_OK);
  // Absent, then supplied: the probe waits for the request, and the access completes.
  std::atomic<zx_status_t> answer{1};
  std::thread prober([&] { answer = probe_for_read(reinterpret_cast<void*>(addr_ + kPage)); });
  ExpectRead(1);
  EXPECT_EQ(answer.load(), 1);  // still waiting: the request is not served
  Supply(1, 0x3333);
  prober.join();
  EXPECT_EQ(answer.load(), ZX_OK);
}

TEST_F(FaultCatcher, ProbeOfAFailedPageReportsItsStatus) {
  std::atomic<zx_status_t> answer{1};
  std::thread prober([&] { answer = probe_for_write(reinterpret_cast<void*>(addr_ + 8)); });
  ExpectRead(0);
  ASSERT_EQ(zx_pager_op_range(pager_.get(), ZX_PAGER_OP_FAIL, vmo_.get(), 0, kPage,
                              ZX_ERR_IO_DATA_INTEGRITY),
            ZX_OK);
  prober.join();
  EXPECT_EQ(answer.load(), ZX_ERR_IO_DATA_INTEGRITY);
}

}  // namespace
}  // namespace upager::zx::testing
