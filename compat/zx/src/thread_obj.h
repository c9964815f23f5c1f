// Threads and suspend tokens behind zx handles.
//
// A ThreadObj stands for one thread of this process (a std::thread or the main thread), over
// upager's ThreadHandle. There is one per thread, made on the thread's first zx_thread_self
// or upager_zx_thread_current and kept for its life (zx_thread_self's handle holds it), so
// its koid never changes. Its signals follow the thread without polling: upager tells the
// layer each time a thread parks, has a fault held by a suspension, or exits
// (NotifyThreadChanged, src/base/thread_state.h), and the object re-reads the thread's state.
#ifndef UPAGER_COMPAT_ZX_THREAD_OBJ_H_
#define UPAGER_COMPAT_ZX_THREAD_OBJ_H_

#include <zircon/syscalls/object.h>
#include <zircon/types.h>

#include <cstdint>
#include <memory>

#include "object.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/thread.h"

namespace upager::zx {

class ChannelObj;

class ThreadObj final : public Object {
 public:
  static constexpr zx_obj_type_t kType = ZX_OBJ_TYPE_THREAD;

  // The calling thread's object, and the handle zx_thread_self returns for it (made on first
  // use, closed when the thread exits).
  static std::shared_ptr<ThreadObj> Current(zx_handle_t* self_handle = nullptr);

  ThreadObj(ThreadHandle thread, int tid);
  ~ThreadObj() override;

  const ThreadHandle& thread() const { return thread_; }
  bool is_current() const;

  // zx_task_suspend after the handle checks: ZX_ERR_BAD_STATE for a dead or dying thread,
  // else one more suspension, ended when `*token` (its last handle) goes.
  static zx_status_t Suspend(const std::shared_ptr<ThreadObj>& thread,
                             std::shared_ptr<Object>* token);
  // zx_task_kill after the handle checks.
  void Kill();
  // zx_task_create_exception_channel after the checks: the user's end of the thread's
  // exception channel (ZX_ERR_ALREADY_BOUND if one is open). No exception ever arrives
  // through it; its peer closes when the thread exits.
  zx_status_t CreateExceptionChannel(std::shared_ptr<ChannelObj>* out);
  // The ZX_INFO_THREAD record.
  zx_info_thread_t Info() const;

  // Sets the signals from the thread's state as it is now (upager's change hook calls it).
  void Refresh();

 private:
  friend class SuspendTokenObj;
  void DropSuspension();

  ThreadHandle thread_;  // set once; its calls are thread-safe
  const int tid_;
  internal::Mutex suspend_mutex_;
  uint32_t suspensions_ UPAGER_GUARDED_BY(suspend_mutex_) = 0;
  // Serialises Refresh: each sets the signals from a state read after the previous one's.
  internal::Mutex refresh_mutex_;
  std::shared_ptr<ChannelObj> exception_peer_ UPAGER_GUARDED_BY(refresh_mutex_);
  std::weak_ptr<ChannelObj> exception_user_ UPAGER_GUARDED_BY(refresh_mutex_);
};

// A suspension of a thread: the thread runs again once every token of it is gone.
class SuspendTokenObj final : public Object {
 public:
  static constexpr zx_obj_type_t kType = ZX_OBJ_TYPE_SUSPEND_TOKEN;
  explicit SuspendTokenObj(std::shared_ptr<ThreadObj> thread);
  ~SuspendTokenObj() override;

 private:
  const std::shared_ptr<ThreadObj> thread_;
};

}  // namespace upager::zx

#endif  // UPAGER_COMPAT_ZX_THREAD_OBJ_H_
