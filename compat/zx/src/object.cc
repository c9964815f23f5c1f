// Signals and waits of the objects behind zx handles.
#include "object.h"

#include <time.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "base/handle_access.h"
#include "base/koid.h"
#include "pager/port_object.h"

namespace upager::zx {

Deadline ToDeadline(zx_time_t deadline) {
  if (deadline == ZX_TIME_INFINITE) return kInfiniteDeadline;
  return Deadline(std::chrono::nanoseconds(deadline));
}

Object::Object(zx_obj_type_t type, zx_koid_t koid, bool waitable, zx_signals_t user_settable,
               zx_signals_t initial)
    : type_(type),
      koid_(koid),
      waitable_(waitable),
      user_settable_(user_settable),
      signals_(initial) {}

Object::~Object() = default;

zx_status_t Object::UserSignal(zx_signals_t clear_mask, zx_signals_t set_mask) {
  if (!waitable_) return ZX_ERR_NOT_SUPPORTED;
  if (((clear_mask | set_mask) & ~user_settable_) != 0) return ZX_ERR_INVALID_ARGS;
  UpdateSignals(clear_mask, set_mask);
  return ZX_OK;
}

void Object::UpdateSignals(zx_signals_t clear_mask, zx_signals_t set_mask) {
  std::vector<Fired> fired;
  {
    internal::MutexLock lock(&mutex_);
    const zx_signals_t before = signals_;
    signals_ = (signals_ & ~clear_mask) | set_mask;
    const zx_signals_t rising = signals_ & ~before;
    if (rising != 0) {
      cv_.NotifyAll();
      CollectFiredLocked(rising, &fired);
    }
  }
  Deliver(&fired);
}

zx_status_t Object::WaitOne(zx_handle_t via, zx_signals_t signals, Deadline deadline,
                            zx_signals_t* observed) {
  if (!waitable_) return ZX_ERR_NOT_SUPPORTED;
  internal::MutexLock lock(&mutex_);
  Waiter waiter;
  waiter.via = via;
  waiters_.push_back(waiter);
  zx_status_t status = ZX_OK;
  while ((signals_ & signals) == 0) {
    if (waiter.canceled) {
      status = ZX_ERR_CANCELED;
      break;
    }
    if (deadline == kInfiniteDeadline) {
      cv_.Wait(&mutex_);
    } else if (!cv_.WaitUntil(&mutex_, deadline) && (signals_ & signals) == 0) {
      status = waiter.canceled ? ZX_ERR_CANCELED : ZX_ERR_TIMED_OUT;
      break;
    }
  }
  waiters_.erase(waiters_.iterator_to(waiter));
  if (observed != nullptr) {
    *observed = signals_ | (status == ZX_ERR_CANCELED ? ZX_SIGNAL_HANDLE_CLOSED : 0);
  }
  return status;
}

zx_status_t Object::WaitAsync(zx_handle_t via, std::shared_ptr<PortObj> port, uint64_t key,
                              zx_signals_t signals, uint32_t options) {
  if (!waitable_) return ZX_ERR_NOT_SUPPORTED;
  std::vector<Fired> fired;
  {
    internal::MutexLock lock(&mutex_);
    auto packet = std::make_shared<SignalPacket>(port, via, key);
    async_waits_.push_back(
        AsyncWait{via, std::move(port), key, signals, options, std::move(packet)});
    if ((options & ZX_WAIT_ASYNC_EDGE) == 0) CollectFiredLocked(0, &fired);
  }
  Deliver(&fired);
  return ZX_OK;
}

void Object::CollectFiredLocked(zx_signals_t rising, std::vector<Fired>* fired) {
  auto it = async_waits_.begin();
  while (it != async_waits_.end()) {
    const bool edge = (it->options & ZX_WAIT_ASYNC_EDGE) != 0;
    const zx_signals_t seen = edge ? rising : signals_;
    if ((seen & it->signals) == 0) {
      ++it;
      continue;
    }
    zx_port_packet_t p;
    std::memset(&p, 0, sizeof p);
    p.key = it->key;
    p.type = ZX_PKT_TYPE_SIGNAL_ONE;
    p.status = ZX_OK;
    p.signal.trigger = it->signals;
    p.signal.observed = signals_;
    p.signal.count = 1;
    if ((it->options & ZX_WAIT_ASYNC_TIMESTAMP) != 0) {
      timespec now{};
      clock_gettime(CLOCK_MONOTONIC, &now);
      p.signal.timestamp =
          static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
    }
    static_assert(sizeof(PortPacket) == sizeof p);
    std::memcpy(&it->packet->owned()->packet, &p, sizeof p);  // not queued yet: ours
    fired->push_back(Fired{std::move(it->port), std::move(it->packet)});
    it = async_waits_.erase(it);
  }
}

void Object::Deliver(std::vector<Fired>* fired) {
  for (Fired& f : *fired) f.port->QueueSignal(std::move(f.packet));
}

bool Object::CancelAsync(zx_handle_t via, const PortObj* port, uint64_t key) {
  internal::MutexLock lock(&mutex_);
  const auto old_size = async_waits_.size();
  std::erase_if(async_waits_, [&](const AsyncWait& w) {
    return w.via == via && w.port.get() == port && w.key == key;
  });
  return async_waits_.size() != old_size;
}

size_t Object::waiter_count() {
  internal::MutexLock lock(&mutex_);
  return waiters_.size();
}

void Object::OnHandleClosed(zx_handle_t via) {
  std::vector<AsyncWait> dropped;  // released outside the lock (may hold the last port ref)
  internal::MutexLock lock(&mutex_);
  bool woke = false;
  for (Waiter& w : waiters_) {
    if (w.via == via) {
      w.canceled = true;
      woke = true;
    }
  }
  if (woke) cv_.NotifyAll();
  for (auto it = async_waits_.begin(); it != async_waits_.end();) {
    if (it->via == via) {
      dropped.push_back(std::move(*it));
      it = async_waits_.erase(it);
    } else {
      ++it;
    }
  }
}

VmoObj::VmoObj(Vmo vmo, bool resizable, zx_koid_t pager_koid, bool cow_clone)
    : Object(kType, vmo.koid(), true, ZX_USER_SIGNAL_ALL, ZX_VMO_ZERO_CHILDREN),
      vmo_(std::move(vmo)),
      resizable_(resizable),
      pager_koid_(pager_koid),
      cow_clone_(cow_clone) {
  vmo_.SetChildObserver(this);
}

VmoObj::~VmoObj() { vmo_.RemoveChildObserver(this); }

void VmoObj::RefreshZeroChildren() {
  internal::MutexLock lock(&refresh_mutex_);
  VmoInfo info{};
  if (vmo_.GetInfo(&info) != Status::kOk) return;
  if (info.num_children == 0) {
    UpdateSignals(0, ZX_VMO_ZERO_CHILDREN);
  } else {
    UpdateSignals(ZX_VMO_ZERO_CHILDREN, 0);
  }
}

PagerObj::PagerObj(Pager pager)
    : Object(kType, internal::NextKoid(), false, 0, 0), pager_(std::move(pager)) {}

PortObj::PortObj(Port port)
    : Object(kType, internal::NextKoid(), false, 0, 0), port_(std::move(port)) {}

zx_status_t PortObj::QueueAnyType(const zx_port_packet_t& packet) const {
  static_assert(sizeof(PortPacket) == sizeof(zx_port_packet_t));
  PortPacket p;
  std::memcpy(&p, &packet, sizeof p);
  return ToZx(internal::HandleAccess::Object(port_)->QueueUser(p));
}

void PortObj::QueueSignal(std::shared_ptr<SignalPacket> packet) {
  {
    internal::MutexLock lock(&mutex_);
    signals_queued_.push_back(packet);  // before queueing: a reader may forget it at once
  }
  internal::OwnedPacket* owned = packet->owned();
  internal::HandleAccess::Object(port_)->QueueOwned(owned, std::move(packet));
}

bool PortObj::WithdrawSignals(zx_handle_t via, uint64_t key) {
  std::vector<std::shared_ptr<SignalPacket>> matching;
  {
    internal::MutexLock lock(&mutex_);
    for (auto it = signals_queued_.begin(); it != signals_queued_.end();) {
      if ((*it)->via() == via && (*it)->key() == key) {
        matching.push_back(std::move(*it));
        it = signals_queued_.erase(it);
      } else {
        ++it;
      }
    }
  }
  bool withdrawn = false;
  for (auto& packet : matching) {
    // False if a reader took it meanwhile: then it was delivered, not canceled.
    withdrawn |= internal::HandleAccess::Object(port_)->Withdraw(packet->owned());
  }
  return withdrawn;
}

void PortObj::Forget(const SignalPacket* packet) {
  std::shared_ptr<SignalPacket> gone;  // released after the lock
  internal::MutexLock lock(&mutex_);
  auto it = std::find_if(signals_queued_.begin(), signals_queued_.end(),
                         [packet](const auto& p) { return p.get() == packet; });
  if (it != signals_queued_.end()) {
    gone = std::move(*it);
    signals_queued_.erase(it);
  }
}

void SignalPacket::OnPacketDequeued(internal::OwnedPacket*) {
  if (std::shared_ptr<PortObj> port = port_.lock()) port->Forget(this);
}

EventObj::EventObj()
    : Object(kType, internal::NextKoid(), true, ZX_EVENT_SIGNAL_MASK, ZX_SIGNAL_NONE) {}

}  // namespace upager::zx
