// SeedRun (vmo_model_seed_run.h): the random generators of operations and answers, and one
// step of a seed. Section numbers refer to docs/zircon-semantics.md.
#include "vmo_model_seed_run.h"

namespace upager::testing::vmo_model {

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
  if (pages > kMaxModelPages && rng_.Percent(20)) {  // long, on a large VMO
    *off = rng_.Below(pages / 2);
    *len = 1 + rng_.Below(pages - *off);
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
  } else if (size > kMaxModelPages * kP && rng_.Percent(30)) {
    // Long, on a large VMO: mostly past a write's batch of 256 pages (10.2).
    a.off = rng_.Below(size / 4);
    a.len = std::min(size - a.off, rng_.Range((kWriteBatchPages - 40) * kP, 420 * kP));
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
      uint64_t pages = rng_.Below(std::max(kMaxModelPages, v.pages + 8) + 1);
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
  // A shrink may have cut the request's tail (resolving it): what is left ends at `end`.
  const uint64_t end = std::min(r.off + r.len, pages);
  const uint64_t kind = forced ? 0 : rng_.Below(100);
  if (!forced && r.fresh && !r.early_woken && kind >= 80) {
    Action a;
    a.op = Op::kFail;
    a.vmo = vi;
    a.off = r.off;
    a.len = end - r.off;
    static constexpr Status kValid[] = {Status::kIo, Status::kIoDataIntegrity, Status::kBadState,
                                        Status::kNoSpace, Status::kBufferTooSmall};
    a.code = static_cast<uint64_t>(static_cast<int64_t>(kValid[rng_.Below(5)]));
    return a;
  }
  uint64_t s = r.off, e = end;
  if (!forced && r.dirty && kind < 15) {
    // OP_DIRTY over part of the request and beyond it, where it fails (10.6): past the
    // end (OUT_OF_RANGE), or over an absent page near it (NOT_FOUND).
    Action a;
    a.op = Op::kOpDirty;
    a.vmo = vi;
    const uint64_t inside = r.off + rng_.Below(end - r.off);
    std::vector<uint64_t> absent;
    const uint64_t lo = r.off - std::min<uint64_t>(r.off, 4);
    for (uint64_t p = lo; p < std::min(pages, end + 4); ++p) {
      if (m_.vmos[vi].slot[p] == Slot::kAbsent) absent.push_back(p);
    }
    if (absent.empty() || rng_.Percent(25)) {
      a.off = inside;
      a.len = pages + 1 + rng_.Below(2) - inside;
    } else {
      const uint64_t p = absent[rng_.Below(absent.size())];
      a.off = std::min(p, inside);
      a.len = std::max(p, inside) + 1 - a.off;
    }
    return a;
  }
  if (!forced && kind >= 45) {
    // A chunk; after an early wake often the one the reader waits for.
    if (r.early_woken && rng_.Percent(50)) {
      s = r.off + std::min(r.wake, end - r.off - 1);
    } else {
      s = r.off + rng_.Below(end - r.off);
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

// A shrink of the access's VMO to a size through the outstanding request, at its start, or
// below it (10.4, 18.6).
Action SeedRun::GenShrinkOverRequest() {
  const Request& r = m_.access.req;
  const uint64_t pages = m_.vmos[m_.access.vmo].pages;
  const uint64_t end = std::min(r.off + r.len, pages);
  Action a;
  a.op = Op::kSetSize;
  a.vmo = m_.access.vmo;
  uint64_t n = rng_.Percent(75) ? r.off + rng_.Below(end - r.off) : rng_.Below(r.off + 1);
  a.len = n * kP;
  if (n > 0 && rng_.Percent(25)) a.len -= rng_.Range(1, kP - 1);  // rounds up to n pages
  return a;
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
    } else if (m_.vmos[m_.access.vmo].resizable && rng_.Percent(8)) {
      act = GenShrinkOverRequest();
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

}  // namespace upager::testing::vmo_model
