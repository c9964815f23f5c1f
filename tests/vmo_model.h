// A randomized model test of pager-backed VMOs: random sequences of reads, writes, supplies,
// failures, OP_DIRTY, writeback, OP_ZERO, resizes, detach and closing handles on two or three
// VMOs, checked against an independent reference model of slot states and packets.
//
// The model keeps, per VMO, the kind of every slot (absent, Clean, Dirty, AwaitingClean, zero
// marker, dirty zero range; section 10.1 of docs/zircon-semantics.md), the zero ranges as
// intervals with the awaiting-clean bookkeeping (10.5), the content of every page, the size, the
// flags and the modified flag (14). From it, it derives every status the library must return, every
// packet (exact command, offset and length) an access must produce, the dirty-range list (13), the
// committed bytes and the content reads must see.
//
// Accesses (Vmo::Read / Vmo::Write of unaligned ranges) are simulated by the model with
// Zircon's retry loop (18.1; reads with early wake, 6): if the model says the access needs no
// request it runs inline and must return at once; otherwise it runs on a TestThread while the
// test plays the pager: it waits for each expected packet (and checks that nothing else
// arrives), answers it (supply, OP_DIRTY, failure, in one piece or in chunks) or does other
// pager work meanwhile (writeback, OP_ZERO, resizes, detach, supplies or failures elsewhere),
// and the model decides when the access wakes, what it does next and how it ends.
//
// Where the spec leaves a choice to the implementation the model does not pick one:
//  * request accounting: a resolution that would complete a request by length while some of
//    its pages are unresolved (a page reported twice, section 4.1) is never generated;
//  * OP_DIRTY failures (10.6) and shrinks (10.4, 18.6) resolve the outstanding request's pages
//    they cover like any resolution (3.4): a request only partly covered keeps waiting for the
//    rest, one wholly covered completes and its waiter retries (and fails past a new end);
//  * after an early wake only supplies follow until the read completes (the reader's own
//    retry is not observable, and anything else would race with it);
//  * the awaiting-clean extent of zero intervals is tracked as bounds [lo, hi]; it becomes
//    uncertain where section 10.5 does not say what happens (a piece split off after a write,
//    intervals merged by OP_ZERO or growth). WRITEBACK_END then accepts any outcome within
//    the bounds (read back through the dirty-range query) and the model follows it.
//
// Environment: UPAGER_MODEL_SEED=n runs only seed n; UPAGER_MODEL_SEEDS=n runs seeds
// 1..n (default 200, 50 under sanitizers); UPAGER_MODEL_OPS=n operations per seed (default 150);
#ifndef UPAGER_TESTS_VMO_MODEL_H_
#define UPAGER_TESTS_VMO_MODEL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/status.h"
#include "upager/thread.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing::vmo_model {

constexpr uint64_t kP = kPageSize;
constexpr uint64_t kNoWake = ~uint64_t{0};
constexpr uint64_t kMaxModelPages = 40;     // resizes of small VMOs stay at or below this
constexpr uint64_t kWriteBatchPages = 256;  // 10.2: a write asks for at most 256 pages
// Some seeds give one VMO this many pages or more, for accesses and pager ranges longer
// than the write batch (section 1, 10.2).
constexpr uint64_t kLargeVmoPages = 300;
constexpr auto kPacketTimeout = std::chrono::seconds(5);

// 10.4: WRITEBACK_END removes awaiting-clean zero ranges "or trimmed from their start";
// section 10.5: it cleans "the parts of zero ranges lying before start + awaiting-clean length,
// tracking the maximum across consecutive intervals". The model reads these as Zircon's
// WritebackEndLocked does: only intervals whose start lies in the range are cleaned, from their
// start. False also accepts cleaning the awaiting part inside the range of an interval that starts
// before it.
constexpr bool kEndTrimsOnlyFromStart = true;

inline uint64_t CeilPages(uint64_t bytes) { return (bytes + kP - 1) / kP; }

inline std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
inline std::string Format(const char* fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

inline const char* Str(Status s) { return StatusString(s); }

// ---- Deterministic randomness (the same sequence on every standard library) ----

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {}
  uint64_t Next() {  // splitmix64
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + Below(hi - lo + 1); }  // inclusive
  bool Percent(uint64_t p) { return Below(100) < p; }
  void Fill(uint8_t* out, size_t len) {
    for (size_t i = 0; i < len; i += 8) {
      const uint64_t word = Next();
      std::memcpy(out + i, &word, std::min<size_t>(8, len - i));
    }
  }

 private:
  uint64_t state_;
};

// ---- The reference model ----

enum class Slot : uint8_t { kAbsent, kClean, kDirty, kAwaitingClean, kMarker, kZero };

inline bool IsReal(Slot s) {
  return s == Slot::kClean || s == Slot::kDirty || s == Slot::kAwaitingClean;
}
inline bool IsPresent(Slot s) { return s != Slot::kAbsent; }
// 10.3: the slots a write (or OP_DIRTY) turns into Dirty pages.
inline bool IsToBeDirtied(Slot s) {
  return s == Slot::kClean || s == Slot::kAwaitingClean || s == Slot::kMarker || s == Slot::kZero;
}
inline char SlotChar(Slot s) {
  switch (s) {
    case Slot::kAbsent: return '.';
    case Slot::kClean: return 'c';
    case Slot::kDirty: return 'D';
    case Slot::kAwaitingClean: return 'A';
    case Slot::kMarker: return 'm';
    case Slot::kZero: return 'z';
  }
  return '?';
}

using PageData = std::shared_ptr<const std::vector<uint8_t>>;  // null: a page of zeros

// A dirty zero range [first, end) (pages). `lo` and `hi` bound the absolute end of its
// awaiting-clean extent (10.5: "an awaiting-clean length measured from its start"); a value at
// or below `first` means nothing is awaiting clean. lo == hi: the spec determines it.
struct ZeroInterval {
  uint64_t first, end;
  uint64_t lo, hi;
};

struct ModelVmo {
  uint64_t key = 0;
  uint32_t options = 0;
  bool trap = false, resizable = false, detached = false, modified = false;
  uint64_t pages = 0;
  std::vector<Slot> slot;
  std::vector<PageData> data;  // content of real pages
  std::vector<ZeroInterval> zeros;
};

// The one request an in-flight access is waiting on (a primary: nothing else is outstanding).
struct Request {
  bool active = false;
  bool completed = false;  // completed by the pager action being applied
  bool dirty = false;      // DIRTY, else READ
  uint64_t off = 0, len = 0;
  uint64_t pending = 0;
  uint64_t wake = kNoWake;  // request-relative early-wake page (reads)
  Status status = Status::kOk;
  std::vector<bool> resolved;  // pages reported resolved (the bitmap an implementation may use)
  bool fresh = true;           // nothing resolved since its packet
  bool early_woken = false;
};

struct Access {
  bool active = false;
  bool write = false;
  size_t vmo = 0;
  uint64_t offset = 0, len = 0, pos = 0;  // bytes
  std::vector<uint8_t> data;              // the source of a write; what a read must return
  Request req;
  bool woken = false;
  Status wake_status = Status::kOk;
  bool need_packet = false;  // a new request was populated: its packet must arrive
  bool done = false;
  Status result = Status::kOk;
  bool ambiguous = false;  // the spec does not determine what happens next
};

enum class Op {
  kRead,
  kWrite,
  kSupply,
  kFail,
  kOpDirty,
  kWritebackBegin,
  kWritebackEnd,
  kZero,
  kSetSize,
  kDetach,
  kQueryRanges,
  kQueryStats,
  kRecreate,
  kCheckContent,
};

struct Action {
  Op op = Op::kCheckContent;
  size_t vmo = 0;
  // Pages for the pager ops and OP_ZERO; bytes for accesses, queries and SetSize (len).
  uint64_t off = 0, len = 0;
  int method = 0;  // supply: 0 aux via UserPager (pattern), 1 buffer, 2 aux with holes
  uint64_t aux_first = 0;
  std::vector<bool> committed;                  // supply method 2
  std::shared_ptr<std::vector<uint8_t>> bytes;  // supply methods 1 and 2; write source
  uint64_t code = 0;                            // OP_FAIL data
  // WRITEBACK_BEGIN: kVmoDirtyRangeIsZero; stats: reset; query: count avail; recreate: via
  // a duplicate handle.
  bool flag = false;
  uint64_t entries = 0, slack = 0;  // query buffer
  bool want_actual = true;
  uint32_t options = 0;  // recreate
};

inline bool IsValidFailCode(uint64_t data) {
  const auto value = static_cast<int64_t>(data);
  if (value < INT32_MIN || value > INT32_MAX) return false;
  switch (static_cast<Status>(static_cast<int32_t>(value))) {
    case Status::kIo:
    case Status::kIoDataIntegrity:
    case Status::kBadState:
    case Status::kNoSpace:
    case Status::kBufferTooSmall: return true;
    default: return false;
  }
}

inline PageData PatternData(uint64_t key, uint64_t page) {
  auto out = std::make_shared<std::vector<uint8_t>>(kP);
  UserPager::Pattern(key, page, out->data());
  return out;
}

// Section 13: maximal runs of Dirty/AwaitingClean pages (options 0) and of zero-range pages
// (kVmoDirtyRangeIsZero) in pages [first, last), in page units.
inline std::vector<VmoDirtyRange> ModelDirtyRanges(const ModelVmo& v, uint64_t first,
                                                   uint64_t last) {
  std::vector<VmoDirtyRange> out;
  auto cls = [&](uint64_t p) {
    const Slot s = v.slot[p];
    if (s == Slot::kDirty || s == Slot::kAwaitingClean) return 1;
    if (s == Slot::kZero) return 2;
    return 0;
  };
  for (uint64_t p = first; p < last;) {
    const int c = cls(p);
    uint64_t q = p + 1;
    while (q < last && cls(q) == c) ++q;
    if (c != 0) out.push_back({p, q - p, c == 2 ? kVmoDirtyRangeIsZero : 0});
    p = q;
  }
  return out;
}

inline std::string RangesString(const std::vector<VmoDirtyRange>& ranges) {
  std::string out;
  for (const VmoDirtyRange& r : ranges) {
    out += Format("{%llu,%llu,%s}", static_cast<unsigned long long>(r.offset),
                  static_cast<unsigned long long>(r.length), r.options ? "Z" : "0");
  }
  return out.empty() ? "{}" : out;
}

inline std::string SlotMap(const ModelVmo& v) {
  std::string out;
  for (uint64_t p = 0; p < v.pages; ++p) out += SlotChar(v.slot[p]);
  for (const ZeroInterval& z : v.zeros) {
    if (z.hi > z.first) {
      out += Format(" z[%llu,%llu)aw", static_cast<unsigned long long>(z.first),
                    static_cast<unsigned long long>(z.end));
      out += z.lo == z.hi ? Format("%llu", static_cast<unsigned long long>(z.lo))
                          : Format("[%llu..%llu]", static_cast<unsigned long long>(z.lo),
                                   static_cast<unsigned long long>(z.hi));
    }
  }
  if (v.detached) out += " detached";
  return out;
}

class Model {
 public:
  std::vector<ModelVmo> vmos;
  Access access;
  std::string error;  // a library outcome outside what the spec allows (uncertain cases)
  std::string note;   // uncertain outcomes taken from the library, for the trace

  // Applies a pager-side action; returns the status the library must return. For an
  // uncertain WRITEBACK_END, `observe_zero` gives the library's zero-range pages afterwards.
  Status Apply(const Action& a, const std::function<std::vector<bool>()>& observe_zero);
  // Runs the access from its current position until it finishes or waits on a request.
  void Run();
  // After a pager action: finishes the bookkeeping and lets a woken access go on.
  void Continue();

  void CopyOut(const ModelVmo& v, uint64_t from, uint64_t to, uint8_t* out) const {
    while (from < to) {
      const uint64_t p = from / kP;
      const uint64_t in_page = from % kP;
      const uint64_t n = std::min(to - from, kP - in_page);
      const PageData& d = v.data[p];
      if (IsReal(v.slot[p]) && d) {
        std::memcpy(out, d->data() + in_page, n);
      } else {
        std::memset(out, 0, n);
      }
      out += n;
      from += n;
    }
  }

 private:
  static void CopyIn(ModelVmo& v, uint64_t from, uint64_t to, const uint8_t* in) {
    while (from < to) {
      const uint64_t p = from / kP;
      const uint64_t in_page = from % kP;
      const uint64_t n = std::min(to - from, kP - in_page);
      auto page = v.data[p] ? std::make_shared<std::vector<uint8_t>>(*v.data[p])
                            : std::make_shared<std::vector<uint8_t>>(kP, 0);
      std::memcpy(page->data() + in_page, in, n);
      v.data[p] = std::move(page);
      in += n;
      from += n;
    }
  }

  // ---- Zero intervals (10.4, 10.5) ----

  // Takes pages [p, q) out of the zero intervals (the caller gives them new kinds). A piece
  // left of the cut keeps its awaiting-clean extent. A piece right of it keeps it if the cut
  // began at the interval's start; after a cut in the middle the spec only says pieces "keep
  // inheriting the original start's length" through WRITEBACK_END's running maximum, so on
  // its own the piece may or may not be awaiting clean.
  static void CutZero(ModelVmo& v, uint64_t p, uint64_t q) {
    std::vector<ZeroInterval> out;
    for (const ZeroInterval& z : v.zeros) {
      if (z.end <= p || z.first >= q) {
        out.push_back(z);
        continue;
      }
      const uint64_t cp = std::max(p, z.first), cq = std::min(q, z.end);
      if (z.first < cp) out.push_back({z.first, cp, z.lo, z.hi});
      if (cq < z.end) {
        if (cp == z.first) {
          out.push_back({cq, z.end, std::max(z.lo, cq), std::max(z.hi, cq)});
        } else {
          out.push_back({cq, z.end, cq, std::max(z.hi, cq)});
        }
      }
    }
    v.zeros = std::move(out);
  }

  // Makes [f, g) (slots that are neither markers nor zero) a dirty zero range, merging with
  // a touching interval on either side ("merging with neighbours/the tail"). The merged
  // interval keeps the left neighbour's awaiting-clean extent (its start is unchanged); an
  // implementation may or may not clip it to the old end, and may or may not keep a right
  // neighbour's: bounds.
  static void AddZero(ModelVmo& v, uint64_t f, uint64_t g) {
    std::vector<ZeroInterval> out;
    const ZeroInterval* left = nullptr;
    const ZeroInterval* right = nullptr;
    for (const ZeroInterval& z : v.zeros) {
      if (z.end == f) {
        left = &z;
      } else if (z.first == g) {
        right = &z;
      }
    }
    ZeroInterval merged{left ? left->first : f, right ? right->end : g, 0, 0};
    merged.lo = left ? std::min(left->lo, left->end) : merged.first;
    merged.hi = left ? left->hi : merged.first;
    if (right && right->hi > right->first) merged.hi = std::max(merged.hi, right->hi);
    merged.lo = std::max(merged.lo, merged.first);
    merged.hi = std::max(merged.hi, merged.lo);
    for (const ZeroInterval& z : v.zeros) {
      if (&z != left && &z != right) out.push_back(z);
    }
    out.push_back(merged);
    std::sort(out.begin(), out.end(),
              [](const ZeroInterval& a, const ZeroInterval& b) { return a.first < b.first; });
    v.zeros = std::move(out);
    for (uint64_t p = f; p < g; ++p) {
      v.slot[p] = Slot::kZero;
      v.data[p] = nullptr;
    }
  }

  static void Materialize(ModelVmo& v, uint64_t p) {
    if (v.slot[p] == Slot::kZero) CutZero(v, p, p + 1);
    if (!IsReal(v.slot[p])) v.data[p] = nullptr;
    v.slot[p] = Slot::kDirty;
  }

  // ---- Request bookkeeping (3.4, 6.2, 7.2) ----

  bool Outstanding(size_t vi) const {
    return access.active && !access.done && access.vmo == vi && access.req.active;
  }

  void Resolve(size_t vi, bool dirty, uint64_t off, uint64_t len, Status status) {
    if (!Outstanding(vi) || vmos[vi].detached || len == 0) return;
    Request& r = access.req;
    if (r.dirty != dirty) return;
    const uint64_t s = std::max(off, r.off), e = std::min(off + len, r.off + r.len);
    if (s >= e) return;
    const uint64_t rs = s - r.off, re = e - r.off;
    for (uint64_t i = rs; i < re; ++i) r.resolved[i] = true;
    r.fresh = false;
    if (r.completed) return;  // only the bitmap still matters
    if (status != Status::kOk && (rs == 0 || rs == r.wake)) r.status = status;
    const uint64_t fulfilled = re - rs;
    if (fulfilled < r.pending) {
      if (rs == r.wake) {  // early wake (reads only: writes have no wake offset)
        r.wake = re;
        r.early_woken = true;
        access.woken = true;
        access.wake_status = r.status;
      }
      r.pending -= fulfilled;
    } else {
      r.completed = true;
      access.woken = true;
      access.wake_status = r.status;
    }
  }

  // 10.6: OP_DIRTY's errors resolve the DIRTY requests of the in-bounds range anyway (18.3:
  // spuriously, so that their waiters re-evaluate), page by page as any resolution: a request
  // only partly inside the range keeps waiting for the rest.
  void ResolveAnyway(size_t vi, uint64_t off, uint64_t len) {
    Resolve(vi, /*dirty=*/true, off, len, Status::kOk);
  }

  // Detach (9.1) completes it outright.
  void ForceComplete(size_t vi) {
    if (!Outstanding(vi) || access.req.completed) return;
    Request& r = access.req;
    r.completed = true;
    std::fill(r.resolved.begin(), r.resolved.end(), true);
    access.woken = true;
    access.wake_status = r.status;
  }

  void Finish(Status s) {
    access.done = true;
    access.result = s;
    access.req.active = false;
  }

  void Populate(bool dirty, uint64_t off, uint64_t len) {
    Request& r = access.req;
    if (vmos[access.vmo].detached) return Finish(Status::kBadState);  // section 3.1 step 2
    if (r.active) {
      // An early-woken read asking again inside its request waits on it (6.3).
      if (r.dirty == dirty && off >= r.off && off < r.off + r.len) {
        r.wake = off - r.off;
        return;
      }
      r.active = false;  // cancelled; a fresh request follows
    }
    r = Request{};
    r.active = true;
    r.dirty = dirty;
    r.off = off;
    r.len = len;
    r.pending = len;
    r.wake = access.write ? kNoWake : 0;
    r.resolved.assign(len, false);
    access.need_packet = true;
  }
};

}  // namespace upager::testing::vmo_model

#endif  // UPAGER_TESTS_VMO_MODEL_H_
