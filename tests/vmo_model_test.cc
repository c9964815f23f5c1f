// vmo_model_test: random operations on pager-backed VMOs checked against a reference model
// (vmo_model.h describes both; vmo_model_seed_run.h runs one seed).
#include <gtest/gtest.h>

#include "vmo_model_seed_run.h"

namespace upager::testing::vmo_model {
namespace {

// Seeds run by default. The sanitizers slow the test several times over (TSan about tenfold):
// they run fewer, which still reach every case the coverage counters check.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kDefaultSeeds = 50;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
constexpr uint64_t kDefaultSeeds = 50;
#else
constexpr uint64_t kDefaultSeeds = 200;
#endif
#else
constexpr uint64_t kDefaultSeeds = 200;
#endif

// ---- The test ----

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  return std::strtoull(value, nullptr, 0);
}

class PagerTimeoutScope {
 public:
  PagerTimeoutScope() : saved_(GetPagerTimeouts()) {
    // A wrongly blocked access must not hang the test: it times out and is reported. The
    // test answers every request it expects within milliseconds.
    SetPagerTimeouts({.overtime_wait = std::chrono::milliseconds(0),
                      .overtime_timeout = std::chrono::seconds(3)});
  }
  ~PagerTimeoutScope() { SetPagerTimeouts(saved_); }

 private:
  PagerTimeouts saved_;
};

TEST(VmoModel, RandomOperationsMatchTheModel) {
  PagerTimeoutScope timeouts;
  const uint64_t ops = EnvOr("UPAGER_MODEL_OPS", 150);
  const bool trace = EnvOr("UPAGER_MODEL_TRACE", 0) != 0;
  uint64_t first = 1, last = EnvOr("UPAGER_MODEL_SEEDS", kDefaultSeeds);
  if (const uint64_t only = EnvOr("UPAGER_MODEL_SEED", 0); only != 0) first = last = only;
  g_counters = Counters{};
  const auto start = std::chrono::steady_clock::now();
  int failures = 0;
  for (uint64_t seed = first; seed <= last; ++seed) {
    SeedRun run(seed, static_cast<int>(ops));
    const bool ok = run.Run();
    if (!ok) {
      ++failures;
      if (failures <= 3) {
        std::printf("---- seed %llu trace ----\n%s", static_cast<unsigned long long>(seed),
                    run.Trace().c_str());
      }
      ADD_FAILURE() << "seed " << seed << ": " << run.error()
                    << "\n  replay: UPAGER_MODEL_SEED=" << seed << " UPAGER_MODEL_OPS=" << ops
                    << " UPAGER_MODEL_TRACE=1";
    } else if (trace) {
      std::printf("---- seed %llu trace ----\n%s", static_cast<unsigned long long>(seed),
                  run.Trace().c_str());
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Counters& c = g_counters;
  std::printf(
      "seeds %llu..%llu (%llu ops each) in %.2f s: %d failed; %llu ops, %llu accesses "
      "(%llu inline, %llu threaded, %llu failed), %llu packets, %llu in-flight actions "
      "(%llu rejected as undetermined), %llu early wakes, %llu detaches, %llu COMPLETEs, "
      "%llu uncertain writeback ends, %llu content reads\n",
      static_cast<unsigned long long>(first), static_cast<unsigned long long>(last),
      static_cast<unsigned long long>(ops), secs, failures, static_cast<unsigned long long>(c.ops),
      static_cast<unsigned long long>(c.accesses),
      static_cast<unsigned long long>(c.inline_accesses),
      static_cast<unsigned long long>(c.threaded),
      static_cast<unsigned long long>(c.failed_accesses),
      static_cast<unsigned long long>(c.packets),
      static_cast<unsigned long long>(c.inflight_actions),
      static_cast<unsigned long long>(c.rejected), static_cast<unsigned long long>(c.early_wakes),
      static_cast<unsigned long long>(c.detaches), static_cast<unsigned long long>(c.completes),
      static_cast<unsigned long long>(c.uncertain_ends),
      static_cast<unsigned long long>(c.reads_checked));
  std::printf(
      "  %llu long reads, %llu long writes (over %llu pages); %llu OP_DIRTY failures over a "
      "DIRTY request; %llu shrinks over a request (%llu through it)\n",
      static_cast<unsigned long long>(c.long_reads), static_cast<unsigned long long>(c.long_writes),
      static_cast<unsigned long long>(kWriteBatchPages),
      static_cast<unsigned long long>(c.partial_dirty_failures),
      static_cast<unsigned long long>(c.shrinks_over_requests),
      static_cast<unsigned long long>(c.shrinks_through_requests));
  // The default run must reach what short ranges on small VMOs never do.
  if (last - first + 1 >= 50 && ops >= 150) {
    EXPECT_GT(c.long_reads, 0u);
    EXPECT_GT(c.long_writes, 0u);
    EXPECT_GT(c.partial_dirty_failures, 0u);
    EXPECT_GT(c.shrinks_over_requests, 0u);
    EXPECT_GT(c.shrinks_through_requests, 0u);
  }
}

}  // namespace
}  // namespace upager::testing::vmo_model
