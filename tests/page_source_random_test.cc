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

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "recording_provider.h"
#include "upager/page_source.h"

// TSan slows this single-threaded but lock-heavy test ~10x (ASan ~2x: it keeps the full
// count).
#if defined(__SANITIZE_THREAD__)
#define UPAGER_RANDOM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UPAGER_RANDOM_TSAN 1
#endif
#endif

namespace upager {
namespace {

using testing::ProviderCall;
using testing::RecordingProvider;

constexpr uint64_t kPages = 24;  // size of the simulated VMO, in pages
constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();  // wake offset "off"
constexpr int kNoId = -1;
const VmoDebugInfo kInfo{7, "random"};
constexpr PageRequestType kTypes[] = {PageRequestType::kRead, PageRequestType::kDirty};
constexpr Status kFailCodes[] = {Status::kIo,      Status::kIoDataIntegrity, Status::kBadState,
                                 Status::kNoSpace, Status::kBufferTooSmall,  Status::kNoMemory};

size_t Ti(PageRequestType type) { return type == PageRequestType::kRead ? 0 : 1; }

// "R[2,5)" (pages).
std::string Range(PageRequestType type, uint64_t off, uint64_t len) {
  return testing::RangeString(type, off * kPageSize, len * kPageSize);
}
std::string Rid(int id) { return id == kNoId ? std::string("r?") : "r" + std::to_string(id); }

// One observable event: a provider call or a signal.
struct Event {
  enum Kind { kSend, kClear, kSwap, kDetach, kClose, kSignal };
  Kind kind = kSend;
  PageRequestType type = PageRequestType::kRead;
  uint64_t off = 0, len = 0;    // pages; provider calls
  int id = kNoId;               // the request (kSwap: the old one)
  int id2 = kNoId;              // kSwap: the new one
  Status status = Status::kOk;  // kSignal
  bool active = false;          // kSignal: still active (early wake) or not (completion)

  static Event Call(Kind kind, PageRequestType type, uint64_t off, uint64_t len, int id,
                    int id2 = kNoId) {
    return Event{kind, type, off, len, id, id2};
  }
  static Event Signal(int id, bool active, Status status) {
    Event e{kSignal};
    e.id = id;
    e.active = active;
    e.status = status;
    return e;
  }
  bool operator==(const Event&) const = default;

  // "send R[2,5) r3", "swap R[2,5) r3->r4", "r3 woken ZX_OK", "r3 done ZX_ERR_IO".
  std::string ToString() const {
    switch (kind) {
      case kSend: return "send " + Range(type, off, len) + " " + Rid(id);
      case kClear: return "clear " + Range(type, off, len) + " " + Rid(id);
      case kSwap: return "swap " + Range(type, off, len) + " " + Rid(id) + "->" + Rid(id2);
      case kDetach: return "detach";
      case kClose: return "close";
      case kSignal: return Rid(id) + (active ? " woken " : " done ") + StatusString(status);
    }
    return "?";
  }
};
using Events = std::vector<Event>;

std::string Join(const Events& events) {
  std::string out = "[";
  for (size_t i = 0; i < events.size(); ++i) {
    out += (i ? ", " : "") + events[i].ToString();
  }
  return out + "]";
}

// ---------------------------------------------------------------------------------------
// Operations. Ranges are in pages. Ops refer to requests by id; an op whose request does
// not exist (or may not legally be re-populated) is skipped, so that any subsequence of a
// sequence can be replayed (shrinking).
struct Op {
  enum Kind { kPopulateNew, kPopulate, kResolve, kFail, kCancel, kDestroy, kDetach, kClose };
  Kind kind = kResolve;
  int id = kNoId;
  bool early = false;  // kPopulateNew; kPopulate: the request's (to re-create it on replay)
  PageRequestType type = PageRequestType::kRead;
  uint64_t off = 0;
  uint64_t len = 0;
  Status status = Status::kOk;  // kFail

  std::string ToString() const {
    switch (kind) {
      case kPopulateNew:
        return "new " + Rid(id) + (early ? " early " : " ") + Range(type, off, len);
      case kPopulate:
        return "populate " + Rid(id) + (early ? " early " : " ") + Range(type, off, len);
      case kResolve:
        return std::string(type == PageRequestType::kRead ? "supply " : "dirtied ") +
               Range(type, off, len).substr(1);
      case kFail: return "fail " + Range(type, off, len).substr(1) + " " + StatusString(status);
      case kCancel: return "cancel " + Rid(id);
      case kDestroy: return "destroy " + Rid(id);
      case kDetach: return "detach";
      case kClose: return "close";
    }
    return "?";
  }
};

// ---------------------------------------------------------------------------------------
// The reference model.

struct ModelStats {
  uint64_t ops = 0, sends = 0, secondaries = 0, clipped_b = 0, clipped_d = 0, promotions = 0,
           rearms = 0, retargets = 0, primary_early_wakes = 0, secondary_nonlinear_wakes = 0,
           secondary_overlap_wakes = 0, failures_attributed = 0, error_completions = 0,
           over_accounted = 0, detaches = 0, bad_state_populates = 0;
};

struct MReq {
  bool exists = false;
  bool early = false;
  bool active = false;
  bool primary = false;
  PageRequestType type = PageRequestType::kRead;
  uint64_t off = 0, len = 0;  // pages
  uint64_t pending = 0;       // pages, primaries only
  uint64_t wake = kNone;      // request-relative pages, kNone when early wake is off
  Status status = Status::kOk;
  int parent = kNoId;     // secondaries: their primary
  std::vector<int> secs;  // primaries: their secondaries, in arrival order
  uint64_t end() const { return off + len; }
};

class Model {
 public:
  Model() {
    for (auto& pages : owner_) pages.fill(kNoId);
  }

  const MReq& req(int id) const { return reqs_[id]; }
  bool exists(int id) const {
    return id >= 0 && id < static_cast<int>(reqs_.size()) && reqs_[id].exists;
  }
  int num_ids() const { return static_cast<int>(reqs_.size()); }
  bool detached() const { return detached_; }
  const ModelStats& stats() const { return stats_; }
  // Expected events (provider calls and signals, in order) of the current operation.
  Events& events() { return events_; }

  size_t NumPrimaries(PageRequestType type) const {
    size_t n = 0;
    int last = kNoId;
    for (int o : owner_[Ti(type)]) {
      if (o != kNoId && o != last) ++n;
      last = o;
    }
    return n;
  }

  void Create(int id, bool early) {
    if (id >= num_ids()) reqs_.resize(id + 1);
    reqs_[id] = MReq{};
    reqs_[id].exists = true;
    reqs_[id].early = early;
  }

  // 3.1 / 3.2 / 4.
  Status Populate(int id, PageRequestType type, uint64_t off, uint64_t len) {
    ++stats_.ops;
    if (detached_) {
      ++stats_.bad_state_populates;
      return Status::kBadState;
    }
    MReq& r = reqs_[id];
    if (r.active) {
      // Re-use of an early-wake request (same type, checked by the caller).
      if (off >= r.off && off < r.end()) {
        r.wake = off - r.off;
        ++stats_.rearms;
        return Status::kShouldWait;
      }
      ++stats_.retargets;
      Cancel(id);
    }
    r.active = true;
    r.primary = false;
    r.type = type;
    r.off = off;
    r.len = len;
    r.pending = 0;
    r.status = Status::kOk;
    r.wake = r.early ? 0 : kNone;
    r.parent = kNoId;
    r.secs.clear();

    // N = the primary with the smallest end > off. Primaries are disjoint, so it is the
    // owner of the first owned page at or after `off`.
    auto& own = owner_[Ti(type)];
    int n = kNoId;
    for (uint64_t p = off; p < kPages; ++p) {
      if (own[p] != kNoId) {
        n = own[p];
        break;
      }
    }
    const uint64_t e = off + len;
    if (n != kNoId && reqs_[n].off < e) {
      MReq& nr = reqs_[n];
      if (nr.off <= off) {
        // Cases B and C: a secondary of N, clipped to N's end.
        if (e > nr.end()) ++stats_.clipped_b;
        r.len = std::min(e, nr.end()) - off;
        r.parent = n;
        nr.secs.push_back(id);
        ++stats_.secondaries;
        return Status::kShouldWait;
      }
      // Case D: a primary for the unique prefix.
      ++stats_.clipped_d;
      r.len = nr.off - off;
    }
    r.primary = true;
    r.pending = r.len;
    for (uint64_t p = r.off; p < r.end(); ++p) own[p] = id;
    events_.push_back(Event::Call(Event::kSend, type, r.off, r.len, id));
    ++stats_.sends;
    return Status::kShouldWait;
  }

  // Sections 3.4, 6.2 and 7.2.
  void Resolve(PageRequestType type, uint64_t off, uint64_t len, Status status) {
    ++stats_.ops;
    if (detached_) return;
    const uint64_t end = off + len;
    // Primaries intersecting [off, end) in increasing end (= page) order.
    std::vector<int> hit;
    for (uint64_t p = off; p < end; ++p) {
      const int o = owner_[Ti(type)][p];
      if (o != kNoId && (hit.empty() || hit.back() != o)) hit.push_back(o);
    }
    for (int pid : hit) {
      MReq& pr = reqs_[pid];
      const uint64_t rs = std::max(off, pr.off) - pr.off;
      const uint64_t re = std::min(end, pr.end()) - pr.off;
      if (status != Status::kOk) {
        if (rs == 0 || rs == pr.wake) {
          pr.status = status;
          ++stats_.failures_attributed;
        }
        for (int sid : pr.secs) {
          MReq& s = reqs_[sid];
          if (s.off >= end || s.end() <= off) continue;
          const uint64_t ss = std::max(off, s.off) - s.off;
          if (ss == 0 || ss == s.wake) {
            s.status = status;
            ++stats_.failures_attributed;
          }
        }
      }
      const uint64_t fulfilled = re - rs;
      if (fulfilled < pr.pending) {
        if (rs == pr.wake) EarlyWake(pid, rs, re);
        pr.pending -= fulfilled;
      } else {
        if (fulfilled > pr.pending) ++stats_.over_accounted;
        Complete(pid);
      }
    }
  }

  void Fail(uint64_t off, uint64_t len, Status status) {
    if (detached_) {
      ++stats_.ops;
      return;
    }
    for (PageRequestType type : kTypes) Resolve(type, off, len, status);  // both supported
  }

  // 3.7.
  void Cancel(int id) {
    MReq& r = reqs_[id];
    if (!r.active) return;
    if (!r.primary) {
      auto& secs = reqs_[r.parent].secs;
      secs.erase(std::find(secs.begin(), secs.end(), id));
    } else if (!r.secs.empty()) {
      const int hid = r.secs.front();
      MReq& h = reqs_[hid];
      h.primary = true;
      h.parent = kNoId;
      h.off = r.off;
      h.len = r.len;
      h.pending = r.pending;
      h.secs.assign(r.secs.begin() + 1, r.secs.end());
      for (int sid : h.secs) reqs_[sid].parent = hid;
      for (uint64_t p = h.off; p < h.end(); ++p) owner_[Ti(r.type)][p] = hid;
      events_.push_back(Event::Call(Event::kSwap, r.type, r.off, r.len, id, hid));
      ++stats_.promotions;
    } else {
      for (uint64_t p = r.off; p < r.end(); ++p) owner_[Ti(r.type)][p] = kNoId;
      events_.push_back(Event::Call(Event::kClear, r.type, r.off, r.len, id));
    }
    Deactivate(r);
  }

  void Destroy(int id) {
    Cancel(id);
    reqs_[id].exists = false;
  }

  // 9.1.
  void Detach() {
    if (detached_) return;
    detached_ = true;
    ++stats_.detaches;
    for (PageRequestType type : kTypes) {
      for (uint64_t p = 0; p < kPages; ++p) {
        // The first owned page belongs to the primary with the smallest end.
        if (owner_[Ti(type)][p] != kNoId) Complete(owner_[Ti(type)][p]);
      }
    }
    events_.push_back(Event{Event::kDetach});
  }

  void Close() {
    if (closed_) return;
    Detach();
    closed_ = true;
    events_.push_back(Event{Event::kClose});
  }

  std::string Dump() const {
    std::ostringstream os;
    auto wake = [](uint64_t w) { return w == kNone ? std::string("-") : std::to_string(w); };
    os << (detached_ ? "detached " : "") << (closed_ ? "closed " : "") << "\n";
    for (PageRequestType type : kTypes) {
      int last = kNoId;
      for (int o : owner_[Ti(type)]) {
        if (o == kNoId || o == last) continue;
        last = o;
        const MReq& p = reqs_[o];
        os << "  " << Rid(o) << (p.early ? "*" : "") << " " << Range(type, p.off, p.len)
           << " pending " << p.pending << " wake " << wake(p.wake) << " " << p.status << "\n";
        for (int sid : p.secs) {
          const MReq& s = reqs_[sid];
          os << "    " << Rid(sid) << (s.early ? "*" : "") << " " << Range(type, s.off, s.len)
             << " wake " << wake(s.wake) << " " << s.status << "\n";
        }
      }
    }
    return os.str();
  }

 private:
  void Deactivate(MReq& r) {
    r.active = false;
    r.primary = false;
    r.parent = kNoId;
    r.secs.clear();
  }

  // 6.2.
  void EarlyWake(int pid, uint64_t rs, uint64_t re) {
    MReq& pr = reqs_[pid];
    pr.wake = re;
    events_.push_back(Event::Signal(pid, true, pr.status));
    ++stats_.primary_early_wakes;
    const uint64_t ps = pr.off + rs;
    const uint64_t pe = pr.off + re;
    for (int sid : pr.secs) {
      MReq& s = reqs_[sid];
      if (!s.early) continue;
      if (ps > s.off && ps - s.off > s.wake) {
        s.wake = pr.len;
        events_.push_back(Event::Signal(sid, true, s.status));
        ++stats_.secondary_nonlinear_wakes;
      } else if (pe <= s.off || ps >= s.end()) {
        continue;
      } else {
        const uint64_t os = std::max(ps, s.off) - s.off;
        const uint64_t oe = std::min(pe, s.end()) - s.off;
        if (os <= s.wake && s.wake < oe) {
          s.wake = oe;
          events_.push_back(Event::Signal(sid, true, s.status));
          ++stats_.secondary_overlap_wakes;
        }
      }
    }
  }

  // 3.5.
  void Complete(int pid) {
    MReq& pr = reqs_[pid];
    for (uint64_t p = pr.off; p < pr.end(); ++p) owner_[Ti(pr.type)][p] = kNoId;
    events_.push_back(Event::Call(Event::kClear, pr.type, pr.off, pr.len, pid));
    const std::vector<int> secs = pr.secs;
    for (int sid : secs) {
      MReq& s = reqs_[sid];
      Deactivate(s);
      events_.push_back(Event::Signal(sid, false, s.status));
      if (s.status != Status::kOk) ++stats_.error_completions;
    }
    Deactivate(pr);
    events_.push_back(Event::Signal(pid, false, pr.status));
    if (pr.status != Status::kOk) ++stats_.error_completions;
  }

  std::vector<MReq> reqs_;                        // by id
  std::array<std::array<int, kPages>, 2> owner_;  // [type][page] -> primary id or kNoId
  bool detached_ = false;
  bool closed_ = false;
  Events events_;
  ModelStats stats_;
};

// ---------------------------------------------------------------------------------------
// Runs ops on a real PageSource and on the model, comparing after each.

class Runner final : public PageRequestCompletion {
 public:
  Runner() = default;
  ~Runner() override {
    // Requests first: each holds a reference to the source.
    for (auto& r : reqs_) r.reset();
  }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  const Model& model() const { return model_; }

  void OnPageRequestSignaled(PageRequest* request, Status status) override {
    // Records how many provider calls preceded the signal, to check the interleaving.
    signals_.emplace_back(provider_->calls().size(),
                          Event::Signal(IdOf(request), request->is_active(), status));
  }

  // Whether `op` applies in the current state (otherwise it is skipped).
  bool Applicable(const Op& op) const {
    switch (op.kind) {
      case Op::kPopulateNew: return !model_.exists(op.id);
      case Op::kPopulate: {
        if (!model_.exists(op.id)) return true;  // replayed without its creation: create it
        const MReq& r = model_.req(op.id);
        // Re-populating an active request is legal only for an early-wake request of the
        // same type (6.3; section 3.1 step 3).
        return !r.active || (r.early && r.type == op.type);
      }
      case Op::kCancel:
      case Op::kDestroy: return model_.exists(op.id);
      default: return true;
    }
  }

  // Runs `op`; `line` (if not null) receives a trace line. Returns false with `error` on a
  // mismatch.
  bool Step(const Op& op, std::string* line, std::string* error) {
    if (!Applicable(op)) {
      if (line != nullptr) *line = op.ToString() + "  (skipped)";
      return true;
    }
    model_.events().clear();
    signals_.clear();
    bool has_rc = false;
    Status real_rc = Status::kOk, model_rc = Status::kOk;
    const PageRequest* destroyed = nullptr;
    switch (op.kind) {
      case Op::kPopulateNew:
      case Op::kPopulate:
        if (!model_.exists(op.id)) {
          if (op.id >= static_cast<int>(reqs_.size())) reqs_.resize(op.id + 1);
          reqs_[op.id] = std::make_unique<PageRequest>(op.early, this);
          ids_[reqs_[op.id].get()] = op.id;
          model_.Create(op.id, op.early);
        }
        has_rc = true;
        real_rc = op.type == PageRequestType::kRead
                      ? source_->GetPages(op.off * kPageSize, op.len * kPageSize,
                                          reqs_[op.id].get(), kInfo)
                      : source_->RequestDirtyTransition(reqs_[op.id].get(), op.off * kPageSize,
                                                        op.len * kPageSize, kInfo);
        model_rc = model_.Populate(op.id, op.type, op.off, op.len);
        break;
      case Op::kResolve:
        if (op.type == PageRequestType::kRead) {
          source_->OnPagesSupplied(op.off * kPageSize, op.len * kPageSize);
        } else {
          source_->OnPagesDirtied(op.off * kPageSize, op.len * kPageSize);
        }
        model_.Resolve(op.type, op.off, op.len, Status::kOk);
        break;
      case Op::kFail:
        source_->OnPagesFailed(op.off * kPageSize, op.len * kPageSize, op.status);
        model_.Fail(op.off, op.len, op.status);
        break;
      case Op::kCancel:
        reqs_[op.id]->CancelRequest();
        model_.Cancel(op.id);
        break;
      case Op::kDestroy:
        destroyed = reqs_[op.id].get();
        reqs_[op.id].reset();
        model_.Destroy(op.id);
        break;
      case Op::kDetach:
        source_->Detach();
        model_.Detach();
        break;
      case Op::kClose:
        source_->Close();
        model_.Close();
        break;
    }

    // Actual events: provider calls with the signals interleaved where they happened.
    const std::vector<ProviderCall> calls = provider_->calls();
    provider_->TakeCallStrings();  // forget them
    Events actual;
    size_t next_signal = 0;
    for (size_t i = 0; i <= calls.size(); ++i) {
      while (next_signal < signals_.size() && signals_[next_signal].first <= i) {
        actual.push_back(signals_[next_signal++].second);
      }
      if (i == calls.size()) break;
      const ProviderCall& c = calls[i];
      switch (c.kind) {
        case ProviderCall::kSend:
        case ProviderCall::kClear:
        case ProviderCall::kSwap:
          actual.push_back(
              Event::Call(c.kind == ProviderCall::kSend    ? Event::kSend
                          : c.kind == ProviderCall::kClear ? Event::kClear
                                                           : Event::kSwap,
                          c.type, c.offset / kPageSize, c.len / kPageSize, IdOf(c.request),
                          c.kind == ProviderCall::kSwap ? IdOf(c.new_request) : kNoId));
          break;
        case ProviderCall::kDetach: actual.push_back(Event{Event::kDetach}); break;
        case ProviderCall::kClose: actual.push_back(Event{Event::kClose}); break;
      }
    }
    if (destroyed != nullptr) ids_.erase(destroyed);

    std::string& err = *error;
    err.clear();
    const Events& expected = model_.events();
    if (actual != expected) {
      err += "  events   expected " + Join(expected) + "\n" + "           actual   " +
             Join(actual) + "\n";
    }
    if (has_rc && real_rc != model_rc) {
      err += std::string("  populate returned ") + StatusString(real_rc) + ", expected " +
             StatusString(model_rc) + "\n";
    }
    for (int id = 0; id < static_cast<int>(reqs_.size()); ++id) {
      if (reqs_[id] == nullptr) continue;
      if (reqs_[id]->is_active() != model_.req(id).active) {
        err += "  " + Rid(id) + " is_active() " + std::to_string(reqs_[id]->is_active()) +
               ", expected " + std::to_string(model_.req(id).active) + "\n";
      }
    }
    size_t primaries = 0;
    for (PageRequestType type : kTypes) {
      const size_t want = model_.NumPrimaries(type);
      primaries += want;
      if (source_->OutstandingRequests(type) != want) {
        err += std::string("  OutstandingRequests(") + PageRequestTypeString(type) + ") " +
               std::to_string(source_->OutstandingRequests(type)) + ", expected " +
               std::to_string(want) + "\n";
      }
    }
    if (provider_->owned_count() != primaries) {
      err += "  provider owns " + std::to_string(provider_->owned_count()) +
             " requests, expected " + std::to_string(primaries) + "\n";
    }

    if (line != nullptr) {
      *line = op.ToString();
      if (has_rc) *line += std::string(" -> ") + StatusString(real_rc);
      if (!actual.empty()) *line += "  " + Join(actual);
    }
    return err.empty();
  }

 private:
  int IdOf(const PageRequest* request) const {
    auto it = ids_.find(request);
    return it == ids_.end() ? kNoId : it->second;
  }

  std::shared_ptr<RecordingProvider> provider_ = std::make_shared<RecordingProvider>(true);
  std::shared_ptr<PageSource> source_ = std::make_shared<PageSource>(provider_);
  Model model_;
  // Declared after source_: destroyed (cancelled) before it.
  std::vector<std::unique_ptr<PageRequest>> reqs_;  // by id; null once destroyed
  std::unordered_map<const PageRequest*, int> ids_;
  std::vector<std::pair<size_t, Event>> signals_;
};

// ---------------------------------------------------------------------------------------
// Random generation.

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t U(uint64_t n) { return rng_() % n; }
  bool Chance(uint64_t percent) { return U(100) < percent; }

 private:
  std::mt19937_64 rng_;
};

uint64_t PickLen(Gen& g, uint64_t off) {
  const uint64_t r = g.U(10);
  const uint64_t len = r < 3 ? 1 : r < 7 ? 2 + g.U(3) : 1 + g.U(kPages);
  return std::min(len, kPages - off);
}

// Mostly offsets near interesting points of active requests (starts, ends, wake offsets).
uint64_t PickOffset(Gen& g, const Model& m) {
  if (g.Chance(65)) {
    static thread_local std::vector<int> active;
    active.clear();
    for (int id = 0; id < m.num_ids(); ++id) {
      if (m.exists(id) && m.req(id).active) active.push_back(id);
    }
    if (!active.empty()) {
      const MReq& r = m.req(active[g.U(active.size())]);
      uint64_t base;
      switch (g.U(6)) {
        case 0: base = r.off; break;
        case 1: base = r.end(); break;
        case 2: base = r.end() - 1; break;
        case 3: base = r.off + g.U(r.len); break;
        default: base = r.wake != kNone && r.wake < r.len ? r.off + r.wake : r.off; break;
      }
      int64_t off = static_cast<int64_t>(base);
      if (g.Chance(35)) off += static_cast<int64_t>(g.U(5)) - 2;
      return static_cast<uint64_t>(std::clamp<int64_t>(off, 0, kPages - 1));
    }
  }
  return g.U(kPages);
}

Op Generate(Gen& g, const Model& m, int* next_id) {
  Op op;
  static thread_local std::vector<int> live, live_active, repopulatable;
  live.clear();
  live_active.clear();
  repopulatable.clear();
  for (int id = 0; id < m.num_ids(); ++id) {
    if (!m.exists(id)) continue;
    live.push_back(id);
    const MReq& r = m.req(id);
    if (r.active) live_active.push_back(id);
    if (!r.active || r.early) repopulatable.push_back(id);
  }
  const uint64_t w = g.U(10000);
  if (w < 6) {
    op.kind = Op::kDetach;
    return op;
  }
  if (w < 9) {
    op.kind = Op::kClose;
    return op;
  }
  if (w < 4000 && !(w >= 2500 && repopulatable.empty())) {
    if (w < 2500) {
      op.kind = Op::kPopulateNew;
      op.id = (*next_id)++;
      op.early = g.Chance(50);
      op.type = kTypes[g.U(2)];
      op.off = PickOffset(g, m);
    } else {
      op.kind = Op::kPopulate;
      op.id = repopulatable[g.U(repopulatable.size())];
      const MReq& r = m.req(op.id);
      op.early = r.early;
      if (r.active) {
        op.type = r.type;
        if (g.Chance(70)) {
          op.off = r.off + g.U(r.len);  // inside: re-arm
        } else {
          do {
            op.off = PickOffset(g, m);
          } while (r.len < kPages && op.off >= r.off && op.off < r.end());
        }
      } else {
        op.type = kTypes[g.U(2)];
        op.off = PickOffset(g, m);
      }
    }
    op.len = PickLen(g, op.off);
    return op;
  }
  if (w < 8000 || live.empty()) {
    op.kind = w < 7000 || live.empty() ? Op::kResolve : Op::kFail;
    op.type = kTypes[g.U(2)];
    op.off = PickOffset(g, m);
    // Often start exactly at an early-wake primary's wake offset (6.2, 7.2).
    if (g.Chance(40)) {
      static thread_local std::vector<int> waking;
      waking.clear();
      for (int id : live_active) {
        const MReq& r = m.req(id);
        if (r.primary && r.wake != kNone && r.wake < r.len) waking.push_back(id);
      }
      if (!waking.empty()) {
        const MReq& r = m.req(waking[g.U(waking.size())]);
        op.type = r.type;
        op.off = r.off + r.wake;
      }
    }
    op.len = PickLen(g, op.off);
    if (op.kind == Op::kFail) op.status = kFailCodes[g.U(std::size(kFailCodes))];
    return op;
  }
  op.kind = w < 9100 ? Op::kCancel : Op::kDestroy;
  op.id = !live_active.empty() && g.Chance(80) ? live_active[g.U(live_active.size())]
                                               : live[g.U(live.size())];
  return op;
}

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
}  // namespace upager
