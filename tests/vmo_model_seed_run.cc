// SeedRun (vmo_model_seed_run.h): creating VMOs, packets, comparisons with the model, and
// the actions and accesses applied to the library.
// Section numbers refer to docs/zircon-semantics.md.
#include "vmo_model_seed_run.h"

#include <condition_variable>
#include <mutex>

namespace upager::testing::vmo_model {

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
  // A quarter of the seeds make their first VMO large: long accesses and ranges.
  const bool large = rng_.Percent(25);
  for (size_t i = 0; i < count; ++i) {
    const uint64_t pages =
        large && i == 0 ? rng_.Range(kLargeVmoPages, 2 * kLargeVmoPages) : rng_.Range(8, 24);
    if (!CreateVmo(i, pages, RandomOptions(rng_))) return false;
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
  // The outstanding request before the action, for the coverage counters.
  const Access& access = m_.access;
  const bool outstanding =
      in_flight && access.active && !access.done && access.vmo == act.vmo && access.req.active;
  const bool req_dirty = access.req.dirty;
  const uint64_t req_off = access.req.off;
  const uint64_t req_end = access.req.off + access.req.len;
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
  if (outstanding && act.op == Op::kOpDirty && req_dirty &&
      (got == Status::kNotFound || got == Status::kOutOfRange) && act.off < req_end &&
      req_off < act.off + act.len) {
    ++g_counters.partial_dirty_failures;
  }
  if (outstanding && act.op == Op::kSetSize && got == Status::kOk && CeilPages(act.len) < req_end) {
    ++g_counters.shrinks_over_requests;
    if (CeilPages(act.len) > req_off) ++g_counters.shrinks_through_requests;
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
  std::vector<uint8_t> buf;

  void Finish() {
    std::lock_guard lock(mutex);
    finished = true;
    cv.notify_all();
  }
  bool WaitFinished(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, [&] { return finished; });
  }

 private:
  std::mutex mutex;
  std::condition_variable cv;
  bool finished = false;
};

bool SeedRun::DoAccess(const Action& act) {
  ++g_counters.accesses;
  if (act.len > kWriteBatchPages * kP) {
    ++(act.op == Op::kWrite ? g_counters.long_writes : g_counters.long_reads);
  }
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
    result->Finish();
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
  if (!result->WaitFinished(std::chrono::seconds(5))) {
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

}  // namespace upager::testing::vmo_model
