// Threads and suspend tokens (thread_obj.h).
#include "thread_obj.h"

#include <sched.h>
#include <unistd.h>
#include <zircon/syscalls.h>

#include <unordered_map>
#include <utility>

#include "base/koid.h"
#include "base/thread_state.h"
#include "channel_obj.h"
#include "handle_table.h"

namespace upager::zx {
namespace {

// The thread objects by kernel thread id, for upager's change hook. Never destroyed: threads
// (the main one included) exit after static destructors may have run.
struct Registry {
  internal::Mutex mutex;
  std::unordered_map<int, std::weak_ptr<ThreadObj>> threads UPAGER_GUARDED_BY(mutex);
};

Registry& TheRegistry() {
  static Registry* const registry = new Registry();
  return *registry;
}

void OnThreadChanged(int tid) {
  std::shared_ptr<ThreadObj> thread;
  {
    Registry& r = TheRegistry();
    internal::MutexLock lock(&r.mutex);
    auto it = r.threads.find(tid);
    if (it != r.threads.end()) thread = it->second.lock();
  }
  if (thread != nullptr) thread->Refresh();
}

// The calling thread's object and zx_thread_self's handle to it, closed as the thread exits.
struct SelfSlot {
  std::shared_ptr<ThreadObj> thread;
  zx_handle_t handle = ZX_HANDLE_INVALID;
  ~SelfSlot() {
    if (handle != ZX_HANDLE_INVALID) zx_handle_close(handle);
  }
};

}  // namespace

std::shared_ptr<ThreadObj> ThreadObj::Current(zx_handle_t* self_handle) {
  thread_local SelfSlot slot;
  if (slot.thread == nullptr) {
    const int tid = static_cast<int>(::gettid());
    auto thread = std::make_shared<ThreadObj>(ThreadHandle::Current(), tid);
    {
      Registry& r = TheRegistry();
      internal::MutexLock lock(&r.mutex);
      r.threads[tid] = thread;  // a dead thread's entry with the same id is replaced
    }
    internal::SetThreadChangedHook(&OnThreadChanged);
    slot.thread = thread;
    slot.handle = HandleTable::Get().Add(thread, ZX_DEFAULT_THREAD_RIGHTS);
    thread->Refresh();  // it may have been suspended already
  }
  if (self_handle != nullptr) *self_handle = slot.handle;
  return slot.thread;
}

ThreadObj::ThreadObj(ThreadHandle thread, int tid)
    : Object(kType, internal::NextKoid(), true, ZX_USER_SIGNAL_ALL, ZX_THREAD_RUNNING),
      thread_(std::move(thread)),
      tid_(tid) {}

ThreadObj::~ThreadObj() {
  Registry& r = TheRegistry();
  internal::MutexLock lock(&r.mutex);
  auto it = r.threads.find(tid_);
  if (it != r.threads.end() && it->second.expired()) r.threads.erase(it);
}

bool ThreadObj::is_current() const { return thread_ == ThreadHandle::Current(); }

void ThreadObj::Refresh() {
  std::shared_ptr<ChannelObj> closed_peer;  // released after our lock
  internal::MutexLock lock(&refresh_mutex_);
  zx_signals_t state;
  if (thread_.HasExited()) {
    state = ZX_TASK_TERMINATED;
    closed_peer = std::move(exception_peer_);
  } else if (thread_.IsParked()) {
    state = ZX_THREAD_SUSPENDED;
  } else {
    state = ZX_THREAD_RUNNING;
  }
  UpdateSignals(ZX_TASK_TERMINATED | ZX_THREAD_RUNNING | ZX_THREAD_SUSPENDED, state);
}

zx_status_t ThreadObj::Suspend(const std::shared_ptr<ThreadObj>& thread,
                               std::shared_ptr<Object>* token) {
  if (thread->thread_.HasExited() || thread->thread_.is_killed()) return ZX_ERR_BAD_STATE;
  {
    internal::MutexLock lock(&thread->suspend_mutex_);
    if (thread->suspensions_++ == 0) thread->thread_.Suspend();
  }
  *token = std::make_shared<SuspendTokenObj>(thread);
  return ZX_OK;
}

void ThreadObj::DropSuspension() {
  internal::MutexLock lock(&suspend_mutex_);
  if (--suspensions_ == 0) thread_.Resume();
}

void ThreadObj::Kill() {
  thread_.Kill();
  Refresh();
}

zx_status_t ThreadObj::CreateExceptionChannel(std::shared_ptr<ChannelObj>* out) {
  internal::MutexLock lock(&refresh_mutex_);
  if (thread_.HasExited()) return ZX_ERR_BAD_STATE;
  if (exception_peer_ != nullptr && !exception_user_.expired()) return ZX_ERR_ALREADY_BOUND;
  std::shared_ptr<ChannelObj> user;
  ChannelObj::CreatePair(&user, &exception_peer_);
  exception_user_ = user;
  *out = std::move(user);
  return ZX_OK;
}

zx_info_thread_t ThreadObj::Info() const {
  zx_info_thread_t info{};
  if (thread_.HasExited()) {
    info.state = ZX_THREAD_STATE_DEAD;
  } else if (thread_.is_killed()) {
    info.state = ZX_THREAD_STATE_DYING;
  } else if (thread_.IsParked()) {
    info.state = ZX_THREAD_STATE_SUSPENDED;
  } else if (thread_.IsBlockedOnPager()) {
    info.state = ZX_THREAD_STATE_BLOCKED_PAGER;
  } else {
    info.state = ZX_THREAD_STATE_RUNNING;
  }
  info.wait_exception_channel_type = ZX_EXCEPTION_CHANNEL_TYPE_NONE;
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (info.state != ZX_THREAD_STATE_DEAD && ::sched_getaffinity(tid_, sizeof cpus, &cpus) == 0) {
    for (int cpu = 0; cpu < ZX_CPU_SET_MAX_CPUS && cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &cpus)) {
        info.cpu_affinity_mask.mask[cpu / ZX_CPU_SET_BITS_PER_WORD] |=
            uint64_t{1} << (cpu % ZX_CPU_SET_BITS_PER_WORD);
      }
    }
  }
  return info;
}

SuspendTokenObj::SuspendTokenObj(std::shared_ptr<ThreadObj> thread)
    : Object(kType, internal::NextKoid(), false, 0, 0), thread_(std::move(thread)) {}

SuspendTokenObj::~SuspendTokenObj() { thread_->DropSuspension(); }

}  // namespace upager::zx
