// Paged VMOs served by a PagerLoop, against baselines measured in the same run:
//   - 1 MiB sequential Vmo::Reads of a pager VMO, cold (every page requested and supplied
//     from memory, with SupplyPagesFromBuffer or through an aux VMO with SupplyPages) and
//     warm (all present), as bandwidth; the baseline is memcpy of the same bytes;
//   - the request round trip (Read of one absent page -> packet -> supply -> Read returns),
//     p50 and p99, with 1 and 2 reader threads; the baseline is a condition-variable
//     ping-pong between two threads.
// The VMO size is UPAGER_BENCH_VMO_MIB (default 256).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "upager/pager_loop.h"
#include "upager/vmo.h"

namespace upager {
namespace {

constexpr uint64_t kChunk = 1 << 20;

uint64_t VmoBytes() {
  const char* env = std::getenv("UPAGER_BENCH_VMO_MIB");
  return (env ? std::strtoull(env, nullptr, 10) : 256) << 20;
}

// The backing store: bytes the handlers supply from.
const std::vector<char>& Store() {
  static const std::vector<char> store = [] {
    std::vector<char> data(VmoBytes());
    for (size_t i = 0; i < data.size(); i += 64) data[i] = static_cast<char>(i / kPageSize);
    return data;
  }();
  return store;
}

class BufferHandler : public PagerLoop::Handler {
 public:
  // `piece` > 0 supplies a request in pieces of that many bytes, in order, so that an
  // early-woken reader copies one piece while the next is being supplied.
  explicit BufferHandler(uint64_t piece = 0) : piece_(piece) {}
  void OnRead(const PagerLoop::Request& r) override {
    const uint64_t piece = piece_ == 0 ? r.length : piece_;
    for (uint64_t off = 0; off < r.length; off += piece) {
      const uint64_t len = std::min(piece, r.length - off);
      r.loop->pager().SupplyPagesFromBuffer(r.vmo, r.offset + off, len,
                                            Store().data() + r.offset + off);
    }
  }

 private:
  const uint64_t piece_;
};

class AuxHandler : public PagerLoop::Handler {
 public:
  void OnRead(const PagerLoop::Request& r) override {
    thread_local Vmo aux;
    thread_local uint64_t aux_size = 0;
    if (aux_size < r.length) {
      Vmo::Create(r.length, 0, &aux);
      aux_size = r.length;
    }
    aux.Write(Store().data() + r.offset, 0, r.length);
    r.loop->pager().SupplyPages(r.vmo, r.offset, r.length, aux, 0);
  }
};

void ReadAll(benchmark::State& state, const Vmo& vmo, std::vector<char>& out) {
  for (uint64_t off = 0; off < VmoBytes(); off += kChunk) {
    if (vmo.Read(out.data(), off, kChunk) != Status::kOk) {
      state.SkipWithError("read failed");
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
}

// arg 0: cold with SupplyPagesFromBuffer, 1: cold with SupplyPages (aux), 2: warm,
// 3: cold with SupplyPagesFromBuffer in 256 KiB pieces (the reader copies while the pager
// supplies).
void BM_VmoSequentialRead(benchmark::State& state) {
  const int mode = static_cast<int>(state.range(0));
  PagerLoop loop(1);
  loop.Start();
  BufferHandler buffer_handler(mode == 3 ? 256 * 1024 : 0);
  AuxHandler aux_handler;
  PagerLoop::Handler* handler =
      mode == 1 ? static_cast<PagerLoop::Handler*>(&aux_handler) : &buffer_handler;
  std::vector<char> out(kChunk);
  Store();
  Vmo vmo;
  if (mode == 2) {
    loop.CreateVmo(0, VmoBytes(), handler, &vmo);
    ReadAll(state, vmo, out);  // warm it up
  }
  for (auto _ : state) {
    if (mode != 2) {
      state.PauseTiming();
      vmo.Reset();
      loop.CreateVmo(0, VmoBytes(), handler, &vmo);
      state.ResumeTiming();
    }
    ReadAll(state, vmo, out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * VmoBytes()));
}
BENCHMARK(BM_VmoSequentialRead)
    ->ArgName("mode")
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Arg(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_MemcpyBaseline(benchmark::State& state) {
  std::vector<char> out(kChunk);
  const std::vector<char>& store = Store();
  for (auto _ : state) {
    for (uint64_t off = 0; off < VmoBytes(); off += kChunk) {
      std::memcpy(out.data(), store.data() + off, kChunk);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * VmoBytes()));
}
BENCHMARK(BM_MemcpyBaseline)->UseRealTime()->Unit(benchmark::kMillisecond);

void ReportPercentiles(benchmark::State& state, std::vector<double>& ns) {
  if (ns.empty()) return;
  std::sort(ns.begin(), ns.end());
  state.counters["p50_ns"] = ns[ns.size() / 2];
  state.counters["p99_ns"] = ns[std::min(ns.size() - 1, ns.size() * 99 / 100)];
}

// Round trip of one absent page; arg: reader threads.
void BM_RequestRoundTrip(benchmark::State& state) {
  const int readers = static_cast<int>(state.range(0));
  constexpr uint64_t kPages = 8192;
  PagerLoop loop(1);
  loop.Start();
  BufferHandler handler;
  Vmo vmo;
  uint64_t next = kPages;
  std::vector<double> ns;
  for (auto _ : state) {
    if (next + readers > kPages) {
      state.PauseTiming();
      vmo.Reset();
      loop.CreateVmo(0, kPages * kPageSize, &handler, &vmo);
      next = 0;
      state.ResumeTiming();
    }
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    char c = 0;
    for (int t = 1; t < readers; ++t) {
      threads.emplace_back([&, t] {
        char d;
        vmo.Read(&d, (next + t) * kPageSize, 1);
      });
    }
    vmo.Read(&c, next * kPageSize, 1);
    for (std::thread& thread : threads) thread.join();
    ns.push_back(
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count());
    next += readers;
  }
  ReportPercentiles(state, ns);
}
BENCHMARK(BM_RequestRoundTrip)->ArgName("readers")->Arg(1)->UseRealTime();

// Two readers that stay alive: each iteration both read a fresh page at once.
void BM_RequestRoundTripTwoReaders(benchmark::State& state) {
  constexpr uint64_t kPages = 8192;
  PagerLoop loop(1);
  loop.Start();
  BufferHandler handler;
  Vmo vmo;
  loop.CreateVmo(0, kPages * kPageSize, &handler, &vmo);
  std::mutex mutex;
  std::condition_variable cv;
  uint64_t round = 0;
  uint64_t done_round = 0;
  bool stop = false;
  std::thread second([&] {
    uint64_t seen = 0;
    for (;;) {
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return stop || round != seen; });
      if (stop) return;
      seen = round;
      lock.unlock();
      char c;
      vmo.Read(&c, ((2 * seen + 1) % kPages) * kPageSize, 1);
      lock.lock();
      done_round = seen;
      cv.notify_all();
    }
  });
  std::vector<double> ns;
  uint64_t r = 0;
  for (auto _ : state) {
    if (2 * (r + 1) >= kPages) {
      state.PauseTiming();
      vmo.Reset();
      loop.CreateVmo(0, kPages * kPageSize, &handler, &vmo);
      r = 0;
      {
        std::lock_guard lock(mutex);
        round = 0;
        done_round = 0;
      }
      state.ResumeTiming();
    }
    ++r;
    const auto start = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mutex);
      round = r;
    }
    cv.notify_all();
    char c;
    vmo.Read(&c, (2 * r % kPages) * kPageSize, 1);
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return done_round == r; });
    ns.push_back(
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count());
  }
  {
    std::lock_guard lock(mutex);
    stop = true;
  }
  cv.notify_all();
  second.join();
  ReportPercentiles(state, ns);
}
BENCHMARK(BM_RequestRoundTripTwoReaders)->UseRealTime();

void BM_CondVarPingPong(benchmark::State& state) {
  std::mutex mutex;
  std::condition_variable cv;
  uint64_t ping = 0;
  uint64_t pong = 0;
  bool stop = false;
  std::thread peer([&] {
    std::unique_lock lock(mutex);
    for (;;) {
      cv.wait(lock, [&] { return stop || ping != pong; });
      if (stop) return;
      pong = ping;
      cv.notify_all();
    }
  });
  std::vector<double> ns;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex);
    ++ping;
    cv.notify_all();
    cv.wait(lock, [&] { return pong == ping; });
    ns.push_back(
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count());
  }
  {
    std::lock_guard lock(mutex);
    stop = true;
  }
  cv.notify_all();
  peer.join();
  ReportPercentiles(state, ns);
}
BENCHMARK(BM_CondVarPingPong)->UseRealTime();

}  // namespace
}  // namespace upager

BENCHMARK_MAIN();
