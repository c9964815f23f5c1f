// Sync points: places where a thread reaches a state that nothing else makes observable (a
// loop thread that waits for a running handler call, a thread that goes back to sleep in a
// wait a suspension does not interrupt). Tests install an observer to wait for such a state
// instead of sleeping and hoping; without one, reaching a point costs one relaxed load.
//
// Every point is reached with the lock of the wait that follows held, so that anything
// which takes that lock after the observer ran finds the thread asleep in the wait.
#ifndef UPAGER_SRC_BASE_SYNC_POINT_H_
#define UPAGER_SRC_BASE_SYNC_POINT_H_

#include <atomic>

namespace upager::internal {

enum class SyncPoint : int {
  // ThreadState::SleepOn is about to sleep on an event.
  kThreadSleeps,
  // ... while the thread is suspended and the wait is not suspendable (it keeps waiting).
  kThreadSleepsSuspended,
  // ThreadState::Park (ParkWhileSuspended) is about to sleep until resumed or killed.
  kThreadParks,
  // PagerLoop: a thread holding a COMPLETE waits for the handler calls still running.
  kLoopCompleteWaits,
  // PagerLoop::RemoveHandler waits for the handler calls still running.
  kLoopRemoveHandlerWaits,
  kCount,
};

using SyncPointObserver = void (*)(SyncPoint point);

inline std::atomic<SyncPointObserver> g_sync_point_observer{nullptr};

// Installs `observer` (nullptr: none). It runs on the thread that reaches a point, with that
// wait's lock held: it must only record the point (an atomic, a signal).
inline void SetSyncPointObserver(SyncPointObserver observer) {
  g_sync_point_observer.store(observer, std::memory_order_release);
}

inline void ReachSyncPoint(SyncPoint point) {
  if (SyncPointObserver observer = g_sync_point_observer.load(std::memory_order_acquire)) {
    observer(point);
  }
}

}  // namespace upager::internal

#endif  // UPAGER_SRC_BASE_SYNC_POINT_H_
