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
//  * OP_DIRTY failures and shrinks that cover only part of an outstanding request (10.6: the
//    waiters "in the range" are woken) are never generated while a request is outstanding;
//  * after an early wake only supplies follow until the read completes (the reader's own
//    retry is not observable, and anything else would race with it);
//  * the awaiting-clean extent of zero intervals is tracked as bounds [lo, hi]; it becomes
//    uncertain where section 10.5 does not say what happens (a piece split off after a write,
//    intervals merged by OP_ZERO or growth). WRITEBACK_END then accepts any outcome within
//    the bounds (read back through the dirty-range query) and the model follows it.
//
// Environment: UPAGER_MODEL_SEED=n runs only seed n; UPAGER_MODEL_SEEDS=n runs seeds
// 1..n (default 200); UPAGER_MODEL_OPS=n operations per seed (default 150);
// UPAGER_MODEL_TRACE=1 prints the trace of every seed run (failures always print theirs).
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

namespace upager::testing {
namespace {

constexpr uint64_t kP = kPageSize;
constexpr uint64_t kNoWake = ~uint64_t{0};
constexpr uint64_t kMaxModelPages = 40;     // resizes stay at or below this
constexpr uint64_t kWriteBatchPages = 256;  // 10.2: a write asks for at most 256 pages
constexpr auto kPacketTimeout = std::chrono::seconds(5);

// 10.4: WRITEBACK_END removes awaiting-clean zero ranges "or trimmed from their start"; (10.5):
// it cleans "the parts of zero ranges lying before start + awaiting-clean length, tracking the
// maximum across consecutive intervals". The model reads these as Zircon's WritebackEndLocked
// does: only intervals whose start lies in the range are cleaned, from their start. False
// also accepts cleaning the awaiting part inside the range of an interval that starts before
// it.
constexpr bool kEndTrimsOnlyFromStart = true;

uint64_t CeilPages(uint64_t bytes) { return (bytes + kP - 1) / kP; }

std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

const char* Str(Status s) { return StatusString(s); }

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

bool IsReal(Slot s) { return s == Slot::kClean || s == Slot::kDirty || s == Slot::kAwaitingClean; }
bool IsPresent(Slot s) { return s != Slot::kAbsent; }
// 10.3: the slots a write (or OP_DIRTY) turns into Dirty pages.
bool IsToBeDirtied(Slot s) {
  return s == Slot::kClean || s == Slot::kAwaitingClean || s == Slot::kMarker || s == Slot::kZero;
}
char SlotChar(Slot s) {
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

bool IsValidFailCode(uint64_t data) {
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

PageData PatternData(uint64_t key, uint64_t page) {
  auto out = std::make_shared<std::vector<uint8_t>>(kP);
  UserPager::Pattern(key, page, out->data());
  return out;
}

// Section 13: maximal runs of Dirty/AwaitingClean pages (options 0) and of zero-range pages
// (kVmoDirtyRangeIsZero) in pages [first, last), in page units.
std::vector<VmoDirtyRange> ModelDirtyRanges(const ModelVmo& v, uint64_t first, uint64_t last) {
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

std::string RangesString(const std::vector<VmoDirtyRange>& ranges) {
  std::string out;
  for (const VmoDirtyRange& r : ranges) {
    out += Format("{%llu,%llu,%s}", static_cast<unsigned long long>(r.offset),
                  static_cast<unsigned long long>(r.length), r.options ? "Z" : "0");
  }
  return out.empty() ? "{}" : out;
}

std::string SlotMap(const ModelVmo& v) {
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

  // 10.6: OP_DIRTY's errors resolve the DIRTY requests of the in-bounds range anyway. Which
  // waiters that wakes is only clear for requests wholly inside the range.
  void ResolveAnyway(size_t vi, uint64_t off, uint64_t len) {
    if (Outstanding(vi) && access.req.dirty) {
      const Request& r = access.req;
      const bool intersects = off < r.off + r.len && r.off < off + len;
      const bool covers = off <= r.off && r.off + r.len <= off + len;
      if (intersects && !covers) access.ambiguous = true;
    }
    Resolve(vi, /*dirty=*/true, off, len, Status::kOk);
  }

  // Detach (9.1) and a shrink past the request (18.6) complete it outright.
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

void Model::Run() {
  Access& a = access;
  ModelVmo& v = vmos[a.vmo];
  const uint64_t end = a.offset + a.len;
  for (;;) {
    if (end > v.pages * kP) return Finish(Status::kOutOfRange);
    if (a.pos >= end) return Finish(Status::kOk);
    const uint64_t first = a.pos / kP;
    const uint64_t last = CeilPages(end);
    if (!a.write) {
      uint64_t run = first;
      while (run < last && IsPresent(v.slot[run])) ++run;
      const uint64_t copy_end = std::min(end, run * kP);
      if (copy_end > a.pos) {
        CopyOut(v, a.pos, copy_end, a.data.data() + (a.pos - a.offset));
        a.pos = copy_end;
        continue;
      }
      // 10.2: a read asks for the absent run up to its end.
      uint64_t q = first;
      while (q < last && v.slot[q] == Slot::kAbsent) ++q;
      return Populate(/*dirty=*/false, first, q - first);
    }
    const uint64_t batch_end = std::min(last, first + kWriteBatchPages);
    const Slot kind = v.slot[first];
    if (kind == Slot::kAbsent) {
      uint64_t q = first;
      while (q < batch_end && v.slot[q] == Slot::kAbsent) ++q;
      return Populate(/*dirty=*/false, first, q - first);
    }
    if (kind != Slot::kDirty) {
      uint64_t q = first;
      while (q < batch_end && IsToBeDirtied(v.slot[q])) ++q;
      if (v.trap) return Populate(/*dirty=*/true, first, q - first);
      for (uint64_t p = first; p < q; ++p) Materialize(v, p);
    }
    uint64_t d = first;
    while (d < last && v.slot[d] == Slot::kDirty) ++d;
    const uint64_t copy_end = std::min(end, d * kP);
    CopyIn(v, a.pos, copy_end, a.data.data() + (a.pos - a.offset));
    v.modified = true;
    a.pos = copy_end;
  }
}

void Model::Continue() {
  Access& a = access;
  if (!a.active || a.done) return;
  Request& r = a.req;
  if (r.completed) {
    // Completed by length (4.1) while a page was never resolved: an implementation tracking
    // pages would keep waiting. The generator avoids this.
    if (std::find(r.resolved.begin(), r.resolved.end(), false) != r.resolved.end()) {
      a.ambiguous = true;
    }
    r.completed = false;
    r.active = false;
  }
  if (!a.woken) return;
  a.woken = false;
  if (a.wake_status != Status::kOk) return Finish(a.wake_status);
  Run();
}

Status Model::Apply(const Action& a, const std::function<std::vector<bool>()>& observe_zero) {
  ModelVmo& v = vmos[a.vmo];
  const size_t vi = a.vmo;
  switch (a.op) {
    case Op::kSupply: {
      if (a.off + a.len > v.pages) return Status::kOutOfRange;
      if (v.detached) return Status::kBadState;
      uint64_t run_start = a.off;
      for (uint64_t i = 0; i <= a.len; ++i) {
        const uint64_t p = a.off + i;
        if (i < a.len && v.slot[p] == Slot::kAbsent) {
          if (a.method == 2 && !a.committed[i]) {
            v.slot[p] = Slot::kMarker;
            v.data[p] = nullptr;
          } else {
            v.slot[p] = Slot::kClean;
            if (a.method == 0) {
              v.data[p] = PatternData(v.key, p);
            } else {
              v.data[p] = std::make_shared<std::vector<uint8_t>>(
                  a.bytes->begin() + static_cast<ptrdiff_t>(i * kP),
                  a.bytes->begin() + static_cast<ptrdiff_t>((i + 1) * kP));
            }
          }
          continue;
        }
        // 3.4 / 4.1: only the runs actually filled are reported.
        if (p > run_start) Resolve(vi, /*dirty=*/false, run_start, p - run_start, Status::kOk);
        run_start = p + 1;
      }
      return Status::kOk;
    }
    case Op::kFail: {
      if (!IsValidFailCode(a.code)) return Status::kInvalidArgs;
      if (a.off + a.len > v.pages) return Status::kOutOfRange;
      if (v.detached) return Status::kBadState;
      const auto status = static_cast<Status>(static_cast<int32_t>(a.code));
      Resolve(vi, /*dirty=*/false, a.off, a.len, status);
      if (v.trap) Resolve(vi, /*dirty=*/true, a.off, a.len, status);
      return Status::kOk;  // 7.2: failing without requests is a no-op
    }
    case Op::kOpDirty: {
      if (!v.trap) return Status::kNotSupported;
      const uint64_t end = a.off + a.len;
      if (a.off > v.pages || end > v.pages) {
        if (a.off < v.pages) ResolveAnyway(vi, a.off, v.pages - a.off);
        return Status::kOutOfRange;
      }
      if (v.detached) return Status::kBadState;
      for (uint64_t p = a.off; p < end; ++p) {
        if (v.slot[p] == Slot::kAbsent) {
          ResolveAnyway(vi, a.off, a.len);
          return Status::kNotFound;
        }
      }
      for (uint64_t p = a.off; p < end;) {
        const bool dirty = v.slot[p] == Slot::kDirty;
        uint64_t q = p;
        while (q < end && (v.slot[q] == Slot::kDirty) == dirty) ++q;
        if (!dirty) {
          for (uint64_t x = p; x < q; ++x) Materialize(v, x);
          Resolve(vi, /*dirty=*/true, p, q - p, Status::kOk);
        }
        p = q;
      }
      return Status::kOk;
    }
    case Op::kWritebackBegin: {
      const uint64_t b = a.off, e = a.off + a.len;
      if (e > v.pages) return Status::kOutOfRange;
      if (!a.flag) {
        for (uint64_t p = b; p < e; ++p) {
          if (v.slot[p] == Slot::kDirty) v.slot[p] = Slot::kAwaitingClean;
        }
      }
      // 10.5: an interval whose start lies in the range awaits clean up to what is covered.
      for (ZeroInterval& z : v.zeros) {
        if (z.first >= b && z.first < e) {
          const uint64_t covered = std::min(e, z.end);
          z.lo = std::max(z.lo, covered);
          z.hi = std::max(z.hi, covered);
        }
      }
      return Status::kOk;
    }
    case Op::kWritebackEnd: {
      const uint64_t b = a.off, e = a.off + a.len;
      if (e > v.pages) return Status::kOutOfRange;
      for (uint64_t p = b; p < e; ++p) {
        if (v.slot[p] == Slot::kAwaitingClean) v.slot[p] = Slot::kClean;
      }
      // 10.4/10.5: intervals whose start lies in the range are removed or trimmed from their
      // start, up to the running maximum of the awaiting-clean ends seen so far; what
      // remains keeps its own extent. Intervals starting before the range are left alone.
      std::vector<bool> lib_zero;
      bool observed = false;
      uint64_t r_lo = b, r_hi = b;
      std::vector<ZeroInterval> out;
      for (const ZeroInterval& z : v.zeros) {
        if (z.first < b && z.end > b && !kEndTrimsOnlyFromStart) {
          // The alternative reading: the awaiting part inside the range is cleaned even
          // though the interval starts before it.
          const uint64_t lim = std::min(e, z.end);
          const uint64_t y_hi = std::clamp(z.hi, b, lim);
          uint64_t y = b;
          if (y_hi > b && observe_zero) {
            if (!observed) {
              lib_zero = observe_zero();
              observed = true;
            }
            while (y < lim && y < lib_zero.size() && !lib_zero[y]) ++y;
            y = std::min(y, y_hi);
          }
          for (uint64_t p = b; p < y; ++p) {
            v.slot[p] = Slot::kAbsent;
            v.data[p] = nullptr;
          }
          if (y == b) {
            out.push_back(z);
          } else {
            out.push_back({z.first, b, z.lo, z.hi});
            if (y < z.end) out.push_back({y, z.end, std::max(z.lo, y), std::max(z.hi, y)});
          }
          continue;
        }
        if (z.first < b || z.first >= e) {
          out.push_back(z);
          continue;
        }
        r_lo = std::max(r_lo, z.lo);
        r_hi = std::max(r_hi, z.hi);
        const uint64_t lim = std::min(e, z.end);
        const uint64_t x_lo = std::clamp(r_lo, z.first, lim);
        const uint64_t x_hi = std::clamp(r_hi, z.first, lim);
        uint64_t x = x_lo;
        if (x_lo != x_hi && observe_zero) {
          if (!observed) {
            lib_zero = observe_zero();
            observed = true;
          }
          x = z.first;
          while (x < z.end && x < lib_zero.size() && !lib_zero[x]) ++x;
          note +=
              Format(" [uncertain end of z[%llu,%llu): %llu..%llu, library %llu]",
                     static_cast<unsigned long long>(z.first),
                     static_cast<unsigned long long>(z.end), static_cast<unsigned long long>(x_lo),
                     static_cast<unsigned long long>(x_hi), static_cast<unsigned long long>(x));
          if (x < x_lo || x > x_hi) {
            error += Format(
                "WRITEBACK_END cleaned zero interval [%llu,%llu) up to page %llu; the spec "
                "allows %llu..%llu. ",
                static_cast<unsigned long long>(z.first), static_cast<unsigned long long>(z.end),
                static_cast<unsigned long long>(x), static_cast<unsigned long long>(x_lo),
                static_cast<unsigned long long>(x_hi));
            x = std::clamp(x, x_lo, x_hi);
          }
        }
        for (uint64_t p = z.first; p < x; ++p) {
          v.slot[p] = Slot::kAbsent;
          v.data[p] = nullptr;
        }
        if (x < z.end) out.push_back({x, z.end, std::max(z.lo, x), std::max(z.hi, x)});
      }
      v.zeros = std::move(out);
      return Status::kOk;
    }
    case Op::kZero: {
      const uint64_t end = a.off + a.len;
      if (end > v.pages) return Status::kOutOfRange;
      std::vector<std::pair<uint64_t, uint64_t>> absent_runs;
      bool changed = false;
      for (uint64_t p = a.off; p < end;) {
        if (v.slot[p] == Slot::kMarker || v.slot[p] == Slot::kZero) {
          ++p;  // already zero: no-op (10.4)
          continue;
        }
        uint64_t q = p;
        while (q < end && v.slot[q] != Slot::kMarker && v.slot[q] != Slot::kZero) ++q;
        for (uint64_t x = p; x < q;) {
          const bool absent = v.slot[x] == Slot::kAbsent;
          uint64_t y = x;
          while (y < q && (v.slot[y] == Slot::kAbsent) == absent) ++y;
          if (absent) absent_runs.emplace_back(x, y);
          x = y;
        }
        AddZero(v, p, q);
        changed = true;
        p = q;
      }
      // Outstanding READs on the range are resolved: readers get zeros.
      for (const auto& [x, y] : absent_runs) Resolve(vi, /*dirty=*/false, x, y - x, Status::kOk);
      if (changed) v.modified = true;
      return Status::kOk;
    }
    case Op::kSetSize: {
      if (!v.resizable) return Status::kUnavailable;
      const uint64_t n = CeilPages(a.len);
      if (n > v.pages) {
        const uint64_t old = v.pages;
        v.slot.resize(n, Slot::kAbsent);
        v.data.resize(n);
        v.pages = n;
        AddZero(v, old, n);  // the new tail reads zero without the pager
      } else if (n < v.pages) {
        if (Outstanding(vi)) {
          const Request& r = access.req;
          if (r.off >= n) {
            ForceComplete(vi);  // 18.6: waiters beyond the new end retry and fail
          } else if (r.off + r.len > n) {
            access.ambiguous = true;
          }
        }
        std::vector<ZeroInterval> out;
        for (ZeroInterval z : v.zeros) {
          if (z.first >= n) continue;
          z.end = std::min(z.end, n);
          out.push_back(z);
        }
        v.zeros = std::move(out);
        v.slot.resize(n);
        v.data.resize(n);
        v.pages = n;
      }
      v.modified = true;
      return Status::kOk;
    }
    case Op::kDetach: {
      // 9.2: idempotent (no second COMPLETE), but every call drops the clean pages, so pages
      // written back since the first one go too.
      ForceComplete(vi);
      v.detached = true;
      for (uint64_t p = 0; p < v.pages; ++p) {
        if (v.slot[p] == Slot::kClean || v.slot[p] == Slot::kMarker) {
          v.slot[p] = Slot::kAbsent;
          v.data[p] = nullptr;
        }
      }
      return Status::kOk;
    }
    default: break;
  }
  return Status::kInternal;
}

// ---- Counters across seeds, printed at the end ----

struct Counters {
  uint64_t ops = 0, accesses = 0, inline_accesses = 0, threaded = 0, packets = 0;
  uint64_t inflight_actions = 0, early_wakes = 0, failed_accesses = 0, detaches = 0;
  uint64_t completes = 0, uncertain_ends = 0, rejected = 0, reads_checked = 0;
};
Counters g_counters;

// ---- One seed ----

class SeedRun {
 public:
  SeedRun(uint64_t seed, int ops) : seed_(seed), ops_(ops), rng_(seed) {}

  bool Run();
  const std::string& error() const { return error_; }
  std::string Trace() const {
    std::string out;
    for (const std::string& line : trace_) out += line + "\n";
    return out;
  }

 private:
  bool Fail(const std::string& msg) {
    if (error_.empty()) error_ = Format("op #%d: ", op_index_) + msg;
    return false;
  }
  void Log(const std::string& line) {
    trace_.push_back(prefix_ + line);
    prefix_.clear();
  }

  bool CreateVmo(size_t index, uint64_t pages, uint32_t options);
  bool Step();
  bool DoAccess(const Action& act);
  bool InFlight(TestThread& thread);
  bool DoPagerOp(const Action& act, bool in_flight);
  bool DoQueryRanges(const Action& act);
  bool DoQueryStats(const Action& act);
  bool DoRecreate(const Action& act);
  bool CheckContent();
  bool CheckAll();
  bool ExpectRequestPacket();
  bool ExpectComplete(uint64_t key);
  bool ExpectNoPacket(const char* when);
  Status LibApply(const Action& act);
  std::vector<bool> LibZeroPages(size_t vi);

  Action GenAccess(bool write);
  Action GenPagerOp(bool in_flight);
  Action GenSupply(size_t vi, uint64_t off, uint64_t len);
  Action GenAnswer(bool forced);
  bool Acceptable(const Action& act);
  bool ChooseInFlight(bool forced, Action* out);
  void GenRange(size_t vi, uint64_t* off, uint64_t* len);
  std::string Describe(const Action& act) const;
  std::string VmoName(size_t vi) const {
    const ModelVmo& v = m_.vmos[vi];
    return Format("v%zu(key %llu%s%s)", vi, static_cast<unsigned long long>(v.key),
                  v.trap ? ",trap" : "", v.resizable ? ",resizable" : "");
  }

  const uint64_t seed_;
  const int ops_;
  Rng rng_;
  UserPager up_;
  std::vector<std::unique_ptr<TestVmo>> tv_;
  Model m_;
  std::vector<std::string> trace_;
  std::string error_;
  std::string prefix_;  // the operation number, for the next trace line
  int op_index_ = -1;
};

bool SeedRun::CreateVmo(size_t index, uint64_t pages, uint32_t options) {
  auto tv = up_.CreateVmo(pages, options);
  if (!tv) return Fail("CreateVmo failed");
  ModelVmo v;
  v.key = tv->key;
  v.options = options;
  v.trap = (options & kVmoTrapDirty) != 0;
  v.resizable = (options & kVmoResizable) != 0;
  v.pages = pages;
  v.slot.assign(pages, Slot::kAbsent);
  v.data.assign(pages, nullptr);
  if (index == tv_.size()) {
    tv_.push_back(std::move(tv));
    m_.vmos.push_back(std::move(v));
  } else {
    tv_[index] = std::move(tv);
    m_.vmos[index] = std::move(v);
  }
  Log(Format("  created %s with %llu pages", VmoName(index).c_str(),
             static_cast<unsigned long long>(pages)));
  return true;
}

uint32_t RandomOptions(Rng& rng) {
  uint32_t options = 0;
  if (rng.Percent(50)) options |= kVmoTrapDirty;
  if (rng.Percent(50)) options |= kVmoResizable;
  return options;
}

bool SeedRun::Run() {
  Log(Format("seed %llu, %d operations", static_cast<unsigned long long>(seed_), ops_));
  const size_t count = 2 + rng_.Below(2);
  for (size_t i = 0; i < count; ++i) {
    if (!CreateVmo(i, rng_.Range(8, 24), RandomOptions(rng_))) return false;
  }
  for (op_index_ = 0; op_index_ < ops_; ++op_index_) {
    if (!Step()) return false;
  }
  ++op_index_;
  Log(Format("#%d final content check, then every VMO closed", op_index_));
  if (!CheckContent()) return false;
  // Closing the last handle of each VMO queues exactly one COMPLETE (9.3), none after a
  // detach (which queued its own).
  for (size_t i = 0; i < tv_.size(); ++i) {
    tv_[i]->vmo.Reset();
    if (!m_.vmos[i].detached && !ExpectComplete(m_.vmos[i].key)) return false;
  }
  return ExpectNoPacket("after closing every VMO");
}

// ---- Packets ----

std::string PacketString(const PortPacket& p) {
  const char* cmd = p.page_request.command == kPagerVmoRead       ? "READ"
                    : p.page_request.command == kPagerVmoDirty    ? "DIRTY"
                    : p.page_request.command == kPagerVmoComplete ? "COMPLETE"
                                                                  : "?";
  return Format("{key %llu type %u status %s %s offset %llu length %llu flags %u rsv %u/%llu}",
                static_cast<unsigned long long>(p.key), p.type, Str(p.status), cmd,
                static_cast<unsigned long long>(p.page_request.offset / kP),
                static_cast<unsigned long long>(p.page_request.length / kP), p.page_request.flags,
                p.page_request.reserved0,
                static_cast<unsigned long long>(p.page_request.reserved1));
}

bool PacketIs(const PortPacket& p, uint64_t key, uint16_t command, uint64_t offset,
              uint64_t length) {
  return p.key == key && p.type == kPktTypePageRequest && p.status == Status::kOk &&
         p.page_request.command == command && p.page_request.flags == 0 &&
         p.page_request.reserved0 == 0 && p.page_request.reserved1 == 0 &&
         p.page_request.offset == offset && p.page_request.length == length;
}

bool SeedRun::ExpectRequestPacket() {
  const Request& r = m_.access.req;
  const uint64_t key = m_.vmos[m_.access.vmo].key;
  const char* cmd = r.dirty ? "DIRTY" : "READ";
  PortPacket p{};
  const Status s = up_.port().Wait(DeadlineAfter(kPacketTimeout), &p);
  ++g_counters.packets;
  if (s != Status::kOk) {
    return Fail(Format("expected packet %s[%llu,+%llu) for key %llu, got none (%s)", cmd,
                       static_cast<unsigned long long>(r.off),
                       static_cast<unsigned long long>(r.len), static_cast<unsigned long long>(key),
                       Str(s)));
  }
  if (!PacketIs(p, key, r.dirty ? kPagerVmoDirty : kPagerVmoRead, r.off * kP, r.len * kP)) {
    return Fail(Format("expected packet %s[%llu,+%llu) for key %llu, got %s", cmd,
                       static_cast<unsigned long long>(r.off),
                       static_cast<unsigned long long>(r.len), static_cast<unsigned long long>(key),
                       PacketString(p).c_str()));
  }
  Log(Format("    packet %s[%llu,+%llu)", cmd, static_cast<unsigned long long>(r.off),
             static_cast<unsigned long long>(r.len)));
  return true;
}

bool SeedRun::ExpectComplete(uint64_t key) {
  PortPacket p{};
  const Status s = up_.port().Wait(DeadlineAfter(kPacketTimeout), &p);
  ++g_counters.completes;
  if (s != Status::kOk) {
    return Fail(Format("expected COMPLETE for key %llu, got none (%s)",
                       static_cast<unsigned long long>(key), Str(s)));
  }
  if (!PacketIs(p, key, kPagerVmoComplete, 0, 0)) {
    return Fail(Format("expected COMPLETE for key %llu, got %s",
                       static_cast<unsigned long long>(key), PacketString(p).c_str()));
  }
  Log(Format("    packet COMPLETE key %llu", static_cast<unsigned long long>(key)));
  return true;
}

bool SeedRun::ExpectNoPacket(const char* when) {
  PortPacket p{};
  const Status s = up_.port().Wait(DeadlineAfter(std::chrono::nanoseconds(0)), &p);
  if (s == Status::kOk)
    return Fail(Format("unexpected packet %s: %s", when, PacketString(p).c_str()));
  if (s != Status::kTimedOut) return Fail(Format("port poll %s returned %s", when, Str(s)));
  return true;
}

// ---- Comparisons ----

bool SeedRun::CheckAll() {
  for (size_t i = 0; i < tv_.size(); ++i) {
    const ModelVmo& v = m_.vmos[i];
    const TestVmo& t = *tv_[i];
    uint64_t size = 0;
    if (Status s = t.vmo.GetSize(&size); s != Status::kOk || size != v.pages * kP) {
      return Fail(Format("%s: GetSize %s %llu, model %llu pages", VmoName(i).c_str(), Str(s),
                         static_cast<unsigned long long>(size),
                         static_cast<unsigned long long>(v.pages)));
    }
    VmoInfo info{};
    uint64_t real = 0;
    for (Slot s : v.slot) real += IsReal(s) ? 1 : 0;
    if (Status s = t.vmo.GetInfo(&info);
        s != Status::kOk || info.committed_bytes != real * kP || info.size_bytes != size) {
      return Fail(Format("%s: committed_bytes %llu pages (size %llu), model %llu pages [%s]",
                         VmoName(i).c_str(),
                         static_cast<unsigned long long>(info.committed_bytes / kP),
                         static_cast<unsigned long long>(info.size_bytes / kP),
                         static_cast<unsigned long long>(real), SlotMap(v).c_str()));
    }
    const std::vector<VmoDirtyRange> got = up_.DirtyRanges(t);
    const std::vector<VmoDirtyRange> want = ModelDirtyRanges(v, 0, v.pages);
    bool same = got.size() == want.size();
    for (size_t k = 0; same && k < got.size(); ++k) {
      same = got[k].offset == want[k].offset && got[k].length == want[k].length &&
             got[k].options == want[k].options;
    }
    if (!same) {
      return Fail(Format("%s: dirty ranges %s, model %s [%s]", VmoName(i).c_str(),
                         RangesString(got).c_str(), RangesString(want).c_str(),
                         SlotMap(v).c_str()));
    }
    PagerVmoStats stats{};
    if (Status s = up_.pager().QueryVmoStats(t.vmo, 0, &stats, sizeof(stats));
        s != Status::kOk || (stats.modified == kPagerVmoStatsModified) != v.modified) {
      return Fail(Format("%s: modified %u (%s), model %d", VmoName(i).c_str(), stats.modified,
                         Str(s), v.modified));
    }
  }
  return true;
}

// Reads back every present run of every VMO (present slots never need the pager).
bool SeedRun::CheckContent() {
  for (size_t i = 0; i < tv_.size(); ++i) {
    const ModelVmo& v = m_.vmos[i];
    for (uint64_t p = 0; p < v.pages;) {
      if (!IsPresent(v.slot[p])) {
        ++p;
        continue;
      }
      uint64_t q = p;
      while (q < v.pages && IsPresent(v.slot[q])) ++q;
      std::vector<uint8_t> got((q - p) * kP), want((q - p) * kP);
      m_.CopyOut(v, p * kP, q * kP, want.data());
      const Status s = tv_[i]->vmo.Read(got.data(), p * kP, got.size());
      ++g_counters.reads_checked;
      if (s != Status::kOk) {
        // A read that blocked left its request's packet behind.
        PortPacket packet{};
        std::string left_behind;
        if (up_.port().Wait(DeadlineAfter(std::chrono::nanoseconds(0)), &packet) == Status::kOk) {
          left_behind = " after sending " + PacketString(packet);
        }
        return Fail(Format("%s: reading present pages [%llu,%llu) returned %s%s [%s]",
                           VmoName(i).c_str(), static_cast<unsigned long long>(p),
                           static_cast<unsigned long long>(q), Str(s), left_behind.c_str(),
                           SlotMap(v).c_str()));
      }
      if (got != want) {
        uint64_t k = 0;
        while (got[k] == want[k]) ++k;
        return Fail(Format("%s: content of page %llu differs at byte %llu (%u, model %u) [%s]",
                           VmoName(i).c_str(), static_cast<unsigned long long>(p + k / kP),
                           static_cast<unsigned long long>(k % kP), got[k], want[k],
                           SlotMap(v).c_str()));
      }
      p = q;
    }
    if (!ExpectNoPacket("after reading present pages")) return false;
  }
  return true;
}

std::vector<bool> SeedRun::LibZeroPages(size_t vi) {
  std::vector<bool> zero(m_.vmos[vi].pages, false);
  for (const VmoDirtyRange& r : up_.DirtyRanges(*tv_[vi])) {
    if (r.options != kVmoDirtyRangeIsZero) continue;
    for (uint64_t p = r.offset; p < r.offset + r.length && p < zero.size(); ++p) zero[p] = true;
  }
  return zero;
}

// ---- Actions on the library ----

Status SeedRun::LibApply(const Action& a) {
  TestVmo& t = *tv_[a.vmo];
  Pager& pager = up_.pager();
  switch (a.op) {
    case Op::kSupply:
      if (a.method == 0) return up_.SupplyPages(t, a.off, a.len, a.aux_first);
      if (a.method == 1) {
        return pager.SupplyPagesFromBuffer(t.vmo, a.off * kP, a.len * kP, a.bytes->data());
      } else {
        Vmo aux;
        if (Vmo::Create((a.aux_first + a.len) * kP, 0, &aux) != Status::kOk)
          return Status::kInternal;
        for (uint64_t i = 0; i < a.len; ++i) {
          if (a.committed[i]) aux.Write(a.bytes->data() + i * kP, (a.aux_first + i) * kP, kP);
        }
        const Status s = pager.SupplyPages(t.vmo, a.off * kP, a.len * kP, aux, a.aux_first * kP);
        VmoInfo info{};
        aux.GetInfo(&info);
        if (s == Status::kOk && info.committed_bytes != 0) {
          Fail(Format("the aux VMO still holds %llu pages after a supply",
                      static_cast<unsigned long long>(info.committed_bytes / kP)));
        }
        return s;
      }
    case Op::kFail: return pager.OpRange(kPagerOpFail, t.vmo, a.off * kP, a.len * kP, a.code);
    case Op::kOpDirty: return pager.OpRange(kPagerOpDirty, t.vmo, a.off * kP, a.len * kP, 0);
    case Op::kWritebackBegin:
      return pager.OpRange(kPagerOpWritebackBegin, t.vmo, a.off * kP, a.len * kP,
                           a.flag ? kVmoDirtyRangeIsZero : 0);
    case Op::kWritebackEnd:
      return pager.OpRange(kPagerOpWritebackEnd, t.vmo, a.off * kP, a.len * kP, 0);
    case Op::kZero: return t.vmo.OpRange(kVmoOpZero, a.off * kP, a.len * kP);
    case Op::kSetSize: return t.vmo.SetSize(a.len);
    case Op::kDetach: return up_.DetachVmo(t);
    default: break;
  }
  return Status::kInternal;
}

bool SeedRun::DoPagerOp(const Action& act, bool in_flight) {
  const bool was_detached = m_.vmos[act.vmo].detached;
  const Status got = LibApply(act);
  if (!error_.empty()) return false;
  m_.note.clear();
  const Status want = m_.Apply(act, [this, &act] { return LibZeroPages(act.vmo); });
  if (!m_.note.empty()) ++g_counters.uncertain_ends;
  m_.Continue();
  Log(Format("%s%s -> %s%s  [%s]", in_flight ? "    " : "", Describe(act).c_str(), Str(got),
             m_.note.c_str(), SlotMap(m_.vmos[act.vmo]).c_str()));
  if (!m_.error.empty()) return Fail(m_.error);
  if (got != want) {
    return Fail(Format("%s returned %s, model %s", Describe(act).c_str(), Str(got), Str(want)));
  }
  if (act.op == Op::kDetach && !was_detached) {
    ++g_counters.detaches;
    // 9.2: exactly one COMPLETE; nothing else is outstanding after the detach.
    if (!ExpectComplete(m_.vmos[act.vmo].key)) return false;
  }
  return true;
}

bool SeedRun::DoQueryRanges(const Action& a) {
  const ModelVmo& v = m_.vmos[a.vmo];
  std::vector<VmoDirtyRange> buf(a.entries + 1, VmoDirtyRange{0xABABABAB, 0xABABABAB, 0xAB});
  const size_t buffer_size = a.entries * sizeof(VmoDirtyRange) + a.slack;
  void* buffer = buffer_size == 0 ? nullptr : buf.data();
  size_t actual = 12345, avail = 12345;
  const Status got =
      up_.pager().QueryDirtyRanges(tv_[a.vmo]->vmo, a.off, a.len, buffer, buffer_size,
                                   a.want_actual ? &actual : nullptr, a.flag ? &avail : nullptr);
  Log(Format("%s -> %s actual %zu avail %zu", Describe(a).c_str(), Str(got),
             a.want_actual ? actual : 0, a.flag ? avail : 0));
  if (a.off + a.len > v.pages * kP) {
    if (got != Status::kOutOfRange) return Fail(Format("query out of range returned %s", Str(got)));
    return true;
  }
  if (got != Status::kOk) return Fail(Format("QueryDirtyRanges returned %s", Str(got)));
  std::vector<VmoDirtyRange> want = ModelDirtyRanges(v, a.off / kP, CeilPages(a.off + a.len));
  const size_t written = std::min<size_t>(want.size(), a.entries);
  if (a.want_actual && actual != written) {
    return Fail(Format("QueryDirtyRanges actual %zu, expected %zu of %s", actual, written,
                       RangesString(want).c_str()));
  }
  if (a.flag && avail != want.size()) {
    return Fail(Format("QueryDirtyRanges avail %zu, expected %zu: %s", avail, want.size(),
                       RangesString(want).c_str()));
  }
  for (size_t k = 0; k <= a.entries; ++k) {
    const VmoDirtyRange& g = buf[k];
    if (k < written) {
      if (g.offset != want[k].offset * kP || g.length != want[k].length * kP ||
          g.options != want[k].options) {
        return Fail(Format("QueryDirtyRanges entry %zu is {%llu,%llu,%llu}, expected %s", k,
                           static_cast<unsigned long long>(g.offset / kP),
                           static_cast<unsigned long long>(g.length / kP),
                           static_cast<unsigned long long>(g.options), RangesString(want).c_str()));
      }
    } else if (g.offset != 0xABABABAB || g.length != 0xABABABAB || g.options != 0xAB) {
      return Fail(Format("QueryDirtyRanges wrote entry %zu beyond the %zu expected", k, written));
    }
  }
  return true;
}

bool SeedRun::DoQueryStats(const Action& a) {
  ModelVmo& v = m_.vmos[a.vmo];
  PagerVmoStats stats{};
  const Status got = up_.pager().QueryVmoStats(tv_[a.vmo]->vmo, a.flag ? kPagerResetVmoStats : 0,
                                               &stats, sizeof(stats));
  Log(Format("%s -> %s modified %u (model %d)", Describe(a).c_str(), Str(got), stats.modified,
             v.modified));
  if (got != Status::kOk || (stats.modified == kPagerVmoStatsModified) != v.modified) {
    return Fail(
        Format("QueryVmoStats %s modified %u, model %d", Str(got), stats.modified, v.modified));
  }
  if (a.flag) v.modified = false;
  return true;
}

bool SeedRun::DoRecreate(const Action& a) {
  TestVmo& t = *tv_[a.vmo];
  const ModelVmo& v = m_.vmos[a.vmo];
  Log(Format("%s", Describe(a).c_str()));
  if (a.flag) {
    // Closing a handle that is not the last one queues nothing.
    Vmo dup;
    if (Status s = t.vmo.Duplicate(&dup); s != Status::kOk) return Fail("Duplicate failed");
    t.vmo.Reset();
    if (!ExpectNoPacket("after closing a duplicated VMO handle")) return false;
    dup.Reset();
  } else {
    t.vmo.Reset();
  }
  if (!v.detached && !ExpectComplete(v.key)) return false;
  if (!ExpectNoPacket("after the COMPLETE")) return false;
  return CreateVmo(a.vmo, a.len, a.options);
}

// ---- Accesses ----

struct ThreadResult {
  Status status = Status::kInternal;
  std::atomic<bool> finished{false};
  std::vector<uint8_t> buf;
};

bool SeedRun::DoAccess(const Action& act) {
  ++g_counters.accesses;
  Access& a = m_.access;
  a = Access{};
  a.active = true;
  a.write = act.op == Op::kWrite;
  a.vmo = act.vmo;
  a.offset = act.off;
  a.len = act.len;
  a.pos = act.off;
  a.data = a.write ? *act.bytes : std::vector<uint8_t>(act.len, 0);
  m_.Run();
  TestVmo& t = *tv_[a.vmo];
  if (a.done) {
    // No request: the call must return at once, here.
    ++g_counters.inline_accesses;
    std::vector<uint8_t> buf(a.len, 0);
    const Status s = a.write ? t.vmo.Write(act.bytes->data(), a.offset, a.len)
                             : t.vmo.Read(buf.data(), a.offset, a.len);
    a.active = false;
    Log(Format("%s -> %s inline  [%s]", Describe(act).c_str(), Str(s),
               SlotMap(m_.vmos[act.vmo]).c_str()));
    if (s != a.result) {
      return Fail(Format("%s returned %s, model %s (no request expected)", Describe(act).c_str(),
                         Str(s), Str(a.result)));
    }
    if (!a.write && s == Status::kOk && buf != a.data) {
      uint64_t k = 0;
      while (buf[k] == a.data[k]) ++k;
      return Fail(Format("%s read byte %llu (page %llu) as %u, model %u", Describe(act).c_str(),
                         static_cast<unsigned long long>(k),
                         static_cast<unsigned long long>((a.offset + k) / kP), buf[k], a.data[k]));
    }
    if (s != Status::kOk) ++g_counters.failed_accesses;
    return ExpectNoPacket("after an access that needed no request");
  }

  ++g_counters.threaded;
  Log(Format("%s -> blocks", Describe(act).c_str()));
  auto result = std::make_shared<ThreadResult>();
  result->buf.assign(a.len, 0);
  const Vmo* vmo = &t.vmo;
  const bool write = a.write;
  const uint64_t offset = a.offset, len = a.len;
  std::shared_ptr<std::vector<uint8_t>> src = act.bytes;
  TestThread thread([result, vmo, write, offset, len, src] {
    result->status =
        write ? vmo->Write(src->data(), offset, len) : vmo->Read(result->buf.data(), offset, len);
    result->finished.store(true);
    return true;
  });
  thread.Start();
  const bool ok = InFlight(thread);
  if (!ok) {
    thread.handle().Kill();
    thread.Wait();
    m_.access.active = false;
    return false;
  }
  // The model says the access is over: the thread must finish by itself.
  if (!PollUntil([&] { return result->finished.load(); }, std::chrono::seconds(5))) {
    thread.handle().Kill();
    thread.Wait();
    m_.access.active = false;
    return Fail(
        Format("%s did not finish; the model expected %s", Describe(act).c_str(), Str(a.result)));
  }
  thread.Wait();
  m_.access.active = false;
  Log(Format("  access returned %s (model %s)", Str(result->status), Str(a.result)));
  if (result->status != a.result) {
    return Fail(Format("%s returned %s, model %s", Describe(act).c_str(), Str(result->status),
                       Str(a.result)));
  }
  if (!a.write && a.result == Status::kOk && result->buf != a.data) {
    uint64_t k = 0;
    while (result->buf[k] == a.data[k]) ++k;
    return Fail(Format("%s read byte %llu (page %llu) as %u, model %u", Describe(act).c_str(),
                       static_cast<unsigned long long>(k),
                       static_cast<unsigned long long>((a.offset + k) / kP), result->buf[k],
                       a.data[k]));
  }
  if (a.result != Status::kOk) ++g_counters.failed_accesses;
  return ExpectNoPacket("after the access finished");
}

bool SeedRun::InFlight(TestThread& thread) {
  Access& a = m_.access;
  if (!ExpectRequestPacket()) return false;
  if (rng_.Percent(15) && !thread.WaitForBlocked()) {
    return Fail("the access is not blocked on the pager after its packet");
  }
  int steps = 0;
  for (int total = 0; !a.done; ++total) {
    if (total > 300) return Fail("the in-flight access does not converge");
    Action act;
    if (!ChooseInFlight(steps >= 6, &act)) return false;
    ++steps;
    ++g_counters.inflight_actions;
    a.need_packet = false;
    const bool early_before = a.req.early_woken;
    bool ok;
    if (act.op == Op::kQueryRanges) {
      ok = DoQueryRanges(act);
    } else if (act.op == Op::kQueryStats) {
      ok = DoQueryStats(act);
    } else {
      ok = DoPagerOp(act, /*in_flight=*/true);
    }
    if (!ok) return false;
    if (!early_before && a.req.early_woken) ++g_counters.early_wakes;
    if (a.done) break;
    if (a.need_packet) {
      if (!ExpectRequestPacket()) return false;
      steps = 0;
    }
    if (!ExpectNoPacket("while the access waits")) return false;
    if (!CheckAll()) return false;
  }
  return true;
}

// ---- Generators ----

void SeedRun::GenRange(size_t vi, uint64_t* off, uint64_t* len) {
  const uint64_t pages = m_.vmos[vi].pages;
  if (pages == 0 || rng_.Percent(6)) {  // probably out of range
    *off = rng_.Below(pages + 2);
    *len = 1 + rng_.Below(4);
    return;
  }
  if (rng_.Percent(8)) {
    *off = 0;
    *len = pages;
    return;
  }
  *off = rng_.Below(pages);
  *len = 1 + rng_.Below(std::min<uint64_t>(6, pages - *off));
}

Action SeedRun::GenSupply(size_t vi, uint64_t off, uint64_t len) {
  Action a;
  a.op = Op::kSupply;
  a.vmo = vi;
  a.off = off;
  a.len = len;
  a.method = static_cast<int>(rng_.Below(3));
  a.aux_first = rng_.Below(3);
  if (a.method != 0) {
    a.bytes = std::make_shared<std::vector<uint8_t>>(len * kP);
    rng_.Fill(a.bytes->data(), a.bytes->size());
  }
  if (a.method == 2) {
    a.committed.resize(len);
    for (uint64_t i = 0; i < len; ++i) a.committed[i] = rng_.Percent(65);
  }
  return a;
}

Action SeedRun::GenAccess(bool write) {
  Action a;
  a.op = write ? Op::kWrite : Op::kRead;
  a.vmo = rng_.Below(tv_.size());
  const uint64_t size = m_.vmos[a.vmo].pages * kP;
  if (size == 0 || rng_.Percent(4)) {
    a.off = rng_.Below(size + 3 * kP);
    a.len = 1 + rng_.Below(3 * kP);
  } else {
    a.off = rng_.Below(size);
    if (rng_.Percent(50)) a.off -= a.off % kP;
    const uint64_t max_len = std::min(size - a.off, 5 * kP);
    a.len = rng_.Percent(30) ? max_len : 1 + rng_.Below(max_len);
  }
  if (write) {
    a.bytes = std::make_shared<std::vector<uint8_t>>(a.len);
    rng_.Fill(a.bytes->data(), a.len);
  }
  return a;
}

// A random pager-side operation (no accesses, no handle closing).
Action SeedRun::GenPagerOp(bool in_flight) {
  Action a;
  a.vmo = rng_.Below(tv_.size());
  const ModelVmo& v = m_.vmos[a.vmo];
  const uint64_t r = rng_.Below(1000);
  if (r < 260) {
    // Supplies mostly aim at an absent page.
    std::vector<uint64_t> absent;
    for (uint64_t p = 0; p < v.pages; ++p) {
      if (v.slot[p] == Slot::kAbsent) absent.push_back(p);
    }
    uint64_t off, len;
    GenRange(a.vmo, &off, &len);
    if (!absent.empty() && rng_.Percent(75)) {
      off = absent[rng_.Below(absent.size())];
      off -= std::min<uint64_t>(off, rng_.Below(2));
      len = 1 + rng_.Below(std::min<uint64_t>(5, v.pages - off));
    }
    return GenSupply(a.vmo, off, len);
  }
  if (r < 380) {
    a.op = Op::kOpDirty;
  } else if (r < 530) {
    a.op = Op::kWritebackBegin;
    a.flag = rng_.Percent(30);
  } else if (r < 680) {
    a.op = Op::kWritebackEnd;
  } else if (r < 740) {
    a.op = Op::kFail;
  } else if (r < 820) {
    a.op = Op::kZero;
  } else if (r < 890) {
    a.op = Op::kSetSize;
  } else if (r < 940) {
    a.op = Op::kQueryRanges;
  } else if (r < 985) {
    a.op = Op::kQueryStats;
  } else {
    a.op = Op::kDetach;
    if (!in_flight && rng_.Percent(50)) a.op = Op::kQueryStats;
  }
  GenRange(a.vmo, &a.off, &a.len);
  switch (a.op) {
    case Op::kWritebackBegin:
    case Op::kWritebackEnd:
      // Often the pager's writeback loop (13): a range from the query, IS_ZERO for zeros.
      if (rng_.Percent(40)) {
        const auto ranges = ModelDirtyRanges(v, 0, v.pages);
        if (!ranges.empty()) {
          const VmoDirtyRange& d = ranges[rng_.Below(ranges.size())];
          a.off = d.offset;
          a.len = d.length;
          if (a.op == Op::kWritebackBegin) a.flag = d.options == kVmoDirtyRangeIsZero;
        }
      }
      break;
    case Op::kFail: {
      static constexpr Status kValid[] = {Status::kIo, Status::kIoDataIntegrity, Status::kBadState,
                                          Status::kNoSpace, Status::kBufferTooSmall};
      a.code = static_cast<uint64_t>(static_cast<int64_t>(kValid[rng_.Below(5)]));
      if (rng_.Percent(10)) {
        static constexpr uint64_t kInvalid[] = {
            static_cast<uint64_t>(static_cast<int64_t>(Status::kNoMemory)),
            static_cast<uint64_t>(static_cast<int64_t>(Status::kInternal)), 1, 0,
            uint64_t{1} << 40};
        a.code = kInvalid[rng_.Below(5)];
      }
      break;
    }
    case Op::kSetSize: {
      uint64_t pages = rng_.Below(kMaxModelPages + 1);
      if (pages == v.pages) pages = v.pages > 0 ? v.pages - 1 : 1;
      a.len = pages * kP;
      if (pages > 0 && rng_.Percent(25)) a.len -= rng_.Range(1, kP - 1);  // rounds up
      a.off = 0;
      break;
    }
    case Op::kQueryRanges: {
      const uint64_t size = v.pages * kP;
      a.off = rng_.Below(size + 1);
      a.len = size > a.off ? 1 + rng_.Below(size - a.off) : 1;
      if (rng_.Percent(5)) a.len += kP;  // out of range
      a.entries = rng_.Below(5);
      a.slack = rng_.Percent(30) ? rng_.Below(sizeof(VmoDirtyRange)) : 0;
      a.flag = rng_.Percent(60);
      a.want_actual = rng_.Percent(80);
      if (a.entries == 0 && a.slack == 0) a.flag = true;  // the counting idiom
      break;
    }
    case Op::kQueryStats: a.flag = rng_.Percent(50); break;
    default: break;
  }
  return a;
}

// An answer to the outstanding request: supply / OP_DIRTY all of it (or more), a chunk of
// it, or fail it.
Action SeedRun::GenAnswer(bool forced) {
  const Request& r = m_.access.req;
  const size_t vi = m_.access.vmo;
  const uint64_t pages = m_.vmos[vi].pages;
  const uint64_t end = r.off + r.len;
  const uint64_t kind = forced ? 0 : rng_.Below(100);
  if (!forced && r.fresh && !r.early_woken && kind >= 80) {
    Action a;
    a.op = Op::kFail;
    a.vmo = vi;
    a.off = r.off;
    a.len = r.len;
    static constexpr Status kValid[] = {Status::kIo, Status::kIoDataIntegrity, Status::kBadState,
                                        Status::kNoSpace, Status::kBufferTooSmall};
    a.code = static_cast<uint64_t>(static_cast<int64_t>(kValid[rng_.Below(5)]));
    return a;
  }
  uint64_t s = r.off, e = end;
  if (!forced && kind >= 45) {
    // A chunk; after an early wake often the one the reader waits for.
    if (r.early_woken && rng_.Percent(50)) {
      s = r.off + std::min(r.wake, r.len - 1);
    } else {
      s = r.off + rng_.Below(r.len);
    }
    e = s + 1 + rng_.Below(end - s);
  } else if (!forced && rng_.Percent(30)) {
    // More than asked for, possibly past the end (OP_DIRTY: kOutOfRange, resolved anyway).
    s -= std::min<uint64_t>(s, rng_.Below(3));
    e += rng_.Below(3);
    if (!r.dirty) e = std::min(e, pages);
  }
  if (r.dirty) {
    Action a;
    a.op = Op::kOpDirty;
    a.vmo = vi;
    a.off = s;
    a.len = e - s;
    return a;
  }
  return GenSupply(vi, s, e - s);
}

bool SeedRun::Acceptable(const Action& act) {
  if (act.op == Op::kQueryRanges || act.op == Op::kQueryStats) return true;
  Model copy = m_;
  copy.Apply(act, nullptr);
  copy.Continue();
  return !copy.access.ambiguous;
}

bool SeedRun::ChooseInFlight(bool forced, Action* out) {
  const Request& r = m_.access.req;
  for (int attempt = 0; attempt < 20; ++attempt) {
    Action act;
    if (forced) {
      act = GenAnswer(/*forced=*/true);
    } else if (r.early_woken) {
      // Only supplies until the read completes (the reader's retry is not observable).
      if (rng_.Percent(75)) {
        act = GenAnswer(/*forced=*/false);
        if (act.op != Op::kSupply) continue;
      } else {
        act = GenPagerOp(/*in_flight=*/true);
        if (act.op != Op::kSupply) continue;
      }
    } else if (rng_.Percent(55)) {
      act = GenAnswer(/*forced=*/false);
    } else {
      act = GenPagerOp(/*in_flight=*/true);
    }
    if (Acceptable(act)) {
      *out = std::move(act);
      return true;
    }
    ++g_counters.rejected;
    if (forced) break;
  }
  if (!forced) return ChooseInFlight(/*forced=*/true, out);
  return Fail("no acceptable answer to the outstanding request");
}

std::string SeedRun::Describe(const Action& a) const {
  const std::string v = VmoName(a.vmo);
  const auto ull = [](uint64_t x) { return static_cast<unsigned long long>(x); };
  switch (a.op) {
    case Op::kRead:
    case Op::kWrite:
      return Format("%s %s [%llu+%llu, %llu+%llu) (pages %llu..%llu)",
                    a.op == Op::kRead ? "read" : "write", v.c_str(), ull(a.off / kP),
                    ull(a.off % kP), ull((a.off + a.len) / kP), ull((a.off + a.len) % kP),
                    ull(a.off / kP), ull(CeilPages(a.off + a.len)));
    case Op::kSupply: {
      std::string how = a.method == 0 ? "aux pattern" : a.method == 1 ? "buffer" : "aux holes ";
      if (a.method == 2) {
        for (bool c : a.committed) how += c ? 'c' : '-';
      }
      return Format("supply %s [%llu,+%llu) %s aux@%llu", v.c_str(), ull(a.off), ull(a.len),
                    how.c_str(), ull(a.aux_first));
    }
    case Op::kFail:
      return Format("FAIL %s [%llu,+%llu) %s", v.c_str(), ull(a.off), ull(a.len),
                    IsValidFailCode(a.code) ? Str(static_cast<Status>(static_cast<int32_t>(a.code)))
                                            : Format("invalid %llu", ull(a.code)).c_str());
    case Op::kOpDirty: return Format("OP_DIRTY %s [%llu,+%llu)", v.c_str(), ull(a.off), ull(a.len));
    case Op::kWritebackBegin:
      return Format("WRITEBACK_BEGIN%s %s [%llu,+%llu)", a.flag ? "(IS_ZERO)" : "", v.c_str(),
                    ull(a.off), ull(a.len));
    case Op::kWritebackEnd:
      return Format("WRITEBACK_END %s [%llu,+%llu)", v.c_str(), ull(a.off), ull(a.len));
    case Op::kZero: return Format("OP_ZERO %s [%llu,+%llu)", v.c_str(), ull(a.off), ull(a.len));
    case Op::kSetSize:
      return Format("SetSize %s %llu bytes (%llu pages)", v.c_str(), ull(a.len),
                    ull(CeilPages(a.len)));
    case Op::kDetach: return Format("DetachVmo %s", v.c_str());
    case Op::kQueryRanges:
      return Format("QueryDirtyRanges %s bytes [%llu,+%llu) entries %llu+%llu%s%s", v.c_str(),
                    ull(a.off), ull(a.len), ull(a.entries), ull(a.slack),
                    a.want_actual ? " actual" : "", a.flag ? " avail" : "");
    case Op::kQueryStats: return Format("QueryVmoStats %s%s", v.c_str(), a.flag ? " reset" : "");
    case Op::kRecreate:
      return Format("close %s%s, new VMO of %llu pages%s%s", v.c_str(),
                    a.flag ? " (duplicate first)" : "", ull(a.len),
                    (a.options & kVmoTrapDirty) ? " trap" : "",
                    (a.options & kVmoResizable) ? " resizable" : "");
    case Op::kCheckContent: return "content check";
  }
  return "?";
}

bool SeedRun::Step() {
  ++g_counters.ops;
  const uint64_t r = rng_.Below(1000);
  bool ok;
  prefix_ = Format("#%d ", op_index_);
  if (r < 230) {
    ok = DoAccess(GenAccess(/*write=*/false));
  } else if (r < 480) {
    ok = DoAccess(GenAccess(/*write=*/true));
  } else if (r < 975) {
    Action act = GenPagerOp(/*in_flight=*/false);
    if (act.op == Op::kQueryRanges) {
      ok = DoQueryRanges(act);
    } else if (act.op == Op::kQueryStats) {
      ok = DoQueryStats(act);
    } else {
      ok = DoPagerOp(act, /*in_flight=*/false);
    }
  } else if (r < 987) {
    Action act;
    act.op = Op::kRecreate;
    act.vmo = rng_.Below(tv_.size());
    for (size_t i = 0; i < m_.vmos.size(); ++i) {
      if (m_.vmos[i].detached && rng_.Percent(70)) act.vmo = i;  // refresh a detached one
    }
    act.flag = rng_.Percent(40);
    act.len = rng_.Range(8, 24);
    act.options = RandomOptions(rng_);
    ok = DoRecreate(act);
  } else {
    Log("content check");
    ok = CheckContent();
  }
  if (!ok) return false;
  if (op_index_ % 20 == 19 && !CheckContent()) return false;
  return ExpectNoPacket("after the operation") && CheckAll();
}

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
  uint64_t first = 1, last = EnvOr("UPAGER_MODEL_SEEDS", 200);
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
}

}  // namespace
}  // namespace upager::testing
