// The reader threads of the demo (see workload.h).
#include "workload.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstring>
#include <random>
#include <thread>

#include "common.h"
#include "dataset.h"
#include "fault_guard.h"
#include "progress.h"

namespace upager::cli {
namespace {

constexpr uint64_t kWordsPerPage = kPageSize / 8;
constexpr uint64_t kMaxPrintedErrors = 5;

std::atomic<uint64_t> g_printed_errors{0};

void PrintError(const std::string& message) {
  uint64_t n = g_printed_errors.fetch_add(1, std::memory_order_relaxed);
  if (n < kMaxPrintedErrors) {
    Error(kExitFailure, message);
  } else if (n == kMaxPrintedErrors) {
    Error(kExitFailure, "(further errors not shown)");
  }
}

struct Mismatch {
  uint64_t offset = 0;
  uint64_t expected = 0;
  uint64_t actual = 0;
};

// Checks the first and last word of page `page` and two more chosen by its number, read
// from `data` (the page's first byte). Only whole words inside the content are checked.
bool CheckPage(const std::byte* data, uint64_t page, uint64_t content_size, Mismatch* bad) {
  const uint64_t page_offset = page * kPageSize;
  const uint64_t words = std::min<uint64_t>(kWordsPerPage, (content_size - page_offset) / 8);
  if (words == 0) {
    return true;
  }
  const uint64_t picks[4] = {0, words - 1, (page * 2654435761u) % words,
                             (page * 40503u + 17) % words};
  for (uint64_t w : picks) {
    uint64_t actual;
    std::memcpy(&actual, data + w * 8, sizeof(actual));
    uint64_t expected = dataset::Word(page * kWordsPerPage + w);
    if (actual != expected) {
      *bad = {page_offset + w * 8, expected, actual};
      return false;
    }
  }
  return true;
}

struct Reader {
  const std::vector<uint64_t>* order = nullptr;
  const WorkloadTarget* target = nullptr;
  uint64_t content_size = 0;
  Progress* progress = nullptr;
  // Index in `order` of the page being touched; read back after a SIGBUS jump.
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> verified{0};
  std::atomic<uint64_t> mismatches{0};
  std::atomic<uint64_t> failures{0};
};

void ReportMismatch(const std::string& label, const Mismatch& bad) {
  char buf[160];
  std::snprintf(buf, sizeof(buf),
                "%s: wrong data at offset %" PRIu64 ": expected 0x%016" PRIx64
                ", read 0x%016" PRIx64,
                label.c_str(), bad.offset, bad.expected, bad.actual);
  PrintError(buf);
}

// The reader's loop over its pages, from `next` on. Runs under GuardedCall for a mapping.
void ReadPages(void* arg) {
  auto* r = static_cast<Reader*>(arg);
  const std::vector<uint64_t>& order = *r->order;
  alignas(64) std::byte page_buffer[kPageSize];
  for (size_t i = r->next.load(std::memory_order_relaxed); i < order.size(); ++i) {
    r->next.store(i, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    const uint64_t page = order[i];
    const std::byte* data = nullptr;
    if (r->target->base != nullptr) {
      data = r->target->base + page * kPageSize;
    } else {
      Status s = r->target->vmo->Read(page_buffer, page * kPageSize, kPageSize);
      if (s != Status::kOk) {
        r->failures.fetch_add(1, std::memory_order_relaxed);
        r->progress->Add(1);
        PrintError("read failed at offset " + std::to_string(page * kPageSize) + ": " +
                   StatusDescription(s));
        continue;
      }
      data = page_buffer;
    }
    Mismatch bad;
    if (CheckPage(data, page, r->content_size, &bad)) {
      r->verified.fetch_add(1, std::memory_order_relaxed);
    } else {
      r->mismatches.fetch_add(1, std::memory_order_relaxed);
      ReportMismatch(r->target->base != nullptr ? "mapped read" : "Vmo::Read", bad);
    }
    r->progress->Add(1);
  }
  r->next.store(order.size(), std::memory_order_relaxed);
}

void RunReader(Reader* r) {
  if (r->target->base == nullptr) {
    ReadPages(r);
    return;
  }
  for (;;) {
    FaultInfo fault;
    if (GuardedCall(&ReadPages, r, &fault)) {
      return;
    }
    // A page failed: count it and go on with the next one.
    size_t i = r->next.load(std::memory_order_relaxed);
    uint64_t at = (*r->order)[i] * kPageSize;
    if (fault.addr != nullptr) {
      at = static_cast<uint64_t>(static_cast<const std::byte*>(fault.addr) - r->target->base);
    }
    r->failures.fetch_add(1, std::memory_order_relaxed);
    r->progress->Add(1);
    PrintError("read failed at offset " + std::to_string(at) + ": " +
               StatusDescription(fault.status));
    r->next.store(i + 1, std::memory_order_relaxed);
  }
}

}  // namespace

WorkloadPlan MakePlan(uint64_t content_size, size_t threads) {
  WorkloadPlan plan;
  plan.content_size = content_size;
  plan.pages_total = (content_size + kPageSize - 1) / kPageSize;
  threads = std::max<size_t>(1, threads);
  plan.sequential_threads = (threads + 1) / 2;
  plan.orders.resize(threads);
  for (size_t t = 0; t < threads; ++t) {
    uint64_t begin = plan.pages_total * t / threads;
    uint64_t end = plan.pages_total * (t + 1) / threads;
    std::vector<uint64_t>& order = plan.orders[t];
    order.reserve(end - begin);
    for (uint64_t p = begin; p < end; ++p) {
      order.push_back(p);
    }
    if (t >= plan.sequential_threads) {
      std::mt19937_64 rng(0x5eed0000 + t);
      std::shuffle(order.begin(), order.end(), rng);
    }
  }
  return plan;
}

WorkloadResult RunWorkload(const WorkloadPlan& plan, const WorkloadTarget& target,
                           const std::string& label) {
  InstallFaultHandler();
  std::vector<Reader> readers(plan.orders.size());
  Progress progress(label, plan.pages_total, kPageSize);
  for (size_t t = 0; t < readers.size(); ++t) {
    readers[t].order = &plan.orders[t];
    readers[t].target = &target;
    readers[t].content_size = plan.content_size;
    readers[t].progress = &progress;
  }
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  threads.reserve(readers.size());
  for (Reader& r : readers) {
    threads.emplace_back([&r] { RunReader(&r); });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  WorkloadResult result;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  progress.Finish();
  for (const Reader& r : readers) {
    result.verified_pages += r.verified.load();
    result.mismatches += r.mismatches.load();
    result.read_failures += r.failures.load();
  }
  result.pages_touched = result.verified_pages + result.mismatches + result.read_failures;
  return result;
}

}  // namespace upager::cli
