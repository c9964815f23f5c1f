#include "base/deferred_wakeups.h"

#include <array>
#include <cstddef>
#include <utility>

namespace upager::internal {
namespace {

struct Pending {
  CondVar* cv = nullptr;
  std::shared_ptr<const void> owner;
};

// The calling thread's open scopes and the wake-ups they hold (a fixed array: the packet
// path must not allocate).
struct ThreadWakeups {
  int depth = 0;
  size_t count = 0;
  std::array<Pending, 8> pending;
};

thread_local ThreadWakeups t_wakeups;

}  // namespace

DeferredWakeups::DeferredWakeups() { ++t_wakeups.depth; }

DeferredWakeups::~DeferredWakeups() {
  ThreadWakeups& w = t_wakeups;
  if (--w.depth > 0) return;
  for (size_t i = 0; i < w.count; ++i) {
    Pending p = std::move(w.pending[i]);
    p.cv->NotifyOne();
  }
  w.count = 0;
}

void DeferredWakeups::NotifyOne(CondVar* cv, std::shared_ptr<const void> owner) {
  ThreadWakeups& w = t_wakeups;
  if (w.depth == 0 || owner == nullptr || w.count == w.pending.size()) {
    cv->NotifyOne();
    return;
  }
  w.pending[w.count++] = Pending{cv, std::move(owner)};
}

}  // namespace upager::internal
