// mapping_demo: a pager-backed VMO mapped into memory. Plain loads and stores through the
// mapping reach a PagerLoop handler, which computes each page when it is first touched.
//
//   build/release/examples/mapping_demo
//
// Four threads read every page of a 64 MiB mapping; the handler is asked once per page. A
// store to a clean page of the (kVmoTrapDirty) VMO asks the pager for permission first, and
// the dirty range is then visible to QueryDirtyRanges. Prints what happened and exits 0, or
// explains why mappings are unavailable here and exits 0 as well.
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "upager/upager.h"

namespace {

constexpr uint64_t kSize = 64ull << 20;
constexpr uint64_t kPages = kSize / upager::kPageSize;

uint64_t Expected(uint64_t offset) { return offset * 2654435761u; }

// Supplies each requested range with computed content; acknowledges DIRTY requests (the
// default OnDirty) after counting them.
class ComputedPages : public upager::PagerLoop::Handler {
 public:
  void OnRead(const upager::PagerLoop::Request& r) override {
    reads.fetch_add(1, std::memory_order_relaxed);
    std::vector<uint64_t> words(r.length / sizeof(uint64_t));
    for (uint64_t i = 0; i < words.size(); ++i) words[i] = Expected(r.offset + i * 8);
    r.loop->pager().SupplyPagesFromBuffer(r.vmo, r.offset, r.length, words.data());
  }
  void OnDirty(const upager::PagerLoop::Request& r) override {
    dirties.fetch_add(1, std::memory_order_relaxed);
    PagerLoop::Handler::OnDirty(r);
  }
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> dirties{0};

 private:
  using PagerLoop = upager::PagerLoop;
};

}  // namespace

int main() {
  std::string why;
  if (upager::MappingSupport(&why) != upager::Status::kOk) {
    std::printf("mappings are unavailable here (%s); nothing to show\n", why.c_str());
    return 0;
  }
  upager::PagerLoop loop(1);
  if (loop.Start() != upager::Status::kOk) return 1;
  ComputedPages handler;
  upager::Vmo vmo;
  upager::Mapping map;
  if (loop.CreateVmo(upager::kVmoTrapDirty, kSize, &handler, &vmo) != upager::Status::kOk ||
      upager::Mapping::Create(vmo, 0, kSize, upager::kMapRead | upager::kMapWrite, &map) !=
          upager::Status::kOk) {
    std::fprintf(stderr, "mapping_demo: could not create and map the VMO\n");
    return 1;
  }

  // Four readers, interleaved pages: every load of an absent page is a page fault that
  // becomes a READ request; concurrent faults on one page share it.
  std::atomic<uint64_t> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (uint64_t page = static_cast<uint64_t>(t); page < kPages; page += 4) {
        const uint64_t offset = page * upager::kPageSize + 64;
        const uint64_t value = *reinterpret_cast<const volatile uint64_t*>(map.data() + offset);
        if (value != Expected(offset)) wrong.fetch_add(1);
      }
    });
  }
  for (std::thread& reader : readers) reader.join();
  std::printf("read %" PRIu64 " pages through the mapping: %" PRIu64 " READ requests, %" PRIu64
              " wrong values\n",
              kPages, handler.reads.load(), wrong.load());

  // A store to a clean page: the pager is asked (DIRTY) before the store goes through.
  *reinterpret_cast<volatile uint64_t*>(map.data() + 5 * upager::kPageSize) = 42;
  upager::VmoDirtyRange ranges[4];
  size_t actual = 0;
  loop.pager().QueryDirtyRanges(vmo, 0, kSize, ranges, sizeof(ranges), &actual, nullptr);
  std::printf("one store: %" PRIu64 " DIRTY request(s); dirty ranges:", handler.dirties.load());
  for (size_t i = 0; i < actual; ++i) {
    std::printf(" [%" PRIu64 ", %" PRIu64 ")", ranges[i].offset,
                ranges[i].offset + ranges[i].length);
  }
  std::printf("\n");

  map.Reset();
  vmo.Reset();
  loop.Stop();
  return wrong.load() == 0 && handler.reads.load() == kPages && handler.dirties.load() == 1 &&
                 actual == 1
             ? 0
             : 1;
}
