// ReadAhead's read-around (kAdaptive): the window centred on a request that continues no
// stream, its growth and shrinking under the near/far signal (read_ahead.h), and the
// access patterns (kNormal, kRandom, kSequential). Exact ranges throughout.
#include <gtest/gtest.h>

#include <cstdint>

#include "upager/providers/read_ahead.h"

namespace upager {
namespace {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
constexpr uint64_t kBig = P(1) << 20;  // a VMO size that never limits

// Streams start at P(4) and grow to P(16); read-around starts at P(8).
ReadAheadOptions Options() {
  ReadAheadOptions o;
  o.mode = ReadAheadMode::kAdaptive;
  o.window = P(4);
  o.max_window = P(16);
  o.around = P(8);
  return o;
}

// Far requests: one page each, far apart and far from everything (no gap known).
void Far(ReadAhead* ra, int count, uint64_t* next) {
  for (int i = 0; i < count; ++i) {
    const uint64_t o = *next;
    *next += P(100);
    ASSERT_EQ(ra->Plan(o, P(1), kBig).length > 0, true);
  }
}

TEST(ReadAroundTest, IsolatedRequestsGetAWindowCentredOnThem) {
  ReadAhead ra(Options());
  EXPECT_EQ(ra.around_window(), P(8));
  EXPECT_EQ(ra.Plan(P(1000), P(1), kBig), (ReadAheadRange{P(996), P(8)}));
  EXPECT_EQ(ra.Plan(P(5000), P(1), kBig), (ReadAheadRange{P(4996), P(8)}));
  // Clipped at 0 (and kept whole there) and at the limit; never less than the request.
  EXPECT_EQ(ra.Plan(P(2), P(1), kBig), (ReadAheadRange{0, P(8)}));
  EXPECT_EQ(ra.Plan(P(98), P(1), P(100)), (ReadAheadRange{P(94), P(6)}));
  EXPECT_EQ(ra.Plan(P(3000), P(10), kBig), (ReadAheadRange{P(2996), P(14)}));
  // Inside the run of absent pages around the request: [2001, 2003) is all that is absent.
  EXPECT_EQ(ra.Plan(P(2001), P(1), kBig, {P(2001), P(2003)}), (ReadAheadRange{P(2001), P(2)}));
  EXPECT_EQ(ra.Plan(P(7000), P(1), kBig, {P(6990), P(7002)}), (ReadAheadRange{P(6996), P(6)}));
}

TEST(ReadAroundTest, ItsEdgesContinueAsStreamsEitherWay) {
  ReadAhead ra(Options());
  ASSERT_EQ(ra.Plan(P(1000), P(1), kBig), (ReadAheadRange{P(996), P(8)}));
  // Up from its end: an ascending stream with the first stream window.
  EXPECT_EQ(ra.Plan(P(1004), P(1), kBig), (ReadAheadRange{P(1004), P(5)}));
  ReadAhead down(Options());
  ASSERT_EQ(down.Plan(P(1000), P(1), kBig), (ReadAheadRange{P(996), P(8)}));
  // Down from its start: a descending one.
  EXPECT_EQ(down.Plan(P(995), P(1), kBig), (ReadAheadRange{P(991), P(5)}));
  // Offset 0 still starts an ascending stream at once, without read-around.
  ReadAhead zero(Options());
  EXPECT_EQ(zero.Plan(0, P(1), kBig), (ReadAheadRange{0, P(5)}));
}

TEST(ReadAroundTest, FarRequestsShrinkItToNone) {
  ReadAhead ra(Options());
  uint64_t next = P(1000);
  Far(&ra, ReadAhead::kLotsOfMisses, &next);  // 100 far: still the first window
  EXPECT_EQ(ra.around_window(), P(8));
  // The 101st halves it, and already gets the smaller window.
  EXPECT_EQ(ra.Plan(next, P(1), kBig), (ReadAheadRange{next - P(2), P(4)}));
  EXPECT_EQ(ra.around_window(), P(4));
  next += P(100);
  // From half the limit: 50 more misses to the next halving.
  Far(&ra, ReadAhead::kLotsOfMisses / 2, &next);
  EXPECT_EQ(ra.Plan(next, P(1), kBig), (ReadAheadRange{next - P(1), P(2)}));
  next += P(100);
  Far(&ra, ReadAhead::kLotsOfMisses / 2, &next);
  // Below two pages: off. Requests get exactly what they asked.
  EXPECT_EQ(ra.Plan(next, P(1), kBig), (ReadAheadRange{next, P(1)}));
  EXPECT_EQ(ra.around_window(), 0u);
  EXPECT_EQ(ra.Plan(next + P(300), P(2), kBig), (ReadAheadRange{next + P(300), P(2)}));
}

TEST(ReadAroundTest, NearRequestsGrowItUpToTheMaxWindow) {
  ReadAhead ra(Options());
  // Near: a present page right above the request (the gap ends one page past it).
  uint64_t o = P(1000);
  for (uint32_t i = 1; i < ReadAhead::kGrowAfter; ++i, o += P(100)) {
    ASSERT_EQ(ra.Plan(o, P(1), kBig, {P(900), o + P(2)}), (ReadAheadRange{o - P(4), P(6)}));
  }
  EXPECT_EQ(ra.around_window(), P(8));
  // The kGrowAfter-th in a row doubles it, and gets the new window (up to the gap's end).
  EXPECT_EQ(ra.Plan(o, P(1), kBig, {P(100), o + P(2)}), (ReadAheadRange{o - P(8), P(10)}));
  EXPECT_EQ(ra.around_window(), P(16));
  // P(16) is max_window: no further.
  o += P(100);
  for (uint32_t i = 0; i < 2 * ReadAhead::kGrowAfter; ++i, o += P(100)) {
    ASSERT_EQ(ra.Plan(o, P(1), kBig, {P(100), o + P(2)}), (ReadAheadRange{o - P(8), P(10)}));
  }
  EXPECT_EQ(ra.around_window(), P(16));
  // Near below (a present page within half a window under the request) counts the same.
  ReadAhead below(Options());
  o = P(1000);
  for (uint32_t i = 0; i < ReadAhead::kGrowAfter; ++i, o += P(100)) {
    below.Plan(o, P(1), kBig, {o - P(3), kBig});
  }
  EXPECT_EQ(below.around_window(), P(16));
}

TEST(ReadAroundTest, AFarRequestBreaksTheRunOfNearOnes) {
  ReadAhead ra(Options());
  uint64_t o = P(1000);
  for (uint32_t i = 1; i < ReadAhead::kGrowAfter; ++i, o += P(100)) {
    ra.Plan(o, P(1), kBig, {P(100), o + P(2)});
  }
  ra.Plan(o, P(1), kBig);  // far
  o += P(100);
  for (uint32_t i = 1; i < ReadAhead::kGrowAfter; ++i, o += P(100)) {
    ra.Plan(o, P(1), kBig, {P(100), o + P(2)});
  }
  EXPECT_EQ(ra.around_window(), P(8));
  // A present page beyond half a window is not near.
  for (uint32_t i = 0; i < ReadAhead::kGrowAfter; ++i, o += P(100)) {
    ASSERT_EQ(ra.Plan(o, P(1), kBig, {P(100), o + P(5)}), (ReadAheadRange{o - P(4), P(8)}));
  }
  EXPECT_EQ(ra.around_window(), P(8));
}

TEST(ReadAroundTest, NearRequestsTurnItBackOn) {
  ReadAhead ra(Options());
  uint64_t next = P(1000);
  Far(&ra, ReadAhead::kLotsOfMisses * 2 + 3, &next);  // 101 + 51 + 51: off
  ASSERT_EQ(ra.around_window(), 0u);
  // The counter was left at 50; each near request takes 4 off: the 13th turns it on.
  uint64_t o = next;
  for (int i = 0; i < 12; ++i, o += P(100)) {
    ASSERT_EQ(ra.Plan(o, P(1), kBig, {P(100), o + P(2)}), (ReadAheadRange{o, P(1)})) << i;
  }
  EXPECT_EQ(ra.around_window(), 0u);
  EXPECT_EQ(ra.Plan(o, P(1), kBig, {P(100), o + P(2)}), (ReadAheadRange{o - P(4), P(6)}));
  EXPECT_EQ(ra.around_window(), P(8));
}

TEST(ReadAroundTest, ZeroAroundMeansNoReadAround) {
  ReadAheadOptions o = Options();
  o.around = 0;
  ReadAhead ra(o);
  EXPECT_EQ(ra.Plan(P(1000), P(1), kBig), (ReadAheadRange{P(1000), P(1)}));
  EXPECT_EQ(ra.Plan(P(2000), P(1), kBig, {P(100), P(2002)}), (ReadAheadRange{P(2000), P(1)}));
  o.around = P(1) / 2;
  EXPECT_EQ(ReadAhead::Validate(o), Status::kInvalidArgs);
}

TEST(ReadAroundTest, RandomPatternSuppliesExactlyTheRequest) {
  ReadAhead ra(Options());
  ASSERT_EQ(ra.Plan(0, P(1), kBig), (ReadAheadRange{0, P(5)}));  // a stream, [0, 5)
  ra.SetAccessPattern(AccessPattern::kRandom);
  EXPECT_EQ(ra.access_pattern(), AccessPattern::kRandom);
  EXPECT_EQ(ra.Plan(P(1000), P(1), kBig), (ReadAheadRange{P(1000), P(1)}));  // no read-around
  EXPECT_EQ(ra.Plan(P(5), P(1), kBig), (ReadAheadRange{P(5), P(1)}));        // no read-ahead
  EXPECT_EQ(ra.Plan(0, P(2), kBig), (ReadAheadRange{0, P(2)}));              // no new stream
  // Back to normal: the stream was kept as it was ([0, 5)), and goes on.
  ra.SetAccessPattern(AccessPattern::kNormal);
  EXPECT_EQ(ra.Plan(P(5), P(1), kBig), (ReadAheadRange{P(5), P(9)}));
  EXPECT_EQ(ra.Plan(P(2000), P(1), kBig), (ReadAheadRange{P(1996), P(8)}));
  // kFixed honours it too.
  ReadAheadOptions fixed = Options();
  fixed.mode = ReadAheadMode::kFixed;
  ReadAhead f(fixed);
  EXPECT_EQ(f.Plan(P(10), P(1), kBig), (ReadAheadRange{P(10), P(5)}));
  f.SetAccessPattern(AccessPattern::kRandom);
  EXPECT_EQ(f.Plan(P(10), P(1), kBig), (ReadAheadRange{P(10), P(1)}));
}

TEST(ReadAroundTest, SequentialPatternGivesTheMaxWindowAtOnce) {
  ReadAhead ra(Options());
  ra.SetAccessPattern(AccessPattern::kSequential);
  EXPECT_EQ(ra.access_pattern(), AccessPattern::kSequential);
  EXPECT_EQ(ra.Plan(P(1000), P(1), kBig), (ReadAheadRange{P(1000), P(17)}));
  EXPECT_EQ(ra.Plan(P(1017), P(1), kBig), (ReadAheadRange{P(1017), P(17)}));
  EXPECT_EQ(ra.Plan(P(5), P(2), kBig), (ReadAheadRange{P(5), P(18)}));
  EXPECT_EQ(ra.Plan(P(95), P(1), P(100)), (ReadAheadRange{P(95), P(5)}));  // to the limit
  ra.SetAccessPattern(AccessPattern::kNormal);
  EXPECT_EQ(ra.Plan(P(3000), P(1), kBig), (ReadAheadRange{P(2996), P(8)}));
  // kOff stays exact; kFixed keeps its window.
  ReadAheadOptions off = Options();
  off.mode = ReadAheadMode::kOff;
  ReadAhead o(off);
  o.SetAccessPattern(AccessPattern::kSequential);
  EXPECT_EQ(o.Plan(P(1000), P(1), kBig), (ReadAheadRange{P(1000), P(1)}));
  ReadAheadOptions fixed = Options();
  fixed.mode = ReadAheadMode::kFixed;
  ReadAhead f(fixed);
  f.SetAccessPattern(AccessPattern::kSequential);
  EXPECT_EQ(f.Plan(P(1000), P(1), kBig), (ReadAheadRange{P(1000), P(5)}));
}

TEST(ReadAroundTest, ResetForgetsTheHistory) {
  ReadAhead ra(Options());
  uint64_t next = P(1000);
  Far(&ra, ReadAhead::kLotsOfMisses + 1, &next);
  ASSERT_EQ(ra.around_window(), P(4));
  ra.Reset();
  EXPECT_EQ(ra.around_window(), P(8));
  EXPECT_EQ(ra.Plan(P(1000), P(1), kBig), (ReadAheadRange{P(1000) - P(4), P(8)}));
}

TEST(ReadAroundTest, AccessPatternNames) {
  AccessPattern p = AccessPattern::kNormal;
  ASSERT_EQ(ParseAccessPattern("random", &p), Status::kOk);
  EXPECT_EQ(p, AccessPattern::kRandom);
  ASSERT_EQ(ParseAccessPattern("sequential", &p), Status::kOk);
  EXPECT_EQ(p, AccessPattern::kSequential);
  ASSERT_EQ(ParseAccessPattern("normal", &p), Status::kOk);
  EXPECT_EQ(p, AccessPattern::kNormal);
  EXPECT_EQ(ParseAccessPattern("willneed", &p), Status::kInvalidArgs);
  EXPECT_STREQ(AccessPatternName(AccessPattern::kRandom), "random");
  EXPECT_STREQ(AccessPatternName(AccessPattern::kSequential), "sequential");
  EXPECT_STREQ(AccessPatternName(AccessPattern::kNormal), "normal");
}

}  // namespace
}  // namespace upager
