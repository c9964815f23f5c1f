// Suspension of threads asleep in a fault on a Mapping (ThreadHandle::Suspend, thread.h).
//
// Zircon suspends a thread blocked in a page fault: its wait is abandoned, and once resumed
// the thread takes the fault again. A thread asleep in a userfaultfd fault cannot run code
// of ours to park itself, and need not: it stays asleep in the kernel while suspended, its
// fault record "held" (no request, not blocked on a pager), and on resume the record's
// fault is taken again, which asks the pager afresh (MappingObject::HoldFaultsOf and
// ReleaseFaultsOf). Nothing wakes it meanwhile but a copy into this very page of the
// mapping: a supply from a buffer (SupplyPagesFromBuffer) places the page straight into a
// mapping and wakes every thread asleep on it, the held one included, which then runs on
// to its next safe point, as any suspended thread outside a wait does. A supply from a VMO,
// and any answer to another thread's fault elsewhere, leaves it held.
#include <algorithm>
#include <array>
#include <atomic>
#include <vector>

#include "base/thread_state.h"
#include "fault/fault_service.h"
#include "fault/mapping_object.h"
#include "pager/inline_loops.h"

namespace upager::internal {

namespace {

// The threads whose faults are held: a fixed table, as for blocked threads.
std::array<std::atomic<pid_t>, 256> g_held_tids{};

}  // namespace

int FaultService::MarkHeld(pid_t tid) {
  for (size_t i = 0; i < g_held_tids.size(); ++i) {
    pid_t expected = 0;
    if (g_held_tids[i].compare_exchange_strong(expected, tid, std::memory_order_acq_rel)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

void FaultService::UnmarkHeld(int token) {
  if (token >= 0) g_held_tids[static_cast<size_t>(token)].store(0, std::memory_order_release);
}

bool FaultService::IsHeld(pid_t tid) {
  return std::any_of(g_held_tids.begin(), g_held_tids.end(), [tid](const auto& slot) {
    return slot.load(std::memory_order_acquire) == tid;
  });
}

void FaultService::OnSuspendChanged(ThreadState* state) {
  FaultService& self = Get();
  const pid_t tid = state->tid;
  bool hold;
  {
    // The thread's flags as they are now, whatever order concurrent Suspend and Resume calls
    // reach here in: the last call to run sees the last change.
    MutexLock lock(&self.suspend_mutex_);
    hold = state->suspended() && !state->killed();
    // Resumed or killed with nothing held (the common case, and Kill's from under other
    // locks): nothing to do.
    if (!hold && !IsHeld(tid)) return;
    self.ForEachMapping([hold, tid](MappingObject* mapping) {
      if (hold) {
        mapping->HoldFaultsOf(tid);
      } else {
        mapping->ReleaseFaultsOf(tid);
      }
    });
  }
  // Held or released: ThreadHandle::IsParked changed (thread_state.h's observer), told once
  // no lock of ours is held.
  NotifyThreadChanged(tid);
  // Pagers served inline answer the requests a release made, as after a fault thread's
  // batch.
  if (!hold) InlineLoops::Get().PollAll();
}

}  // namespace upager::internal
