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
// and any answer to another thread's fault elsewhere, leaves it held. A thread suspended
// while it runs its own code is held the same way in the first fault it takes that must
// wait for a pager (HoldIfSuspended): that fault is its safe point.
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

// The threads suspended and not killed, as OnSuspendChanged last saw them (changed only under
// its lock), for the faults they take afterwards; and how many there are, so that a fault
// of a thread that is not suspended costs one load.
std::array<std::atomic<pid_t>, 256> g_suspended_tids{};
std::atomic<int> g_suspended_count{0};

bool IsSuspendedTid(pid_t tid) {
  return std::any_of(g_suspended_tids.begin(), g_suspended_tids.end(), [tid](const auto& slot) {
    return slot.load(std::memory_order_acquire) == tid;
  });
}

// Records whether `tid` is suspended (a full table leaves it out: its later faults are then
// not held).
void SetSuspendedTid(pid_t tid, bool suspended) {
  for (auto& slot : g_suspended_tids) {
    if (slot.load(std::memory_order_acquire) == tid) {
      if (!suspended) {
        slot.store(0, std::memory_order_release);
        g_suspended_count.fetch_sub(1, std::memory_order_acq_rel);
      }
      return;
    }
  }
  if (!suspended) return;
  for (auto& slot : g_suspended_tids) {
    pid_t expected = 0;
    if (slot.compare_exchange_strong(expected, tid, std::memory_order_acq_rel)) {
      g_suspended_count.fetch_add(1, std::memory_order_acq_rel);
      return;
    }
  }
}

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
    hold = state->suspended() && !state->killed() && !state->exited();
    SetSuspendedTid(tid, hold);
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

void FaultService::HoldIfSuspended(MappingObject* mapping, pid_t tid) {
  // A release (OnSuspendChanged, under the lock) takes held faults again through OnFault,
  // which comes here: the thread is unmarked by then, so the lock is not taken twice.
  if (g_suspended_count.load(std::memory_order_acquire) == 0 || !IsSuspendedTid(tid)) return;
  FaultService& self = Get();
  {
    MutexLock lock(&self.suspend_mutex_);
    if (!IsSuspendedTid(tid)) return;  // resumed (or killed) meanwhile
    mapping->HoldFaultsOf(tid);
  }
  NotifyThreadChanged(tid);
}

}  // namespace upager::internal
