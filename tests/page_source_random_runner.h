// page_source_random_test: the Runner, which applies operations to a real PageSource and
// to the model in lock step and compares them, and the random generator of operations.
// Section numbers refer to docs/zircon-semantics.md.
#ifndef UPAGER_TESTS_PAGE_SOURCE_RANDOM_RUNNER_H_
#define UPAGER_TESTS_PAGE_SOURCE_RANDOM_RUNNER_H_

#include "page_source_random_model.h"

namespace upager::random_test {

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
        // same type (section 3.1 step 3, and section 6.3).
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

inline uint64_t PickLen(Gen& g, uint64_t off) {
  const uint64_t r = g.U(10);
  const uint64_t len = r < 3 ? 1 : r < 7 ? 2 + g.U(3) : 1 + g.U(kPages);
  return std::min(len, kPages - off);
}

// Mostly offsets near interesting points of active requests (starts, ends, wake offsets).
inline uint64_t PickOffset(Gen& g, const Model& m) {
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

inline Op Generate(Gen& g, const Model& m, int* next_id) {
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

}  // namespace upager::random_test

#endif  // UPAGER_TESTS_PAGE_SOURCE_RANDOM_RUNNER_H_
