// clone_process_bench: a clone mapped in another process against the same clone mapped in
// the pager's own process (docs/clones.md, Clones across processes). Per page of a clone whose
// root holds every page: the first load (a minor fault on the root's page), a warm load, and
// the first store (the fork: a write-protect fault served by the owner, which copies the page
// into the clone's memfd and, for the holder's mapping, has the holder map it there over the
// fork socket before the store goes on). The first store to a clean page of a non-trapping
// root mapped here is the baseline both forks are also compared with (as in clone_bench).
// The three are interleaved in each round, in a rotating order, a fresh VMO each; the times
// are medians over rounds and the ratios medians of each round's ratio, in one run.
//
//   clone_process_bench   (UPAGER_BENCH_CLONE_MIB, default 16; UPAGER_BENCH_ROUNDS, default 5)
//
// The holder is this binary again (UPAGER_CLONE_PROCESS_BENCH_HOLDER set), given each clone
// over a Channel; it times its own loads and stores. Exit status 1 if a load saw wrong bytes
// or a store did not reach the clone alone.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "upager/channel.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/vmo.h"

extern char** environ;

namespace {

using upager::kPageSize;
using upager::Mapping;
using upager::PagerLoop;
using upager::Status;
using upager::Vmo;

constexpr int kChildFd = 3;

// Supplies each page with its index in its first word.
class PatternHandler : public PagerLoop::Handler {
 public:
  void OnRead(const PagerLoop::Request& r) override {
    std::vector<uint64_t> buf(r.length / sizeof(uint64_t), 0);
    for (uint64_t off = 0; off < r.length; off += kPageSize) {
      buf[off / sizeof(uint64_t)] = (r.offset + off) / kPageSize;
    }
    r.loop->pager().SupplyPagesFromBuffer(r.vmo, r.offset, r.length, buf.data());
  }
};

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : fallback;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The median over rounds of each round's a / b (the two were measured in the same round).
double MedianRatio(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> r;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) r.push_back(a[i] / b[i]);
  return Median(r);
}

// What one mapping measured, in seconds for all its pages, and whether its bytes were right.
struct Times {
  double first_load = 0, warm_load = 0, first_store = 0;
  uint64_t correct = 1;
};

// Loads every word of the mapping; the first word of page p is p, the rest 0.
bool Load(const std::byte* base, uint64_t pages) {
  const auto* words = reinterpret_cast<const volatile uint64_t*>(base);
  bool ok = true;
  uint64_t sum = 0;
  for (uint64_t p = 0; p < pages; ++p) {
    const volatile uint64_t* page = words + p * (kPageSize / sizeof(uint64_t));
    ok &= page[0] == p;
    for (uint64_t w = 1; w < kPageSize / sizeof(uint64_t); ++w) sum += page[w];
  }
  return ok && sum == 0;
}

// Stores p into the second word of each page p.
void Store(std::byte* base, uint64_t pages) {
  for (uint64_t p = 0; p < pages; ++p) {
    *reinterpret_cast<volatile uint64_t*>(base + p * kPageSize + 8) = p;
  }
}

bool Stored(const std::byte* base, uint64_t pages) {
  bool ok = true;
  for (uint64_t p = 0; p < pages; ++p) {
    const auto* page = reinterpret_cast<const volatile uint64_t*>(base + p * kPageSize);
    ok &= page[0] == p && page[1] == p;
  }
  return ok;
}

template <typename Fn>
double Seconds(Fn fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Maps `vmo` writable and measures it.
Times Measure(const Vmo& vmo, uint64_t pages) {
  Times t;
  Mapping map;
  if (Mapping::Create(vmo, 0, pages * kPageSize, upager::kMapRead | upager::kMapWrite, &map) !=
      Status::kOk) {
    t.correct = 0;
    return t;
  }
  bool ok = true;
  t.first_load = Seconds([&] { ok &= Load(map.data(), pages); });
  t.warm_load = Seconds([&] { ok &= Load(map.data(), pages); });
  t.first_store = Seconds([&] { Store(map.data(), pages); });
  ok &= Stored(map.data(), pages);
  t.correct = ok ? 1 : 0;
  return t;
}

// The holder: measures each clone it is sent (with its page count) and answers with Times.
int Holder() {
  upager::Channel parent;
  if (upager::Channel::FromFd(kChildFd, &parent) != Status::kOk) return 2;
  while (parent.Wait(upager::kInfiniteDeadline) == Status::kOk) {
    uint64_t pages = 0;
    uint32_t n = 0, h = 0;
    Vmo vmo;
    if (parent.Read(&pages, sizeof pages, &n, &vmo, 1, &h) != Status::kOk) return 0;
    const Times t = Measure(vmo, pages);
    if (parent.Write(&t, sizeof t, nullptr, 0) != Status::kOk) return 3;
  }
  return 0;
}

bool SpawnHolder(upager::Channel* mine, pid_t* pid) {
  upager::Channel theirs;
  if (upager::Channel::Create(0, mine, &theirs) != Status::kOk) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, theirs.fd(), kChildFd);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  std::string role = "UPAGER_CLONE_PROCESS_BENCH_HOLDER=1";
  env.push_back(role.data());
  env.push_back(nullptr);
  char exe[] = "/proc/self/exe";
  char* argv[] = {exe, nullptr};
  const bool ok = ::posix_spawn(pid, exe, &actions, nullptr, argv, env.data()) == 0;
  posix_spawn_file_actions_destroy(&actions);
  return ok;
}

// A fresh root with every page supplied (read once through Vmo::Read), and its clone.
bool MakeRoot(PagerLoop& loop, PatternHandler& handler, uint64_t pages, std::vector<char>& buf,
              Vmo* root, Vmo* clone) {
  const uint64_t size = pages * kPageSize;
  if (loop.CreateVmo(0, size, &handler, root) != Status::kOk) return false;
  if (root->Read(buf.data(), 0, size) != Status::kOk) return false;
  return clone == nullptr ||
         root->CreateChild(upager::kVmoChildSnapshotAtLeastOnWrite, 0, size, clone) == Status::kOk;
}

// The clone holds p in the second word of each page p, the root 0.
bool ForkedAlone(const Vmo& root, const Vmo& clone, uint64_t pages, std::vector<char>& buf) {
  bool ok = clone.Read(buf.data(), 0, pages * kPageSize) == Status::kOk;
  for (uint64_t p = 0; ok && p < pages; ++p) {
    uint64_t w[2];
    std::memcpy(w, buf.data() + p * kPageSize, sizeof w);
    ok &= w[0] == p && w[1] == p;
  }
  ok &= root.Read(buf.data(), 0, pages * kPageSize) == Status::kOk;
  for (uint64_t p = 0; ok && p < pages; ++p) {
    uint64_t w[2];
    std::memcpy(w, buf.data() + p * kPageSize, sizeof w);
    ok &= w[0] == p && w[1] == 0;
  }
  return ok;
}

struct Samples {
  std::vector<double> first_load, warm_load, first_store;
  void Add(const Times& t, uint64_t pages) {
    first_load.push_back(t.first_load * 1e9 / pages);
    warm_load.push_back(t.warm_load * 1e9 / pages);
    first_store.push_back(t.first_store * 1e9 / pages);
  }
};

}  // namespace

int main() {
  if (std::getenv("UPAGER_CLONE_PROCESS_BENCH_HOLDER") != nullptr) return Holder();
  const uint64_t pages = EnvOr("UPAGER_BENCH_CLONE_MIB", 16) * (1 << 20) / kPageSize;
  const uint64_t rounds = std::max<uint64_t>(1, EnvOr("UPAGER_BENCH_ROUNDS", 5));
  std::string why;
  if (upager::MappingSupport(&why) != Status::kOk) {
    std::printf("clone_process_bench: no mappings here: %s\n", why.c_str());
    return 0;
  }
  upager::Channel holder;
  pid_t pid = -1;
  if (!SpawnHolder(&holder, &pid)) return 1;
  PagerLoop loop(1);
  if (loop.Start() != Status::kOk) return 1;
  PatternHandler handler;
  std::vector<char> buf(pages * kPageSize);
  Samples root_s, local_s, remote_s;
  bool correct = true;
  for (uint64_t r = 0; r < rounds; ++r) {
    for (uint64_t turn = 0; turn < 3; ++turn) {
      Vmo root, clone;
      switch ((turn + r) % 3) {
        case 0: {  // the baseline: a non-trapping root mapped here
          if (!MakeRoot(loop, handler, pages, buf, &root, nullptr)) return 1;
          const Times t = Measure(root, pages);
          correct &= t.correct == 1;
          root_s.Add(t, pages);
          break;
        }
        case 1: {  // the clone mapped here
          if (!MakeRoot(loop, handler, pages, buf, &root, &clone)) return 1;
          const Times t = Measure(clone, pages);
          correct &= t.correct == 1 && ForkedAlone(root, clone, pages, buf);
          local_s.Add(t, pages);
          break;
        }
        default: {  // the clone mapped in the holder
          if (!MakeRoot(loop, handler, pages, buf, &root, &clone)) return 1;
          Vmo sent;
          if (clone.Duplicate(&sent) != Status::kOk) return 1;
          if (holder.Write(&pages, sizeof pages, &sent, 1) != Status::kOk) return 1;
          Times t;
          uint32_t n = 0, h = 0;
          if (holder.Wait(upager::kInfiniteDeadline) != Status::kOk ||
              holder.Read(&t, sizeof t, &n, nullptr, 0, &h) != Status::kOk || n != sizeof t) {
            std::printf("clone_process_bench: the holder failed\n");
            return 1;
          }
          correct &= t.correct == 1 && ForkedAlone(root, clone, pages, buf);
          remote_s.Add(t, pages);
          break;
        }
      }
    }
  }
  holder.Reset();
  int status = 0;
  ::waitpid(pid, &status, 0);

  std::printf(
      "clone_process_bench: %llu MiB, %llu rounds interleaved, medians in ns per page (a shared "
      "machine is noisy)\n\n",
      static_cast<unsigned long long>(pages * kPageSize >> 20),
      static_cast<unsigned long long>(rounds));
  std::printf(
      "| per page | root mapped here | clone mapped here | clone mapped in another process "
      "| another / here |\n|---|---:|---:|---:|---:|\n");
  auto row = [](const char* what, const std::vector<double>& root, const std::vector<double>& l,
                const std::vector<double>& rem) {
    std::printf("| %s | %.0f | %.0f | %.0f | %.2fx |\n", what, Median(root), Median(l), Median(rem),
                MedianRatio(rem, l));
  };
  row("first load (the root holds the page)", root_s.first_load, local_s.first_load,
      remote_s.first_load);
  row("warm load", root_s.warm_load, local_s.warm_load, remote_s.warm_load);
  row("first store (clone: the fork)", root_s.first_store, local_s.first_store,
      remote_s.first_store);
  std::printf(
      "\nThe fork against the first store to a clean page of a non-trapping root mapped here: "
      "here %.2fx, in another process %.2fx.\n(Times: medians over rounds; ratios: medians of "
      "each round's ratio.)\n",
      MedianRatio(local_s.first_store, root_s.first_store),
      MedianRatio(remote_s.first_store, root_s.first_store));
  if (!correct) std::printf("clone_process_bench: WRONG BYTES\n");
  return correct && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
