// Zircon's core pager tests (zircon/system/utest/core/pager/pager.cc), the variants that reach
// the VMO through Vmo::Read/Write/OpRange: a VMO_VMAR_TEST(Pager, X) appears here as XVmo, a
// plain TEST(Pager, X) as X. Behaviour follows docs/zircon-semantics.md (section numbers in the
// comments); "blocked" is TestThread::WaitForBlocked, "no packet" a poll with a zero timeout.
//
// Not here: the mapping variants (XVmar), tests that need clones, pinning, mappings or
// eviction, and the parts of the argument matrices that are about handle types (the rights
// cases are in rights_test.cc).
#include "upager/pager.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/handle_access.h"
#include "pager/pager_object.h"
#include "pager_test_util.h"
#include "test_util.h"
#include "upager/port.h"
#include "upager/thread.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

// ---- Basic read faults and supply ----

TEST(Pager, SinglePageTestVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CheckVmo(*v, 0, 1); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
}

// Cancelling the VMO's key while its READ packet is queued acts as a dequeue (5.1): the
// request is still outstanding and later packets still flow.
TEST(Pager, CancelKeyDoesNotWedgeThePagerVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);

  TestThread t1([v = vmo.get()] { return CheckVmo(*v, 0, 1); });
  t1.Start();
  ASSERT_TRUE(t1.WaitForBlocked());

  ASSERT_EQ(pager.port().CancelKey(vmo->key), Status::kOk);

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t1.Wait());

  TestThread t2([v = vmo.get()] { return CheckVmo(*v, 1, 1); });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  ASSERT_TRUE(t2.Wait());
}

// An uncommitted aux page supplies zeros (11, supply_pages).
TEST(Pager, UncommittedSinglePageTestVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  const std::vector<char> zeros(kPageSize, 0);
  TestThread t([v = vmo.get(), &zeros] { return CheckVmoData(*v, 0, 1, zeros.data()); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  Vmo empty;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &empty), Status::kOk);
  ASSERT_EQ(pager.pager().SupplyPages(vmo->vmo, 0, kPageSize, empty, 0), Status::kOk);
  ASSERT_TRUE(t.Wait());
}

TEST(Pager, PresupplyTestVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);

  TestThread t([v = vmo.get()] { return CheckVmo(*v, 0, 1); });
  t.Start();
  ASSERT_TRUE(t.Wait());

  ASSERT_FALSE(pager.WaitForPageRead(*vmo, 0, 1, kPoll));
}

// A request resolved before the pager read its packet is withdrawn from the port (5.1, 19.2).
TEST(Pager, EarlySupplyTestVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);

  TestThread t1([v = vmo.get()] { return CheckVmo(*v, 0, 1); });
  // The second thread makes sure the packet queue has moved on.
  TestThread t2([v = vmo.get()] { return CheckVmo(*v, 1, 1); });

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

// A 32-page read asks for all 32 pages at once (10.2).
TEST(Pager, SequentialMultipageTestVmo) {
  UserPager pager;
  constexpr uint64_t kNumPages = 32;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CheckVmo(*v, 0, kNumPages); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kNumPages), Status::kOk);
  ASSERT_TRUE(t.Wait());
}

TEST(Pager, ConcurrentMultipageAccessTestVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);

  TestThread t1([v = vmo.get()] { return CheckVmo(*v, 0, 1); });
  TestThread t2([v = vmo.get()] { return CheckVmo(*v, 1, 1); });
  t1.Start();
  t2.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);

  ASSERT_TRUE(t1.Wait());
  ASSERT_TRUE(t2.Wait());
}

// 32 readers of one page share one request (4, 19.3).
TEST(Pager, ConcurrentOverlappingAccessTestVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  constexpr size_t kNumThreads = 32;
  std::vector<std::unique_ptr<TestThread>> threads;
  for (size_t i = 0; i < kNumThreads; ++i) {
    threads.push_back(std::make_unique<TestThread>([v = vmo.get()] { return CheckVmo(*v, 0, 1); }));
    threads.back()->Start();
    ASSERT_TRUE(threads.back()->WaitForBlocked());
  }

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);

  for (auto& t : threads) {
    ASSERT_TRUE(t->Wait());
  }
  ASSERT_FALSE(pager.WaitForPageRead(*vmo, 0, 1, kPoll));
}

TEST(Pager, BulkSingleSupplyTestVmo) {
  UserPager pager;
  constexpr uint64_t kNumPages = 8;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  std::vector<std::unique_ptr<TestThread>> threads;
  for (uint64_t i = 0; i < kNumPages; ++i) {
    threads.push_back(
        std::make_unique<TestThread>([v = vmo.get(), i] { return CheckVmo(*v, i, 1); }));
    threads.back()->Start();
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, i, 1));
  }

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kNumPages), Status::kOk);

  for (auto& t : threads) {
    ASSERT_TRUE(t->Wait());
  }
}

// Supplies of odd lengths (and, with `use_src_offset`, from odd aux offsets) satisfy the
// single-page requests they cover.
void BulkOddSupplyTestInner(bool use_src_offset) {
  UserPager pager;
  constexpr uint64_t kSupplyLengths[] = {2, 3, 5, 7, 37, 5, 13, 23};
  uint64_t sum = 0;
  for (uint64_t len : kSupplyLengths) sum += len;
  auto vmo = pager.CreateVmo(sum);
  ASSERT_NE(vmo, nullptr);

  uint64_t page_idx = 0;
  for (uint64_t supply_len : kSupplyLengths) {
    const uint64_t offset = page_idx;
    std::vector<std::unique_ptr<TestThread>> threads;
    for (uint64_t j = 0; j < supply_len; ++j) {
      const uint64_t page = offset + j;
      threads.push_back(
          std::make_unique<TestThread>([v = vmo.get(), page] { return CheckVmo(*v, page, 1); }));
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
}

TEST(Pager, BulkOddLengthSupplyTestVmo) { BulkOddSupplyTestInner(false); }

TEST(Pager, BulkOddOffsetSupplyTestVmo) { BulkOddSupplyTestInner(true); }

// Supply never overwrites a present page (18.4).
TEST(Pager, OverlapSupplyTestVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);

  // Page 0 gets content of its own (the pattern of page 2), then a supply of both pages.
  std::vector<char> alt_data(kPageSize);
  UserPager::Pattern(vmo->key, 2, alt_data.data());
  Vmo alt_vmo;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &alt_vmo), Status::kOk);
  ASSERT_EQ(alt_vmo.Write(alt_data.data(), 0, kPageSize), Status::kOk);
  ASSERT_EQ(pager.pager().SupplyPages(vmo->vmo, 0, kPageSize, alt_vmo, 0), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 2), Status::kOk);

  TestThread t([v = vmo.get(), &alt_data] {
    return CheckVmoData(*v, 0, 1, alt_data.data()) && CheckVmo(*v, 1, 1);
  });
  t.Start();
  ASSERT_TRUE(t.Wait());

  ASSERT_FALSE(pager.WaitForPageRead(*vmo, 0, 1, kPoll));
}

// 257 requests queue behind the VMO's one packet and come out in order (5.1, 19.4).
TEST(Pager, ManyRequestTestVmo) {
  UserPager pager;
  constexpr uint64_t kNumPages = 257;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  std::vector<std::unique_ptr<TestThread>> threads;
  for (uint64_t i = 0; i < kNumPages; ++i) {
    threads.push_back(
        std::make_unique<TestThread>([v = vmo.get(), i] { return CheckVmo(*v, i, 1); }));
    threads.back()->Start();
    ASSERT_TRUE(threads.back()->WaitForBlocked());
  }

  for (uint64_t i = 0; i < kNumPages; ++i) {
    // FIFO: the head of the queue is the only packet in the port.
    PortPacket packet{};
    ASSERT_EQ(pager.port().Wait(DeadlineAfter(kLong), &packet), Status::kOk);
    EXPECT_EQ(packet.key, vmo->key);
    EXPECT_EQ(packet.page_request.command, kPagerVmoRead);
    EXPECT_EQ(packet.page_request.offset, P(i));
    EXPECT_EQ(packet.page_request.length, P(1));
    ASSERT_EQ(pager.SupplyPages(*vmo, i, 1), Status::kOk);
    ASSERT_TRUE(threads[i]->Wait());
  }
}

// Supplying from an empty aux VMO leaves zeros that read without a request.
TEST(Pager, UncommittedSupply) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  Vmo empty;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &empty), Status::kOk);
  ASSERT_EQ(pager.pager().SupplyPages(vmo->vmo, 0, kPageSize, empty, 0), Status::kOk);

  uint32_t val = 42;
  ASSERT_EQ(vmo->vmo.Read(&val, 0, sizeof(val)), Status::kOk);
  EXPECT_EQ(val, 0u);
  EXPECT_FALSE(pager.AnyPacket());
}

// ---- Object lifecycle, multiple VMOs, races ----

TEST(Pager, SuccessiveVmoTest) {
  UserPager pager;
  constexpr int kNumVmos = 64;
  for (int i = 0; i < kNumVmos; ++i) {
    auto vmo = pager.CreateVmo(1);
    ASSERT_NE(vmo, nullptr);

    TestThread t([v = vmo.get()] { return CheckVmo(*v, 0, 1); });
    t.Start();
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
    ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
    ASSERT_TRUE(t.Wait());

    const uint64_t key = vmo->key;
    vmo.reset();
    ASSERT_TRUE(pager.WaitForPageComplete(key));
  }
}

TEST(Pager, MultipleConcurrentVmoTest) {
  UserPager pager;
  constexpr size_t kNumVmos = 8;
  std::vector<std::unique_ptr<TestVmo>> vmos;
  std::vector<std::unique_ptr<TestThread>> threads;
  for (size_t i = 0; i < kNumVmos; ++i) {
    vmos.push_back(pager.CreateVmo(1));
    ASSERT_NE(vmos.back(), nullptr);
    threads.push_back(
        std::make_unique<TestThread>([v = vmos.back().get()] { return CheckVmo(*v, 0, 1); }));
    threads.back()->Start();
    ASSERT_TRUE(pager.WaitForPageRead(*vmos.back(), 0, 1));
  }

  for (size_t i = 0; i < kNumVmos; ++i) {
    ASSERT_EQ(pager.SupplyPages(*vmos[i], 0, 1), Status::kOk);
    ASSERT_TRUE(threads[i]->Wait());
  }
}

TEST(Pager, VmoInfoPagerTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  VmoInfo info{};
  ASSERT_EQ(vmo->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.flags & kVmoInfoPagerBacked, kVmoInfoPagerBacked);

  Vmo plain;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &plain), Status::kOk);
  ASSERT_EQ(plain.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.flags & kVmoInfoPagerBacked, 0u);
}

TEST(Pager, ResizeNonresizableVmo) {
  Pager pager;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(pager.CreateVmo(0, port, 0, kPageSize, &vmo), Status::kOk);

  EXPECT_EQ(vmo.SetSize(P(2)), Status::kUnavailable);
}

// DECOMMIT is not supported on pager VMOs (11), nor on their at-least-on-write children (16).
TEST(Pager, DecommitTest) {
  Pager pager;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(pager.CreateVmo(0, port, 0, kPageSize, &vmo), Status::kOk);

  EXPECT_EQ(vmo.OpRange(kVmoOpDecommit, 0, kPageSize), Status::kNotSupported);

  // Also on a supplied (committed) page, and nothing changes: the page stays.
  Vmo aux;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &aux), Status::kOk);
  const uint64_t word = 0x5a5a5a5a5a5a5a5aull;
  ASSERT_EQ(aux.Write(&word, 0, sizeof(word)), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(vmo, 0, kPageSize, aux, 0), Status::kOk);
  EXPECT_EQ(vmo.OpRange(kVmoOpDecommit, 0, kPageSize), Status::kNotSupported);
  VmoInfo info{};
  ASSERT_EQ(vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, kPageSize);
  uint64_t read = 0;
  ASSERT_EQ(vmo.Read(&read, 0, sizeof(read)), Status::kOk);
  EXPECT_EQ(read, word);
  PortPacket packet{};
  EXPECT_EQ(port.Wait(DeadlineAfter(std::chrono::nanoseconds(0)), &packet), Status::kTimedOut);

  // The peer's second half: DECOMMIT on an at-least-on-write child is kNotSupported too (16).
  Vmo child;
  ASSERT_EQ(vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, kPageSize, &child), Status::kOk);
  EXPECT_EQ(child.OpRange(kVmoOpDecommit, 0, kPageSize), Status::kNotSupported);
  ASSERT_EQ(child.Read(&read, 0, sizeof(read)), Status::kOk);
  EXPECT_EQ(read, word);
  EXPECT_EQ(port.Wait(DeadlineAfter(std::chrono::nanoseconds(0)), &packet), Status::kTimedOut);
}

// Creating VMOs while another thread closes the pager's last handle (5.3): creation either
// works or fails with kBadState, and nothing breaks. Zircon races on a handle value the other
// thread closes; a upager handle must not be reset while another thread uses it, so the
// creating thread holds the object behind the handle, as the kernel does after its handle
// lookup, and calls it directly.
TEST(Pager, ZeroHandlesRace) {
  Pager pager;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);

  std::mutex mutex;
  std::shared_ptr<internal::PagerObject> current = internal::HandleAccess::Object(pager);
  std::atomic<bool> running{true};
  std::atomic<int> unexpected{0};
  std::atomic<int> created{0};

  std::thread thread([&] {
    Port port;
    if (Port::Create(0, &port) != Status::kOk) {
      unexpected++;
      return;
    }
    while (running.load()) {
      std::shared_ptr<internal::PagerObject> object;
      {
        std::lock_guard lock(mutex);
        object = current;
      }
      Vmo vmo;
      const Status status =
          object->CreateVmo(0, internal::HandleAccess::Object(port), 0, kPageSize, &vmo);
      if (status == Status::kOk) {
        created++;
      } else if (status != Status::kBadState) {
        unexpected++;
      }
      vmo.Reset();
      // Take the COMPLETE packets off the port so they do not pile up.
      PortPacket packet{};
      while (port.Wait(DeadlineAfter(std::chrono::nanoseconds(0)), &packet) == Status::kOk) {
      }
    }
  });

  for (TestLimiter limiter(2000, std::chrono::seconds(2)); !limiter.Finished(); limiter.Next()) {
    pager.Reset();
    ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
    std::lock_guard lock(mutex);
    current = internal::HandleAccess::Object(pager);
  }
  // The last pager stays open: creations on it succeed (the thread must have made at least
  // one VMO, whatever the race did before).
  EXPECT_TRUE(PollUntil([&] { return created.load() > 0; }));

  running = false;
  thread.join();
  EXPECT_EQ(unexpected.load(), 0);

  // A creation that found the pager before its last handle closed fails with kBadState.
  std::shared_ptr<internal::PagerObject> closed = internal::HandleAccess::Object(pager);
  pager.Reset();
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;
  EXPECT_EQ(closed->CreateVmo(0, internal::HandleAccess::Object(port), 0, kPageSize, &vmo),
            Status::kBadState);
  EXPECT_FALSE(vmo.is_valid());
}

// A port dequeue of a destroyed VMO's COMPLETE races with the pager's close (5.1, 5.3): the
// waiter sees the packet or nothing.
TEST(Pager, RacyPortDequeue) {
  for (TestLimiter limiter(1000, std::chrono::seconds(2)); !limiter.Finished(); limiter.Next()) {
    Pager pager;
    ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
    Port port;
    ASSERT_EQ(Port::Create(0, &port), Status::kOk);
    Vmo vmo;
    ASSERT_EQ(pager.CreateVmo(0, port, 0, kPageSize, &vmo), Status::kOk);

    std::atomic<bool> ready{false};
    TestThread t1([&] {
      while (!ready.load()) std::this_thread::yield();
      pager.Reset();
      return true;
    });
    TestThread t2([&] {
      while (!ready.load()) std::this_thread::yield();
      PortPacket packet{};
      const Status status = port.Wait(DeadlineAfter(std::chrono::nanoseconds(0)), &packet);
      if (status == Status::kTimedOut) return true;
      return status == Status::kOk && packet.page_request.command == kPagerVmoComplete;
    });

    // The COMPLETE is queued and the source closed.
    vmo.Reset();

    t1.Start();
    t2.Start();
    ready = true;
    ASSERT_TRUE(t1.Wait());
    ASSERT_TRUE(t2.Wait());
    port.Reset();
  }
}

// A VMO of a closed pager does not belong to a new pager (11).
TEST(Pager, ProxyUseAfterFree) {
  Pager pager;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(pager.CreateVmo(0, port, 0, kPageSize, &vmo), Status::kOk);

  pager.Reset();

  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  PagerVmoStats stats{};
  EXPECT_EQ(pager.QueryVmoStats(vmo, 0, &stats, sizeof(stats)), Status::kInvalidArgs);
}

}  // namespace
}  // namespace upager::testing
