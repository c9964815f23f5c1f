// Page-fault round trips on a memfd-backed MAP_SHARED region, one checked 8-byte load per page:
//   raw_uffd          a minimal userfaultfd pager: MISSING faults, one handler thread that
//                     poll()s the uffd and resolves each fault with UFFDIO_COPY of one page;
//   minor_fault       the kernel alone: all pages in the page cache, a fresh mmap. Fault-around
//                     maps the cached neighbours of a faulting page (64 KiB by default), so
//                     most loads do not fault: see faults_per_page;
//   minor_fault_nofa  the same, fault-around off (a userfaultfd WP registration turns it off;
//                     loads never raise WP faults): one kernel fault per page;
//   BM_Memcpy         copying the same bytes, for scale.
// BM_Fault: 1 and 2 faulting threads (each takes one half of the pages, so they share no page
// table), sequential or fixed-seed random order. BM_FaultLatency: isolated faults, one thread.
// Each iteration maps a fresh region untimed (memfd, mmap, registration; teardown after) and
// times one full pass (SetIterationTime, UseManualTime): milliseconds per pass, so clock and
// thread start-up vanish, and no PauseTiming overhead or 64 MiB teardown noise is measured.
// Size: UPAGER_BENCH_FAULT_MIB (default 64). Without userfaultfd (e.g. EPERM) the variants
// needing it are skipped with a printed reason. On a VM whose idle vCPUs halt, cross-CPU
// wakeups dominate a uffd round trip; `taskset -c 0` measures the same-CPU round trip.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <latch>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "upager/mapping.h"
#include "upager/pager_loop.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kPage = 4096;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "fault_bench: %s: %s\n", what, std::strerror(errno));
  std::abort();
}
void Check(bool ok, const char* what) {
  if (!ok) Die(what);
}

uint64_t RegionPages() {
  static const uint64_t pages = [] {
    const char* env = std::getenv("UPAGER_BENCH_FAULT_MIB");
    const uint64_t mib = env ? std::strtoull(env, nullptr, 10) : 64;
    if (mib == 0 || mib > (1 << 20)) errno = EINVAL, Die("UPAGER_BENCH_FAULT_MIB");
    return (mib << 20) / kPage;
  }();
  return pages;
}

// The content: word i of page p is Pattern(p) + i. The faulting loads check word 0.
uint64_t Pattern(uint64_t page) { return (page + 1) * 0x9e3779b97f4a7c15ULL; }

// What a pager holds in memory and supplies from (and what the minor-fault memfd holds).
const std::byte* Source() {
  static const std::vector<uint64_t> words = [] {
    std::vector<uint64_t> w(RegionPages() * kPage / 8);
    for (size_t i = 0; i < w.size(); ++i) w[i] = Pattern(i / (kPage / 8)) + i % (kPage / 8);
    return w;
  }();
  return reinterpret_cast<const std::byte*>(words.data());
}

uint64_t LoadPage(const std::byte* base, uint64_t page) {
  return *reinterpret_cast<const volatile uint64_t*>(base + page * kPage);
}
void CheckPage(uint64_t page, uint64_t got, uint64_t want) {
  if (got == want) return;
  std::fprintf(stderr, "fault_bench: page %lu read %#lx, expected %#lx\n", page, got, want);
  std::abort();
}

// Faults this thread took (minor + major: a fault resolved by a userfaultfd handler counts as
// major, having been retried).
uint64_t ThreadFaults() {
  rusage u;
  Check(getrusage(RUSAGE_THREAD, &u) == 0, "getrusage");
  return static_cast<uint64_t>(u.ru_minflt + u.ru_majflt);
}

// ---- The faulting-threads driver, shared by every variant. ----
enum class Order { kSequential, kRandom };

struct FaultPass {
  uint64_t elapsed_ns = 0;     // from releasing the threads to the last thread's last load
  uint64_t kernel_faults = 0;  // faults the threads took, summed
};

// `threads` threads each load word 0 of every page of their half (thread t: pages
// [pages*t/threads, pages*(t+1)/threads)) of `base`, in ascending order or in an order
// shuffled with a fixed seed per thread, and abort on a value other than expected(page).
// The page lists are built and the threads started before the clock starts.
FaultPass RunFaultingThreads(const std::byte* base, uint64_t pages, int threads, Order order,
                             uint64_t (*expected)(uint64_t page)) {
  std::vector<std::vector<uint64_t>> lists(threads);
  for (int t = 0; t < threads; ++t) {
    for (uint64_t p = pages * t / threads; p < pages * (t + 1) / threads; ++p) {
      lists[t].push_back(p);
    }
    if (order == Order::kRandom) {
      std::mt19937_64 rng(12345 + t);
      std::shuffle(lists[t].begin(), lists[t].end(), rng);
    }
  }
  std::vector<Clock::time_point> ends(threads);
  std::vector<uint64_t> faults(threads);
  std::latch ready(threads);
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const uint64_t before = ThreadFaults();
      ready.count_down();
      go.wait(false);
      for (const uint64_t p : lists[t]) CheckPage(p, LoadPage(base, p), expected(p));
      ends[t] = Clock::now();
      faults[t] = ThreadFaults() - before;
    });
  }
  ready.wait();
  const Clock::time_point start = Clock::now();
  go.store(true);
  go.notify_all();
  for (std::thread& w : workers) w.join();
  FaultPass pass;
  pass.elapsed_ns = static_cast<uint64_t>(
      std::chrono::nanoseconds(*std::max_element(ends.begin(), ends.end()) - start).count());
  for (const uint64_t f : faults) pass.kernel_faults += f;
  return pass;
}

// A way of backing the region, made for `pages` pages. Map() returns a fresh mapping whose
// page p reads Pattern(p) and of which no page is mapped yet; Unmap() undoes it. Neither is
// timed.
class Target {
 public:
  virtual ~Target() = default;
  virtual const std::byte* Map() = 0;
  virtual void Unmap() = 0;
};

// A userfaultfd with `features`, or -1 and the reason. UFFD_USER_MODE_ONLY (only user-mode
// loads fault here) admits unprivileged users under vm.unprivileged_userfaultfd=0; kernels
// before 5.11 reject it.
int OpenUffd(uint64_t features, std::string* why) {
  int fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY));
  if (fd < 0 && errno == EINVAL)
    fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  uffdio_api api = {.api = UFFD_API, .features = features, .ioctls = 0};
  if (fd >= 0 && ioctl(fd, UFFDIO_API, &api) == 0) return fd;
  *why = std::string(fd < 0 ? "userfaultfd: " : "UFFDIO_API (features): ") + std::strerror(errno);
  if (fd >= 0) close(fd);
  return -1;
}

std::string UffdUnavailable(uint64_t features) {
  std::string why;
  const int fd = OpenUffd(features, &why);
  if (fd >= 0) close(fd);
  return why;
}

void Register(int uffd, const std::byte* base, uint64_t len, uint64_t mode, uint64_t ioctls) {
  uffdio_register reg = {
      .range = {.start = reinterpret_cast<uintptr_t>(base), .len = len}, .mode = mode, .ioctls = 0};
  Check(ioctl(uffd, UFFDIO_REGISTER, &reg) == 0, "UFFDIO_REGISTER");
  Check((reg.ioctls & ioctls) == ioctls, "UFFDIO_REGISTER: needed ioctls not offered");
}

int NewMemfd(uint64_t len) {
  const int fd = memfd_create("fault_bench", MFD_CLOEXEC);
  Check(fd >= 0, "memfd_create");
  Check(ftruncate(fd, static_cast<off_t>(len)) == 0, "ftruncate");
  return fd;
}

std::byte* MapShared(int fd, uint64_t len) {
  void* p = mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0);
  Check(p != MAP_FAILED, "mmap");
  return static_cast<std::byte*>(p);
}

// (1) A fresh memfd per Map(), registered for MISSING faults; the handler thread lives as long
// as the target and is stopped through an eventfd.
class RawUffd : public Target {
 public:
  explicit RawUffd(uint64_t pages) : len_(pages * kPage) {
    std::string why;
    uffd_ = OpenUffd(UFFD_FEATURE_MISSING_SHMEM, &why);
    if (uffd_ < 0) Die(why.c_str());
    stop_ = eventfd(0, EFD_CLOEXEC);
    Check(stop_ >= 0, "eventfd");
    handler_ = std::thread([this] { Serve(); });
  }
  ~RawUffd() override {
    const uint64_t one = 1;
    Check(write(stop_, &one, sizeof one) == sizeof one, "write(eventfd)");
    handler_.join();
    Check(close(stop_) == 0 && close(uffd_) == 0, "close");
  }
  const std::byte* Map() override {
    memfd_ = NewMemfd(len_);
    std::byte* base = MapShared(memfd_, len_);
    Register(uffd_, base, len_, UFFDIO_REGISTER_MODE_MISSING, 1ULL << _UFFDIO_COPY);
    base_.store(base, std::memory_order_release);
    return base;
  }
  void Unmap() override {
    Check(munmap(base_.exchange(nullptr), len_) == 0, "munmap");  // also unregisters
    Check(close(memfd_) == 0, "close(memfd)");
  }

 private:
  void Serve() {
    pollfd fds[2] = {{.fd = uffd_, .events = POLLIN, .revents = 0},
                     {.fd = stop_, .events = POLLIN, .revents = 0}};
    uffd_msg msgs[32];
    for (;;) {
      const int n = poll(fds, 2, -1);
      if (n < 0 && errno == EINTR) continue;
      Check(n > 0, "poll");
      if (fds[1].revents != 0) return;
      const ssize_t got = read(uffd_, msgs, sizeof msgs);
      if (got < 0 && errno == EAGAIN) continue;
      Check(got > 0 && got % sizeof(uffd_msg) == 0, "read(uffd)");
      const std::byte* base = base_.load(std::memory_order_acquire);
      for (size_t i = 0; i < got / sizeof(uffd_msg); ++i) {
        Check(msgs[i].event == UFFD_EVENT_PAGEFAULT, "unexpected uffd event");
        const uint64_t off =
            (msgs[i].arg.pagefault.address & ~(kPage - 1)) - reinterpret_cast<uintptr_t>(base);
        Check(base != nullptr && off < len_, "fault outside the region");
        const uintptr_t dst = reinterpret_cast<uintptr_t>(base) + off;
        uffdio_copy copy = {dst, reinterpret_cast<uintptr_t>(Source() + off), kPage, 0, 0};
        if (ioctl(uffd_, UFFDIO_COPY, &copy) == 0) continue;
        Check(errno == EEXIST, "UFFDIO_COPY");  // already there: a duplicate; wake the thread
        uffdio_range range = {dst, kPage};
        Check(ioctl(uffd_, UFFDIO_WAKE, &range) == 0, "UFFDIO_WAKE");
      }
    }
  }

  const uint64_t len_;
  int uffd_ = -1, stop_ = -1, memfd_ = -1;
  std::atomic<std::byte*> base_{nullptr};
  std::thread handler_;
};

// (4) One memfd filled with pwrite up front, so every page is in the page cache; Map() is a
// fresh mmap of it. `no_fault_around`: see minor_fault_nofa at the top.
class MinorFault : public Target {
 public:
  MinorFault(uint64_t pages, bool no_fault_around) : len_(pages * kPage) {
    memfd_ = NewMemfd(len_);
    for (uint64_t off = 0; off < len_;) {
      const ssize_t n = pwrite(memfd_, Source() + off, len_ - off, static_cast<off_t>(off));
      Check(n > 0, "pwrite");
      off += static_cast<uint64_t>(n);
    }
    std::string why;
    if (no_fault_around && (uffd_ = OpenUffd(UFFD_FEATURE_WP_HUGETLBFS_SHMEM, &why)) < 0) {
      Die(why.c_str());
    }
  }
  ~MinorFault() override { Check(close(memfd_) == 0 && (uffd_ < 0 || close(uffd_) == 0), "close"); }
  const std::byte* Map() override {
    base_ = MapShared(memfd_, len_);
    if (uffd_ >= 0) Register(uffd_, base_, len_, UFFDIO_REGISTER_MODE_WP, 0);
    return base_;
  }
  void Unmap() override { Check(munmap(base_, len_) == 0, "munmap"); }

 private:
  const uint64_t len_;
  int memfd_ = -1, uffd_ = -1;
  std::byte* base_ = nullptr;
};

// (2)/(3) upager: a fresh pager-backed VMO per Map(), mapped read-only (or read-write for the
// store benchmark), whose PagerLoop handler supplies each requested page from Source() with
// SupplyPagesFromBuffer. (2) "upager_loop": one loop thread, so a fault travels faulting
// thread -> fault thread -> loop thread -> faulting thread. (3) "upager_inline": the loop is
// served on the fault thread itself (serve_faults_inline), the same two hops as raw_uffd.
class UpagerTarget : public Target, public upager::PagerLoop::Handler {
 public:
  UpagerTarget(uint64_t pages, bool inline_faults, bool writable = false, bool presupply = false)
      : len_(pages * kPage),
        writable_(writable),
        presupply_(presupply),
        loop_(inline_faults ? 0 : 1, inline_faults) {
    Check(loop_.Start() == upager::Status::kOk, "PagerLoop::Start");
  }
  ~UpagerTarget() override { loop_.Stop(); }
  const std::byte* Map() override {
    Check(loop_.CreateVmo(writable_ ? upager::kVmoTrapDirty : 0, len_, this, &vmo_) ==
              upager::Status::kOk,
          "CreateVmo");
    if (presupply_) {
      Check(loop_.pager().SupplyPagesFromBuffer(vmo_, 0, len_, Source()) == upager::Status::kOk,
            "SupplyPagesFromBuffer");
    }
    const uint32_t flags = upager::kMapRead | (writable_ ? upager::kMapWrite : 0);
    Check(upager::Mapping::Create(vmo_, 0, len_, flags, &map_) == upager::Status::kOk,
          "Mapping::Create");
    return map_.data();
  }
  void Unmap() override {
    map_.Reset();
    vmo_.Reset();
  }
  void OnRead(const upager::PagerLoop::Request& r) override {
    loop_.pager().SupplyPagesFromBuffer(r.vmo, r.offset, r.length, Source() + r.offset);
  }

 private:
  const uint64_t len_;
  const bool writable_;
  const bool presupply_;
  upager::PagerLoop loop_;
  upager::Vmo vmo_;
  upager::Mapping map_;
};

std::string UpagerUnavailable() {
  std::string why;
  return upager::MappingSupport(&why) == upager::Status::kOk ? std::string() : why;
}

void SetCounters(benchmark::State& state, double total_ns, uint64_t touches, uint64_t faults);

// First store to each clean page of a kVmoTrapDirty VMO (all pages supplied beforehand): a
// write-protect fault, a DIRTY request acknowledged by the loop's default OnDirty, the store
// retried. One thread, p50/p99 per store.
void BM_FirstStoreDirty(benchmark::State& state, bool inline_faults) {
  const uint64_t pages = RegionPages();
  UpagerTarget target(pages, inline_faults, /*writable=*/true, /*presupply=*/true);
  std::vector<double> ns;
  double total_ns = 0;
  for (auto _ : state) {
    auto* base = const_cast<std::byte*>(target.Map());
    double pass_ns = 0;
    for (uint64_t p = 0; p < pages; ++p) {
      auto* word = reinterpret_cast<volatile uint64_t*>(base + p * kPage);
      const Clock::time_point t0 = Clock::now();
      *word = p;
      const Clock::time_point t1 = Clock::now();
      ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
      pass_ns += ns.back();
    }
    target.Unmap();
    state.SetIterationTime(pass_ns * 1e-9);
    total_ns += pass_ns;
  }
  SetCounters(state, total_ns, ns.size(), ns.size());
  std::sort(ns.begin(), ns.end());
  if (ns.empty()) return;
  state.counters["p50_ns"] = ns[ns.size() / 2];
  state.counters["p99_ns"] = ns[std::min(ns.size() - 1, ns.size() * 99 / 100)];
}

struct Variant {
  const char* name;
  std::function<std::string()> unavailable;  // why it cannot run here; empty if it can
  std::function<std::unique_ptr<Target>(uint64_t pages)> make;
  // BM_FaultLatency touches every latency_stride-th page, so that each timed load is a fault
  // of its own (16 for fault-around: one load per 64 KiB window).
  uint64_t latency_stride;
};

void SetCounters(benchmark::State& state, double total_ns, uint64_t touches, uint64_t faults) {
  state.SetItemsProcessed(static_cast<int64_t>(touches));
  state.counters["ns_per_page"] = touches ? total_ns / static_cast<double>(touches) : 0;
  state.counters["ns_per_fault"] = faults ? total_ns / static_cast<double>(faults) : 0;
  state.counters["faults_per_page"] =
      touches ? static_cast<double>(faults) / static_cast<double>(touches) : 0;
}

void BM_Fault(benchmark::State& state, const Variant* v, int threads, Order order) {
  const uint64_t pages = RegionPages();
  const std::unique_ptr<Target> target = v->make(pages);
  double total_ns = 0;
  uint64_t faults = 0;
  for (auto _ : state) {
    const std::byte* base = target->Map();
    const FaultPass pass = RunFaultingThreads(base, pages, threads, order, &Pattern);
    target->Unmap();
    state.SetIterationTime(static_cast<double>(pass.elapsed_ns) * 1e-9);
    total_ns += static_cast<double>(pass.elapsed_ns);
    faults += pass.kernel_faults;
  }
  SetCounters(state, total_ns, state.iterations() * pages, faults);
}

void BM_FaultLatency(benchmark::State& state, const Variant* v) {
  const uint64_t pages = RegionPages();
  const std::unique_ptr<Target> target = v->make(pages);
  std::vector<double> ns;
  double total_ns = 0;
  uint64_t faults = 0;
  for (auto _ : state) {
    const std::byte* base = target->Map();
    ns.reserve(ns.size() + pages / v->latency_stride + 1);
    double pass_ns = 0;
    const uint64_t before = ThreadFaults();
    for (uint64_t p = 0; p < pages; p += v->latency_stride) {
      const Clock::time_point t0 = Clock::now();
      const uint64_t got = LoadPage(base, p);
      const Clock::time_point t1 = Clock::now();
      CheckPage(p, got, Pattern(p));
      ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
      pass_ns += ns.back();
    }
    faults += ThreadFaults() - before;
    target->Unmap();
    state.SetIterationTime(pass_ns * 1e-9);
    total_ns += pass_ns;
  }
  SetCounters(state, total_ns, ns.size(), faults);
  std::sort(ns.begin(), ns.end());
  if (ns.empty()) return;
  state.counters["p50_ns"] = ns[ns.size() / 2];
  state.counters["p99_ns"] = ns[std::min(ns.size() - 1, ns.size() * 99 / 100)];
}

void BM_Memcpy(benchmark::State& state) {
  const uint64_t len = RegionPages() * kPage;
  std::vector<std::byte> dst(len, std::byte{1});  // present before the clock starts
  double total_ns = 0;
  for (auto _ : state) {
    const Clock::time_point t0 = Clock::now();
    std::memcpy(dst.data(), Source(), len);
    benchmark::ClobberMemory();
    const double pass_ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    state.SetIterationTime(pass_ns * 1e-9);
    total_ns += pass_ns;
  }
  SetCounters(state, total_ns, state.iterations() * RegionPages(), 0);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Source();  // built (and RegionPages checked) before anything is timed
  static const Variant kVariants[] = {
      {"raw_uffd", [] { return UffdUnavailable(UFFD_FEATURE_MISSING_SHMEM); },
       [](uint64_t pages) { return std::make_unique<RawUffd>(pages); }, 1},
      {"upager_loop", UpagerUnavailable,
       [](uint64_t pages) { return std::make_unique<UpagerTarget>(pages, false); }, 1},
      {"upager_inline", UpagerUnavailable,
       [](uint64_t pages) { return std::make_unique<UpagerTarget>(pages, true); }, 1},
      {"minor_fault", [] { return std::string(); },
       [](uint64_t pages) { return std::make_unique<MinorFault>(pages, false); }, 16},
      {"minor_fault_nofa", [] { return UffdUnavailable(UFFD_FEATURE_WP_HUGETLBFS_SHMEM); },
       [](uint64_t pages) { return std::make_unique<MinorFault>(pages, true); }, 1},
  };
  for (const Variant& v : kVariants) {
    if (const std::string why = v.unavailable(); !why.empty()) {
      std::printf("fault_bench: skipping %s: %s\n", v.name, why.c_str());
      continue;
    }
    for (const int threads : {1, 2}) {
      for (const Order order : {Order::kSequential, Order::kRandom}) {
        const std::string name = std::string("BM_Fault/") + v.name +
                                 "/threads:" + std::to_string(threads) +
                                 (order == Order::kSequential ? "/seq" : "/random");
        benchmark::RegisterBenchmark(name.c_str(), BM_Fault, &v, threads, order)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
    const std::string name =
        std::string("BM_FaultLatency/") + v.name + "/stride:" + std::to_string(v.latency_stride);
    benchmark::RegisterBenchmark(name.c_str(), BM_FaultLatency, &v)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  if (UpagerUnavailable().empty()) {
    for (const bool inline_faults : {false, true}) {
      benchmark::RegisterBenchmark(
          inline_faults ? "BM_FirstStoreDirty/upager_inline" : "BM_FirstStoreDirty/upager_loop",
          BM_FirstStoreDirty, inline_faults)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::RegisterBenchmark("BM_Memcpy", BM_Memcpy)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  std::fflush(stdout);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
