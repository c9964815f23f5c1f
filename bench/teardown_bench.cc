// Teardown after N MiB were supplied, against a raw userfaultfd handler's teardown (munmap of
// a populated shared memfd mapping, then close), interleaved in one run (issue 15: "teardown
// of 1 GiB <= 2x the raw handler's").
//
// Each iteration builds both, then times each teardown:
//   raw:      a memfd of N MiB mapped shared and populated page by page (as a handler's
//             UFFDIO_COPY leaves it); teardown = munmap + close;
//   provider: a FileProvider over a tmpfs file of N MiB, mapped with upager::Mapping and
//             populated by Vmo::Read (the supplies install into the mapping); teardown =
//             the Mapping, then the provider (detach: the clean pages are dropped, then the
//             VMO is destroyed) (arg order=0), or the provider first, while still mapped
//             (order=1).
// The counters are medians over the iterations: raw_ms, upager_ms and their ratio, and
// provider_ms, the provider's part of upager_ms.
// N is UPAGER_BENCH_TEARDOWN_MIB (default 256); the file lives in /dev/shm.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/providers/file_provider.h"

namespace upager {
namespace {

constexpr uint64_t kChunk = 1 << 20;

uint64_t Bytes() {
  const char* env = std::getenv("UPAGER_BENCH_TEARDOWN_MIB");
  return (env ? std::strtoull(env, nullptr, 10) : 256) << 20;
}

// A tmpfs file of Bytes() bytes, made once, removed at exit.
const std::string& File() {
  static const std::string path = [] {
    std::string p = "/dev/shm/upager-teardown-bench-" + std::to_string(getpid());
    const int fd = open(p.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    std::vector<char> chunk(kChunk);
    for (uint64_t off = 0; off < Bytes(); off += kChunk) {
      for (size_t i = 0; i < chunk.size(); i += kPageSize) {
        std::memcpy(&chunk[i], &off, sizeof(off));
      }
      if (pwrite(fd, chunk.data(), chunk.size(), static_cast<off_t>(off)) < 0) std::abort();
    }
    close(fd);
    std::atexit([] { unlink(File().c_str()); });
    return p;
  }();
  return path;
}

double Ms(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// A populated shared memfd mapping torn down; returns the teardown's milliseconds.
double RawTeardown() {
  const uint64_t bytes = Bytes();
  const int fd = memfd_create("raw-teardown", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, static_cast<off_t>(bytes)) != 0) std::abort();
  void* map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) std::abort();
  auto* p = static_cast<char*>(map);
  for (uint64_t off = 0; off < bytes; off += kPageSize) p[off] = 1;
  const auto t0 = std::chrono::steady_clock::now();
  munmap(map, bytes);
  close(fd);
  return Ms(t0, std::chrono::steady_clock::now());
}

// A FileProvider that supplied the whole file, mapped, torn down; returns the teardown's
// milliseconds, or a negative number on failure. `provider_ms` gets the provider's part,
// `released_ms` the time until the VMO's memory was freed (after the teardown returned).
double ProviderTeardown(PagerLoop* loop, bool provider_first, double* provider_ms,
                        double* released_ms) {
  std::unique_ptr<FileProvider> provider;
  if (FileProvider::Create(loop, File(), {}, &provider) != Status::kOk) return -1;
  Mapping map;
  if (Mapping::Create(provider->vmo(), 0, provider->vmo_size(), kMapRead, &map) != Status::kOk) {
    return -1;
  }
  std::vector<char> buf(kChunk);
  for (uint64_t off = 0; off < Bytes(); off += kChunk) {
    if (provider->vmo().Read(buf.data(), off, kChunk) != Status::kOk) return -1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (provider_first) {
    provider.reset();
    *provider_ms = Ms(t0, std::chrono::steady_clock::now());
    map.Reset();
  } else {
    map.Reset();
    const auto t1 = std::chrono::steady_clock::now();
    provider.reset();
    *provider_ms = Ms(t1, std::chrono::steady_clock::now());
  }
  const double ms = Ms(t0, std::chrono::steady_clock::now());
  // The pages are freed off the caller's path (storage_reaper.h); until they are, the
  // next run would pay for them. `released_ms` is when the memory was back.
  WaitForFreedVmoMemory();
  *released_ms = Ms(t0, std::chrono::steady_clock::now());
  return ms;
}

void BM_TeardownVsRaw(benchmark::State& state) {
  const bool provider_first = state.range(0) != 0;
  PagerLoop loop(1);
  if (loop.Start() != Status::kOk) {
    state.SkipWithError("loop");
    return;
  }
  File();
  std::vector<double> raw;
  std::vector<double> ours;
  std::vector<double> provider_part;
  std::vector<double> released;
  for (auto _ : state) {
    raw.push_back(RawTeardown());
    double provider_ms = 0;
    double released_ms = 0;
    const double ms = ProviderTeardown(&loop, provider_first, &provider_ms, &released_ms);
    provider_part.push_back(provider_ms);
    released.push_back(released_ms);
    if (ms < 0) {
      state.SkipWithError("provider setup failed");
      return;
    }
    ours.push_back(ms);
    state.SetIterationTime(ms / 1000);
  }
  state.counters["MiB"] = static_cast<double>(Bytes() >> 20);
  state.counters["raw_ms"] = Median(raw);
  state.counters["upager_ms"] = Median(ours);
  state.counters["provider_ms"] = Median(provider_part);  // detach + VMO destruction
  state.counters["ratio"] = Median(ours) / Median(raw);
  state.counters["released_ms"] = Median(released);
}
BENCHMARK(BM_TeardownVsRaw)
    ->ArgName("order")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace upager

BENCHMARK_MAIN();
