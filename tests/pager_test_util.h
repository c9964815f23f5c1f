// Helpers shared by the Vmo variants of Zircon's core pager tests (pager_test.cc,
// pager_detach_test.cc, pager_commit_test.cc, pager_fail_test.cc).
#ifndef UPAGER_TESTS_PAGER_TEST_UTIL_H_
#define UPAGER_TESTS_PAGER_TEST_UTIL_H_

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

#include "pager/pager_object.h"
#include "test_util.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/thread.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
constexpr std::chrono::milliseconds kPoll{0};
constexpr std::chrono::seconds kLong{10};

// Zircon's check_buffer for the Vmo variant: read the pages and compare with the pattern.
inline bool CheckVmo(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<char> data(P(count));
  if (vmo.vmo.Read(data.data(), P(first), P(count)) != Status::kOk) {
    return false;
  }
  return UserPager::CheckPattern(vmo.key, first, count, data.data());
}

// check_buffer_data: the pages must hold `expected`.
inline bool CheckVmoData(const TestVmo& vmo, uint64_t first, uint64_t count, const void* expected) {
  std::vector<char> data(P(count));
  if (vmo.vmo.Read(data.data(), P(first), P(count)) != Status::kOk) {
    return false;
  }
  return std::memcmp(data.data(), expected, P(count)) == 0;
}

inline Status ReadPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<char> data(P(count));
  return vmo.vmo.Read(data.data(), P(first), P(count));
}

inline Status CommitPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
  return vmo.vmo.OpRange(kVmoOpCommit, P(first), P(count));
}

// The pattern UserPager supplies for pages [first, first+count) of `vmo`.
inline std::vector<char> Expected(const TestVmo& vmo, uint64_t first, uint64_t count) {
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
inline void SuspendAndResume(TestThread& t) {
  ThreadHandle& handle = t.handle();
  handle.Suspend();
  ASSERT_TRUE(PollUntil([&] { return !handle.IsBlockedOnPager(); }));
  handle.Resume();
}

}  // namespace upager::testing

#endif  // UPAGER_TESTS_PAGER_TEST_UTIL_H_
