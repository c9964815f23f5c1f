// Using up a process's VMA budget (vm.max_map_count) in tests of what happens at the limit
// (clone_map_limit_test, clone_process_test).
#ifndef UPAGER_TESTS_VMA_FILL_H_
#define UPAGER_TESTS_VMA_FILL_H_

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "upager/status.h"

// Whether ASan's or TSan's runtime is linked in. Their interceptors map memory of their own
// (shadow for an unmapped range, allocator regions) and end the process when that fails at
// the VMA limit; the cases that unmap or allocate at the limit are not built with them (a
// skip would fail CI), and run in the plain builds.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define UPAGER_TEST_SANITIZER_MAPS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define UPAGER_TEST_SANITIZER_MAPS 1
#endif
#endif

namespace upager::testing {

// The process's VMAs, counted as the kernel does (map_count): the lines of /proc/self/maps
// but the vsyscall page, which is no VMA. Read with a buffer on the stack: no allocation
// that could itself map.
inline int64_t MapCount() {
  const int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[1 << 16];
  int64_t lines = 0;
  bool vsyscall = false;
  const std::string_view tag = "[vsyscall]";
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == '\n') ++lines;
    }
    if (std::string_view(buf, static_cast<size_t>(n)).find(tag) != std::string_view::npos) {
      vsyscall = true;
    }
  }
  ::close(fd);
  return lines - (vsyscall ? 1 : 0);
}

inline int64_t MaxMapCount() {
  const int fd = ::open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[32] = {};
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  return n > 0 ? std::strtoll(buf, nullptr, 10) : -1;
}

// Small anonymous mappings that take up the VMA budget: alternating protections, so that no
// two merge.
class Fillers {
 public:
  ~Fillers() {
    for (void* p : maps_) ::munmap(p, ::upager::kPageSize);
  }
  // Adds or removes fillers until the process has exactly `target` VMAs.
  bool SetCount(int64_t target) {
    for (int round = 0; round < 16; ++round) {
      const int64_t now = MapCount();
      if (now == target) return true;
      if (now < target) {
        for (int64_t i = now; i < target; ++i) {
          const int prot = (maps_.size() % 2 == 0) ? PROT_READ : PROT_NONE;
          void* p = ::mmap(nullptr, ::upager::kPageSize, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          if (p == MAP_FAILED) break;
          maps_.push_back(p);
        }
      } else {
        for (int64_t i = target; i < now && !maps_.empty(); ++i) {
          ::munmap(maps_.back(), ::upager::kPageSize);
          maps_.pop_back();
        }
      }
    }
    return MapCount() == target;
  }
  // Room for `n` fillers, and allocations of every size below 256 KiB made and freed, so
  // that the allocator (a sanitizer's in particular, whose every new region is an mmap)
  // has regions mapped for what the process allocates once at the limit.
  // Once: at the limit, these allocations would fail.
  void Reserve(size_t n) {
    if (maps_.capacity() >= n) return;
    maps_.reserve(n);
    std::vector<void*> warm;
    for (size_t size = 16; size < (256u << 10); size += size / 8) {
      for (int i = 0; i < 32; ++i) warm.push_back(std::malloc(size));
    }
    for (void* p : warm) std::free(p);
  }

 private:
  std::vector<void*> maps_;
};

}  // namespace upager::testing

#endif  // UPAGER_TESTS_VMA_FILL_H_
