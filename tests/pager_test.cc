// Zircon's core pager tests (zircon/system/utest/core/pager/pager.cc), the variants that reach
// the VMO through Vmo::Read/Write/OpRange: a VMO_VMAR_TEST(Pager, X) appears here as XVmo, a
// plain TEST(Pager, X) as X. Behaviour follows zircon-semantics.md (section numbers in the
// comments); "blocked" is TestThread::WaitForBlocked, "no packet" a poll with a zero timeout.
//
// Not here: the mapping variants (XVmar), tests that need clones, pinning, mappings or
// eviction, and the parts of the argument matrices that are about rights or handle types.
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
#include "test_util.h"
#include "upager/port.h"
#include "upager/thread.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
constexpr std::chrono::milliseconds kPoll{0};
constexpr std::chrono::seconds kLong{10};

// Zircon's check_buffer for the Vmo variant: read the pages and compare with the pattern.
bool CheckVmo(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<char> data(P(count));
  if (vmo.vmo.Read(data.data(), P(first), P(count)) != Status::kOk) {
    return false;
  }
  return UserPager::CheckPattern(vmo.key, first, count, data.data());
}

// check_buffer_data: the pages must hold `expected`.
bool CheckVmoData(const TestVmo& vmo, uint64_t first, uint64_t count, const void* expected) {
  std::vector<char> data(P(count));
  if (vmo.vmo.Read(data.data(), P(first), P(count)) != Status::kOk) {
    return false;
  }
  return std::memcmp(data.data(), expected, P(count)) == 0;
}

Status ReadPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<char> data(P(count));
  return vmo.vmo.Read(data.data(), P(first), P(count));
}

Status CommitPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
  return vmo.vmo.OpRange(kVmoOpCommit, P(first), P(count));
}

// The pattern UserPager supplies for pages [first, first+count) of `vmo`.
std::vector<char> Expected(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<char> data(P(count));
  for (uint64_t i = 0; i < count; ++i) {
    UserPager::Pattern(vmo.key, first + i, data.data() + P(i));
  }
  return data;
}

// The destination of a read that the main thread watches fill in (Zircon's WaitForData, which
// spins on volatile loads). The buffer is a shared mapping of a memfd and the watcher looks at
// it through pread on the memfd, so the unsynchronised look is the kernel's, not a data race.
class SharedBuffer {
 public:
  explicit SharedBuffer(size_t size) : size_(size) {
    fd_ = ::memfd_create("pager-test-buffer", MFD_CLOEXEC);
    if (fd_ >= 0 && ::ftruncate(fd_, static_cast<off_t>(size)) == 0) {
      void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
      if (p != MAP_FAILED) data_ = static_cast<char*>(p);
    }
  }
  ~SharedBuffer() {
    if (data_ != nullptr) ::munmap(data_, size_);
    if (fd_ >= 0) ::close(fd_);
  }
  SharedBuffer(const SharedBuffer&) = delete;
  SharedBuffer& operator=(const SharedBuffer&) = delete;

  bool ok() const { return data_ != nullptr; }
  // For the reading thread, and for anyone after it has been joined.
  char* data() const { return data_; }

  // Whether [offset, offset+len) holds `expected` now.
  bool Holds(const char* expected, size_t offset, size_t len) const {
    std::vector<char> now(len);
    if (::pread(fd_, now.data(), len, static_cast<off_t>(offset)) != static_cast<ssize_t>(len)) {
      return false;
    }
    return std::memcmp(now.data(), expected, len) == 0;
  }
  bool WaitFor(const char* expected, size_t offset, size_t len) const {
    return PollUntil([&] { return Holds(expected, offset, len); });
  }

 private:
  size_t size_;
  int fd_ = -1;
  char* data_ = nullptr;
};

// Zircon's TestLimiter: at most `iterations`, or until `duration` has passed.
class TestLimiter {
 public:
  TestLimiter(int iterations, std::chrono::milliseconds duration)
      : left_(iterations), end_(std::chrono::steady_clock::now() + duration) {}
  bool Finished() const { return left_ <= 0 || std::chrono::steady_clock::now() >= end_; }
  void Next() { --left_; }

 private:
  int left_;
  std::chrono::steady_clock::time_point end_;
};

// Zircon's SuspendSync + Resume on a thread blocked in a page-request wait: the suspended
// wait is abandoned (the thread leaves it), then the thread runs again.
void SuspendAndResume(TestThread& t) {
  ThreadHandle& handle = t.handle();
  handle.Suspend();
  ASSERT_TRUE(PollUntil([&] { return !handle.IsBlockedOnPager(); }));
  handle.Resume();
}

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

// DECOMMIT is not supported on pager VMOs (11); the at-least-on-write child half of the peer
// test needs clones.
TEST(Pager, DecommitTest) {
  Pager pager;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(pager.CreateVmo(0, port, 0, kPageSize, &vmo), Status::kOk);

  EXPECT_EQ(vmo.OpRange(kVmoOpDecommit, 0, kPageSize), Status::kNotSupported);

  constexpr uint32_t kChildSnapshotAtLeastOnWrite = 1u << 4;  // ZX_VMO_CHILD_...
  Vmo child;
  const Status status = vmo.CreateChild(kChildSnapshotAtLeastOnWrite, 0, kPageSize, &child);
  if (status == Status::kNotSupported) {
    return;  // no clones yet
  }
  ASSERT_EQ(status, Status::kOk);
  EXPECT_EQ(child.OpRange(kVmoOpDecommit, 0, kPageSize), Status::kNotSupported);
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

  running = false;
  thread.join();
  EXPECT_EQ(unexpected.load(), 0);
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

// ---- Mappings and resize interaction (the parts without mappings) ----

// Shrinking the VMO under a blocked reader ends the read with kOutOfRange (18.6).
TEST(Pager, ReadResizeTestVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoResizable);
  ASSERT_NE(vmo, nullptr);

  Status status = Status::kOk;
  TestThread t([v = vmo.get(), &status] {
    status = ReadPages(*v, 0, 1);
    return status == Status::kOk;
  });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(vmo->vmo.SetSize(0), Status::kOk);

  ASSERT_TRUE(t.WaitForFailure());
  EXPECT_EQ(status, Status::kOutOfRange);
}

// A commit blocked on READ[0,3): page 2 supplied, then the VMO shrunk to one page. The
// shrink resolves only the still-missing page 1, so the request waits for page 0 (4.1), and
// the commit then succeeds without asking for anything else.
TEST(Pager, ResizeCommitTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(3, kVmoResizable);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, 3) == Status::kOk; });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 3));
  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 1), Status::kOk);
  ASSERT_EQ(vmo->vmo.SetSize(P(1)), Status::kOk);

  ASSERT_TRUE(t.WaitForBlocked());
  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());

  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// ---- Thread suspension ----

// A suspended wait is abandoned and its request cancelled; after resume the read asks again
// and a second READ for the same page arrives (8, 19.12).
TEST(Pager, SuspendReadTestVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CheckVmo(*v, 0, 1); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_TRUE(t.WaitForBlocked());

  ASSERT_NO_FATAL_FAILURE(SuspendAndResume(t));

  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
}

TEST(Pager, SuspendCommitTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, 1) == Status::kOk; });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_TRUE(t.WaitForBlocked());

  ASSERT_NO_FATAL_FAILURE(SuspendAndResume(t));

  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
}

// ---- Detach, close and port lifetime ----

TEST(Pager, DetachPageCompleteTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));

  // Detach is idempotent and COMPLETE comes once, also when the VMO goes later (9.1, 12).
  EXPECT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  vmo.reset();
  EXPECT_FALSE(pager.AnyPacket());
}

// Detach drops clean pages; later reads fail with kBadState without a request (9.2). The
// clone half of the peer test needs clones.
TEST(Pager, DecommitOnDetachTestVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);

  TestThread t1([v = vmo.get()] { return CheckVmo(*v, 0, 1); });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t1.Wait());

  VmoInfo info{};
  ASSERT_EQ(vmo->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, kPageSize);

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));

  ASSERT_EQ(vmo->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, 0u);

  // The page that was supplied, and the one that never was.
  EXPECT_EQ(ReadPages(*vmo, 0, 1), Status::kBadState);
  EXPECT_EQ(ReadPages(*vmo, 1, 1), Status::kBadState);

  uint64_t offset = 0;
  uint64_t length = 0;
  EXPECT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

TEST(Pager, ClosePageCompleteTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  const uint64_t key = vmo->key;
  vmo.reset();
  ASSERT_TRUE(pager.WaitForPageComplete(key));
  EXPECT_FALSE(pager.AnyPacket());
}

// A read straddling two pages asks for both at once; page 0 supplied, then detach: the read
// fails with kBadState.
TEST(Pager, DetachNonMappingAccess) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);

  Status status = Status::kOk;
  TestThread t([v = vmo.get(), &status] {
    uint64_t val;
    status = v->vmo.Read(&val, kPageSize - sizeof(uint64_t) / 2, sizeof(uint64_t));
    return true;
  });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(status, Status::kBadState);

  uint64_t offset = 0;
  uint64_t length = 0;
  EXPECT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// Detaching the VMO or closing the pager while a reader waits fails the reader with
// kBadState (9.2, 5.3); a detach also queues COMPLETE. `late`: the pager has read the READ
// packet; otherwise it is still queued.
void ReadInterruptTest(bool late, bool detach) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  Status status = Status::kOk;
  TestThread t([v = vmo.get(), &status] {
    status = ReadPages(*v, 0, 1);
    return status == Status::kOk;
  });
  t.Start();

  if (late) {
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  } else {
    ASSERT_TRUE(t.WaitForBlocked());
  }

  if (detach) {
    ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  } else {
    pager.pager().Reset();
  }

  ASSERT_TRUE(t.WaitForFailure());
  EXPECT_EQ(status, Status::kBadState);

  if (detach) {
    ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  }
  if (!late) {
    // The queued READ was withdrawn (and, for a closed pager, everything else too).
    uint64_t offset = 0;
    uint64_t length = 0;
    EXPECT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
  }
  if (!detach) {
    EXPECT_FALSE(pager.AnyPacket());
  }
}

TEST(Pager, ReadCloseInterruptLateTestVmo) { ReadInterruptTest(/*late=*/true, /*detach=*/false); }

TEST(Pager, ReadDetachInterruptLateTestVmo) { ReadInterruptTest(/*late=*/true, /*detach=*/true); }

TEST(Pager, ReadCloseInterruptEarlyTestVmo) { ReadInterruptTest(/*late=*/false, /*detach=*/false); }

TEST(Pager, ReadDetachInterruptEarlyTestVmo) { ReadInterruptTest(/*late=*/false, /*detach=*/true); }

// Closing the pager fails a blocked reader with kBadState; pages supplied before stay
// readable (9.4).
TEST(Pager, ClosePagerTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);

  Status status = Status::kOk;
  TestThread t([v = vmo.get(), &status] {
    status = ReadPages(*v, 0, 1);
    return status == Status::kOk;
  });
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);

  t.Start();
  ASSERT_TRUE(t.WaitForBlocked());

  pager.pager().Reset();

  ASSERT_TRUE(t.WaitForFailure());
  EXPECT_EQ(status, Status::kBadState);
  EXPECT_TRUE(CheckVmo(*vmo, 1, 1));
  // Nothing more is delivered for a closed pager's VMOs, not even COMPLETE (5.3).
  EXPECT_FALSE(pager.AnyPacket());
  vmo.reset();
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(Pager, DetachClosePagerTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  pager.pager().Reset();
}

// Closing the port handle does not stop supply (5.4); a detach still fails the blocked
// reader with kBadState.
TEST(Pager, ClosePortTest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);

  Status status = Status::kOk;
  TestThread t([v = vmo.get(), &status] {
    status = ReadPages(*v, 0, 1);
    return status == Status::kOk;
  });
  t.Start();
  ASSERT_TRUE(t.WaitForBlocked());

  pager.port().Reset();

  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  EXPECT_TRUE(CheckVmo(*vmo, 1, 1));

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(t.WaitForFailure());
  EXPECT_EQ(status, Status::kBadState);
}

TEST(Pager, SupplyAfterDetach) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  EXPECT_EQ(pager.SupplyPages(*vmo, 0, kNumPages), Status::kBadState);

  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

TEST(Pager, FailAfterDetach) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  Status status = Status::kOk;
  TestThread t([v = vmo.get(), &status] {
    status = CommitPages(*v, 0, kNumPages);
    return status == Status::kOk;
  });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(t.WaitForFailure());
  EXPECT_EQ(status, Status::kBadState);

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  EXPECT_EQ(pager.FailPages(*vmo, 0, kNumPages), Status::kBadState);

  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// ALWAYS_NEED is best effort: on a detached VMO it still returns kOk (15).
TEST(Pager, DetachAndAlwaysNeed) {
  Pager pager;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(pager.CreateVmo(0, port, 1, P(2), &vmo), Status::kOk);

  EXPECT_EQ(pager.DetachVmo(vmo), Status::kOk);
  EXPECT_EQ(vmo.OpRange(kVmoOpAlwaysNeed, 0, P(2)), Status::kOk);
}

// ---- Commit, batching and overlap ----

// A commit asks for the whole absent run at once (10.2).
TEST(Pager, SimpleCommitTest) {
  UserPager pager;
  constexpr uint64_t kNumPages = 555;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages) == Status::kOk; });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kNumPages), Status::kOk);
  ASSERT_TRUE(t.Wait());
}

TEST(Pager, SplitCommitTest) {
  UserPager pager;
  constexpr uint64_t kNumPages = 33;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  ASSERT_EQ(pager.SupplyPages(*vmo, kNumPages / 2, 1), Status::kOk);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages) == Status::kOk; });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages / 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kNumPages / 2), Status::kOk);

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, kNumPages / 2 + 1, kNumPages / 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, kNumPages / 2 + 1, kNumPages / 2), Status::kOk);

  ASSERT_TRUE(t.Wait());
}

// Commit[8,24) asks for [8,24); Commit[0,32) only for the unique prefix [0,8); once [0,24)
// is supplied the big commit retries and asks for [24,32) (4, 19.6).
TEST(Pager, OverlapCommitTest) {
  UserPager pager;
  constexpr uint64_t kNumPages = 32;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t1(
      [v = vmo.get()] { return CommitPages(*v, kNumPages / 4, kNumPages / 2) == Status::kOk; });
  TestThread t2([v = vmo.get()] { return CommitPages(*v, 0, kNumPages) == Status::kOk; });

  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, kNumPages / 4, kNumPages / 2));

  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages / 4));

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 3 * kNumPages / 4), Status::kOk);

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 3 * kNumPages / 4, kNumPages / 4));
  ASSERT_EQ(pager.SupplyPages(*vmo, 3 * kNumPages / 4, kNumPages / 4), Status::kOk);

  ASSERT_TRUE(t1.Wait());
  ASSERT_TRUE(t2.Wait());
}

// 7-page commits each get a READ; 5-page commits inside them add none; 3-page supplies
// straddling both finish everything.
TEST(Pager, OverlapCommitSupplyTest) {
  UserPager pager;
  constexpr uint64_t kSupplyLen = 3;
  constexpr uint64_t kCommitLenA = 7;
  constexpr uint64_t kCommitLenB = 5;
  constexpr uint64_t kNumPages = kCommitLenA * kCommitLenB * kSupplyLen;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  std::vector<std::unique_ptr<TestThread>> threads_a;
  for (uint64_t i = 0; i < kNumPages / kCommitLenA; ++i) {
    threads_a.push_back(std::make_unique<TestThread>([v = vmo.get(), i] {
      return CommitPages(*v, i * kCommitLenA, kCommitLenA) == Status::kOk;
    }));
    threads_a.back()->Start();
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, i * kCommitLenA, kCommitLenA));
  }

  std::vector<std::unique_ptr<TestThread>> threads_b;
  for (uint64_t i = 0; i < kNumPages / kCommitLenB; ++i) {
    threads_b.push_back(std::make_unique<TestThread>([v = vmo.get(), i] {
      return CommitPages(*v, i * kCommitLenB, kCommitLenB) == Status::kOk;
    }));
    threads_b.back()->Start();
    ASSERT_TRUE(threads_b.back()->WaitForBlocked());
  }
  ASSERT_FALSE(pager.AnyPacket());

  for (uint64_t i = 0; i < kNumPages / kSupplyLen; ++i) {
    ASSERT_EQ(pager.SupplyPages(*vmo, i * kSupplyLen, kSupplyLen), Status::kOk);
  }

  for (auto& t : threads_a) {
    ASSERT_TRUE(t->Wait());
  }
  for (auto& t : threads_b) {
    ASSERT_TRUE(t->Wait());
  }
  ASSERT_FALSE(pager.AnyPacket());
}

TEST(Pager, MultisupplyCommitTest) {
  UserPager pager;
  constexpr uint64_t kNumPages = 32;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages) == Status::kOk; });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  for (uint64_t i = 0; i < kNumPages; ++i) {
    ASSERT_EQ(pager.SupplyPages(*vmo, i, 1), Status::kOk);
  }
  ASSERT_TRUE(t.Wait());
}

TEST(Pager, MulticommitSupplyTest) {
  UserPager pager;
  constexpr uint64_t kNumCommits = 5;
  constexpr uint64_t kNumSupplies = 7;
  auto vmo = pager.CreateVmo(kNumCommits * kNumSupplies);
  ASSERT_NE(vmo, nullptr);

  std::vector<std::unique_ptr<TestThread>> threads;
  for (uint64_t i = 0; i < kNumCommits; ++i) {
    threads.push_back(std::make_unique<TestThread>([v = vmo.get(), i] {
      return CommitPages(*v, i * kNumSupplies, kNumSupplies) == Status::kOk;
    }));
    threads.back()->Start();
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, i * kNumSupplies, kNumSupplies));
  }

  for (uint64_t i = 0; i < kNumSupplies; ++i) {
    ASSERT_EQ(pager.SupplyPages(*vmo, kNumCommits * i, kNumCommits), Status::kOk);
  }

  for (auto& t : threads) {
    ASSERT_TRUE(t->Wait());
  }
}

// Supplies [0,i) for growing i: only the new page of each counts (4.1), no errors.
TEST(Pager, CommitRedundantSupplyTest) {
  UserPager pager;
  constexpr uint64_t kNumPages = 8;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages) == Status::kOk; });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  for (uint64_t i = 1; i <= kNumPages; ++i) {
    ASSERT_EQ(pager.SupplyPages(*vmo, 0, i), Status::kOk);
  }
  ASSERT_TRUE(t.Wait());
}

// Page 2 present: Commit[0,5) asks for [0,2), then [3,5) (10.2, 19.7).
TEST(Pager, PresentPageSplitsRange) {
  UserPager pager;
  constexpr uint64_t kNumPages = 5;
  constexpr uint64_t kSuppliedPage = 2;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  ASSERT_EQ(pager.SupplyPages(*vmo, kSuppliedPage, 1), Status::kOk);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages) == Status::kOk; });
  t.Start();

  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kSuppliedPage));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kSuppliedPage), Status::kOk);

  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, kSuppliedPage + 1, kNumPages - kSuppliedPage - 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, kSuppliedPage + 1, kNumPages - kSuppliedPage - 1), Status::kOk);

  ASSERT_TRUE(t.Wait());
}

// PREFETCH on the root asks for the missing page (15). The slice and clone parts of the
// peer test need children.
TEST(Pager, Prefetch) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return v->vmo.OpRange(kVmoOpPrefetch, 0, P(1)) == Status::kOk; });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t.Wait());
}

// ---- Failure reporting (ZX_PAGER_OP_FAIL) ----

TEST(Pager, FailSinglePageVmo) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);

  Status status = Status::kOk;
  TestThread t([v = vmo.get(), &status] {
    status = ReadPages(*v, 0, 1);
    return status == Status::kOk;
  });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.FailPages(*vmo, 0, 1), Status::kOk);

  ASSERT_TRUE(t.WaitForFailure());
  EXPECT_EQ(status, Status::kIo);

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

TEST(Pager, FailExactRange) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages) == Status::kOk; });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.FailPages(*vmo, 0, kNumPages), Status::kOk);
  ASSERT_TRUE(t.WaitForFailure());

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

TEST(Pager, FailMultipleCommits) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);
  uint64_t offset = 0;
  uint64_t length = 0;

  // Disjoint ranges: one request each.
  std::vector<std::unique_ptr<TestThread>> threads;
  for (uint64_t i = 0; i < kNumPages; ++i) {
    threads.push_back(std::make_unique<TestThread>(
        [v = vmo.get(), i] { return CommitPages(*v, i, 1) == Status::kOk; }));
    threads.back()->Start();
  }
  for (uint64_t i = 0; i < kNumPages; ++i) {
    ASSERT_TRUE(threads[i]->WaitForBlocked());
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, i, 1));
  }

  ASSERT_EQ(pager.FailPages(*vmo, 0, kNumPages), Status::kOk);
  for (auto& t : threads) {
    ASSERT_TRUE(t->WaitForFailure());
  }
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  // The same range: one request shared by all.
  threads.clear();
  for (uint64_t i = 0; i < kNumPages; ++i) {
    threads.push_back(std::make_unique<TestThread>(
        [v = vmo.get()] { return CommitPages(*v, 0, kNumPages) == Status::kOk; }));
    threads.back()->Start();
  }
  for (auto& t : threads) {
    ASSERT_TRUE(t->WaitForBlocked());
  }

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  ASSERT_EQ(pager.FailPages(*vmo, 0, kNumPages), Status::kOk);
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  for (auto& t : threads) {
    ASSERT_TRUE(t->WaitForFailure());
  }
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

TEST(Pager, FailMultipleVmos) {
  UserPager pager;
  auto vmo1 = pager.CreateVmo(1);
  ASSERT_NE(vmo1, nullptr);
  TestThread t1([v = vmo1.get()] { return CommitPages(*v, 0, 1) == Status::kOk; });
  auto vmo2 = pager.CreateVmo(1);
  ASSERT_NE(vmo2, nullptr);
  TestThread t2([v = vmo2.get()] { return CommitPages(*v, 0, 1) == Status::kOk; });
  uint64_t offset = 0;
  uint64_t length = 0;

  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo1, 0, 1));
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo2, kPoll, &offset, &length));

  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo2, 0, 1));

  ASSERT_EQ(pager.FailPages(*vmo1, 0, 1), Status::kOk);
  ASSERT_TRUE(t1.WaitForFailure());
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo1, kPoll, &offset, &length));

  ASSERT_EQ(pager.FailPages(*vmo2, 0, 1), Status::kOk);
  ASSERT_TRUE(t2.WaitForFailure());
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo1, kPoll, &offset, &length));
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo2, kPoll, &offset, &length));
}

// Requests [0,2), [9,11), [5,7); supply 0, fail [1,10), supply 10: [5,7) and [9,11) fail;
// [0,2) completes OK (the failure missed its first page, 7.2) and asks again for [1,2),
// which is then failed (19.8).
TEST(Pager, FailOverlappingRangeCommit) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  Status s1 = Status::kOk;
  Status s2 = Status::kOk;
  Status s3 = Status::kOk;
  TestThread t1([v = vmo.get(), &s1] { return (s1 = CommitPages(*v, 0, 2)) == Status::kOk; });
  TestThread t2([v = vmo.get(), &s2] { return (s2 = CommitPages(*v, 9, 2)) == Status::kOk; });
  TestThread t3([v = vmo.get(), &s3] { return (s3 = CommitPages(*v, 5, 2)) == Status::kOk; });

  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 2));
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 9, 2));
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 5, 2));

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_EQ(pager.FailPages(*vmo, 1, 9), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 10, 1), Status::kOk);

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.FailPages(*vmo, 1, 9), Status::kOk);

  ASSERT_TRUE(t1.WaitForFailure());
  ASSERT_TRUE(t2.WaitForFailure());
  ASSERT_TRUE(t3.WaitForFailure());
  EXPECT_EQ(s1, Status::kIo);
  EXPECT_EQ(s2, Status::kIo);
  EXPECT_EQ(s3, Status::kIo);

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// The same with early-wake readers and the failure first.
TEST(Pager, FailOverlappingRangeRead) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t1([v = vmo.get()] { return ReadPages(*v, 0, 2) == Status::kOk; });
  TestThread t2([v = vmo.get()] { return ReadPages(*v, 9, 2) == Status::kOk; });
  TestThread t3([v = vmo.get()] { return ReadPages(*v, 5, 2) == Status::kOk; });

  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 2));
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 9, 2));
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 5, 2));

  ASSERT_EQ(pager.FailPages(*vmo, 1, 9), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 10, 1), Status::kOk);

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(pager.FailPages(*vmo, 1, 9), Status::kOk);

  ASSERT_TRUE(t1.WaitForFailure());
  ASSERT_TRUE(t2.WaitForFailure());
  ASSERT_TRUE(t3.WaitForFailure());

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// Failing page by page: a failure counts as a resolution (3.6), the rest are no-ops.
TEST(Pager, FailRedundant) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t([v = vmo.get()] { return CommitPages(*v, 0, kNumPages) == Status::kOk; });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  for (uint64_t i = 0; i < kNumPages; ++i) {
    ASSERT_EQ(pager.FailPages(*vmo, i, 1), Status::kOk);
  }
  ASSERT_TRUE(t.WaitForFailure());

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// Read of 3 pages: page 0 supplied (early wake, the reader takes it), then page 1 failed:
// that is the page the reader needs next, so the read fails although page 2 was never
// resolved (6.4).
TEST(Pager, FailEarlyWake) {
  UserPager pager;
  auto vmo = pager.CreateVmo(3);
  ASSERT_NE(vmo, nullptr);

  SharedBuffer data(P(3));
  ASSERT_TRUE(data.ok());
  Status status = Status::kOk;
  TestThread t([v = vmo.get(), &data, &status] {
    status = v->vmo.Read(data.data(), 0, P(3));
    return status == Status::kOk;
  });
  t.Start();
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 3));

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  // The reader has taken page 0 and waits again.
  const std::vector<char> expected = Expected(*vmo, 0, 1);
  ASSERT_TRUE(data.WaitFor(expected.data(), 0, P(1)));
  ASSERT_TRUE(t.WaitForBlocked());

  ASSERT_EQ(pager.FailPages(*vmo, 1, 1, Status::kIo), Status::kOk);
  ASSERT_TRUE(t.WaitForFailure());
  EXPECT_EQ(status, Status::kIo);
}

// A secondary reader gets the failure recorded for its first page; the primary completes OK
// and asks again for the failed page (7.2, 19.9).
TEST(Pager, FailOverlapRequest) {
  UserPager pager;
  auto vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  uint64_t offset = 0;
  uint64_t length = 0;

  TestThread t1([v = vmo.get()] { return CheckVmo(*v, 0, 4); });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 4));

  Status status = Status::kOk;
  TestThread t2([v = vmo.get(), &status] {
    status = ReadPages(*v, 1, 1);
    return status == Status::kOk;
  });
  t2.Start();
  ASSERT_TRUE(t2.WaitForBlocked());
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  // Recorded for the secondary; it will hear when the primary completes.
  ASSERT_EQ(pager.FailPages(*vmo, 1, 1, Status::kIo), Status::kOk);

  // Early wake of the primary, which then waits for the rest.
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1, 0), Status::kOk);
  ASSERT_TRUE(t1.WaitForBlocked());
  ASSERT_TRUE(t2.WaitForBlocked());

  ASSERT_EQ(pager.SupplyPages(*vmo, 2, 2, 2), Status::kOk);

  ASSERT_TRUE(t2.WaitForFailure());
  EXPECT_EQ(status, Status::kIo);
  ASSERT_TRUE(pager.GetPageReadRequest(*vmo, kLong, &offset, &length));
  EXPECT_EQ(offset, 1u);
  EXPECT_GE(length, 1u);

  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 3, 1), Status::kOk);
  ASSERT_TRUE(t1.Wait());
}

// Failures are not sticky (7.2).
TEST(Pager, SupplyAfterFail) {
  UserPager pager;
  constexpr uint64_t kNumPages = 11;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);
  uint64_t offset = 0;
  uint64_t length = 0;

  TestThread t1([v = vmo.get()] { return CommitPages(*v, 0, kNumPages) == Status::kOk; });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.FailPages(*vmo, 0, kNumPages), Status::kOk);
  ASSERT_TRUE(t1.WaitForFailure());
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  TestThread t2([v = vmo.get()] { return CommitPages(*v, 0, kNumPages) == Status::kOk; });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, kNumPages), Status::kOk);
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(CheckVmo(*vmo, 0, kNumPages));

  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// Each permitted failure code comes back verbatim from COMMIT and from a read (7.1, 7.3).
TEST(Pager, FailErrorCode) {
  constexpr Status kValidErrors[] = {Status::kIo, Status::kIoDataIntegrity, Status::kBadState,
                                     Status::kNoSpace, Status::kBufferTooSmall};
  for (const Status error : kValidErrors) {
    SCOPED_TRACE(StatusString(error));
    UserPager pager;
    constexpr uint64_t kNumPages = 11;
    auto vmo = pager.CreateVmo(kNumPages);
    ASSERT_NE(vmo, nullptr);

    Status status_commit = Status::kOk;
    TestThread t_commit([v = vmo.get(), &status_commit] {
      status_commit = CommitPages(*v, 0, kNumPages);
      return status_commit == Status::kOk;
    });
    Status status_read = Status::kOk;
    TestThread t_read([v = vmo.get(), &status_read] {
      status_read = ReadPages(*v, 0, kNumPages);
      return status_read == Status::kOk;
    });

    t_commit.Start();
    ASSERT_TRUE(t_commit.WaitForBlocked());
    t_read.Start();
    ASSERT_TRUE(t_read.WaitForBlocked());
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));

    ASSERT_EQ(pager.FailPages(*vmo, 0, kNumPages, error), Status::kOk);

    ASSERT_TRUE(t_commit.WaitForFailure());
    EXPECT_EQ(status_commit, error);
    ASSERT_TRUE(t_read.WaitForFailure());
    EXPECT_EQ(status_read, error);

    uint64_t offset = 0;
    uint64_t length = 0;
    ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
  }
}

// ---- Early wake ----

// A 128-page read from page 2 sees its data arrive in 32-page steps, each as soon as it is
// supplied (6).
TEST(Pager, EarlyWakeOnSupply) {
  UserPager pager;
  constexpr uint64_t kNumPages = 128;
  constexpr uint64_t kPageSteps = 32;
  static_assert(kNumPages % kPageSteps == 0);
  // The request's offset in the VMO differs from offsets relative to the request.
  constexpr uint64_t kStartOffset = 2;
  auto vmo = pager.CreateVmo(kNumPages + kStartOffset);
  ASSERT_NE(vmo, nullptr);

  const std::vector<char> expected = Expected(*vmo, kStartOffset, kNumPages);
  SharedBuffer data(P(kNumPages));
  ASSERT_TRUE(data.ok());

  TestThread t([v = vmo.get(), &data] {
    return v->vmo.Read(data.data(), P(kStartOffset), P(kNumPages)) == Status::kOk;
  });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, kStartOffset, kNumPages));

  for (uint64_t i = 0; i < kNumPages; i += kPageSteps) {
    ASSERT_TRUE(t.WaitForBlocked());
    ASSERT_EQ(pager.SupplyPages(*vmo, i + kStartOffset, kPageSteps), Status::kOk);
    ASSERT_TRUE(data.WaitFor(expected.data() + P(i), P(i), P(kPageSteps)));
  }
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(std::memcmp(expected.data(), data.data(), P(kNumPages)), 0);

  uint64_t offset = 0;
  uint64_t length = 0;
  EXPECT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// Supplies that do not start at the reader's next page do not wake it; once the page it
// needs arrives it takes everything present up to the next gap (6.2, 6.3).
TEST(Pager, EarlyWakeNonLinearSupply) {
  UserPager pager;
  constexpr uint64_t kNumPages = 128;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  const std::vector<char> expected = Expected(*vmo, 0, kNumPages);
  SharedBuffer data(P(kNumPages));
  ASSERT_TRUE(data.ok());

  TestThread t(
      [v = vmo.get(), &data] { return v->vmo.Read(data.data(), 0, P(kNumPages)) == Status::kOk; });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));

  ASSERT_EQ(pager.SupplyPages(*vmo, 16, 16), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 48, 16), Status::kOk);

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 16), Status::kOk);
  ASSERT_TRUE(data.WaitFor(expected.data(), 0, P(32)));

  ASSERT_EQ(pager.SupplyPages(*vmo, 32, 16), Status::kOk);
  ASSERT_TRUE(data.WaitFor(expected.data(), 0, P(64)));

  ASSERT_EQ(pager.SupplyPages(*vmo, 64, kNumPages - 64), Status::kOk);
  ASSERT_TRUE(t.Wait());

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
  EXPECT_EQ(std::memcmp(expected.data(), data.data(), P(kNumPages)), 0);
}

// Reads [16,42), [0,32), [48,64) and [82,128) start while [0,92) is outstanding: no new
// packets; each wakes as its own next page arrives (6.2); the tail reader asks for [100,128)
// once [0,92) completes.
TEST(Pager, EarlyWakeOverlappingRequests) {
  UserPager pager;
  constexpr uint64_t kVmoPages = 128;
  auto vmo = pager.CreateVmo(kVmoPages);
  ASSERT_NE(vmo, nullptr);

  struct Request {
    uint64_t start;
    uint64_t end;
    std::unique_ptr<SharedBuffer> data;
    std::unique_ptr<TestThread> thread;
  };
  Request requests[] = {
      {0, 92, {}, {}}, {16, 42, {}, {}}, {0, 32, {}, {}}, {48, 64, {}, {}}, {82, 128, {}, {}}};
  const std::vector<char> expected = Expected(*vmo, 0, kVmoPages);
  for (Request& req : requests) {
    req.data = std::make_unique<SharedBuffer>(P(req.end - req.start));
    ASSERT_TRUE(req.data->ok());
    req.thread = std::make_unique<TestThread>([v = vmo.get(), r = &req] {
      return v->vmo.Read(r->data->data(), P(r->start), P(r->end - r->start)) == Status::kOk;
    });
  }

  requests[0].thread->Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, requests[0].end - requests[0].start));

  for (size_t i = 1; i < std::size(requests); ++i) {
    requests[i].thread->Start();
    ASSERT_TRUE(requests[i].thread->WaitForBlocked());
  }
  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));

  // Every reader starting at or before `max_page` (and before `cutoff`) has its data up to
  // `max_page`; a reader whose range is complete has finished.
  auto validate_requests = [&](uint64_t max_page,
                               uint64_t cutoff = std::numeric_limits<uint64_t>::max()) {
    for (Request& req : requests) {
      if (max_page < req.start || req.start >= cutoff) {
        continue;
      }
      const uint64_t pages = std::min(max_page, req.end) - req.start;
      ASSERT_TRUE(req.data->WaitFor(expected.data() + P(req.start), 0, P(pages)))
          << "request [" << req.start << ", " << req.end << ") up to " << max_page;
      if (max_page >= req.end && req.thread != nullptr) {
        ASSERT_TRUE(req.thread->Wait());
        req.thread.reset();
      }
    }
  };

  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 8), Status::kOk);
  ASSERT_NO_FATAL_FAILURE(validate_requests(8));

  // A later page at the start of an overlapping read, ahead of the primary's wake point.
  ASSERT_EQ(pager.SupplyPages(*vmo, 16, 1), Status::kOk);

  ASSERT_EQ(pager.SupplyPages(*vmo, 8, 8), Status::kOk);
  // Up to page 16 for the readers starting before it; the one at 16 may still sleep.
  ASSERT_NO_FATAL_FAILURE(validate_requests(17, 16));

  // The next page wakes the reader at 16 too.
  ASSERT_EQ(pager.SupplyPages(*vmo, 17, 1), Status::kOk);
  ASSERT_NO_FATAL_FAILURE(validate_requests(18));

  // A later page before the end of an overlapping read.
  ASSERT_EQ(pager.SupplyPages(*vmo, 30, 2), Status::kOk);

  ASSERT_EQ(pager.SupplyPages(*vmo, 18, 30 - 18), Status::kOk);
  ASSERT_NO_FATAL_FAILURE(validate_requests(32));

  // Into the start of the next overlapping read.
  ASSERT_EQ(pager.SupplyPages(*vmo, 32, 50 - 32), Status::kOk);
  ASSERT_NO_FATAL_FAILURE(validate_requests(50));

  // Past the end of the first request, completing it.
  ASSERT_EQ(pager.SupplyPages(*vmo, 50, 100 - 50), Status::kOk);
  ASSERT_NO_FATAL_FAILURE(validate_requests(100));

  // The tail reader now has a request of its own.
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 100, kVmoPages - 100));
  for (Request& req : requests) {
    if (req.thread != nullptr) {
      ASSERT_TRUE(req.thread->WaitForBlocked());
    }
  }

  ASSERT_EQ(pager.SupplyPages(*vmo, 100, kVmoPages - 100), Status::kOk);
  ASSERT_NO_FATAL_FAILURE(validate_requests(kVmoPages));
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// After an early wake the VMO shrinks below the read's end: once the rest of the request is
// resolved the read fails (18.6).
TEST(Pager, EarlyWakeWithResize) {
  UserPager pager;
  constexpr uint64_t kNumPages = 16;
  auto vmo = pager.CreateVmo(kNumPages, kVmoResizable);
  ASSERT_NE(vmo, nullptr);

  SharedBuffer data(P(kNumPages));
  ASSERT_TRUE(data.ok());
  Status status = Status::kOk;
  TestThread t([v = vmo.get(), &data, &status] {
    status = v->vmo.Read(data.data(), 0, P(kNumPages));
    return status == Status::kOk;
  });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, kNumPages));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);

  const std::vector<char> expected = Expected(*vmo, 0, 1);
  ASSERT_TRUE(data.WaitFor(expected.data(), 0, P(1)));
  ASSERT_TRUE(t.WaitForBlocked());

  ASSERT_EQ(vmo->vmo.SetSize(P(kNumPages / 2)), Status::kOk);
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, kNumPages / 2 - 1), Status::kOk);

  ASSERT_TRUE(t.WaitForFailure());
  EXPECT_EQ(status, Status::kOutOfRange);
}

// ---- Eviction hints ----

// ALWAYS_NEED commits the range as a read would (15).
TEST(Pager, EvictionHintAlwaysNeed) {
  UserPager pager;
  constexpr uint64_t kNumPages = 30;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);

  TestThread t(
      [v = vmo.get()] { return v->vmo.OpRange(kVmoOpAlwaysNeed, P(10), P(5)) == Status::kOk; });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 10, 5));
  ASSERT_EQ(pager.SupplyPages(*vmo, 10, 5), Status::kOk);
  ASSERT_TRUE(t.Wait());
}

// Hints round ranges outward to pages, check them against the size (and for overflow) on
// pager VMOs, and succeed without looking on other VMOs (11, 15).
TEST(Pager, EvictionHintsOpRange) {
  UserPager pager;
  constexpr uint64_t kNumPages = 20;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 10), Status::kOk);

  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpAlwaysNeed, 0, P(10)), Status::kOk);
  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpDontNeed, 0, P(20)), Status::kOk);

  // [15p-8, 15p+8) is pages 14 and 15.
  TestThread t(
      [v = vmo.get()] { return v->vmo.OpRange(kVmoOpAlwaysNeed, P(15) - 8, 16) == Status::kOk; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 14, 2));
  ASSERT_EQ(pager.SupplyPages(*vmo, 14, 2), Status::kOk);
  ASSERT_TRUE(t.Wait());

  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpDontNeed, 32, P(20) - 64), Status::kOk);

  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpAlwaysNeed, P(15), P(10)), Status::kOutOfRange);
  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpDontNeed, P(kNumPages), P(20)), Status::kOutOfRange);
  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpAlwaysNeed, P(1), std::numeric_limits<uint64_t>::max()),
            Status::kOutOfRange);
  EXPECT_EQ(vmo->vmo.OpRange(kVmoOpDontNeed, P(1), std::numeric_limits<uint64_t>::max()),
            Status::kOutOfRange);

  // Not pager-backed: accepted whatever the range (the peer test's VMO is 20 bytes).
  Vmo vmo2;
  ASSERT_EQ(Vmo::Create(kNumPages, 0, &vmo2), Status::kOk);
  EXPECT_EQ(vmo2.OpRange(kVmoOpAlwaysNeed, 0, P(kNumPages)), Status::kOk);
  EXPECT_EQ(vmo2.OpRange(kVmoOpDontNeed, 0, P(kNumPages)), Status::kOk);

  uint64_t offset = 0;
  uint64_t length = 0;
  EXPECT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// Shrinking the VMO under a blocked ALWAYS_NEED ends the hint successfully (15).
TEST(Pager, EvictionHintsWithResize) {
  UserPager pager;
  constexpr uint64_t kNumPages = 20;
  auto vmo = pager.CreateVmo(kNumPages, kVmoResizable);
  ASSERT_NE(vmo, nullptr);

  TestThread t(
      [v = vmo.get()] { return v->vmo.OpRange(kVmoOpAlwaysNeed, P(10), P(10)) == Status::kOk; });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 10, 10));
  ASSERT_EQ(pager.SupplyPages(*vmo, 10, 2), Status::kOk);
  ASSERT_EQ(vmo->vmo.SetSize(P(12)), Status::kOk);

  ASSERT_TRUE(t.Wait());

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

// ---- Argument validation (rights and handle types do not exist in upager) ----

TEST(Pager, InvalidPagerCreate) {
  Pager pager;
  EXPECT_EQ(Pager::Create(1, &pager), Status::kInvalidArgs);
  EXPECT_FALSE(pager.is_valid());
}

TEST(Pager, InvalidPagerCreateVmo) {
  Pager pager;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;

  // Bad options.
  EXPECT_EQ(pager.CreateVmo(~0u, port, 0, kPageSize, &vmo), Status::kInvalidArgs);

  // Bad handles for the pager and the port.
  EXPECT_EQ(Pager().CreateVmo(0, port, 0, kPageSize, &vmo), Status::kBadHandle);
  EXPECT_EQ(pager.CreateVmo(0, Port(), 0, kPageSize, &vmo), Status::kBadHandle);

  // A size that cannot be rounded up to pages, and one above the limit.
  const uint64_t kBadSize = (std::numeric_limits<uint64_t>::max() / kPageSize) * kPageSize + 1;
  EXPECT_EQ(pager.CreateVmo(0, port, 0, kBadSize, &vmo), Status::kOutOfRange);
  EXPECT_EQ(pager.CreateVmo(0, port, 0, kMaxVmoSize + kPageSize, &vmo), Status::kOutOfRange);

  EXPECT_FALSE(vmo.is_valid());
}

TEST(Pager, InvalidPagerDetachVmo) {
  Pager pager;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(pager.CreateVmo(0, port, 0, kPageSize, &vmo), Status::kOk);

  // Bad handles.
  EXPECT_EQ(Pager().DetachVmo(vmo), Status::kBadHandle);
  EXPECT_EQ(pager.DetachVmo(Vmo()), Status::kBadHandle);

  // A VMO that is not pager-backed.
  Vmo tmp_vmo;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &tmp_vmo), Status::kOk);
  EXPECT_EQ(pager.DetachVmo(tmp_vmo), Status::kInvalidArgs);

  // Another pager's VMO.
  Pager pager2;
  ASSERT_EQ(Pager::Create(0, &pager2), Status::kOk);
  EXPECT_EQ(pager2.DetachVmo(vmo), Status::kInvalidArgs);
}

TEST(Pager, InvalidPagerSupplyPages) {
  Pager pager;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(pager.CreateVmo(0, port, 0, kPageSize, &vmo), Status::kOk);
  Vmo aux_vmo;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &aux_vmo), Status::kOk);

  // Bad handles.
  EXPECT_EQ(Pager().SupplyPages(vmo, 0, 0, aux_vmo, 0), Status::kBadHandle);
  EXPECT_EQ(pager.SupplyPages(Vmo(), 0, 0, aux_vmo, 0), Status::kBadHandle);
  EXPECT_EQ(pager.SupplyPages(vmo, 0, 0, Vmo(), 0), Status::kBadHandle);

  // A VMO that is not pager-backed.
  EXPECT_EQ(pager.SupplyPages(aux_vmo, 0, 0, aux_vmo, 0), Status::kInvalidArgs);

  // Another pager's VMO: refused before the aux handle is looked at (11).
  Pager pager2;
  ASSERT_EQ(Pager::Create(0, &pager2), Status::kOk);
  EXPECT_EQ(pager2.SupplyPages(vmo, 0, 0, Vmo(), 0), Status::kInvalidArgs);

  // Misaligned offset, length or aux offset.
  EXPECT_EQ(pager.SupplyPages(vmo, 1, 0, aux_vmo, 0), Status::kInvalidArgs);
  EXPECT_EQ(pager.SupplyPages(vmo, 0, 1, aux_vmo, 0), Status::kInvalidArgs);
  EXPECT_EQ(pager.SupplyPages(vmo, 0, 0, aux_vmo, 1), Status::kInvalidArgs);
  // Alignment is checked before any handle (11).
  EXPECT_EQ(Pager().SupplyPages(Vmo(), 1, 0, Vmo(), 0), Status::kInvalidArgs);

  // Pages cannot come from a pager-backed VMO (one that holds a supplied page).
  {
    Vmo pager_aux;
    ASSERT_EQ(pager.CreateVmo(0, port, 0, kPageSize, &pager_aux), Status::kOk);
    Vmo alt_vmo;
    ASSERT_EQ(Vmo::Create(kPageSize, 0, &alt_vmo), Status::kOk);
    ASSERT_EQ(alt_vmo.OpRange(kVmoOpCommit, 0, kPageSize), Status::kOk);
    ASSERT_EQ(pager.SupplyPages(pager_aux, 0, kPageSize, alt_vmo, 0), Status::kOk);
    EXPECT_EQ(pager.SupplyPages(vmo, 0, kPageSize, pager_aux, 0), Status::kNotSupported);
    EXPECT_EQ(pager.SupplyPages(vmo, 0, kPageSize, vmo, 0), Status::kNotSupported);
  }

  // The pager VMO's range is out of range.
  ASSERT_EQ(aux_vmo.OpRange(kVmoOpCommit, 0, kPageSize), Status::kOk);
  EXPECT_EQ(pager.SupplyPages(vmo, kPageSize, kPageSize, aux_vmo, 0), Status::kOutOfRange);

  // The aux VMO's range is out of range.
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &aux_vmo), Status::kOk);
  ASSERT_EQ(aux_vmo.OpRange(kVmoOpCommit, 0, kPageSize), Status::kOk);
  EXPECT_EQ(pager.SupplyPages(vmo, 0, kPageSize, aux_vmo, kPageSize), Status::kOutOfRange);
}

// upager: a pager-backed aux is refused (kNotSupported) without locking both VMOs, so two
// such supplies in opposite directions cannot deadlock.
TEST(Pager, SupplyFromPagerBackedAuxInBothDirectionsDoesNotDeadlock) {
  UserPager pager;
  auto a = pager.CreateVmo(1);
  auto b = pager.CreateVmo(1);
  ASSERT_TRUE(a && b);
  std::atomic<int> wrong{0};
  auto supply = [&](const TestVmo& to, const TestVmo& from) {
    for (int i = 0; i < 2000; ++i) {
      if (pager.pager().SupplyPages(to.vmo, 0, kPageSize, from.vmo, 0) != Status::kNotSupported) {
        wrong++;
      }
    }
  };
  std::thread one([&] { supply(*a, *b); });
  std::thread two([&] { supply(*b, *a); });
  one.join();
  two.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(pager.pager().SupplyPages(a->vmo, 0, kPageSize, b->vmo, kPageSize),
            Status::kOutOfRange);  // the aux range is checked first
}

}  // namespace
}  // namespace upager::testing
