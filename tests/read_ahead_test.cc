// ReadAhead: how far past a request a provider supplies (off, fixed, adaptive streams).
// RequestQueue: the pending READ requests of a provider, merged and minus what is in flight.
#include "upager/providers/read_ahead.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "providers/request_queue.h"

namespace upager {
namespace {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
constexpr uint64_t kBig = P(1) << 20;  // a VMO size that never limits

ReadAheadOptions Options(ReadAheadMode mode, uint64_t window, uint64_t max_window) {
  ReadAheadOptions options;
  options.mode = mode;
  options.window = window;
  options.max_window = max_window;
  options.around = 0;  // streams alone here; read-around is read_around_test.cc
  return options;
}

// --- ReadAhead ----------------------------------------------------------------------------

TEST(ReadAheadTest, OffSuppliesExactlyTheRequest) {
  ReadAhead ra(Options(ReadAheadMode::kOff, P(4), P(16)));
  EXPECT_EQ(ra.Extend(0, P(1), kBig), P(1));
  EXPECT_EQ(ra.Extend(P(1), P(1), kBig), P(1));  // sequential: still nothing extra
  EXPECT_EQ(ra.Extend(P(2), P(3), kBig), P(3));
  EXPECT_EQ(ra.Extend(P(7), P(2), kBig), P(2));
}

TEST(ReadAheadTest, FixedAddsTheWindowClippedAtTheLimit) {
  ReadAhead ra(Options(ReadAheadMode::kFixed, P(4), P(4)));
  EXPECT_EQ(ra.Extend(0, P(1), kBig), P(5));
  EXPECT_EQ(ra.Extend(P(100), P(2), kBig), P(6));   // random: the same window
  EXPECT_EQ(ra.Extend(P(100), P(2), kBig), P(6));   // no growth on repetition either
  EXPECT_EQ(ra.Extend(P(97), P(1), P(100)), P(3));  // up to the limit only
  EXPECT_EQ(ra.Extend(P(99), P(1), P(100)), P(1));
  EXPECT_EQ(ra.Extend(P(100), P(1), P(100)), P(1));  // at or past the limit: the request
  EXPECT_EQ(ra.Extend(P(200), P(1), P(100)), P(1));
}

TEST(ReadAheadTest, AdaptiveStreamFromOffsetZeroDoublesUpToMax) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(16)));
  // Offset 0 starts a stream with `window`.
  EXPECT_EQ(ra.Extend(0, P(1), kBig), P(1) + P(4));  // supplies [0, 5)
  // Each continuation where the last supply ended doubles the window...
  EXPECT_EQ(ra.Extend(P(5), P(1), kBig), P(1) + P(8));    // [5, 14)
  EXPECT_EQ(ra.Extend(P(14), P(1), kBig), P(1) + P(16));  // [14, 31)
  // ... up to max_window.
  EXPECT_EQ(ra.Extend(P(31), P(1), kBig), P(1) + P(16));  // [31, 48)
  EXPECT_EQ(ra.Extend(P(48), P(2), kBig), P(2) + P(16));  // [48, 66)
}

TEST(ReadAheadTest, AdaptiveRandomRequestGetsNothingExtra) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(16)));
  EXPECT_EQ(ra.Extend(P(1000), P(1), kBig), P(1));
  EXPECT_EQ(ra.Extend(P(50), P(2), kBig), P(2));
  EXPECT_EQ(ra.Extend(P(7000), P(1), kBig), P(1));
  // Skipping ahead of a stream, or going back past its start, continues nothing.
  EXPECT_EQ(ra.Extend(P(1002), P(1), kBig), P(1));
  EXPECT_EQ(ra.Plan(P(998), P(1), kBig), (ReadAheadRange{P(998), P(1)}));
}

// Descending streams: a request that ends where the last one began continues the stream
// downward, and its read-ahead lies below the request.
TEST(ReadAheadTest, AdaptiveDescendingStreamReadsAheadBelow) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(16)));
  EXPECT_EQ(ra.Plan(P(1000), P(1), kBig), (ReadAheadRange{P(1000), P(1)}));  // no stream yet
  EXPECT_EQ(ra.Plan(P(999), P(1), kBig), (ReadAheadRange{P(995), P(5)}));    // first window
  EXPECT_EQ(ra.Plan(P(994), P(1), kBig), (ReadAheadRange{P(986), P(9)}));    // doubled
  EXPECT_EQ(ra.Plan(P(985), P(1), kBig), (ReadAheadRange{P(969), P(17)}));   // max
  // [968, 970) ends inside [969, 986): it continues the stream.
  EXPECT_EQ(ra.Plan(P(968), P(2), kBig), (ReadAheadRange{P(952), P(18)}));
  // Extend, the forward view, gives just the request for a descending stream, and
  // updates the stream all the same ([935, 952)).
  EXPECT_EQ(ra.Extend(P(951), P(1), kBig), P(1));
  EXPECT_EQ(ra.Plan(P(934), P(1), kBig), (ReadAheadRange{P(918), P(17)}));
}

TEST(ReadAheadTest, AdaptiveDescendingRequestInsideTheReadAheadPartIsAHit) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(16)));
  ASSERT_EQ(ra.Plan(P(100), P(1), kBig), (ReadAheadRange{P(100), P(1)}));
  ASSERT_EQ(ra.Plan(P(99), P(1), kBig), (ReadAheadRange{P(95), P(5)}));  // [95, 99) ahead
  // The reader overtook the supply still in flight: page 97 is inside [95, 99).
  EXPECT_EQ(ra.Plan(P(97), P(1), kBig), (ReadAheadRange{P(89), P(9)}));
  // Page 99 was the request itself, not read-ahead: no hit (and a new, empty stream).
  EXPECT_EQ(ra.Plan(P(99), P(1), kBig), (ReadAheadRange{P(99), P(1)}));
}

TEST(ReadAheadTest, AdaptiveDescendingIsClippedAtZero) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(16)));
  ASSERT_EQ(ra.Plan(P(7), P(1), kBig), (ReadAheadRange{P(7), P(1)}));
  EXPECT_EQ(ra.Plan(P(6), P(1), kBig), (ReadAheadRange{P(2), P(5)}));
  EXPECT_EQ(ra.Plan(P(1), P(1), kBig), (ReadAheadRange{0, P(2)}));  // 8 wanted, 1 left
  EXPECT_EQ(ra.Plan(0, P(1), kBig), (ReadAheadRange{0, P(1)}));     // nothing below 0
}

// A stream's direction is fixed by its first hit: an ascending stream is not continued by
// a request just below it, nor a descending one by a request just above it.
TEST(ReadAheadTest, AdaptiveStreamKeepsItsDirection) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(16)));
  ASSERT_EQ(ra.Plan(P(100), P(1), kBig), (ReadAheadRange{P(100), P(1)}));
  ASSERT_EQ(ra.Plan(P(101), P(1), kBig), (ReadAheadRange{P(101), P(5)}));  // ascending
  EXPECT_EQ(ra.Plan(P(100), P(1), kBig), (ReadAheadRange{P(100), P(1)}));
  ReadAhead down(Options(ReadAheadMode::kAdaptive, P(4), P(16)));
  ASSERT_EQ(down.Plan(P(100), P(1), kBig), (ReadAheadRange{P(100), P(1)}));
  ASSERT_EQ(down.Plan(P(99), P(1), kBig), (ReadAheadRange{P(95), P(5)}));  // descending
  EXPECT_EQ(down.Plan(P(100), P(1), kBig), (ReadAheadRange{P(100), P(1)}));
}

// One reader going up and one going down through the same VMO each keep their window.
TEST(ReadAheadTest, AdaptiveAscendingAndDescendingStreamsTogether) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(64)));
  ASSERT_EQ(ra.Plan(0, P(1), kBig), (ReadAheadRange{0, P(5)}));
  ASSERT_EQ(ra.Plan(P(5000), P(1), kBig), (ReadAheadRange{P(5000), P(1)}));
  uint64_t up = P(5), down = P(5000);
  uint64_t up_window = P(4), down_window = 0;  // their last windows
  for (int i = 0; i < 6; ++i) {
    up_window = std::min(up_window * 2, P(64));
    down_window = down_window == 0 ? P(4) : std::min(down_window * 2, P(64));
    const ReadAheadRange u = ra.Plan(up, P(1), kBig);
    EXPECT_EQ(u, (ReadAheadRange{up, P(1) + up_window})) << "step " << i;
    up = u.end();
    const ReadAheadRange d = ra.Plan(down - P(1), P(1), kBig);
    EXPECT_EQ(d, (ReadAheadRange{down - P(1) - down_window, P(1) + down_window})) << "step " << i;
    down = d.offset;
  }
}

TEST(ReadAheadTest, AdaptiveStreamStartedByARandomRequestGrowsOnContinuation) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(16)));
  EXPECT_EQ(ra.Extend(P(1000), P(1), kBig), P(1));         // [1000, 1001): no stream yet
  EXPECT_EQ(ra.Extend(P(1001), P(1), kBig), P(1) + P(4));  // continued: the first window
  EXPECT_EQ(ra.Extend(P(1006), P(1), kBig), P(1) + P(8));  // and doubling from there
}

TEST(ReadAheadTest, AdaptiveRequestInsideTheReadAheadPartIsAHit) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(16)));
  ASSERT_EQ(ra.Extend(0, P(2), kBig), P(6));  // [0, 2) asked, [2, 6) read ahead
  // The reader overtook the supply still in flight: a request at page 3 is inside the
  // read-ahead part and continues the stream.
  EXPECT_EQ(ra.Extend(P(3), P(1), kBig), P(1) + P(8));  // [3, 12)
  // The very start of the last read-ahead part ([4, 12) after the request [3, 4)) too.
  EXPECT_EQ(ra.Extend(P(4), P(1), kBig), P(1) + P(16));
}

TEST(ReadAheadTest, AdaptiveRequestBeforeTheReadAheadPartIsNoHit) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(16)));
  ASSERT_EQ(ra.Extend(0, P(2), kBig), P(6));  // read-ahead part: [2, 6)
  // Page 1 was part of the request itself, not of what was read ahead.
  EXPECT_EQ(ra.Extend(P(1), P(1), kBig), P(1));
}

TEST(ReadAheadTest, AdaptiveIsClippedAtTheLimit) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(16)));
  EXPECT_EQ(ra.Extend(0, P(1), P(3)), P(3));
  EXPECT_EQ(ra.Extend(P(3), P(1), P(3)), P(1));  // at the limit: the request as is
  ReadAhead ra2(Options(ReadAheadMode::kAdaptive, P(4), P(16)));
  EXPECT_EQ(ra2.Extend(0, P(1), P(8)), P(5));
  EXPECT_EQ(ra2.Extend(P(5), P(1), P(8)), P(3));  // would be 9 pages; 3 are left
}

TEST(ReadAheadTest, AdaptiveInterleavedStreamsKeepTheirOwnWindows) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(64)));
  constexpr int kStreams = 8;
  auto base = [](int i) { return P(10000) * static_cast<uint64_t>(i + 1); };
  std::vector<uint64_t> next(kStreams + 1);
  // Round 1: eight random starts (no read-ahead yet).
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_EQ(ra.Extend(base(i), P(1), kBig), P(1)) << "stream " << i;
    next[i] = base(i) + P(1);
  }
  // Rounds 2-4, interleaved: every stream gets 4, 8, 16 pages of read-ahead.
  for (uint64_t window = P(4); window <= P(16); window *= 2) {
    for (int i = 0; i < kStreams; ++i) {
      const uint64_t got = ra.Extend(next[i], P(1), kBig);
      EXPECT_EQ(got, P(1) + window) << "stream " << i;
      next[i] += got;
    }
  }
  // A 9th stream evicts the least recently used one, stream 0.
  EXPECT_EQ(ra.Extend(base(kStreams), P(1), kBig), P(1));
  for (int i = kStreams - 1; i >= 1; --i) {
    const uint64_t got = ra.Extend(next[i], P(1), kBig);
    EXPECT_EQ(got, P(1) + P(32)) << "stream " << i << " should have survived";
    next[i] += got;
  }
  EXPECT_EQ(ra.Extend(next[0], P(1), kBig), P(1)) << "stream 0 should have been evicted";
}

TEST(ReadAheadTest, AdaptiveUseKeepsAStreamFromEviction) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(64)));
  auto base = [](int i) { return P(10000) * static_cast<uint64_t>(i + 1); };
  // Stream 0 starts first but is used again last: the LRU one is then stream 1.
  uint64_t next0 = base(0) + ra.Extend(base(0), P(1), kBig);
  for (int i = 1; i < 8; ++i) ASSERT_EQ(ra.Extend(base(i), P(1), kBig), P(1));
  const uint64_t got = ra.Extend(next0, P(1), kBig);
  ASSERT_EQ(got, P(5));
  next0 += got;
  EXPECT_EQ(ra.Extend(base(8), P(1), kBig), P(1));         // evicts stream 1
  EXPECT_EQ(ra.Extend(next0, P(1), kBig), P(9));           // stream 0 still there
  EXPECT_EQ(ra.Extend(base(2) + P(1), P(1), kBig), P(5));  // so is stream 2
  EXPECT_EQ(ra.Extend(base(1) + P(1), P(1), kBig), P(1));  // stream 1 is not
}

TEST(ReadAheadTest, ResetForgetsStreams) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(16)));
  ASSERT_EQ(ra.Extend(0, P(1), kBig), P(5));
  ASSERT_EQ(ra.Extend(P(1000), P(1), kBig), P(1));
  ra.Reset();
  EXPECT_EQ(ra.Extend(P(5), P(1), kBig), P(1));
  EXPECT_EQ(ra.Extend(P(1001), P(1), kBig), P(1));
  // Offset 0 still starts a stream after a reset.
  EXPECT_EQ(ra.Extend(0, P(1), kBig), P(5));
}

TEST(ReadAheadTest, ValidateChecksWindows) {
  EXPECT_EQ(ReadAhead::Validate(ReadAheadOptions{}), Status::kOk);
  EXPECT_EQ(ReadAhead::Validate(Options(ReadAheadMode::kAdaptive, P(4), P(4))), Status::kOk);
  EXPECT_EQ(ReadAhead::Validate(Options(ReadAheadMode::kFixed, P(8), P(8))), Status::kOk);
  EXPECT_EQ(ReadAhead::Validate(Options(ReadAheadMode::kOff, 0, 0)), Status::kOk);
  for (ReadAheadMode mode :
       {ReadAheadMode::kOff, ReadAheadMode::kFixed, ReadAheadMode::kAdaptive}) {
    SCOPED_TRACE(ReadAheadModeName(mode));
    EXPECT_EQ(ReadAhead::Validate(Options(mode, P(4) + 1, P(16))), Status::kInvalidArgs);
    EXPECT_EQ(ReadAhead::Validate(Options(mode, P(4), P(16) - 512)), Status::kInvalidArgs);
    EXPECT_EQ(ReadAhead::Validate(Options(mode, 100, 100)), Status::kInvalidArgs);
  }
  EXPECT_EQ(ReadAhead::Validate(Options(ReadAheadMode::kAdaptive, P(8), P(4))),
            Status::kInvalidArgs);
}

TEST(ReadAheadTest, OptionsAreKept) {
  const ReadAheadOptions options = Options(ReadAheadMode::kFixed, P(2), P(8));
  ReadAhead ra(options);
  EXPECT_EQ(ra.options().mode, ReadAheadMode::kFixed);
  EXPECT_EQ(ra.options().window, P(2));
  EXPECT_EQ(ra.options().max_window, P(8));
}

TEST(ReadAheadTest, ModeNamesRoundTrip) {
  for (ReadAheadMode mode :
       {ReadAheadMode::kOff, ReadAheadMode::kFixed, ReadAheadMode::kAdaptive}) {
    ReadAheadMode parsed =
        mode == ReadAheadMode::kOff ? ReadAheadMode::kAdaptive : ReadAheadMode::kOff;
    ASSERT_EQ(ParseReadAheadMode(ReadAheadModeName(mode), &parsed), Status::kOk)
        << ReadAheadModeName(mode);
    EXPECT_EQ(parsed, mode);
  }
  EXPECT_STREQ(ReadAheadModeName(ReadAheadMode::kOff), "off");
  EXPECT_STREQ(ReadAheadModeName(ReadAheadMode::kFixed), "fixed");
  EXPECT_STREQ(ReadAheadModeName(ReadAheadMode::kAdaptive), "adaptive");
  ReadAheadMode untouched = ReadAheadMode::kFixed;
  EXPECT_EQ(ParseReadAheadMode("fast", &untouched), Status::kInvalidArgs);
  EXPECT_EQ(ParseReadAheadMode("", &untouched), Status::kInvalidArgs);
  EXPECT_EQ(ParseReadAheadMode("Adaptive", &untouched), Status::kInvalidArgs);
  EXPECT_EQ(untouched, ReadAheadMode::kFixed);
}

TEST(ReadAheadTest, ConcurrentExtendStaysInBounds) {
  ReadAhead ra(Options(ReadAheadMode::kAdaptive, P(4), P(64)));
  constexpr int kThreads = 4;
  constexpr uint64_t kLimit = P(1) << 16;
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<uint64_t>(t) + 1);
      uint64_t offset = static_cast<uint64_t>(t) * (kLimit / kThreads);
      for (int i = 0; i < 2000; ++i) {
        // Mostly sequential, sometimes a random jump (or a reset).
        const uint64_t length = P(1 + rng() % 4);
        if (i % 97 == 0) ra.Reset();
        if (i % 13 == 0 || offset >= kLimit) offset = P(rng() % (kLimit / kPageSize));
        const uint64_t got = ra.Extend(offset, length, kLimit);
        if (got < std::min(length, kLimit - offset) || got > std::max(length, kLimit - offset) ||
            got % kPageSize != 0) {
          bad++;
        }
        offset += got;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(bad.load(), 0);
}

// --- RequestQueue -------------------------------------------------------------------------

using internal::ByteRange;
using internal::RequestQueue;

std::vector<std::pair<uint64_t, uint64_t>> Pages(const std::vector<ByteRange>& ranges) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const ByteRange& r : ranges) out.emplace_back(r.offset / kPageSize, r.end() / kPageSize);
  return out;
}
using PageRanges = std::vector<std::pair<uint64_t, uint64_t>>;  // [first, end) in pages

TEST(RequestQueueTest, TakeMergedSortsAndJoins) {
  RequestQueue q(P(64));
  EXPECT_FALSE(q.HasPending());
  EXPECT_TRUE(q.TakeMerged().empty());
  ASSERT_TRUE(q.Push(P(5), P(1)));
  ASSERT_TRUE(q.Push(P(0), P(1)));
  ASSERT_TRUE(q.Push(P(1), P(1)));  // adjacent to [0, 1)
  ASSERT_TRUE(q.Push(P(10), P(2)));
  ASSERT_TRUE(q.Push(P(11), P(3)));  // overlaps [10, 12)
  ASSERT_TRUE(q.Push(P(20), P(4)));
  ASSERT_TRUE(q.Push(P(21), P(1)));  // inside [20, 24)
  ASSERT_TRUE(q.Push(P(5), P(1)));   // a duplicate
  EXPECT_TRUE(q.HasPending());
  EXPECT_EQ(Pages(q.TakeMerged()), (PageRanges{{0, 2}, {5, 6}, {10, 14}, {20, 24}}));
  EXPECT_FALSE(q.HasPending());
  EXPECT_TRUE(q.TakeMerged().empty());
}

TEST(RequestQueueTest, TakeMergedCutsAtMaxBatch) {
  RequestQueue q(P(4));
  for (uint64_t page = 0; page < 10; ++page) ASSERT_TRUE(q.Push(P(9 - page), P(1)));
  EXPECT_EQ(Pages(q.TakeMerged()), (PageRanges{{0, 4}, {4, 8}, {8, 10}}));
  // Overlapping requests that would join past max_batch continue in a new range, without
  // reading anything twice.
  ASSERT_TRUE(q.Push(P(0), P(3)));
  ASSERT_TRUE(q.Push(P(2), P(3)));
  EXPECT_EQ(Pages(q.TakeMerged()), (PageRanges{{0, 3}, {3, 5}}));
}

// Random requests and flights: the result is exactly the requested pages minus those in
// flight, as sorted disjoint ranges of at most max_batch bytes.
TEST(RequestQueueTest, TakeMergedRandomized) {
  std::mt19937_64 rng(42);
  constexpr uint64_t kPages = 64;
  for (int round = 0; round < 300; ++round) {
    SCOPED_TRACE(round);
    const uint64_t max_pages = 1 + rng() % 8;
    RequestQueue q(P(max_pages));
    std::vector<bool> in_flight(kPages, false);
    for (int f = static_cast<int>(rng() % 3); f > 0; --f) {
      const uint64_t first = rng() % kPages;
      const uint64_t marked =
          q.StartFlight(P(first), P(1 + rng() % std::min<uint64_t>(8, kPages - first)));
      ASSERT_LE(first + marked / kPageSize, kPages);
      for (uint64_t p = first; p < first + marked / kPageSize; ++p) in_flight[p] = true;
    }
    std::vector<bool> want(kPages, false);
    for (int r = static_cast<int>(1 + rng() % 12); r > 0; --r) {
      const uint64_t first = rng() % kPages;
      const uint64_t count = 1 + rng() % std::min<uint64_t>(max_pages, kPages - first);
      ASSERT_TRUE(q.Push(P(first), P(count)));
      for (uint64_t p = first; p < first + count; ++p) want[p] = !in_flight[p];
    }
    std::vector<bool> got(kPages, false);
    uint64_t last_end = 0;
    for (const ByteRange& r : q.TakeMerged()) {
      ASSERT_GT(r.length, 0u);
      ASSERT_EQ(r.offset % kPageSize, 0u);
      ASSERT_EQ(r.length % kPageSize, 0u);
      ASSERT_GE(r.offset, last_end) << "unsorted or overlapping";
      ASSERT_LE(r.length, P(max_pages));
      last_end = r.end();
      for (uint64_t p = r.offset / kPageSize; p < r.end() / kPageSize; ++p) got[p] = true;
    }
    EXPECT_EQ(got, want);
  }
}

TEST(RequestQueueTest, PartsInFlightAreRemoved) {
  RequestQueue q(P(64));
  ASSERT_EQ(q.StartFlight(P(4), P(4)), P(4));
  ASSERT_EQ(q.InFlight(), 1u);
  ASSERT_TRUE(q.Push(P(0), P(12)));
  EXPECT_EQ(Pages(q.TakeMerged()), (PageRanges{{0, 4}, {8, 12}}));
  ASSERT_TRUE(q.Push(P(5), P(2)));  // entirely inside the flight: needs nothing
  EXPECT_TRUE(q.TakeMerged().empty());
  ASSERT_EQ(q.StartFlight(P(10), P(1)), P(1));
  ASSERT_TRUE(q.Push(P(2), P(10)));  // around and between two flights
  EXPECT_EQ(Pages(q.TakeMerged()), (PageRanges{{2, 4}, {8, 10}, {11, 12}}));
}

TEST(RequestQueueTest, StartFlightStopsAtTheNextFlight) {
  RequestQueue q(P(64));
  ASSERT_EQ(q.StartFlight(P(4), P(4)), P(4));    // [4, 8)
  EXPECT_EQ(q.StartFlight(P(2), P(4)), P(2));    // [2, 4): cut short at 4
  EXPECT_EQ(q.StartFlight(P(4), P(1)), 0u);      // at a flight's start
  EXPECT_EQ(q.StartFlight(P(6), P(8)), 0u);      // inside one
  EXPECT_EQ(q.StartFlight(P(3), P(1)), 0u);      // inside the shortened one
  EXPECT_EQ(q.StartFlight(P(8), P(2)), P(2));    // right after one: fine
  EXPECT_EQ(q.StartFlight(P(0), P(100)), P(2));  // [0, 2): up to [2, 4)
  EXPECT_EQ(q.InFlight(), 4u);
  q.EndFlight(P(2), P(2));
  EXPECT_EQ(q.InFlight(), 3u);
  EXPECT_EQ(q.StartFlight(P(2), P(10)), P(2));  // the freed part, up to [4, 8)
  q.EndFlight(P(0), P(2));
  q.EndFlight(P(2), P(2));
  q.EndFlight(P(4), P(4));
  q.EndFlight(P(8), P(2));
  EXPECT_EQ(q.InFlight(), 0u);
}

TEST(RequestQueueTest, FlightEndedAfterTheRequestWasQueuedCoversIt) {
  RequestQueue q(P(64));
  ASSERT_EQ(q.StartFlight(P(4), P(4)), P(4));
  ASSERT_TRUE(q.Push(P(0), P(12)));  // queued while [4, 8) is read...
  q.EndFlight(P(4), P(4));           // ... which ends (and is supplied) before TakeMerged
  EXPECT_EQ(Pages(q.TakeMerged()), (PageRanges{{0, 4}, {8, 12}}));
  // A request pushed later (its packet queued later too) is kept.
  ASSERT_TRUE(q.Push(P(4), P(4)));
  EXPECT_EQ(Pages(q.TakeMerged()), (PageRanges{{4, 8}}));
}

// What counts is when the request's packet was queued, not when the loop thread pushed it:
// a packet queued before the flight ended but handed over late is still covered.
TEST(RequestQueueTest, PacketQueuedBeforeTheEndButPushedAfterIsCovered) {
  RequestQueue q(P(64));
  const uint64_t queued = internal::SteadyNowNs();
  ASSERT_EQ(q.StartFlight(P(4), P(4)), P(4));
  q.EndFlight(P(4), P(4));
  ASSERT_TRUE(q.Push(P(0), P(12), queued));
  EXPECT_EQ(Pages(q.TakeMerged()), (PageRanges{{0, 4}, {8, 12}}));
  // The same range with a packet queued after the end is read.
  ASSERT_TRUE(q.Push(P(0), P(12)));
  EXPECT_EQ(Pages(q.TakeMerged()), (PageRanges{{0, 12}}));
}

TEST(RequestQueueTest, RequestQueuedAfterTheFlightEndedIsKept) {
  {
    SCOPED_TRACE("nothing pending at EndFlight");
    RequestQueue q(P(64));
    ASSERT_EQ(q.StartFlight(P(4), P(4)), P(4));
    q.EndFlight(P(4), P(4));
    ASSERT_TRUE(q.Push(P(0), P(12)));
    EXPECT_EQ(Pages(q.TakeMerged()), (PageRanges{{0, 12}}));
  }
  {
    SCOPED_TRACE("another request pending at EndFlight");
    RequestQueue q(P(64));
    ASSERT_EQ(q.StartFlight(P(4), P(4)), P(4));
    ASSERT_TRUE(q.Push(P(20), P(1)));
    q.EndFlight(P(4), P(4));
    ASSERT_TRUE(q.Push(P(0), P(12)));  // after the end: its data may predate the request
    EXPECT_EQ(Pages(q.TakeMerged()), (PageRanges{{0, 12}, {20, 21}}));
  }
  {
    SCOPED_TRACE("one request before, one after EndFlight");
    RequestQueue q(P(64));
    ASSERT_EQ(q.StartFlight(P(4), P(4)), P(4));
    ASSERT_TRUE(q.Push(P(4), P(2)));  // covered by the flight ending later
    q.EndFlight(P(4), P(4));
    ASSERT_TRUE(q.Push(P(6), P(2)));  // not covered
    EXPECT_EQ(Pages(q.TakeMerged()), (PageRanges{{6, 8}}));
  }
}

TEST(RequestQueueTest, CloseEndsWaitingAndRefusesPushes) {
  RequestQueue q(P(64));
  int notified = 0;
  q.SetNotifier([&] { ++notified; });
  ASSERT_TRUE(q.Push(0, P(1)));
  EXPECT_EQ(notified, 1);
  EXPECT_TRUE(q.WaitPending());  // something pending: returns at once
  ASSERT_TRUE(q.Push(P(1), P(1)));
  EXPECT_EQ(notified, 2);
  EXPECT_FALSE(q.closed());
  q.Close();
  EXPECT_EQ(notified, 3);
  EXPECT_TRUE(q.closed());
  EXPECT_FALSE(q.Push(P(2), P(1)));
  EXPECT_EQ(notified, 3) << "a refused Push notified";
  // What was queued before Close can still be taken.
  EXPECT_EQ(Pages(q.TakeMerged()), (PageRanges{{0, 2}}));
  EXPECT_FALSE(q.WaitPending());  // closed, nothing pending: returns false at once
  EXPECT_FALSE(q.HasPending());
}

TEST(RequestQueueTest, WaitPendingWakesOnPushAndOnClose) {
  RequestQueue q(P(64));
  std::atomic<int> results{0};
  std::atomic<bool> first{false};
  std::thread waiter([&] {
    first = q.WaitPending();
    results++;
    q.TakeMerged();
    const bool second = q.WaitPending();  // nothing pending: waits for Close
    results++;
    EXPECT_FALSE(second);
  });
  ASSERT_TRUE(q.Push(P(3), P(1)));
  // Bounded wait for the waiter to take the push.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (results.load() == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(results.load(), 1) << "WaitPending did not return after a Push";
  EXPECT_TRUE(first.load());
  q.Close();
  waiter.join();
  EXPECT_EQ(results.load(), 2);
}

// Producers push single pages while a consumer takes, reads (StartFlight/EndFlight) and
// records them; every page pushed is read, in ranges of at most max_batch bytes.
TEST(RequestQueueTest, ProducersAndConsumer) {
  constexpr int kProducers = 3;
  constexpr uint64_t kPages = 600;
  constexpr uint64_t kMaxBatch = P(8);
  RequestQueue q(kMaxBatch);
  std::atomic<uint64_t> notifications{0};
  q.SetNotifier([&] { notifications++; });
  std::vector<int> served(kPages, 0);  // consumer only, read after join
  std::atomic<int> bad{0};
  std::thread consumer([&] {
    std::mt19937_64 rng(7);
    std::vector<ByteRange> still_flying;  // flights kept up across one TakeMerged
    while (q.WaitPending()) {
      const std::vector<ByteRange> ranges = q.TakeMerged();
      for (const ByteRange& r : still_flying) q.EndFlight(r.offset, r.length);
      still_flying.clear();
      for (const ByteRange& r : ranges) {
        if (r.length == 0 || r.length > kMaxBatch || r.end() > P(kPages)) bad++;
        const uint64_t marked = q.StartFlight(r.offset, r.length);
        if (marked != r.length) bad++;  // nothing else is in flight over it
        for (uint64_t p = r.offset / kPageSize; p < (r.offset + marked) / kPageSize; ++p) {
          served[p]++;
        }
        // Some flights stay up across the next TakeMerged, like a slow read.
        if (rng() % 3 == 0) {
          still_flying.push_back({r.offset, marked});
        } else {
          q.EndFlight(r.offset, marked);
        }
      }
    }
    for (const ByteRange& r : still_flying) q.EndFlight(r.offset, r.length);
    if (q.InFlight() != 0) bad++;
  });
  std::vector<std::thread> producers;
  for (int t = 0; t < kProducers; ++t) {
    producers.emplace_back([&, t] {
      for (uint64_t p = static_cast<uint64_t>(t); p < kPages; p += kProducers) {
        if (!q.Push(P(p), P(1))) bad++;
      }
    });
  }
  for (std::thread& producer : producers) producer.join();
  q.Close();
  consumer.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(notifications.load(), kPages + 1);  // every Push, and Close
  for (uint64_t p = 0; p < kPages; ++p) {
    EXPECT_GE(served[p], 1) << "page " << p << " was never read";
  }
  EXPECT_FALSE(q.HasPending());
}

}  // namespace
}  // namespace upager
