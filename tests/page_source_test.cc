// PageSource: the overlap rules (4), resolution (3), early wake (6), failure attribution
// (7), detach/close (9) and bad input, each checked against the exact Send/Clear/Swap calls
// the provider sees and the exact signals each waiter gets. Scenario numbers refer to
// section 19 of docs/zircon-semantics.md.
#include "upager/page_source.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "recording_provider.h"

namespace upager {
namespace {

using testing::RecordingProvider;
using Lines = std::vector<std::string>;

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
const VmoDebugInfo kInfo{1, "test"};

// Records every signal as "<name> woken <status>" (early wake: still active) or
// "<name> done <status>" (completion).
class SignalLog : public PageRequestCompletion {
 public:
  void OnPageRequestSignaled(PageRequest* request, Status status) override {
    std::lock_guard lock(mutex_);
    log_.push_back(names_[request] + (request->is_active() ? " woken " : " done ") +
                   StatusString(status));
  }
  void SetName(PageRequest* request, std::string name) {
    std::lock_guard lock(mutex_);
    names_[request] = std::move(name);
  }
  Lines Take() {
    std::lock_guard lock(mutex_);
    Lines out;
    out.swap(log_);
    return out;
  }

 private:
  std::mutex mutex_;
  std::map<const PageRequest*, std::string> names_;
  Lines log_;
};

class PageSourceTest : public ::testing::Test {
 protected:
  // An asynchronous request whose signals go to log_.
  PageRequest* Async(const std::string& name, bool early_wake = false) {
    requests_.push_back(std::make_unique<PageRequest>(early_wake, &log_));
    log_.SetName(requests_.back().get(), name);
    return requests_.back().get();
  }
  Status Read(PageRequest* req, uint64_t first, uint64_t count) {
    return source_->GetPages(P(first), P(count), req, kInfo);
  }
  Status Dirty(PageRequest* req, uint64_t first, uint64_t count) {
    return source_->RequestDirtyTransition(req, P(first), P(count), kInfo);
  }
  void Supply(uint64_t first, uint64_t count) { source_->OnPagesSupplied(P(first), P(count)); }
  void Dirtied(uint64_t first, uint64_t count) { source_->OnPagesDirtied(P(first), P(count)); }
  void Fail(uint64_t first, uint64_t count, Status status = Status::kIo) {
    source_->OnPagesFailed(P(first), P(count), status);
  }
  Lines Calls() { return provider_->TakeCallStrings(); }

  std::shared_ptr<RecordingProvider> provider_ = std::make_shared<RecordingProvider>(true);
  std::shared_ptr<PageSource> source_ = std::make_shared<PageSource>(provider_);
  SignalLog log_;
  // Declared last so requests are cancelled before the source and the log go away.
  std::vector<std::unique_ptr<PageRequest>> requests_;
};

TEST_F(PageSourceTest, SingleRequestSendSupplyComplete) {
  PageRequest req;
  EXPECT_EQ(Read(&req, 0, 1), Status::kShouldWait);
  EXPECT_TRUE(req.is_active());
  EXPECT_EQ(Calls(), (Lines{"send R[0,1)"}));
  Supply(0, 1);
  EXPECT_EQ(Calls(), (Lines{"clear R[0,1)"}));
  EXPECT_FALSE(req.is_active());
  EXPECT_EQ(req.Wait(false), Status::kOk);
}

// ---- Overlap table (4) ----

TEST_F(PageSourceTest, OverlapCaseA_NoRelevantPrimaryIsForwardedUnchanged) {
  PageRequest* n = Async("n");
  ASSERT_EQ(Read(n, 8, 4), Status::kShouldWait);
  // Entirely before N, touching N, and entirely after N: all new primaries.
  ASSERT_EQ(Read(Async("before"), 0, 3), Status::kShouldWait);
  ASSERT_EQ(Read(Async("touching"), 4, 4), Status::kShouldWait);
  ASSERT_EQ(Read(Async("after"), 12, 2), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[8,12)", "send R[0,3)", "send R[4,8)", "send R[12,14)"}));
  EXPECT_EQ(source_->OutstandingRequests(PageRequestType::kRead), 4u);
}

TEST_F(PageSourceTest, OverlapCaseB_StartsInsideAndPassesEndIsClippedSecondary) {
  PageRequest* n = Async("n");
  PageRequest* b = Async("b");
  ASSERT_EQ(Read(n, 0, 4), Status::kShouldWait);
  ASSERT_EQ(Read(b, 2, 6), Status::kShouldWait);  // [2,8) -> secondary [2,4)
  EXPECT_EQ(Calls(), (Lines{"send R[0,4)"}));
  EXPECT_EQ(source_->OutstandingRequests(PageRequestType::kRead), 1u);
  Supply(0, 4);
  EXPECT_EQ(Calls(), (Lines{"clear R[0,4)"}));
  EXPECT_EQ(log_.Take(), (Lines{"b done ZX_OK", "n done ZX_OK"}));
  // The clipped tail was not asked for; the woken waiter asks for it now.
  ASSERT_EQ(Read(b, 4, 4), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[4,8)"}));
}

TEST_F(PageSourceTest, OverlapCaseB_EndingExactlyAtPrimaryEnd) {
  ASSERT_EQ(Read(Async("n"), 0, 4), Status::kShouldWait);
  ASSERT_EQ(Read(Async("b"), 1, 3), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[0,4)"}));
}

TEST_F(PageSourceTest, OverlapCaseC_EntirelyInsideIsSecondary) {
  PageRequest* n = Async("n");
  ASSERT_EQ(Read(n, 0, 8), Status::kShouldWait);
  ASSERT_EQ(Read(Async("c1"), 2, 2), Status::kShouldWait);
  ASSERT_EQ(Read(Async("c2"), 0, 1), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[0,8)"}));
  // Secondaries have no pending accounting: only the primary's completion wakes them, and
  // they are woken first, in arrival order.
  Supply(2, 2);
  EXPECT_EQ(log_.Take(), Lines{});
  Supply(0, 2);
  Supply(4, 4);
  EXPECT_EQ(Calls(), (Lines{"clear R[0,8)"}));
  EXPECT_EQ(log_.Take(), (Lines{"c1 done ZX_OK", "c2 done ZX_OK", "n done ZX_OK"}));
}

TEST_F(PageSourceTest, OverlapCaseD_StartsBeforeIsClippedToUniquePrefix) {
  ASSERT_EQ(Read(Async("n"), 4, 4), Status::kShouldWait);
  PageRequest* d = Async("d");
  ASSERT_EQ(Read(d, 0, 6), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[4,8)", "send R[0,4)"}));
  Supply(0, 4);
  EXPECT_EQ(log_.Take(), (Lines{"d done ZX_OK"}));
}

TEST_F(PageSourceTest, OverlapCaseD_OnlyTheGapBeforeTheFirstPrimaryIsRequested) {
  ASSERT_EQ(Read(Async("p1"), 4, 2), Status::kShouldWait);
  ASSERT_EQ(Read(Async("p2"), 8, 2), Status::kShouldWait);
  ASSERT_EQ(Read(Async("d"), 0, 12), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[4,6)", "send R[8,10)", "send R[0,4)"}));
}

TEST_F(PageSourceTest, ReadAndDirtyAreTrackedIndependently) {
  ASSERT_EQ(Read(Async("r"), 0, 4), Status::kShouldWait);
  ASSERT_EQ(Dirty(Async("d"), 0, 4), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[0,4)", "send D[0,4)"}));
  Dirtied(0, 4);
  EXPECT_EQ(log_.Take(), (Lines{"d done ZX_OK"}));
  Supply(0, 4);
  EXPECT_EQ(log_.Take(), (Lines{"r done ZX_OK"}));
}

// Scenario 14: overlapping dirty requests.
TEST_F(PageSourceTest, Scenario14_OverlappingDirty) {
  PageRequest* w1 = Async("w1");
  PageRequest* w2 = Async("w2");
  PageRequest* w3 = Async("w3");
  PageRequest* w4 = Async("w4");
  ASSERT_EQ(Dirty(w1, 4, 5), Status::kShouldWait);
  ASSERT_EQ(Dirty(w2, 2, 7), Status::kShouldWait);
  ASSERT_EQ(Dirty(w3, 11, 5), Status::kShouldWait);
  ASSERT_EQ(Dirty(w4, 15, 4), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send D[4,9)", "send D[2,4)", "send D[11,16)"}));
  Dirtied(11, 5);
  EXPECT_EQ(log_.Take(), (Lines{"w4 done ZX_OK", "w3 done ZX_OK"}));
  ASSERT_EQ(Dirty(w4, 16, 3), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"clear D[11,16)", "send D[16,19)"}));
}

// ---- Canonical scenarios (19) ----

// Scenario 6: overlapping commits.
TEST_F(PageSourceTest, Scenario6_OverlappingCommits) {
  PageRequest* small = Async("small");
  PageRequest* big = Async("big");
  ASSERT_EQ(Read(small, 8, 16), Status::kShouldWait);
  ASSERT_EQ(Read(big, 0, 32), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[8,24)", "send R[0,8)"}));
  Supply(0, 24);
  EXPECT_EQ(Calls(), (Lines{"clear R[0,8)", "clear R[8,24)"}));
  EXPECT_EQ(log_.Take(), (Lines{"big done ZX_OK", "small done ZX_OK"}));
  ASSERT_EQ(Read(big, 24, 8), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[24,32)"}));
}

// Scenario 7 at this layer: a present page splits the commit into successive requests.
TEST_F(PageSourceTest, Scenario7_SuccessiveRequestsAroundPresentPage) {
  PageRequest* commit = Async("commit");
  ASSERT_EQ(Read(commit, 0, 2), Status::kShouldWait);
  Supply(0, 2);
  ASSERT_EQ(Read(commit, 3, 2), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[0,2)", "clear R[0,2)", "send R[3,5)"}));
}

// Scenario 8: partial failure is attributed to the first page a waiter needs.
TEST_F(PageSourceTest, Scenario8_PartialFailure) {
  PageRequest* a = Async("a");
  PageRequest* b = Async("b");
  PageRequest* c = Async("c");
  ASSERT_EQ(Read(a, 0, 2), Status::kShouldWait);
  ASSERT_EQ(Read(b, 9, 2), Status::kShouldWait);
  ASSERT_EQ(Read(c, 5, 2), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[0,2)", "send R[9,11)", "send R[5,7)"}));
  Supply(0, 1);
  EXPECT_EQ(log_.Take(), Lines{});
  Fail(1, 9);
  // [0,2): the failure misses its first page, and its pages are all resolved -> OK.
  // [5,7): failed from its first page. [9,11): failed at its first page, page 10 pending.
  EXPECT_EQ(log_.Take(), (Lines{"a done ZX_OK", "c done ZX_ERR_IO"}));
  Supply(10, 1);
  EXPECT_EQ(log_.Take(), (Lines{"b done ZX_ERR_IO"}));
  EXPECT_EQ(Calls(), (Lines{"clear R[0,2)", "clear R[5,7)", "clear R[9,11)"}));
  // The OK waiter retries and asks again for the page that failed.
  ASSERT_EQ(Read(a, 1, 1), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[1,2)"}));
}

// Scenario 9: a failure recorded for a secondary only.
TEST_F(PageSourceTest, Scenario9_SecondaryFailure) {
  PageRequest* primary = Async("primary", true);
  PageRequest* secondary = Async("secondary", true);
  ASSERT_EQ(Read(primary, 0, 4), Status::kShouldWait);
  ASSERT_EQ(Read(secondary, 1, 1), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[0,4)"}));
  Fail(1, 1);
  EXPECT_EQ(log_.Take(), Lines{});
  Supply(0, 1);
  EXPECT_EQ(log_.Take(), (Lines{"primary woken ZX_OK"}));
  Supply(2, 2);
  EXPECT_EQ(log_.Take(), (Lines{"secondary done ZX_ERR_IO", "primary done ZX_OK"}));
  EXPECT_EQ(Calls(), (Lines{"clear R[0,4)"}));
  ASSERT_EQ(Read(primary, 1, 3), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[1,4)"}));
}

// ---- Early wake (6) ----

TEST_F(PageSourceTest, EarlyWakeLinearSupply) {
  PageRequest* r = Async("r", true);
  ASSERT_EQ(Read(r, 0, 4), Status::kShouldWait);
  for (uint64_t page = 0; page < 3; ++page) {
    Supply(page, 1);
    EXPECT_EQ(log_.Take(), (Lines{"r woken ZX_OK"})) << page;
    EXPECT_TRUE(r->is_active());
    // The woken reader copies the page and re-arms for the next one: no new request.
    ASSERT_EQ(Read(r, page + 1, 3 - page), Status::kShouldWait);
  }
  Supply(3, 1);
  EXPECT_EQ(log_.Take(), (Lines{"r done ZX_OK"}));
  EXPECT_EQ(Calls(), (Lines{"send R[0,4)", "clear R[0,4)"}));
}

TEST_F(PageSourceTest, EarlyWakeNonLinearSupplyWakesOnlyAtTheWakeOffset) {
  PageRequest* r = Async("r", true);
  ASSERT_EQ(Read(r, 0, 4), Status::kShouldWait);
  Supply(2, 1);
  EXPECT_EQ(log_.Take(), Lines{});  // not where the reader waits
  Supply(0, 1);
  EXPECT_EQ(log_.Take(), (Lines{"r woken ZX_OK"}));
  ASSERT_EQ(Read(r, 1, 3), Status::kShouldWait);
  Supply(1, 1);
  EXPECT_EQ(log_.Take(), (Lines{"r woken ZX_OK"}));
  // Page 2 is present; the reader next misses page 3.
  ASSERT_EQ(Read(r, 3, 1), Status::kShouldWait);
  Supply(3, 1);
  EXPECT_EQ(log_.Take(), (Lines{"r done ZX_OK"}));
  EXPECT_EQ(Calls(), (Lines{"send R[0,4)", "clear R[0,4)"}));
}

TEST_F(PageSourceTest, EarlyWakeWhenWakePageIsSuppliedLastWaitsForCompletion) {
  PageRequest* r = Async("r", true);
  ASSERT_EQ(Read(r, 0, 3), Status::kShouldWait);
  Supply(1, 2);
  EXPECT_EQ(log_.Take(), Lines{});
  Supply(0, 1);
  EXPECT_EQ(log_.Take(), (Lines{"r done ZX_OK"}));
}

TEST_F(PageSourceTest, EarlyWakeSecondaries) {
  PageRequest* p = Async("p", true);
  PageRequest* s = Async("s", true);
  PageRequest* plain = Async("plain", false);
  ASSERT_EQ(Read(p, 0, 8), Status::kShouldWait);
  ASSERT_EQ(Read(s, 4, 2), Status::kShouldWait);
  ASSERT_EQ(Read(plain, 4, 2), Status::kShouldWait);
  Supply(0, 2);  // before s: only p
  EXPECT_EQ(log_.Take(), (Lines{"p woken ZX_OK"}));
  ASSERT_EQ(Read(p, 2, 6), Status::kShouldWait);
  Supply(2, 3);  // reaches s's first page: s woken too; plain only on completion
  EXPECT_EQ(log_.Take(), (Lines{"p woken ZX_OK", "s woken ZX_OK"}));
  ASSERT_EQ(Read(s, 5, 1), Status::kShouldWait);
  ASSERT_EQ(Read(p, 5, 3), Status::kShouldWait);
  Supply(5, 3);
  EXPECT_EQ(log_.Take(), (Lines{"s done ZX_OK", "plain done ZX_OK", "p done ZX_OK"}));
  EXPECT_EQ(Calls(), (Lines{"send R[0,8)", "clear R[0,8)"}));
}

TEST_F(PageSourceTest, EarlyWakeSecondaryFilledPastItsWakePointOutOfOrder) {
  PageRequest* p = Async("p", true);
  PageRequest* s = Async("s", true);
  ASSERT_EQ(Read(p, 0, 8), Status::kShouldWait);
  ASSERT_EQ(Read(s, 1, 2), Status::kShouldWait);
  Supply(1, 3);  // not at p's wake offset: nobody woken
  EXPECT_EQ(log_.Take(), Lines{});
  Supply(0, 1);
  EXPECT_EQ(log_.Take(), (Lines{"p woken ZX_OK"}));
  ASSERT_EQ(Read(p, 4, 4), Status::kShouldWait);  // p re-arms at its next missing page
  Supply(4, 1);
  // The primary has been filled past s's wake point: s is woken (once).
  EXPECT_EQ(log_.Take(), (Lines{"p woken ZX_OK", "s woken ZX_OK"}));
  ASSERT_EQ(Read(p, 5, 3), Status::kShouldWait);
  Supply(5, 1);
  EXPECT_EQ(log_.Take(), (Lines{"p woken ZX_OK"}));
}

TEST_F(PageSourceTest, EarlyWakeRequestRetargetedOutsideItsRangeIsCancelled) {
  PageRequest* r = Async("r", true);
  ASSERT_EQ(Read(r, 0, 2), Status::kShouldWait);
  Supply(0, 1);
  EXPECT_EQ(log_.Take(), (Lines{"r woken ZX_OK"}));
  ASSERT_EQ(Read(r, 5, 1), Status::kShouldWait);
  EXPECT_EQ(Calls(), (Lines{"send R[0,2)", "clear R[0,2)", "send R[5,6)"}));
}

// FailEarlyWake (6.4): page 0 supplied, page 1 failed -> the read fails although page 2
// was never resolved.
TEST_F(PageSourceTest, FailureDuringEarlyWake) {
  PageRequest r(true);
  ASSERT_EQ(Read(&r, 0, 3), Status::kShouldWait);
  Supply(0, 1);
  EXPECT_EQ(r.Wait(false), Status::kOk);
  ASSERT_EQ(Read(&r, 1, 2), Status::kShouldWait);
  Fail(1, 1, Status::kIoDataIntegrity);
  EXPECT_EQ(r.Wait(false), Status::kIoDataIntegrity);
  // A failure code is an answer, not an interruption: the request is still outstanding
  // until its owner gives up on it.
  EXPECT_TRUE(r.is_active());
  r.CancelRequest();
  EXPECT_EQ(Calls(), (Lines{"send R[0,3)", "clear R[0,3)"}));
}

// ---- Cancel and promotion (3.7) ----

TEST_F(PageSourceTest, CancelPrimaryWithoutSecondariesClears) {
  PageRequest* r = Async("r");
  ASSERT_EQ(Read(r, 0, 2), Status::kShouldWait);
  r->CancelRequest();
  EXPECT_FALSE(r->is_active());
  EXPECT_EQ(Calls(), (Lines{"send R[0,2)", "clear R[0,2)"}));
  EXPECT_EQ(log_.Take(), Lines{});  // a cancelled waiter is not signalled
  r->CancelRequest();               // idempotent
  EXPECT_EQ(Calls(), Lines{});
}

TEST_F(PageSourceTest, CancelPrimaryPromotesFirstSecondaryWithoutNewPacket) {
  PageRequest* p = Async("p");
  PageRequest* s1 = Async("s1");
  PageRequest* s2 = Async("s2");
  ASSERT_EQ(Read(p, 0, 4), Status::kShouldWait);
  ASSERT_EQ(Read(s1, 2, 1), Status::kShouldWait);
  ASSERT_EQ(Read(s2, 1, 1), Status::kShouldWait);
  Supply(0, 1);  // pending 3 of 4; the heir inherits that
  p->CancelRequest();
  ASSERT_EQ(provider_->calls().size(), 2u);
  EXPECT_EQ(provider_->calls()[1].new_request, s1);
  EXPECT_EQ(Calls(), (Lines{"send R[0,4)", "swap R[0,4)"}));
  EXPECT_EQ(provider_->OwnedRequests(), (Lines{"R[0,4)"}));
  Supply(1, 3);
  EXPECT_EQ(log_.Take(), (Lines{"s2 done ZX_OK", "s1 done ZX_OK"}));
  EXPECT_EQ(Calls(), (Lines{"clear R[0,4)"}));
}

TEST_F(PageSourceTest, CancelSecondaryLeavesPrimaryAlone) {
  PageRequest* p = Async("p");
  PageRequest* s = Async("s");
  ASSERT_EQ(Read(p, 0, 4), Status::kShouldWait);
  ASSERT_EQ(Read(s, 1, 1), Status::kShouldWait);
  s->CancelRequest();
  EXPECT_FALSE(s->is_active());
  Supply(0, 4);
  EXPECT_EQ(log_.Take(), (Lines{"p done ZX_OK"}));
  EXPECT_EQ(Calls(), (Lines{"send R[0,4)", "clear R[0,4)"}));
}

TEST_F(PageSourceTest, DestructorCancels) {
  {
    PageRequest r;
    ASSERT_EQ(Read(&r, 3, 1), Status::kShouldWait);
  }
  EXPECT_EQ(Calls(), (Lines{"send R[3,4)", "clear R[3,4)"}));
  EXPECT_EQ(source_->OutstandingRequests(PageRequestType::kRead), 0u);
}

// ---- pending_size (4.1) ----

TEST_F(PageSourceTest, PendingSizeCountsBytesNotPages) {
  PageRequest* r = Async("r");
  ASSERT_EQ(Read(r, 0, 4), Status::kShouldWait);
  Supply(0, 2);
  EXPECT_EQ(log_.Take(), Lines{});
  // The same two pages reported again (supplied, evicted, supplied): counted twice, so the
  // request completes early; the waiter re-validates and asks again.
  Supply(0, 2);
  EXPECT_EQ(log_.Take(), (Lines{"r done ZX_OK"}));
}

TEST_F(PageSourceTest, ResolutionLargerThanRequestCompletesIt) {
  PageRequest* r = Async("r");
  ASSERT_EQ(Read(r, 2, 2), Status::kShouldWait);
  Supply(0, 16);
  EXPECT_EQ(log_.Take(), (Lines{"r done ZX_OK"}));
}

// ---- Failure (7) ----

TEST_F(PageSourceTest, FailureCodesAreValidatedAsInZircon) {
  for (Status s : {Status::kIo, Status::kIoDataIntegrity, Status::kBadState, Status::kNoSpace,
                   Status::kBufferTooSmall}) {
    EXPECT_TRUE(PageSource::IsValidExternalFailureCode(s)) << s;
    EXPECT_TRUE(PageSource::IsValidInternalFailureCode(s)) << s;
  }
  EXPECT_FALSE(PageSource::IsValidExternalFailureCode(Status::kNoMemory));
  EXPECT_TRUE(PageSource::IsValidInternalFailureCode(Status::kNoMemory));
  for (Status s : {Status::kOk, Status::kInternal, Status::kInvalidArgs, Status::kTimedOut,
                   Status::kIntrKilled, Status::kIntrRetry, static_cast<Status>(5)}) {
    EXPECT_FALSE(PageSource::IsValidExternalFailureCode(s)) << s;
    EXPECT_FALSE(PageSource::IsValidInternalFailureCode(s)) << s;
  }
}

TEST_F(PageSourceTest, FailAppliesToEveryType) {
  ASSERT_EQ(Read(Async("r"), 0, 2), Status::kShouldWait);
  ASSERT_EQ(Dirty(Async("d"), 0, 2), Status::kShouldWait);
  Fail(0, 2, Status::kNoSpace);
  EXPECT_EQ(log_.Take(), (Lines{"r done ZX_ERR_NO_SPACE", "d done ZX_ERR_NO_SPACE"}));
}

TEST_F(PageSourceTest, FailRedundantIsNoOp) {
  Fail(0, 8);
  EXPECT_EQ(Calls(), Lines{});
  PageRequest* r = Async("r");
  ASSERT_EQ(Read(r, 0, 1), Status::kShouldWait);
  Fail(4, 4);  // elsewhere
  EXPECT_TRUE(r->is_active());
}

TEST_F(PageSourceTest, FailureIsNotSticky) {
  PageRequest r;
  ASSERT_EQ(Read(&r, 0, 1), Status::kShouldWait);
  Fail(0, 1);
  EXPECT_EQ(r.Wait(false), Status::kIo);
  ASSERT_EQ(Read(&r, 0, 1), Status::kShouldWait);
  Supply(0, 1);
  EXPECT_EQ(r.Wait(false), Status::kOk);
  EXPECT_EQ(Calls(), (Lines{"send R[0,1)", "clear R[0,1)", "send R[0,1)", "clear R[0,1)"}));
}

// ---- Detach and close (9.1) ----

TEST_F(PageSourceTest, DetachCompletesEverythingThenRefuses) {
  PageRequest* r = Async("r");
  PageRequest* s = Async("s");
  PageRequest* d = Async("d");
  ASSERT_EQ(Read(r, 0, 4), Status::kShouldWait);
  ASSERT_EQ(Read(s, 1, 1), Status::kShouldWait);
  ASSERT_EQ(Dirty(d, 8, 1), Status::kShouldWait);
  Calls();
  source_->Detach();
  EXPECT_TRUE(source_->is_detached());
  EXPECT_EQ(Calls(), (Lines{"clear R[0,4)", "clear D[8,9)", "detach"}));
  EXPECT_EQ(log_.Take(), (Lines{"s done ZX_OK", "r done ZX_OK", "d done ZX_OK"}));
  // The woken waiters retry and are refused.
  EXPECT_EQ(Read(r, 0, 4), Status::kBadState);
  EXPECT_EQ(Dirty(d, 8, 1), Status::kBadState);
  EXPECT_FALSE(r->is_active());
  // Resolutions are silent no-ops; detach is idempotent.
  Supply(0, 4);
  Fail(0, 4);
  source_->Detach();
  EXPECT_EQ(Calls(), Lines{});
  source_->Close();
  source_->Close();
  EXPECT_EQ(Calls(), (Lines{"close"}));
  EXPECT_TRUE(source_->is_closed());
}

TEST_F(PageSourceTest, CloseDetachesFirst) {
  ASSERT_EQ(Read(Async("r"), 0, 1), Status::kShouldWait);
  source_->Close();
  EXPECT_EQ(Calls(), (Lines{"send R[0,1)", "clear R[0,1)", "detach", "close"}));
  EXPECT_EQ(log_.Take(), (Lines{"r done ZX_OK"}));
  EXPECT_EQ(Read(Async("late"), 0, 1), Status::kBadState);
}

TEST_F(PageSourceTest, DestroyingTheSourceClosesIt) {
  auto provider = std::make_shared<RecordingProvider>();
  auto source = std::make_shared<PageSource>(provider);
  source.reset();
  EXPECT_EQ(provider->TakeCallStrings(), (Lines{"detach", "close"}));
}

TEST_F(PageSourceTest, WaiterHoldsTheSourceAlive) {
  auto provider = std::make_shared<RecordingProvider>();
  auto source = std::make_shared<PageSource>(provider);
  PageRequest r;
  ASSERT_EQ(source->GetPages(0, kPageSize, &r, kInfo), Status::kShouldWait);
  std::weak_ptr<PageSource> weak = source;
  source.reset();
  EXPECT_FALSE(weak.expired());
  weak.lock()->OnPagesSupplied(0, kPageSize);
  EXPECT_EQ(r.Wait(false), Status::kOk);
}

// ---- Bad input ----

TEST_F(PageSourceTest, BadRangesAreRejected) {
  PageRequest r;
  EXPECT_EQ(source_->GetPages(0, 0, &r, kInfo), Status::kInvalidArgs);
  EXPECT_EQ(source_->GetPages(1, kPageSize, &r, kInfo), Status::kInvalidArgs);
  EXPECT_EQ(source_->GetPages(0, kPageSize + 1, &r, kInfo), Status::kInvalidArgs);
  EXPECT_EQ(source_->GetPages(UINT64_MAX - kPageSize + 1, P(2), &r, kInfo), Status::kOutOfRange);
  EXPECT_EQ(source_->GetPages(0, kPageSize, nullptr, kInfo), Status::kInvalidArgs);
  EXPECT_FALSE(r.is_active());
  EXPECT_EQ(Calls(), Lines{});
}

TEST_F(PageSourceTest, UnsupportedTypeIsRejected) {
  auto provider = std::make_shared<RecordingProvider>(/*trap_dirty=*/false);
  auto source = std::make_shared<PageSource>(provider);
  EXPECT_FALSE(source->ShouldTrapDirtyTransitions());
  EXPECT_TRUE(source_->ShouldTrapDirtyTransitions());
  PageRequest r;
  EXPECT_EQ(source->RequestDirtyTransition(&r, 0, kPageSize, kInfo), Status::kNotSupported);
  EXPECT_FALSE(r.is_active());
}

TEST_F(PageSourceTest, RequestActiveWithAnotherSourceIsRejected) {
  auto other = std::make_shared<PageSource>(std::make_shared<RecordingProvider>());
  PageRequest r(true);
  ASSERT_EQ(Read(&r, 0, 2), Status::kShouldWait);
  EXPECT_EQ(other->GetPages(0, kPageSize, &r, kInfo), Status::kInvalidArgs);
  EXPECT_EQ(Dirty(&r, 0, 1), Status::kInvalidArgs);  // same source, other type
  EXPECT_TRUE(r.is_active());
  r.CancelRequest();
  // Once inactive it may be used with any source.
  EXPECT_EQ(other->GetPages(0, kPageSize, &r, kInfo), Status::kShouldWait);
}

TEST_F(PageSourceTest, WaitWithoutRequestIsAnError) {
  PageRequest never;
  EXPECT_EQ(never.Wait(false), Status::kBadState);
  PageRequest completed;
  ASSERT_EQ(Read(&completed, 0, 1), Status::kShouldWait);
  Supply(0, 1);
  EXPECT_EQ(completed.Wait(false), Status::kOk);
  EXPECT_EQ(completed.Wait(false), Status::kBadState);  // would otherwise hang
  PageRequest* async = Async("async");
  EXPECT_EQ(async->Wait(false), Status::kNotSupported);
}

TEST_F(PageSourceTest, InvalidFailureCodeAssertsInDebugAndIsIgnoredOtherwise) {
  PageRequest r;
  ASSERT_EQ(Read(&r, 0, 1), Status::kShouldWait);
  EXPECT_DEBUG_DEATH(Fail(0, 1, Status::kInvalidArgs), "failure code");
  EXPECT_DEBUG_DEATH(source_->OnPagesSupplied(1, kPageSize), "invalid range");
  EXPECT_TRUE(r.is_active());
}

TEST_F(PageSourceTest, DumpShowsOutstandingRequests) {
  ASSERT_EQ(Read(Async("r"), 0, 2), Status::kShouldWait);
  ASSERT_EQ(Read(Async("s"), 1, 1), Status::kShouldWait);
  std::ostringstream os;
  source_->Dump(os, 10);
  EXPECT_NE(os.str().find("READ requests: 1"), std::string::npos) << os.str();
  EXPECT_NE(os.str().find("[sent] overlap 1"), std::string::npos) << os.str();
}

}  // namespace
}  // namespace upager
