// DeferredWakeups: wake-ups a thread makes while it holds locks, delivered once it has let
// go of them.
//
// Queuing a page-request packet happens deep under the VMO and source locks. Waking the
// port's reader right there lets it run (on a single CPU, preempt the queuing thread) only
// to block at once on a lock the queuing thread still holds. A thread that opens a
// DeferredWakeups scope before taking its locks has such notifications held back until the
// scope closes, after the locks are released. Without a scope, or when the scope is full,
// the notification is immediate.
#ifndef UPAGER_SRC_BASE_DEFERRED_WAKEUPS_H_
#define UPAGER_SRC_BASE_DEFERRED_WAKEUPS_H_

#include <memory>

#include "upager/internal/mutex.h"

namespace upager::internal {

class DeferredWakeups {
 public:
  // Scopes nest; the outermost one delivers.
  DeferredWakeups();
  ~DeferredWakeups();
  DeferredWakeups(const DeferredWakeups&) = delete;
  DeferredWakeups& operator=(const DeferredWakeups&) = delete;

  // Wakes one waiter of `cv`, now or when the calling thread's outermost scope closes.
  // `owner` keeps the condition variable alive until then (null: notify now).
  static void NotifyOne(CondVar* cv, std::shared_ptr<const void> owner);
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_BASE_DEFERRED_WAKEUPS_H_
