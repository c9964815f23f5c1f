// Zircon's core pager tests (zircon/system/utest/core/pager/pager.cc), the variants that reach
// the VMO through a mapping: a VMO_VMAR_TEST(Pager, X) appears here as XVmar (its XVmo twin is
// in pager_test.cc), and the plain TEST(PagerVmar, X) entries whose Zircon versions access the VMO
// through a mapping appear under their own names.
//
// How a mapped access behaves (mapping.h, docs/zircon-semantics.md 7.3, 9, 10.2, 18.7): a load from
// an absent page sends a READ of exactly that page and sleeps until it is resolved; a failed
// request ends the access with SIGBUS at the exact faulting address, and
// FaultStatusForAddress gives the status Zircon puts in the exception's synth_code. Zircon's
// WaitForCrash(addr, status) is therefore "the probe caught SIGBUS at addr and
// FaultStatusForAddress(addr) == status". Accesses are made from the faulting thread itself
// with ProbeLoad-style probes (mapping_util.h), so a signal fails the check instead of the
// process.
//
// Not here (need features upager lacks, or are not about mappings):
//  - Clones: their mapped variants are in clone_vmar_test.cc, their Vmo variants in
//    clone_test.cc (docs/clones.md).
//  - SuspendReadTestVmar: ThreadHandle::Suspend interrupts waits in PageRequest::Wait only; a
//    thread asleep in a userfaultfd fault is in the kernel and cannot be suspended and
//    resumed into a fresh request. SuspendInKernelTest / SuspendInKernelCaptureFaultsTest
//    (faults inside a syscall's usercopy) likewise.
//  - VmarRemapTest: needs ZX_VM_SPECIFIC_OVERWRITE (atomically replacing a mapping under
//    blocked threads); Mapping has no fixed-address map.
//  - VmarMapRangeTest: needs ZX_VM_MAP_RANGE.
//  - OpCommitVmar, OpCommitCloneVmar, EvictionHintsVmar, EvictionHintsNestedVmar,
//    EvictionHintsCloneVmar: need zx_vmar_op_range, nested VMARs and clones.
//  - PinnedSupplyPages, PinPagerVmoWithLoanedPages, ResizeBlockedPin, PagerDetachPinned: BTI
//    pinning.
//  - Everything else in pager.cc accesses the VMO with syscalls only (pager_test.cc).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "mapping_util.h"
#include "pager_vmar_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

// ---- Basic read faults and supply ----

TEST(PagerVmar, SinglePageTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  TestThread t([&] { return CheckMapped(map, *vmo, 0, 1); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(pager.AnyPacket());
}

// Cancelling the VMO's key while its READ packet is queued does not wedge delivery (5.1).
TEST(PagerVmar, CancelKeyDoesNotWedgeThePagerVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  TestThread t1([&] { return CheckMapped(map, *vmo, 0, 1); });
  t1.Start();
  ASSERT_TRUE(t1.WaitForBlocked());

  ASSERT_EQ(pager.port().CancelKey(vmo->key), Status::kOk);

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t1.Wait());

  TestThread t2([&] { return CheckMapped(map, *vmo, 1, 1); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  ASSERT_TRUE(t2.Wait());
}

// A fault resolved from an uncommitted aux page reads zeros.
TEST(PagerVmar, UncommittedSinglePageTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  const std::vector<char> zeros(kPageSize, 0);
  TestThread t([&] { return CheckMappedData(map, 0, 1, zeros.data()); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  Vmo empty;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &empty), Status::kOk);
  ASSERT_EQ(pager.pager().SupplyPages(vmo->vmo, 0, kPageSize, empty, 0), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(PagerVmar, PresupplyTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);

  TestThread t([&] { return CheckMapped(map, *vmo, 0, 1); });
  t.Start();
  ASSERT_TRUE(t.Wait());

  ASSERT_FALSE(pager.WaitForPageRead(*vmo, 0, 1, kPoll));
}

// A request resolved before the pager read its packet is withdrawn (5.1, 19.2).
TEST(PagerVmar, EarlySupplyTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  TestThread t1([&] { return CheckMapped(map, *vmo, 0, 1); });
  // The second thread makes sure the packet queue has moved on.
  TestThread t2([&] { return CheckMapped(map, *vmo, 1, 1); });

  t1.Start();
  ASSERT_TRUE(t1.WaitForBlocked());
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t1.Wait());

  t2.Start();
  ASSERT_TRUE(t2.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  ASSERT_TRUE(t2.Wait());

  ASSERT_FALSE(pager.WaitForPageRead(*vmo, 0, 1, kPoll));
}

// A scan through a mapping faults one page per request, in order (10.2, 19.5).
TEST(PagerVmar, SequentialMultipageTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  constexpr uint64_t kNumPages = 32;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  TestThread t([&] { return CheckMapped(map, *vmo, 0, kNumPages); });
  t.Start();

  for (uint64_t i = 0; i < kNumPages; ++i) {
    // Exactly READ[i, i+1): no other packet (a wider or later request) is waiting.
    PortPacket packet{};
    ASSERT_EQ(pager.port().Wait(DeadlineAfter(kLong), &packet), Status::kOk) << "page " << i;
    EXPECT_EQ(packet.key, vmo->key);
    EXPECT_EQ(packet.page_request.command, kPagerVmoRead);
    EXPECT_EQ(packet.page_request.offset, P(i));
    EXPECT_EQ(packet.page_request.length, P(1));
    ASSERT_EQ(pager.SupplyPages(*vmo, i, 1), Status::kOk);
  }

  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(PagerVmar, ConcurrentMultipageAccessTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  TestThread t1([&] { return CheckMapped(map, *vmo, 0, 1); });
  TestThread t2([&] { return CheckMapped(map, *vmo, 1, 1); });
  t1.Start();
  t2.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);

  ASSERT_TRUE(t1.Wait());
  ASSERT_TRUE(t2.Wait());
  EXPECT_FALSE(pager.AnyPacket());
}

// 32 threads faulting on one page share one request (4, 19.3).
TEST(PagerVmar, ConcurrentOverlappingAccessTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  constexpr size_t kNumThreads = 32;
  std::vector<std::unique_ptr<TestThread>> threads;
  for (size_t i = 0; i < kNumThreads; ++i) {
    threads.push_back(std::make_unique<TestThread>([&] { return CheckMapped(map, *vmo, 0, 1); }));
    threads.back()->Start();
    ASSERT_TRUE(threads.back()->WaitForBlocked());
  }

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);

  for (auto& t : threads) {
    ASSERT_TRUE(t->Wait());
  }
  ASSERT_FALSE(pager.WaitForPageRead(*vmo, 0, 1, kPoll));
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(PagerVmar, BulkSingleSupplyTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  constexpr uint64_t kNumPages = 8;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  std::vector<std::unique_ptr<TestThread>> threads;
  for (uint64_t i = 0; i < kNumPages; ++i) {
    threads.push_back(
        std::make_unique<TestThread>([&, i] { return CheckMapped(map, *vmo, i, 1); }));
    threads.back()->Start();
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, i, 1));
  }

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kNumPages), Status::kOk);

  for (auto& t : threads) {
    ASSERT_TRUE(t->Wait());
  }
  EXPECT_FALSE(pager.AnyPacket());
}

// Supplies of odd lengths (and, with `use_src_offset`, from odd aux offsets) satisfy the
// single-page requests of the mapped accesses they cover.
void BulkOddSupplyTestInner(bool use_src_offset) {
  UserPager pager;
  constexpr uint64_t kSupplyLengths[] = {2, 3, 5, 7, 37, 5, 13, 23};
  uint64_t sum = 0;
  for (uint64_t len : kSupplyLengths) sum += len;
  auto vmo = pager.CreateVmo(sum);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  uint64_t page_idx = 0;
  for (uint64_t supply_len : kSupplyLengths) {
    const uint64_t offset = page_idx;
    std::vector<std::unique_ptr<TestThread>> threads;
    for (uint64_t j = 0; j < supply_len; ++j) {
      const uint64_t page = offset + j;
      threads.push_back(
          std::make_unique<TestThread>([&, page] { return CheckMapped(map, *vmo, page, 1); }));
      threads.back()->Start();
      ASSERT_TRUE(pager.WaitForPageRead(*vmo, page, 1));
    }

    const uint64_t src_offset = use_src_offset ? offset : 0;
    ASSERT_EQ(pager.SupplyPages(*vmo, offset, supply_len, src_offset), Status::kOk);

    for (auto& t : threads) {
      ASSERT_TRUE(t->Wait());
    }
    page_idx += supply_len;
  }
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(PagerVmar, BulkOddLengthSupplyTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  BulkOddSupplyTestInner(false);
}

TEST(PagerVmar, BulkOddOffsetSupplyTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  BulkOddSupplyTestInner(true);
}

// Supply never overwrites a present page (18.4), also as seen through a mapping.
TEST(PagerVmar, OverlapSupplyTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  // Page 0 gets content of its own (the pattern of page 2), then a supply of both pages.
  std::vector<char> alt_data(kPageSize);
  UserPager::Pattern(vmo->key, 2, alt_data.data());
  Vmo alt_vmo;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &alt_vmo), Status::kOk);
  ASSERT_EQ(alt_vmo.Write(alt_data.data(), 0, kPageSize), Status::kOk);
  ASSERT_EQ(pager.pager().SupplyPages(vmo->vmo, 0, kPageSize, alt_vmo, 0), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);

  TestThread t(
      [&] { return CheckMappedData(map, 0, 1, alt_data.data()) && CheckMapped(map, *vmo, 1, 1); });
  t.Start();
  ASSERT_TRUE(t.Wait());

  ASSERT_FALSE(pager.WaitForPageRead(*vmo, 0, 1, kPoll));
  EXPECT_FALSE(pager.AnyPacket());
}

// 257 threads blocked in faults on distinct pages: their requests queue behind the VMO's one
// packet and come out in order (5.1, 19.4).
TEST(PagerVmar, ManyRequestTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  constexpr uint64_t kNumPages = 257;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  std::vector<std::unique_ptr<TestThread>> threads;
  for (uint64_t i = 0; i < kNumPages; ++i) {
    threads.push_back(
        std::make_unique<TestThread>([&, i] { return CheckMapped(map, *vmo, i, 1); }));
    threads.back()->Start();
    ASSERT_TRUE(threads.back()->WaitForBlocked());
  }

  for (uint64_t i = 0; i < kNumPages; ++i) {
    // FIFO: the head of the queue is the only packet in the port.
    PortPacket packet{};
    ASSERT_EQ(pager.port().Wait(DeadlineAfter(kLong), &packet), Status::kOk) << "page " << i;
    EXPECT_EQ(packet.key, vmo->key);
    EXPECT_EQ(packet.page_request.command, kPagerVmoRead);
    EXPECT_EQ(packet.page_request.offset, P(i));
    EXPECT_EQ(packet.page_request.length, P(1));
    ASSERT_EQ(pager.SupplyPages(*vmo, i, 1), Status::kOk);
    ASSERT_TRUE(threads[i]->Wait());
  }
  EXPECT_FALSE(pager.AnyPacket());
}

// Supplying from an aux VMO that is mapped moves the page out of it: the VMO (read and
// mapped) holds the data, the aux mapping reads zero.
TEST(PagerVmar, MappedSupplyPages) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  Vmo aux_vmo;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &aux_vmo), Status::kOk);
  Mapping aux_map;
  ASSERT_EQ(Mapping::Create(aux_vmo, 0, kPageSize, kMapRead | kMapWrite, &aux_map), Status::kOk);

  // Something to verify later, written through the aux mapping.
  constexpr uint8_t kData = 0xcc;
  *reinterpret_cast<volatile uint8_t*>(aux_map.data()) = kData;

  ASSERT_EQ(pager.pager().SupplyPages(vmo->vmo, 0, kPageSize, aux_vmo, 0), Status::kOk);

  uint8_t buf = 0;
  ASSERT_EQ(vmo->vmo.Read(&buf, 0, sizeof(buf)), Status::kOk);
  EXPECT_EQ(buf, kData);

  // The aux mapping reads zero now.
  EXPECT_EQ(*reinterpret_cast<volatile uint8_t*>(aux_map.data()), 0u);

  // And the pager VMO's own mapping sees the supplied data without asking.
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);
  uint64_t word = 0;
  ASSERT_TRUE(Load(map.data(), &word).ok);
  EXPECT_EQ(word, uint64_t{kData});
  EXPECT_FALSE(pager.AnyPacket());
}

// ---- Object lifecycle, multiple VMOs ----

// Zircon's version reads through each VMO's mapping (check_buffer(..., true)); the VMO
// goes away once both its handle and its mapping are gone.
TEST(PagerVmar, SuccessiveVmoTest) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  constexpr int kNumVmos = 64;
  for (int i = 0; i < kNumVmos; ++i) {
    auto vmo = pager.CreateVmo(1);
    ASSERT_NE(vmo, nullptr);
    Mapping map;
    ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

    TestThread t([&] { return CheckMapped(map, *vmo, 0, 1); });
    t.Start();
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
    ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
    ASSERT_TRUE(t.Wait());

    const uint64_t key = vmo->key;
    vmo.reset();
    // The mapping still holds the VMO open (9.3).
    ASSERT_FALSE(pager.WaitForPageComplete(key, kPoll));
    map.Reset();
    ASSERT_TRUE(pager.WaitForPageComplete(key));
  }
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(PagerVmar, MultipleConcurrentVmoTest) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  constexpr size_t kNumVmos = 8;
  std::vector<std::unique_ptr<TestVmo>> vmos;
  std::vector<Mapping> maps(kNumVmos);
  std::vector<std::unique_ptr<TestThread>> threads;
  for (size_t i = 0; i < kNumVmos; ++i) {
    vmos.push_back(pager.CreateVmo(1));
    ASSERT_NE(vmos.back(), nullptr);
    ASSERT_EQ(MapVmo(*vmos[i], &maps[i]), Status::kOk);
    threads.push_back(
        // The thread gets its own pointers: `vmos` reallocates as the loop goes on.
        std::make_unique<TestThread>(
            [m = &maps[i], v = vmos.back().get()] { return CheckMapped(*m, *v, 0, 1); }));
    threads.back()->Start();
    ASSERT_TRUE(pager.WaitForPageRead(*vmos[i], 0, 1));
  }

  for (size_t i = 0; i < kNumVmos; ++i) {
    ASSERT_EQ(pager.SupplyPages(*vmos[i], 0, 1), Status::kOk);
    ASSERT_TRUE(threads[i]->Wait());
  }
  EXPECT_FALSE(pager.AnyPacket());
}

}  // namespace
}  // namespace upager::testing
