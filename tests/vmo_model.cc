// The reference model of vmo_model_test: how an access runs (Zircon's retry loop) and what
// each pager-side action does to the model's slots and its outstanding request.
// Section numbers refer to docs/zircon-semantics.md.
#include "vmo_model.h"

namespace upager::testing::vmo_model {

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
        // 10.4, 18.6: the cut resolves the requests in it so that their waiters retry (and
        // fail past the new end): READs over its absent runs, DIRTYs (trap) over its runs not
        // yet Dirty. A request reaching below the new end is resolved only in the cut, and
        // keeps waiting for the rest.
        for (uint64_t p = n; p < v.pages;) {
          const bool absent = v.slot[p] == Slot::kAbsent;
          uint64_t q = p;
          while (q < v.pages && (v.slot[q] == Slot::kAbsent) == absent) ++q;
          if (absent) Resolve(vi, /*dirty=*/false, p, q - p, Status::kOk);
          p = q;
        }
        if (v.trap) {
          for (uint64_t p = n; p < v.pages;) {
            const bool dirty = v.slot[p] == Slot::kDirty;
            uint64_t q = p;
            while (q < v.pages && (v.slot[q] == Slot::kDirty) == dirty) ++q;
            if (!dirty) Resolve(vi, /*dirty=*/true, p, q - p, Status::kOk);
            p = q;
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

}  // namespace upager::testing::vmo_model
