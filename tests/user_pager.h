// UserPager and TestThread: the harness the Zircon pager tests are written against, rebuilt
// on upager's public API, so that tests named after Zircon's read like them.
//
// UserPager owns a pager and a port. Pages it supplies hold a pattern derived from the VMO's
// key and the page index, so content checks catch a page landing in the wrong place.
// WaitForPageRead/Dirty/Complete compare whole packets; packets for other ranges or VMOs
// are stashed and matched by later waits. A zero timeout polls: "no such packet now".
#ifndef UPAGER_TESTS_USER_PAGER_H_
#define UPAGER_TESTS_USER_PAGER_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/thread.h"
#include "upager/vmo.h"

namespace upager::testing {

// A test that goes wrong must not hang on a thread blocked forever: in every binary using
// this harness, waits give up after 30 s (the default is 300 s) and the blocked operation
// fails with kTimedOut.
class ShortPagerTimeouts : public ::testing::Environment {
 public:
  void SetUp() override {
    saved_ = GetPagerTimeouts();
    SetPagerTimeouts(
        {.overtime_wait = std::chrono::seconds(20), .overtime_timeout = std::chrono::seconds(30)});
  }
  void TearDown() override { SetPagerTimeouts(saved_); }

 private:
  PagerTimeouts saved_;
};
inline ::testing::Environment* const kShortPagerTimeouts =
    ::testing::AddGlobalTestEnvironment(new ShortPagerTimeouts);

// A pager VMO with its key.
struct TestVmo {
  Vmo vmo;
  uint64_t key = 0;
};

class UserPager {
 public:
  UserPager() {
    Pager::Create(0, &pager_);
    Port::Create(0, &port_);
  }

  // A pager VMO of `pages` pages; key values are unique per UserPager.
  std::unique_ptr<TestVmo> CreateVmo(uint64_t pages, uint32_t options = 0) {
    auto vmo = std::make_unique<TestVmo>();
    vmo->key = next_key_++;
    if (pager_.CreateVmo(options, port_, vmo->key, pages * kPageSize, &vmo->vmo) != Status::kOk) {
      return nullptr;
    }
    return vmo;
  }

  // The content UserPager supplies for `page` of a VMO with `key`.
  static void Pattern(uint64_t key, uint64_t page, void* out) {
    auto* words = static_cast<uint64_t*>(out);
    for (uint64_t i = 0; i < kPageSize / sizeof(uint64_t); ++i) {
      words[i] = (key << 32) + page * (kPageSize / sizeof(uint64_t)) + i;
    }
  }
  // Whether [first, first+count) of `data` holds the pattern of those pages.
  static bool CheckPattern(uint64_t key, uint64_t first, uint64_t count, const void* data) {
    std::vector<char> expected(kPageSize);
    for (uint64_t i = 0; i < count; ++i) {
      Pattern(key, first + i, expected.data());
      if (std::memcmp(expected.data(), static_cast<const char*>(data) + i * kPageSize, kPageSize) !=
          0) {
        return false;
      }
    }
    return true;
  }

  // Supplies pattern pages through an aux VMO (as Zircon's harness does).
  Status SupplyPages(const TestVmo& vmo, uint64_t first, uint64_t count, uint64_t aux_first = 0) {
    Vmo aux;
    if (Status s = Vmo::Create((aux_first + count) * kPageSize, 0, &aux); s != Status::kOk) {
      return s;
    }
    std::vector<char> page(kPageSize);
    for (uint64_t i = 0; i < count; ++i) {
      Pattern(vmo.key, first + i, page.data());
      aux.Write(page.data(), (aux_first + i) * kPageSize, kPageSize);
    }
    return pager_.SupplyPages(vmo.vmo, first * kPageSize, count * kPageSize, aux,
                              aux_first * kPageSize);
  }
  Status FailPages(const TestVmo& vmo, uint64_t first, uint64_t count, Status error = Status::kIo) {
    return pager_.OpRange(kPagerOpFail, vmo.vmo, first * kPageSize, count * kPageSize,
                          static_cast<uint64_t>(static_cast<int64_t>(error)));
  }
  Status DirtyPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
    return pager_.OpRange(kPagerOpDirty, vmo.vmo, first * kPageSize, count * kPageSize, 0);
  }
  Status WritebackBeginPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
    return pager_.OpRange(kPagerOpWritebackBegin, vmo.vmo, first * kPageSize, count * kPageSize, 0);
  }
  Status WritebackBeginZeroPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
    return pager_.OpRange(kPagerOpWritebackBegin, vmo.vmo, first * kPageSize, count * kPageSize,
                          kVmoDirtyRangeIsZero);
  }
  Status WritebackEndPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
    return pager_.OpRange(kPagerOpWritebackEnd, vmo.vmo, first * kPageSize, count * kPageSize, 0);
  }
  Status DetachVmo(const TestVmo& vmo) { return pager_.DetachVmo(vmo.vmo); }

  // The modified flag, reset by the query (Zircon's VerifyModified).
  bool IsModified(const TestVmo& vmo) {
    PagerVmoStats stats{};
    pager_.QueryVmoStats(vmo.vmo, kPagerResetVmoStats, &stats, sizeof(stats));
    return stats.modified == kPagerVmoStatsModified;
  }
  // All dirty ranges of the whole VMO, in pages ({offset, length, options}); also checks
  // that the counting idiom (null buffer) agrees.
  std::vector<VmoDirtyRange> DirtyRanges(const TestVmo& vmo) {
    uint64_t size = 0;
    vmo.vmo.GetSize(&size);
    size_t avail = 0;
    pager_.QueryDirtyRanges(vmo.vmo, 0, size, nullptr, 0, nullptr, &avail);
    std::vector<VmoDirtyRange> ranges(avail + 1);
    size_t actual = 0;
    pager_.QueryDirtyRanges(vmo.vmo, 0, size, ranges.data(), ranges.size() * sizeof(VmoDirtyRange),
                            &actual, nullptr);
    ranges.resize(actual);
    for (VmoDirtyRange& r : ranges) {
      r.offset /= kPageSize;
      r.length /= kPageSize;
    }
    if (actual != avail) ranges.push_back(VmoDirtyRange{~0ull, ~0ull, ~0ull});  // mismatch
    return ranges;
  }

  bool WaitForPageRead(const TestVmo& vmo, uint64_t first, uint64_t count,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return WaitForPacket(vmo.key, kPagerVmoRead, first * kPageSize, count * kPageSize, timeout);
  }
  bool WaitForPageDirty(const TestVmo& vmo, uint64_t first, uint64_t count,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return WaitForPacket(vmo.key, kPagerVmoDirty, first * kPageSize, count * kPageSize, timeout);
  }
  bool WaitForPageComplete(uint64_t key,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return WaitForPacket(key, kPagerVmoComplete, 0, 0, timeout);
  }
  // Any packet at all within `timeout` (stashed ones included).
  bool AnyPacket(std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
    Drain(timeout);
    return !stash_.empty();
  }
  // Whether a page request with `command` (any range) for `vmo` is stashed or arrives within
  // `timeout`; it stays stashed for later waits. Zircon's GetPageReadRequest/
  // GetPageDirtyRequest used as a probe: "is there such a request now?".
  bool HasPageRequest(const TestVmo& vmo, uint16_t command,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
    Drain(timeout);
    for (const PortPacket& p : stash_) {
      if (p.key == vmo.key && p.type == kPktTypePageRequest && p.page_request.command == command) {
        return true;
      }
    }
    return false;
  }

  // The next READ (or DIRTY) packet for `vmo` whatever its range (Zircon's
  // GetPageReadRequest); `offset` and `length` are in pages. Other packets are stashed.
  bool GetPageReadRequest(const TestVmo& vmo, std::chrono::milliseconds timeout, uint64_t* offset,
                          uint64_t* length) {
    return GetRequest(vmo.key, kPagerVmoRead, timeout, offset, length);
  }
  bool GetPageDirtyRequest(const TestVmo& vmo, std::chrono::milliseconds timeout, uint64_t* offset,
                           uint64_t* length) {
    return GetRequest(vmo.key, kPagerVmoDirty, timeout, offset, length);
  }

  Pager& pager() { return pager_; }
  Port& port() { return port_; }

 private:
  bool Matches(const PortPacket& p, uint64_t key, uint16_t command, uint64_t offset,
               uint64_t length) {
    return p.key == key && p.type == kPktTypePageRequest && p.status == Status::kOk &&
           p.page_request.command == command && p.page_request.flags == 0 &&
           p.page_request.reserved0 == 0 && p.page_request.reserved1 == 0 &&
           p.page_request.offset == offset && p.page_request.length == length;
  }
  void Drain(std::chrono::milliseconds timeout) {
    PortPacket packet{};
    if (port_.Wait(DeadlineAfter(timeout), &packet) == Status::kOk) {
      stash_.push_back(packet);
      while (port_.Wait(DeadlineAfter(std::chrono::nanoseconds(0)), &packet) == Status::kOk) {
        stash_.push_back(packet);
      }
    }
  }
  bool WaitForPacket(uint64_t key, uint16_t command, uint64_t offset, uint64_t length,
                     std::chrono::milliseconds timeout) {
    const Deadline deadline = DeadlineAfter(timeout);
    for (;;) {
      for (auto it = stash_.begin(); it != stash_.end(); ++it) {
        if (Matches(*it, key, command, offset, length)) {
          stash_.erase(it);
          return true;
        }
      }
      PortPacket packet{};
      if (port_.Wait(deadline, &packet) != Status::kOk) return false;
      stash_.push_back(packet);
    }
  }

  bool GetRequest(uint64_t key, uint16_t command, std::chrono::milliseconds timeout,
                  uint64_t* offset, uint64_t* length) {
    const Deadline deadline = DeadlineAfter(timeout);
    for (;;) {
      for (auto it = stash_.begin(); it != stash_.end(); ++it) {
        if (it->key == key && it->type == kPktTypePageRequest &&
            it->page_request.command == command) {
          *offset = it->page_request.offset / kPageSize;
          *length = it->page_request.length / kPageSize;
          stash_.erase(it);
          return true;
        }
      }
      PortPacket packet{};
      if (port_.Wait(deadline, &packet) != Status::kOk) return false;
      stash_.push_back(packet);
    }
  }

  Pager pager_;
  Port port_;
  uint64_t next_key_ = 1;
  std::list<PortPacket> stash_;
};

// VerifyDirtyRanges: the dirty ranges of the whole VMO, in pages, are exactly `expected`.
inline ::testing::AssertionResult DirtyRangesAre(UserPager& pager, const TestVmo& vmo,
                                                 std::vector<VmoDirtyRange> expected) {
  const std::vector<VmoDirtyRange> actual = pager.DirtyRanges(vmo);
  auto print = [](const std::vector<VmoDirtyRange>& ranges) {
    std::string out;
    for (const VmoDirtyRange& r : ranges) {
      out += "{" + std::to_string(r.offset) + "," + std::to_string(r.length) + "," +
             std::to_string(r.options) + "}";
    }
    return out.empty() ? std::string("(none)") : out;
  };
  bool same = actual.size() == expected.size();
  for (size_t i = 0; same && i < actual.size(); ++i) {
    same = actual[i].offset == expected[i].offset && actual[i].length == expected[i].length &&
           actual[i].options == expected[i].options;
  }
  if (same) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "dirty ranges " << print(actual) << ", expected " << print(expected);
}

// A thread running `fn`, with the handle needed to observe or interrupt it. `fn` returns
// either whether it succeeded (bool) or the Status of the operation it ran; only the second
// kind can be checked for an exact failure (WaitForFailure). Wait() joins and returns whether
// fn succeeded (true, or Status::kOk).
class TestThread {
 public:
  explicit TestThread(std::function<bool()> fn)
      : fn_([f = std::move(fn)] { return f() ? Status::kOk : Status::kInternal; }),
        has_status_(false) {}
  explicit TestThread(std::function<Status()> fn) : fn_(std::move(fn)), has_status_(true) {}
  ~TestThread() {
    if (thread_.joinable()) thread_.join();
  }
  void Start() {
    std::promise<ThreadHandle> handle;
    auto future = handle.get_future();
    thread_ = std::thread([this, h = std::move(handle)]() mutable {
      h.set_value(ThreadHandle::Current());
      status_ = fn_();
    });
    handle_ = future.get();
  }
  bool WaitForBlocked() { return testing::WaitForBlocked(handle_); }
  // Joins; true if fn succeeded.
  bool Wait() {
    Join();
    return status_ == Status::kOk;
  }
  // Joins; succeeds only if fn returned exactly `expected` (a failure code). A thread whose
  // wake-up was lost ends with kTimedOut after the harness's overtime timeout, and fails here
  // unless kTimedOut is what the test expects.
  ::testing::AssertionResult WaitForFailure(Status expected) {
    Join();
    if (!has_status_) {
      return ::testing::AssertionFailure()
             << "WaitForFailure needs a thread whose function returns a Status";
    }
    if (status_ != expected) {
      return ::testing::AssertionFailure()
             << "thread ended with " << status_ << ", expected " << expected;
    }
    return ::testing::AssertionSuccess();
  }
  // The status fn returned (after Wait/WaitForFailure); for a bool fn, kOk or kInternal.
  Status status() const { return status_; }
  ThreadHandle& handle() { return handle_; }
  // Joins, for callers that check what the thread did themselves (a crash, WaitForCrash).
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::function<Status()> fn_;
  bool has_status_;
  std::thread thread_;
  ThreadHandle handle_;
  Status status_ = Status::kInternal;
};

}  // namespace upager::testing

#endif  // UPAGER_TESTS_USER_PAGER_H_
