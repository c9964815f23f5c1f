// One timed pass of faulting threads over a mapped pattern file (fault_pass.h).
#include "fault_pass.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <latch>
#include <random>
#include <thread>

namespace upager::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Usage {
  double context_switches = 0;
  double cpu_seconds = 0;
};

Usage ProcessUsage() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  Usage out;
  out.context_switches = static_cast<double>(u.ru_nvcsw + u.ru_nivcsw);
  out.cpu_seconds = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                    static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  return out;
}

}  // namespace

uint64_t PagePattern(uint64_t page) { return (page + 1) * 0x9e3779b97f4a7c15ULL; }

bool WritePatternFile(const std::string& path, uint64_t bytes) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  constexpr uint64_t kChunkPages = 256;  // 1 MiB per write
  std::vector<uint64_t> chunk(kChunkPages * kBenchPage / 8);
  bool ok = true;
  const uint64_t pages = bytes / kBenchPage;
  for (uint64_t first = 0; first < pages && ok; first += kChunkPages) {
    const uint64_t count = std::min(kChunkPages, pages - first);
    for (uint64_t p = 0; p < count; ++p) {
      const uint64_t base = PagePattern(first + p);
      for (uint64_t i = 0; i < kBenchPage / 8; ++i) chunk[p * kBenchPage / 8 + i] = base + i;
    }
    const size_t len = count * kBenchPage;
    const auto* data = reinterpret_cast<const char*>(chunk.data());
    size_t done = 0;
    while (ok && done < len) {
      const ssize_t n =
          pwrite(fd, data + done, len - done, static_cast<off_t>(first * kBenchPage + done));
      ok = n > 0;
      if (ok) done += static_cast<size_t>(n);
    }
  }
  ok = fsync(fd) == 0 && ok;
  return close(fd) == 0 && ok;
}

void DropFileCache(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  fdatasync(fd);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
}

std::vector<std::vector<uint32_t>> SplitPages(uint64_t pages, int threads, bool random) {
  std::vector<std::vector<uint32_t>> lists(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    auto& list = lists[static_cast<size_t>(t)];
    const uint64_t first = pages * static_cast<uint64_t>(t) / static_cast<uint64_t>(threads);
    const uint64_t end = pages * static_cast<uint64_t>(t + 1) / static_cast<uint64_t>(threads);
    for (uint64_t p = first; p < end; ++p) list.push_back(static_cast<uint32_t>(p));
    if (random) std::shuffle(list.begin(), list.end(), std::mt19937_64(1000 + t));
  }
  return lists;
}

PassResult RunFaultPass(const std::byte* base, const std::vector<std::vector<uint32_t>>& lists) {
  const size_t threads = lists.size();
  std::vector<Clock::time_point> ends(threads);
  std::vector<uint64_t> bad(threads, UINT64_MAX);
  std::latch ready(static_cast<std::ptrdiff_t>(threads));
  std::latch done(static_cast<std::ptrdiff_t>(threads));
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ready.count_down();
      go.wait(false, std::memory_order_acquire);
      for (const uint32_t p : lists[t]) {
        const uint64_t got = *reinterpret_cast<const volatile uint64_t*>(
            base + static_cast<uint64_t>(p) * kBenchPage);
        if (got != PagePattern(p) && bad[t] == UINT64_MAX) bad[t] = p;
      }
      ends[t] = Clock::now();
      done.count_down();
    });
  }
  ready.wait();
  const Usage before = ProcessUsage();
  const Clock::time_point start = Clock::now();
  go.store(true, std::memory_order_release);
  go.notify_all();
  done.wait();
  const Usage after = ProcessUsage();
  for (std::thread& w : workers) w.join();

  PassResult r;
  r.seconds =
      std::chrono::duration<double>(*std::max_element(ends.begin(), ends.end()) - start).count();
  for (const auto& list : lists) r.pages += list.size();
  r.context_switches = after.context_switches - before.context_switches;
  r.cpu_seconds = after.cpu_seconds - before.cpu_seconds;
  r.ok = true;
  for (const uint64_t b : bad) {
    if (b != UINT64_MAX) {
      r.ok = false;
      r.first_bad_page = b;
      break;
    }
  }
  return r;
}

}  // namespace upager::cli
