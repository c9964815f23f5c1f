// The objects behind zx handles: a small base (type, koid, signals and the waits on them)
// and one subclass per kind of object, each holding the upager object it stands for.
#ifndef UPAGER_COMPAT_ZX_OBJECT_H_
#define UPAGER_COMPAT_ZX_OBJECT_H_

#include <zircon/syscalls/port.h>
#include <zircon/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include <boost/intrusive/list.hpp>

#include "pager/port_object.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/status.h"
#include "upager/vmo.h"

namespace upager::zx {

class PortObj;

// The packet of one zx_object_wait_async, made when the wait is, queued in place on the port
// when the wait fires (so firing never allocates), and withdrawn by zx_port_cancel while it
// is still unread.
class SignalPacket final : public internal::PacketOwner {
 public:
  SignalPacket(std::weak_ptr<PortObj> port, zx_handle_t via, uint64_t key)
      : port_(std::move(port)), via_(via), key_(key) {}
  ~SignalPacket() override = default;

  zx_handle_t via() const { return via_; }
  uint64_t key() const { return key_; }
  internal::OwnedPacket* owned() { return &owned_; }
  // Read by a zx_port_wait: the port forgets it.
  void OnPacketDequeued(internal::OwnedPacket* packet) override;

 private:
  const std::weak_ptr<PortObj> port_;
  const zx_handle_t via_;
  const uint64_t key_;
  internal::OwnedPacket owned_;
};

// Signals, zx_object_wait_one and zx_object_wait_async, common to every object. An object
// that is not waitable (ports, pagers) has no signals and refuses waits (ZX_ERR_NOT_SUPPORTED).
class Object {
 public:
  Object(zx_obj_type_t type, zx_koid_t koid, bool waitable, zx_signals_t user_settable,
         zx_signals_t initial);
  virtual ~Object();
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  zx_obj_type_t type() const { return type_; }
  zx_koid_t koid() const { return koid_; }
  bool waitable() const { return waitable_; }

  // zx_object_signal after the handle checks: ZX_ERR_NOT_SUPPORTED if not waitable,
  // ZX_ERR_INVALID_ARGS for a bit outside the object's user-settable signals.
  zx_status_t UserSignal(zx_signals_t clear_mask, zx_signals_t set_mask);
  // zx_object_wait_one after the handle checks. `via` is the handle waited through: closing
  // it ends the wait with ZX_ERR_CANCELED.
  zx_status_t WaitOne(zx_handle_t via, zx_signals_t signals, Deadline deadline,
                      zx_signals_t* observed);
  // zx_object_wait_async after the handle checks: one ZX_PKT_TYPE_SIGNAL_ONE packet to `port`
  // when any of `signals` is asserted (at once if one is, unless ZX_WAIT_ASYNC_EDGE).
  zx_status_t WaitAsync(zx_handle_t via, std::shared_ptr<PortObj> port, uint64_t key,
                        zx_signals_t signals, uint32_t options);
  // zx_port_cancel: drops the async waits made through `via` for `port` with `key`. True if
  // there was one.
  bool CancelAsync(zx_handle_t via, const PortObj* port, uint64_t key);
  // Threads inside WaitOne on this object (tests wait for a waiter to be there).
  size_t waiter_count();
  // The handle `via` was closed: its waits end (wait_one: ZX_ERR_CANCELED; async: dropped).
  void OnHandleClosed(zx_handle_t via);
  // zx_info_handle_basic_t::related_koid: a channel endpoint's peer; 0 for most objects.
  virtual zx_koid_t related_koid() const { return ZX_KOID_INVALID; }

 protected:
  // For subclasses whose own state changes their signals.
  void UpdateSignals(zx_signals_t clear_mask, zx_signals_t set_mask);

 private:
  struct Waiter : boost::intrusive::list_base_hook<> {
    zx_handle_t via = ZX_HANDLE_INVALID;
    bool canceled = false;
  };
  struct AsyncWait {
    zx_handle_t via;
    std::shared_ptr<PortObj> port;
    uint64_t key;
    zx_signals_t signals;
    uint32_t options;
    std::shared_ptr<SignalPacket> packet;
  };
  struct Fired {
    std::shared_ptr<PortObj> port;
    std::shared_ptr<SignalPacket> packet;
  };

  // Moves the async waits that `signals_` satisfies (for an edge wait: that `rising` does)
  // into `fired`, with their packets.
  void CollectFiredLocked(zx_signals_t rising, std::vector<Fired>* fired) UPAGER_REQUIRES(mutex_);
  static void Deliver(std::vector<Fired>* fired);

  const zx_obj_type_t type_;
  const zx_koid_t koid_;
  const bool waitable_;
  const zx_signals_t user_settable_;

  internal::Mutex mutex_;
  internal::CondVar cv_;
  zx_signals_t signals_ UPAGER_GUARDED_BY(mutex_);
  boost::intrusive::list<Waiter> waiters_ UPAGER_GUARDED_BY(mutex_);
  std::vector<AsyncWait> async_waits_ UPAGER_GUARDED_BY(mutex_);
};

// ZX_VMO_ZERO_CHILDREN follows the VMO's child count: asserted while it has none (from
// creation), deasserted by zx_vmo_create_child, asserted again when the library reports the
// last child gone (VmoChildObserver).
class VmoObj final : public Object, private VmoChildObserver {
 public:
  static constexpr zx_obj_type_t kType = ZX_OBJ_TYPE_VMO;
  // `pager_koid`: the koid of the PagerObj that created it, 0 for an anonymous VMO or a
  // child. `cow_clone`: a snapshot-kind child (ZX_INFO_VMO_IS_COW_CLONE).
  VmoObj(Vmo vmo, bool resizable, zx_koid_t pager_koid, bool cow_clone = false);
  ~VmoObj() override;

  const Vmo& vmo() const { return vmo_; }
  bool resizable() const { return resizable_; }
  zx_koid_t pager_koid() const { return pager_koid_; }
  bool cow_clone() const { return cow_clone_; }
  // Sets ZX_VMO_ZERO_CHILDREN from the VMO's child count now (after a create_child).
  void RefreshZeroChildren();

 private:
  void OnZeroChildren() override { RefreshZeroChildren(); }

  // Orders the refreshes, so that the last one to read the count sets the signal.
  internal::Mutex refresh_mutex_;
  const Vmo vmo_;
  const bool resizable_;
  const zx_koid_t pager_koid_;
  const bool cow_clone_;
};

class PagerObj final : public Object {
 public:
  static constexpr zx_obj_type_t kType = ZX_OBJ_TYPE_PAGER;
  explicit PagerObj(Pager pager);
  const Pager& pager() const { return pager_; }

 private:
  const Pager pager_;
};

class PortObj final : public Object {
 public:
  static constexpr zx_obj_type_t kType = ZX_OBJ_TYPE_PORT;
  explicit PortObj(Port port);
  const Port& port() const { return port_; }
  // Queues a copy of a packet of any type, as the kernel does for zx_port_queue.
  zx_status_t QueueAnyType(const zx_port_packet_t& packet) const;
  // Queues a fired wait's packet in place; it stays withdrawable until read.
  void QueueSignal(std::shared_ptr<SignalPacket> packet);
  // zx_port_cancel's second half: withdraws the unread packets of the waits made through
  // `via` with `key`. True if there was one.
  bool WithdrawSignals(zx_handle_t via, uint64_t key);
  // `packet` was read.
  void Forget(const SignalPacket* packet);

 private:
  const Port port_;
  internal::Mutex mutex_;
  // Queued signal packets, until read or withdrawn.
  std::vector<std::shared_ptr<SignalPacket>> signals_queued_ UPAGER_GUARDED_BY(mutex_);
};

class EventObj final : public Object {
 public:
  static constexpr zx_obj_type_t kType = ZX_OBJ_TYPE_EVENT;
  EventObj();
};

// The status a upager call returned, as a zx_status_t (same numbers).
inline zx_status_t ToZx(Status s) { return static_cast<zx_status_t>(s); }

// What a new VMO handle carries: Zircon's default VMO rights, and RESIZE if it can resize.
zx_rights_t NewVmoRights(bool resizable);

// A zx_time_t deadline (monotonic ns) as a upager Deadline; ZX_TIME_INFINITE is infinite.
Deadline ToDeadline(zx_time_t deadline);

}  // namespace upager::zx

#endif  // UPAGER_COMPAT_ZX_OBJECT_H_
