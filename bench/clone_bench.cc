// clone_bench: reading through a clone against reading its root, and the first store to an
// unforked page of a mapped clone (a fork) against the first store to a clean page of a
// non-trapping root (docs/clones.md, Mapped clones). Baseline and candidate are interleaved
// in each round and the ratios are medians over rounds, measured in one run.
//
//   clone_bench            (UPAGER_BENCH_CLONE_MIB, default 16; UPAGER_BENCH_ROUNDS, default 5)
//
// Cold: a fresh VMO whose pages are absent (each read fault or Vmo::Read is a READ answered by
// a PagerLoop). Warm: the same range read again. Exit status 1 if a read saw wrong bytes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "upager/mapping.h"
#include "upager/pager_loop.h"
#include "upager/vmo.h"

namespace {

using upager::kPageSize;
using upager::Mapping;
using upager::PagerLoop;
using upager::Status;
using upager::Vmo;

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

double Seconds(const std::function<void()>& fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool g_correct = true;

// Reads every word of the mapping; checks the first word of each page.
void ReadMapped(const Mapping& map, uint64_t pages) {
  const auto* words = reinterpret_cast<const volatile uint64_t*>(map.data());
  uint64_t sum = 0;
  for (uint64_t p = 0; p < pages; ++p) {
    const volatile uint64_t* page = words + p * (kPageSize / sizeof(uint64_t));
    g_correct &= page[0] == p;
    for (uint64_t w = 1; w < kPageSize / sizeof(uint64_t); ++w) sum += page[w];
  }
  g_correct &= sum == 0;
}

void ReadVmo(const Vmo& vmo, uint64_t pages, std::vector<char>* buf) {
  g_correct &= vmo.Read(buf->data(), 0, pages * kPageSize) == Status::kOk;
  for (uint64_t p = 0; p < pages; ++p) {
    uint64_t w = 0;
    std::memcpy(&w, buf->data() + p * kPageSize, sizeof(w));
    g_correct &= w == p;
  }
}

void StoreEachPage(const Mapping& map, uint64_t pages) {
  for (uint64_t p = 0; p < pages; ++p) {
    *reinterpret_cast<volatile uint64_t*>(map.data() + p * kPageSize + 8) = p;
  }
}

struct Samples {
  std::vector<double> root, child;
};

void Report(const char* what, const Samples& s, uint64_t pages) {
  const double root = Median(s.root);
  const double child = Median(s.child);
  std::printf("%-34s root %9.1f ns/page  child %9.1f ns/page  ratio %.2f\n", what,
              root * 1e9 / pages, child * 1e9 / pages, child / root);
}

}  // namespace

int main() {
  const uint64_t pages = EnvOr("UPAGER_BENCH_CLONE_MIB", 16) * (1 << 20) / kPageSize;
  const uint64_t rounds = std::max<uint64_t>(1, EnvOr("UPAGER_BENCH_ROUNDS", 5));
  const uint64_t size = pages * kPageSize;
  PagerLoop loop(1);
  if (loop.Start() != Status::kOk) {
    std::printf("clone_bench: no pager loop\n");
    return 0;
  }
  PatternHandler handler;
  Samples map_cold, map_warm, read_cold, read_warm, first_store;
  std::vector<char> buf(size);
  for (uint64_t r = 0; r < rounds; ++r) {
    for (int child_turn = 0; child_turn < 2; ++child_turn) {
      // Interleaved: root then child in even rounds, child then root in odd ones.
      const bool child = (child_turn == 1) != (r % 2 == 1);
      auto pick = [&](Samples& s) -> std::vector<double>& { return child ? s.child : s.root; };
      Vmo root;
      if (loop.CreateVmo(0, size, &handler, &root) != Status::kOk) return 1;
      Vmo clone;
      if (root.CreateChild(upager::kVmoChildSnapshotAtLeastOnWrite, 0, size, &clone) !=
          Status::kOk) {
        return 1;
      }
      const Vmo& target = child ? clone : root;
      Mapping map;
      if (Mapping::Create(target, 0, size, upager::kMapRead | upager::kMapWrite, &map) !=
          Status::kOk) {
        std::printf("clone_bench: no mappings here\n");
        return 0;
      }
      pick(map_cold).push_back(Seconds([&] { ReadMapped(map, pages); }));
      pick(map_warm).push_back(Seconds([&] { ReadMapped(map, pages); }));
      pick(read_warm).push_back(Seconds([&] { ReadVmo(target, pages, &buf); }));
      // The first store: a fork of each page in the child, a clean page made dirty in the
      // root (non-trapping: no DIRTY request).
      pick(first_store).push_back(Seconds([&] { StoreEachPage(map, pages); }));

      // Vmo::Read cold, on fresh VMOs.
      Vmo root2;
      if (loop.CreateVmo(0, size, &handler, &root2) != Status::kOk) return 1;
      Vmo clone2;
      if (root2.CreateChild(upager::kVmoChildSnapshotAtLeastOnWrite, 0, size, &clone2) !=
          Status::kOk) {
        return 1;
      }
      pick(read_cold).push_back(Seconds([&] { ReadVmo(child ? clone2 : root2, pages, &buf); }));
    }
  }
  std::printf("clone_bench: %llu MiB, %llu rounds, medians (a shared machine is noisy)\n",
              static_cast<unsigned long long>(size >> 20), static_cast<unsigned long long>(rounds));
  Report("mapped read, cold (READs)", map_cold, pages);
  Report("mapped read, warm", map_warm, pages);
  Report("Vmo::Read, cold (READs)", read_cold, pages);
  Report("Vmo::Read, warm", read_warm, pages);
  Report("first store (fork vs clean->dirty)", first_store, pages);
  if (!g_correct) std::printf("clone_bench: WRONG BYTES\n");
  return g_correct ? 0 : 1;
}
