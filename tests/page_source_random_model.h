// The reference model of page_source_random_test (described there): the events it
// predicts, the operations, and per-page bookkeeping of requests written from
// docs/zircon-semantics.md (3.1-3.7, 4, 4.1, 6.2, 7.2, 9.1).
#ifndef UPAGER_TESTS_PAGE_SOURCE_RANDOM_MODEL_H_
#define UPAGER_TESTS_PAGE_SOURCE_RANDOM_MODEL_H_

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

namespace upager::random_test {

using testing::ProviderCall;
using testing::RecordingProvider;

constexpr uint64_t kPages = 24;  // size of the simulated VMO, in pages
constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();  // wake offset "off"
constexpr int kNoId = -1;
inline const VmoDebugInfo kInfo{7, "random"};
constexpr PageRequestType kTypes[] = {PageRequestType::kRead, PageRequestType::kDirty};
constexpr Status kFailCodes[] = {Status::kIo,      Status::kIoDataIntegrity, Status::kBadState,
                                 Status::kNoSpace, Status::kBufferTooSmall,  Status::kNoMemory};

inline size_t Ti(PageRequestType type) { return type == PageRequestType::kRead ? 0 : 1; }

// "R[2,5)" (pages).
inline std::string Range(PageRequestType type, uint64_t off, uint64_t len) {
  return testing::RangeString(type, off * kPageSize, len * kPageSize);
}
inline std::string Rid(int id) {
  return id == kNoId ? std::string("r?") : "r" + std::to_string(id);
}

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

inline std::string Join(const Events& events) {
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

  // Resolution (3.4) with early wake (6.2) and partial failure (7.2).
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

}  // namespace upager::random_test

#endif  // UPAGER_TESTS_PAGE_SOURCE_RANDOM_MODEL_H_
