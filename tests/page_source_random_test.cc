// PageSource: randomized differential test against an independent reference model.
//
// Thousands of random operation sequences run on one PageSource (READ and DIRTY, a small
// VMO so that overlaps are frequent, asynchronous requests only) and, in lock step, on a
// reference model written from docs/zircon-semantics.md (3.1-3.7, 4, 4.1, 6.2, 7.2, 9.1). The
// model keeps per-page bookkeeping (page -> owning primary, per type) instead of an ordered
// set. After every operation the test compares, in order, the provider calls
// (send/clear/swap/detach/close with type, range and request) interleaved with the
// signals (request, status, early wake or completion), the return value of populate, which
// requests are active and the number of outstanding primaries.
//
// Environment:
//   UPAGER_RANDOM_SEED=<n>        run only seed n (replay)
//   UPAGER_RANDOM_SEQUENCES=<n>   number of seeds (default 2000; 500 under TSan)
//   UPAGER_RANDOM_OPS=<n>         random operations per sequence (default 200)
//   UPAGER_RANDOM_KEEP_GOING=1    report every failing seed instead of stopping at the first
//   UPAGER_RANDOM_SHRINK=1        on failure, shrink the sequence (delta debugging) and print it
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "page_source_random_runner.h"

// TSan slows this single-threaded but lock-heavy test ~10x (ASan ~2x: it keeps the full
// count).
#if defined(__SANITIZE_THREAD__)
#define UPAGER_RANDOM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UPAGER_RANDOM_TSAN 1
#endif
#endif

namespace upager::random_test {
namespace {

// ---------------------------------------------------------------------------------------
// Drivers.

struct Outcome {
  bool ok = true;
  size_t failed_index = 0;
  std::string error;
  std::vector<std::string> trace;
};

// Replays a fixed op list; with `trace`, records a trace line per op.
Outcome RunOps(const std::vector<Op>& ops, bool trace) {
  Outcome out;
  Runner runner;
  for (size_t i = 0; i < ops.size(); ++i) {
    std::string line, error;
    const bool ok = runner.Step(ops[i], trace ? &line : nullptr, &error);
    if (trace) out.trace.push_back(line);
    if (!ok) {
      out.ok = false;
      out.failed_index = i;
      out.error = error;
      return out;
    }
  }
  return out;
}

// Generates and runs one random sequence; `ops` receives the operations generated.
Outcome RunSeed(uint64_t seed, uint64_t num_ops, std::vector<Op>* ops, ModelStats* stats) {
  Gen g(seed);
  Outcome out;
  Runner runner;
  int next_id = 0;
  std::string error;
  auto step = [&](const Op& op) {
    ops->push_back(op);
    const bool ok = runner.Step(op, nullptr, &error);
    if (!ok) {
      out.ok = false;
      out.failed_index = ops->size() - 1;
      out.error = error;
    }
    return ok;
  };
  for (uint64_t i = 0; i < num_ops; ++i) {
    if (!step(Generate(g, runner.model(), &next_id))) return out;
  }
  // Finish: close with requests outstanding, detach then close, or destroy every request.
  const uint64_t finish = g.U(3);
  if (finish == 1 && !step(Op{Op::kDetach})) return out;
  if (finish == 2) {
    std::vector<int> live;
    for (int id = 0; id < runner.model().num_ids(); ++id) {
      if (runner.model().exists(id)) live.push_back(id);
    }
    std::shuffle(live.begin(), live.end(), std::mt19937_64(seed));
    for (int id : live) {
      Op op{Op::kDestroy};
      op.id = id;
      if (!step(op)) return out;
    }
  }
  if (!step(Op{Op::kClose})) return out;
  const ModelStats& s = runner.model().stats();
  stats->ops += s.ops;
  stats->sends += s.sends;
  stats->secondaries += s.secondaries;
  stats->clipped_b += s.clipped_b;
  stats->clipped_d += s.clipped_d;
  stats->promotions += s.promotions;
  stats->rearms += s.rearms;
  stats->retargets += s.retargets;
  stats->primary_early_wakes += s.primary_early_wakes;
  stats->secondary_nonlinear_wakes += s.secondary_nonlinear_wakes;
  stats->secondary_overlap_wakes += s.secondary_overlap_wakes;
  stats->failures_attributed += s.failures_attributed;
  stats->error_completions += s.error_completions;
  stats->over_accounted += s.over_accounted;
  stats->detaches += s.detaches;
  stats->bad_state_populates += s.bad_state_populates;
  return out;
}

// The trace of `ops` up to their first mismatch, the model state before it and the mismatch.
std::string Describe(const std::vector<Op>& ops) {
  const Outcome out = RunOps(ops, /*trace=*/true);
  if (out.ok) return "(does not fail on replay)\n";
  std::ostringstream os;
  for (size_t i = 0; i < out.trace.size(); ++i) {
    os << (i == out.failed_index ? "=> #" : "   #") << i << " " << out.trace[i] << "\n";
  }
  // The model's state just before the failing op.
  Runner before;
  for (size_t i = 0; i < out.failed_index; ++i) {
    std::string error;
    before.Step(ops[i], nullptr, &error);
  }
  os << "model state before #" << out.failed_index << " (* = early wake; wake offsets are "
     << "request-relative pages): " << before.model().Dump();
  os << "mismatch at #" << out.failed_index << " (" << ops[out.failed_index].ToString() << "):\n"
     << out.error;
  return os.str();
}

// Delta debugging: the shortest subsequence (by removing chunks, then single ops) that
// still fails somewhere.
std::vector<Op> Shrink(std::vector<Op> ops, size_t failed_index) {
  ops.resize(failed_index + 1);
  for (size_t chunk = std::max<size_t>(ops.size() / 2, 1); chunk >= 1;) {
    bool removed = false;
    for (size_t start = 0; start < ops.size();) {
      std::vector<Op> candidate(ops.begin(), ops.begin() + start);
      candidate.insert(candidate.end(), ops.begin() + std::min(start + chunk, ops.size()),
                       ops.end());
      const Outcome out = RunOps(candidate, /*trace=*/false);
      if (!out.ok) {
        candidate.resize(out.failed_index + 1);
        ops = std::move(candidate);
        removed = true;
      } else {
        start += chunk;
      }
    }
    if (!removed) {
      if (chunk == 1) break;
      chunk /= 2;
    }
  }
  return ops;
}

uint64_t EnvU64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 0) : def;
}

TEST(PageSourceRandomTest, MatchesReferenceModel) {
#ifdef UPAGER_RANDOM_TSAN
  constexpr uint64_t kDefaultSequences = 500;
#else
  constexpr uint64_t kDefaultSequences = 2000;
#endif
  const uint64_t num_ops = EnvU64("UPAGER_RANDOM_OPS", 200);
  const bool keep_going = EnvU64("UPAGER_RANDOM_KEEP_GOING", 0) != 0;
  const bool shrink = EnvU64("UPAGER_RANDOM_SHRINK", 0) != 0;
  std::vector<uint64_t> seeds;
  if (std::getenv("UPAGER_RANDOM_SEED") != nullptr) {
    seeds.push_back(EnvU64("UPAGER_RANDOM_SEED", 0));
  } else {
    const uint64_t n = EnvU64("UPAGER_RANDOM_SEQUENCES", kDefaultSequences);
    for (uint64_t s = 0; s < n; ++s) seeds.push_back(s);
  }

  ModelStats stats;
  size_t failures = 0;
  for (uint64_t seed : seeds) {
    std::vector<Op> ops;
    const Outcome out = RunSeed(seed, num_ops, &ops, &stats);
    if (out.ok) continue;
    ++failures;
    if (keep_going) {
      std::cout << "seed " << seed << " fails at #" << out.failed_index << " ("
                << ops[out.failed_index].ToString() << ")\n"
                << out.error;
      continue;
    }
    std::string message = "seed " + std::to_string(seed) +
                          " (replay: UPAGER_RANDOM_SEED=" + std::to_string(seed) + ")\n" +
                          Describe(ops);
    if (shrink) {
      const std::vector<Op> small = Shrink(ops, out.failed_index);
      message += "\nshrunk to " + std::to_string(small.size()) + " ops:\n" + Describe(small);
    }
    FAIL() << message;
  }
  ASSERT_EQ(failures, 0u) << "failing seeds (see above)";

  std::cout << "[ stats    ] " << seeds.size() << " sequences, " << stats.ops
            << " populates/resolutions; sends " << stats.sends << ", secondaries "
            << stats.secondaries << ", clipped B " << stats.clipped_b << ", clipped D "
            << stats.clipped_d << ", promotions " << stats.promotions << ", re-arms "
            << stats.rearms << ", re-targets " << stats.retargets << ", primary early wakes "
            << stats.primary_early_wakes << ", secondary wakes non-linear "
            << stats.secondary_nonlinear_wakes << " / overlap " << stats.secondary_overlap_wakes
            << ", failures attributed " << stats.failures_attributed << ", error completions "
            << stats.error_completions << ", over-accounted " << stats.over_accounted
            << ", detaches " << stats.detaches << ", populates after detach "
            << stats.bad_state_populates << "\n";
}

}  // namespace
}  // namespace upager::random_test
