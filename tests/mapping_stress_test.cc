// Mixed stress on one mapped VMO: threads load and store through a mapping and call
// Vmo::Read and Vmo::Write, while the pager supplies (and sometimes fails) requests and a
// small memory budget keeps evicting clean pages.
//
// Every word's value says where it belongs: (page, word) in the high bits, then who wrote
// it. A value read must carry its own page and word (the pager's pattern or some thread's
// write: never zeros, another page's data or torn state), and each writer owns distinct
// words, so the last value it stored must still be there at the end: dirty data is never
// lost to eviction.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "mapping_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/page_budget.h"
#include "upager/pager_loop.h"
#include "upager/stats.h"
#include "user_pager.h"  // short pager timeouts: a deadlock fails instead of hanging
#include "vm/page_reclaimer.h"

namespace upager::testing {
namespace {

constexpr uint64_t kPages = 192;
constexpr uint64_t kBudgetPages = 48;
// Writers stay in the first pages: dirty pages cannot be evicted, and a dirty set larger
// than the budget would leave no memory for supplies (they would wait for it forever).
constexpr uint64_t kWritablePages = 24;
constexpr uint64_t kWordsPerPage = kPageSize / sizeof(uint64_t);
constexpr int kWriters = 2;
constexpr int kReaders = 2;
constexpr uint64_t kPagerTag = 0xfffff;  // "written by" field of the pager's pattern

uint64_t Encode(uint64_t page, uint64_t word, uint64_t writer_tag) {
  return (page << 44) | (word << 32) | (writer_tag << 12) | 0x5a5;
}
bool BelongsAt(uint64_t value, uint64_t page, uint64_t word) {
  return (value >> 44) == page && ((value >> 32) & 0xfff) == word && (value & 0xfff) == 0x5a5;
}

// Supplies the pattern, failing roughly one request in `fail_one_in` with kIo.
class StressPager : public PagerLoop::Handler {
 public:
  explicit StressPager(int fail_one_in) : fail_one_in_(fail_one_in) {}
  void OnRead(const PagerLoop::Request& r) override {
    if (fail_one_in_ > 0 && rng_() % static_cast<unsigned>(fail_one_in_) == 0) {
      failed.fetch_add(1);
      r.loop->pager().OpRange(kPagerOpFail, r.vmo, r.offset, r.length,
                              static_cast<uint64_t>(static_cast<int64_t>(Status::kIo)));
      return;
    }
    supplied.fetch_add(r.length / kPageSize);
    std::vector<uint64_t> data(r.length / sizeof(uint64_t));
    for (uint64_t i = 0; i < data.size(); ++i) {
      const uint64_t page = r.offset / kPageSize + i / kWordsPerPage;
      data[i] = Encode(page, i % kWordsPerPage, kPagerTag);
    }
    r.loop->pager().SupplyPagesFromBuffer(r.vmo, r.offset, r.length, data.data());
  }
  void OnDirty(const PagerLoop::Request& r) override {
    if (fail_one_in_ > 0 && rng_() % static_cast<unsigned>(fail_one_in_) == 0) {
      r.loop->pager().OpRange(kPagerOpFail, r.vmo, r.offset, r.length,
                              static_cast<uint64_t>(static_cast<int64_t>(Status::kIo)));
      return;
    }
    r.loop->pager().OpRange(kPagerOpDirty, r.vmo, r.offset, r.length, 0);
  }
  std::atomic<uint64_t> supplied{0};
  std::atomic<uint64_t> failed{0};

 private:
  const int fail_one_in_;
  // One loop thread calls the handler, so the generator needs no lock.
  std::minstd_rand rng_{7};
};

struct Counters {
  std::atomic<uint64_t> loads{0}, stores{0}, vmo_reads{0}, vmo_writes{0}, sigbus{0}, errors{0};
  std::atomic<bool> bad{false};
};

void RunStress(uint32_t vmo_options, int ops_per_thread) {
  UPAGER_REQUIRE_MAPPINGS();
  PageBudget::Default().SetLimit(kBudgetPages);
  {
    PagerLoop loop(1);
    ASSERT_EQ(loop.Start(), Status::kOk);
    StressPager handler(/*fail_one_in=*/16);
    Vmo vmo;
    ASSERT_EQ(loop.CreateVmo(vmo_options, kPages * kPageSize, &handler, &vmo), Status::kOk);
    Mapping map;
    ASSERT_EQ(Mapping::Create(vmo, 0, kPages * kPageSize, kMapRead | kMapWrite, &map), Status::kOk);
    const upager::Counters clock_before = GetCounters();
    std::byte* base = map.data();
    Counters c;
    // last[w][page]: the value writer w stored last in its word of `page` (0: none yet).
    std::vector<std::vector<uint64_t>> last(kWriters, std::vector<uint64_t>(kPages, 0));

    auto check = [&](uint64_t value, uint64_t page, uint64_t word) {
      if (!BelongsAt(value, page, word)) {
        c.bad = true;
        ADD_FAILURE() << "page " << page << " word " << word << " holds " << std::hex << value;
      }
    };
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        std::mt19937_64 rng(100 + w);
        for (int i = 0; i < ops_per_thread && !c.bad; ++i) {
          const uint64_t page = rng() % kWritablePages;
          const uint64_t word = static_cast<uint64_t>(w) * 8 + 1;  // writer-owned word
          const uint64_t value = Encode(page, word, static_cast<uint64_t>(w) * 4096 + i % 4096);
          if (rng() % 2 == 0) {
            const Probe probe = ProbeStore(base + page * kPageSize + word * 8, value);
            if (probe.ok) {
              last[w][page] = value;
              c.stores++;
            } else if (probe.signo == SIGBUS && FaultStatusForAddress(probe.addr) == Status::kIo) {
              c.sigbus++;
            } else {
              c.bad = true;
              ADD_FAILURE() << "store: signal " << probe.signo;
            }
          } else {
            const Status s = vmo.Write(&value, page * kPageSize + word * 8, 8);
            if (s == Status::kOk) {
              last[w][page] = value;
              c.vmo_writes++;
            } else if (s == Status::kIo) {
              c.errors++;
            } else {
              c.bad = true;
              ADD_FAILURE() << "write: " << StatusString(s);
            }
          }
        }
      });
    }
    for (int r = 0; r < kReaders; ++r) {
      threads.emplace_back([&, r] {
        std::mt19937_64 rng(200 + r);
        for (int i = 0; i < ops_per_thread && !c.bad; ++i) {
          const uint64_t page = rng() % kPages;
          const uint64_t word = rng() % kWordsPerPage;
          uint64_t value = 0;
          if (rng() % 2 == 0) {
            const Probe probe = ProbeLoad(base + page * kPageSize + word * 8, &value);
            if (probe.ok) {
              check(value, page, word);
              c.loads++;
            } else if (probe.signo == SIGBUS && FaultStatusForAddress(probe.addr) == Status::kIo) {
              c.sigbus++;
            } else {
              c.bad = true;
              ADD_FAILURE() << "load: signal " << probe.signo;
            }
          } else {
            // A read across a page boundary, through the VMO.
            uint64_t pair[2];
            const uint64_t first = std::min(page, kPages - 2);
            const Status s = vmo.Read(pair, (first + 1) * kPageSize - 8, 16);
            if (s == Status::kOk) {
              check(pair[0], first, kWordsPerPage - 1);
              check(pair[1], first + 1, 0);
              c.vmo_reads++;
            } else if (s == Status::kIo) {
              c.errors++;
            } else {
              c.bad = true;
              ADD_FAILURE() << "read: " << StatusString(s);
            }
          }
        }
      });
    }
    for (std::thread& t : threads) t.join();
    // Every writer's last value is still there (dirty pages are never evicted).
    for (int w = 0; w < kWriters; ++w) {
      for (uint64_t page = 0; page < kPages; ++page) {
        if (last[w][page] == 0) continue;
        uint64_t value = 0;
        const uint64_t word = static_cast<uint64_t>(w) * 8 + 1;
        ASSERT_EQ(vmo.Read(&value, page * kPageSize + word * 8, 8), Status::kOk);
        EXPECT_EQ(value, last[w][page]) << "writer " << w << " page " << page;
        const uint64_t mapped =
            *reinterpret_cast<const volatile uint64_t*>(base + page * kPageSize + word * 8);
        EXPECT_EQ(mapped, last[w][page]) << "writer " << w << " page " << page;
      }
    }
    EXPECT_FALSE(c.bad);
    // The run did exercise what it claims to.
    EXPECT_GT(c.loads.load(), 0u);
    EXPECT_GT(c.stores.load(), 0u);
    EXPECT_GT(c.vmo_reads.load(), 0u);
    EXPECT_GT(c.vmo_writes.load(), 0u);
    EXPECT_GT(handler.failed.load(), 0u);
    EXPECT_GT(handler.supplied.load(), kPages);  // evicted pages were asked for again
    // With MINOR faults the reclaimer's clock ran alongside (docs/eviction.md): pages were
    // unmapped for a second chance and mapped back by MINOR faults.
    const upager::Counters clock_after = GetCounters();
    if (internal::PageReclaimer::Default().clock()) {
      EXPECT_GT(clock_after.pages_aged - clock_before.pages_aged, 0u);
      EXPECT_GT(clock_after.minor_faults - clock_before.minor_faults, 0u);
    }
    std::printf("clock %d: pages aged %lu, minor faults %lu\n",
                internal::PageReclaimer::Default().clock() ? 1 : 0,
                clock_after.pages_aged - clock_before.pages_aged,
                clock_after.minor_faults - clock_before.minor_faults);
    std::printf(
        "loads %lu stores %lu vmo reads %lu vmo writes %lu sigbus %lu errors %lu "
        "supplied %lu failed %lu\n",
        c.loads.load(), c.stores.load(), c.vmo_reads.load(), c.vmo_writes.load(), c.sigbus.load(),
        c.errors.load(), handler.supplied.load(), handler.failed.load());
    map.Reset();
    vmo.Reset();
    loop.Stop();
  }
  PageBudget::Default().SetLimit(PageBudget::kUnlimited);
}

TEST(MappingStress, LoadsStoresReadsWritesUnderEvictionAndFailures) { RunStress(0, 4000); }

TEST(MappingStress, TrapDirtyLoadsStoresReadsWritesUnderEvictionAndFailures) {
  RunStress(kVmoTrapDirty, 4000);
}

}  // namespace
}  // namespace upager::testing
