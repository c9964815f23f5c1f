// The reclaimer's clock as a model (docs/eviction.md), for the tests that check the order
// in which pages are evicted under a small budget: what the order predicts for a sequence of
// loads, and a run of those loads through a mapping of a VMO served by a PagerLoop (through
// the root's mapping, or through a mapping of an at-least-on-write clone of it).
#ifndef UPAGER_TESTS_CLOCK_MODEL_H_
#define UPAGER_TESTS_CLOCK_MODEL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <list>
#include <mutex>
#include <random>
#include <vector>

#include "mapping_util.h"
#include "mapping_word.h"
#include "upager/mapping.h"
#include "upager/page_budget.h"
#include "upager/pager_loop.h"
#include "user_pager.h"
#include "vm/page_reclaimer.h"

namespace upager::testing {

// What the reclaim order predicts for a sequence of loads through a mapping of a VMO
// (one page per READ, pages supplied into the mapping): the pages asked for, in order.
// `clock`: second chances through MINOR faults; otherwise least recently supplied first.
inline std::vector<uint64_t> PredictReads(const std::vector<uint64_t>& loads, uint64_t budget,
                                          bool clock) {
  struct Slot {
    uint64_t page;
    bool referenced;
  };
  std::list<Slot> order;  // front: the hand
  std::vector<uint64_t> reads;
  auto find = [&](uint64_t page) {
    for (auto it = order.begin(); it != order.end(); ++it) {
      if (it->page == page) return it;
    }
    return order.end();
  };
  for (uint64_t page : loads) {
    auto it = find(page);
    if (it != order.end()) {
      // Present. Mapped and unseen, or unmapped by the hand: a MINOR fault sets the bit.
      it->referenced = true;
      continue;
    }
    reads.push_back(page);
    // Room for one page; each eviction gives every page one second chance at most.
    while (order.size() + 1 > budget) {
      for (size_t chances = order.size() + 1;; --chances) {
        if (!clock || chances <= 1 || !order.front().referenced) break;
        Slot s = order.front();
        order.pop_front();
        s.referenced = false;
        order.push_back(s);
      }
      order.pop_front();
    }
    order.push_back({page, true});
  }
  return reads;
}

// Serves READs with the test pattern and records the pages asked for.
class RecordingHandler : public PagerLoop::Handler {
 public:
  void OnRead(const PagerLoop::Request& r) override {
    std::vector<char> data(r.length);
    for (uint64_t i = 0; i < r.length / kPageSize; ++i) {
      UserPager::Pattern(r.key, r.offset / kPageSize + i, data.data() + i * kPageSize);
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (uint64_t i = 0; i < r.length / kPageSize; ++i) {
        reads_.push_back(r.offset / kPageSize + i);
      }
    }
    r.loop->pager().SupplyPagesFromBuffer(r.vmo, r.offset, r.length, data.data());
  }
  std::vector<uint64_t> reads() {
    std::lock_guard<std::mutex> lock(mutex_);
    return reads_;
  }

 private:
  std::mutex mutex_;
  std::vector<uint64_t> reads_;
};

enum class LoadsThrough {
  kRoot,               // a mapping of the VMO
  kRootWithIdleClone,  // the same, with an at-least-on-write child mapped too, never touched
  kClone,              // a mapping of an at-least-on-write child; the VMO itself is not mapped
};

// Loads `loads` through a fresh mapping under a budget of `budget` pages; the pages the
// pager was asked for, in order. `*clock`: whether the clock ran.
inline std::vector<uint64_t> RunLoads(const std::vector<uint64_t>& loads, uint64_t pages,
                                      uint64_t budget, bool* clock,
                                      LoadsThrough through = LoadsThrough::kRoot) {
  const uint64_t len = pages * kPageSize;
  PagerLoop loop(1);
  EXPECT_EQ(loop.Start(), Status::kOk);
  RecordingHandler handler;
  Vmo vmo;
  EXPECT_EQ(loop.CreateVmo(0, len, &handler, &vmo), Status::kOk);
  Mapping map;
  if (through != LoadsThrough::kClone) {
    EXPECT_EQ(Mapping::Create(vmo, 0, len, kMapRead, &map), Status::kOk);
  }
  Vmo child;
  Mapping child_map;
  if (through != LoadsThrough::kRoot) {
    EXPECT_EQ(vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, len, &child), Status::kOk);
    EXPECT_EQ(Mapping::Create(child, 0, len, kMapRead, &child_map), Status::kOk);
  }
  const Mapping& loaded = through == LoadsThrough::kClone ? child_map : map;
  *clock = internal::PageReclaimer::Default().clock();
  PageBudget::Default().SetLimit(PageBudget::Default().used() + budget);
  for (uint64_t page : loads) {
    uint64_t value = 0;
    EXPECT_TRUE(ProbeLoad(loaded.data() + page * kPageSize, &value).ok);
    EXPECT_EQ(value, Word(1, page)) << "page " << page;
  }
  PageBudget::Default().SetLimit(PageBudget::kUnlimited);
  std::vector<uint64_t> reads = handler.reads();
  child_map.Reset();
  child.Reset();
  map.Reset();
  vmo.Reset();
  loop.Stop();
  return reads;
}

// A skewed sequence: three hot pages used all the time, cold pages passing through.
inline std::vector<uint64_t> SkewedLoads() {
  std::vector<uint64_t> loads;
  std::mt19937 rng(15);
  for (int i = 0; i < 200; ++i) {
    loads.push_back(rng() % 4 != 0 ? rng() % 3 : 3 + rng() % 13);
  }
  return loads;
}

}  // namespace upager::testing

#endif  // UPAGER_TESTS_CLOCK_MODEL_H_
