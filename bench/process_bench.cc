// process_bench: a mapped fault served across processes against the same fault in the
// pager's own process.
//
// The pager (this process) serves a pager-backed VMO through a PagerLoop whose handler
// supplies each READ from memory. Each page of the VMO is touched once, in random order,
// by one thread: here, through this process's own Mapping ("local"), and in a child
// process that received the VMO over a Channel and mapped it ("remote", its faults served
// by this process from the child's userfaultfd, docs/processes.md). The two are
// interleaved, a fresh VMO each run; the figure is the median time per fault, and the
// ratio remote / local is what issue 11's target (<= 1.3) is about. Read-only mappings and
// writable ones are measured apart: across processes the first are private mappings, whose
// faulting thread maps the page from the memfd after the supply (one more minor fault),
// the second shared ones, which the supply copies into directly.
//
//   process_bench [pages per run, default 4096] [runs, default 5] [loop | inline]
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "upager/channel.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/vmo.h"

extern char** environ;

namespace {

constexpr int kChildFd = 3;

class FromMemory : public upager::PagerLoop::Handler {
 public:
  void OnRead(const upager::PagerLoop::Request& r) override {
    std::vector<char> data(r.length, static_cast<char>(r.offset / upager::kPageSize));
    r.loop->pager().SupplyPagesFromBuffer(r.vmo, r.offset, r.length, data.data());
  }
};

std::vector<uint32_t> Order(uint64_t pages) {
  std::vector<uint32_t> order(pages);
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  return order;
}

// Touches every page once in `order`; nanoseconds per page.
double Touch(const std::byte* base, const std::vector<uint32_t>& order) {
  uint64_t sum = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (uint32_t page : order) {
    sum += *reinterpret_cast<const volatile uint8_t*>(base + uint64_t{page} * upager::kPageSize);
  }
  const auto t1 = std::chrono::steady_clock::now();
  if (sum == 1) std::puts("");  // keeps the loads
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / order.size();
}

// The child: maps each VMO it receives, touches it, answers with the ns per page.
int Child() {
  upager::Channel parent;
  if (upager::Channel::FromFd(kChildFd, &parent) != upager::Status::kOk) return 2;
  while (parent.Wait(upager::kInfiniteDeadline) == upager::Status::kOk) {
    uint64_t ask[2] = {};  // pages, map flags
    uint32_t n = 0, h = 0;
    upager::Vmo vmo;
    if (parent.Read(ask, sizeof ask, &n, &vmo, 1, &h) != upager::Status::kOk) return 0;
    const uint64_t pages = ask[0];
    upager::Mapping map;
    if (upager::Mapping::Create(vmo, 0, pages * upager::kPageSize, static_cast<uint32_t>(ask[1]),
                                &map) != upager::Status::kOk) {
      return 3;
    }
    const double ns = Touch(map.data(), Order(pages));
    parent.Write(&ns, sizeof ns, nullptr, 0);
  }
  return 0;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The kernel's floor for the same hop shape. A fault served by a loop thread passes a token
// around three threads: the faulting one, the one that reads the fault, the pager's. Across
// processes the first is in another address space, and on a CPU that runs both, every lap
// switches address spaces twice: a cost of the machine, not of upager (cheap on hardware
// with PCID, expensive in some virtual machines). This ring passes one byte around three
// threads over pipes, the first thread here or in a forked process; with `inline_loop` the
// ring is two threads, as the inline pager's hop shape is. Nanoseconds per lap.
double RingNs(bool cross_process, bool inline_loop, int laps) {
  const int hops = inline_loop ? 2 : 3;
  int p[3][2];
  for (int i = 0; i < hops; ++i) {
    if (::pipe(p[i]) != 0) return 0;
  }
  // Thread i reads pipe i and writes pipe (i + 1) % hops; thread 0 starts and times.
  auto relay = [&p, hops, laps](int i) {
    char c;
    for (int n = 0; n < laps; ++n) {
      if (::read(p[i][0], &c, 1) != 1 || ::write(p[(i + 1) % hops][1], &c, 1) != 1) return;
    }
  };
  double ns = 0;
  auto first = [&] {
    char c = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int n = 0; n < laps; ++n) {
      if (::write(p[1][1], &c, 1) != 1 || ::read(p[0][0], &c, 1) != 1) return;
    }
    ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
         laps;
  };
  std::vector<std::thread> relays;
  for (int i = 1; i < hops; ++i) relays.emplace_back(relay, i);
  if (cross_process) {
    int result[2];
    if (::pipe(result) != 0) return 0;
    const pid_t pid = ::fork();
    if (pid == 0) {  // only read, write and the clock until _exit
      first();
      [[maybe_unused]] ssize_t w = ::write(result[1], &ns, sizeof ns);
      ::_exit(0);
    }
    if (::read(result[0], &ns, sizeof ns) != static_cast<ssize_t>(sizeof ns)) ns = 0;
    ::waitpid(pid, nullptr, 0);
    ::close(result[0]);
    ::close(result[1]);
  } else {
    first();
  }
  for (auto& t : relays) t.join();
  for (int i = 0; i < hops; ++i) {
    ::close(p[i][0]);
    ::close(p[i][1]);
  }
  return ns;
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("UPAGER_PROCESS_BENCH_CHILD") != nullptr) return Child();
  const uint64_t pages = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 4096;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  std::string why;
  if (upager::MappingSupport(&why) != upager::Status::kOk) {
    std::fprintf(stderr, "process_bench: no mappings here: %s\n", why.c_str());
    return 1;
  }
  upager::Channel mine, theirs;
  upager::Channel::Create(0, &mine, &theirs);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, theirs.fd(), kChildFd);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  std::string role = "UPAGER_PROCESS_BENCH_CHILD=1";
  env.push_back(role.data());
  env.push_back(nullptr);
  char exe[] = "/proc/self/exe";
  char* child_argv[] = {exe, nullptr};
  pid_t child = -1;
  if (posix_spawn(&child, exe, &actions, nullptr, child_argv, env.data()) != 0) return 1;
  theirs.Reset();

  // A loop thread, or (argument 3 "inline") the handler run on the thread that reads the
  // fault: the fault thread here, the ExportService thread for another process's faults.
  const bool inline_loop = argc > 3 && std::strcmp(argv[3], "inline") == 0;
  upager::PagerLoop loop(inline_loop ? 0 : 1, inline_loop);
  loop.Start();
  FromMemory handler;
  const std::vector<uint32_t> order = Order(pages);
  // Read-only mappings (a read-only handle's, MAP_PRIVATE across processes) and writable
  // ones (MAP_SHARED, write-protected), each loaded from.
  const uint32_t kinds[2] = {upager::kMapRead, upager::kMapRead | upager::kMapWrite};
  std::vector<double> local[2], remote[2];
  // UPAGER_PROCESS_BENCH_ONLY=local|remote runs one side only (for profiling one path).
  const char* only_env = std::getenv("UPAGER_PROCESS_BENCH_ONLY");
  const std::string only = only_env != nullptr ? only_env : "";
  for (int run = 0; run < runs; ++run) {
    for (int k = 0; k < 2; ++k) {
      if (only != "remote") {
        upager::Vmo vmo;
        loop.CreateVmo(0, pages * upager::kPageSize, &handler, &vmo);
        upager::Mapping map;
        upager::Mapping::Create(vmo, 0, pages * upager::kPageSize, kinds[k], &map);
        local[k].push_back(Touch(map.data(), order));
      }
      if (only != "local") {
        upager::Vmo vmo;
        loop.CreateVmo(0, pages * upager::kPageSize, &handler, &vmo);
        if (k == 0) {
          upager::Vmo reader;
          vmo.Replace(upager::kRightRead | upager::kRightMap | upager::kRightTransfer, &reader);
          vmo = std::move(reader);
        }
        const uint64_t ask[2] = {pages, kinds[k]};
        if (mine.Write(ask, sizeof ask, &vmo, 1) != upager::Status::kOk) return 1;
        double ns = 0;
        uint32_t n = 0, h = 0;
        if (mine.Wait(upager::kInfiniteDeadline) != upager::Status::kOk ||
            mine.Read(&ns, sizeof ns, &n, nullptr, 0, &h) != upager::Status::kOk) {
          std::fprintf(stderr, "process_bench: the child failed\n");
          return 1;
        }
        remote[k].push_back(ns);
      }
    }
  }
  // The floor, interleaved likewise.
  std::vector<double> ring_local, ring_cross;
  for (int run = 0; run < runs; ++run) {
    ring_local.push_back(RingNs(false, inline_loop, 20000));
    ring_cross.push_back(RingNs(true, inline_loop, 20000));
  }
  mine.Reset();
  int status = 0;
  waitpid(child, &status, 0);
  std::printf(
      "## process_bench: %llu pages touched once in random order, 1 thread, median of %d, the "
      "pager %s\n\n",
      static_cast<unsigned long long>(pages), runs,
      inline_loop ? "inline (PagerLoop(0, true))" : "on a loop thread (PagerLoop(1))");
  std::printf(
      "| mapping | where the fault is taken | ns / fault | faults/s | / local |\n"
      "|---|---|---:|---:|---:|\n");
  const char* names[2] = {"read-only", "writable"};
  for (int k = 0; k < 2; ++k) {
    const double l = local[k].empty() ? 0 : Median(local[k]);
    const double r = remote[k].empty() ? 0 : Median(remote[k]);
    std::printf("| %s | the pager's process (local) | %.0f | %.0f | 1.00x |\n", names[k], l,
                1e9 / l);
    std::printf("| %s | another process (remote) | %.0f | %.0f | %.2fx |\n", names[k], r, 1e9 / r,
                r / l);
  }
  const double rl = Median(ring_local), rc = Median(ring_cross);
  std::printf(
      "\nThe kernel's floor for this hop shape (a byte passed around %d threads over pipes, "
      "median of %d):\n\n"
      "| ring | ns / lap | / one process |\n|---|---:|---:|\n"
      "| all threads in one process | %.0f | 1.00x |\n"
      "| the first thread in another process | %.0f | %.2fx |\n\n"
      "The address-space switches cost across processes: %.0f ns a lap; the remote fault's "
      "ratio with that cost taken off: writable %.2fx, read-only %.2fx.\n",
      inline_loop ? 2 : 3, runs, rl, rc, rc / rl, rc - rl,
      (Median(remote[1]) - (rc - rl)) / Median(local[1]),
      (Median(remote[0]) - (rc - rl)) / Median(local[0]));
  return 0;
}
