// PortObject: the object behind a Port handle, a FIFO of packets with Zircon's port
// semantics, including the kernel-owned packets a pager's VMOs deliver through it.
#ifndef UPAGER_SRC_PAGER_PORT_OBJECT_H_
#define UPAGER_SRC_PAGER_PORT_OBJECT_H_

#include <cstdint>
#include <memory>

#include <boost/intrusive/list.hpp>

#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/port.h"
#include "upager/status.h"

namespace upager::internal {

struct OwnedPacket;

// An object that embeds a packet and queues it on a port (a pager proxy). Queueing such a
// packet never allocates and never fails, which is what lets a page request be delivered
// from any context; in exchange the owner may not touch the packet while it is queued.
class PacketOwner {
 public:
  // `packet` left the port: read by a waiter or removed by CancelKey. Called with no port
  // lock held (the owner takes its own lock, which is ordered before the port's), once per
  // queueing. From here on the packet is the owner's again and may be queued anew.
  virtual void OnPacketDequeued(OwnedPacket* packet) = 0;

 protected:
  virtual ~PacketOwner();
};

// A packet embedded in its owner. `packet` is written by the owner while the packet is not
// queued and read by the port while it is; `owner` and `queued` belong to the port.
struct OwnedPacket : boost::intrusive::list_base_hook<> {
  PortPacket packet{};
  // Set while the packet is in a port: the port's reference keeps the owner alive until
  // the packet is read or withdrawn (how a proxy outlives its VMO until its COMPLETE is
  // read). Null for the port's own copies of user packets.
  std::shared_ptr<PacketOwner> owner;
  // True while in a port's queue; the hook alone cannot say so, since packets being
  // handed back to their owners are still linked on a private list.
  bool queued = false;
  // When the owner queued it (steady_clock ns; 0 for user packets). Kept beside the packet,
  // which stays byte for byte what Zircon delivers.
  uint64_t queued_ns = 0;
};

// The packet queue. User packets are copied into nodes the port allocates; owned packets
// are linked in place. Both kinds share one FIFO, so Wait returns packets in queue order.
//
// A port created through Port counts its handles: once the last one is gone nobody can read
// it any more, so queued packets are dropped and later ones are not kept ("queued but
// never read": an owned packet stays its owner's business, and Withdraw reports it as not
// queued). This also breaks the port <-> owner reference cycle of an owned packet.
class PortObject : public std::enable_shared_from_this<PortObject> {
 public:
  PortObject();
  ~PortObject();
  PortObject(const PortObject&) = delete;
  PortObject& operator=(const PortObject&) = delete;

  // Handles of the public Port; the first AddHandle is done by Port::Create.
  void AddHandle();
  void RemoveHandle();

  // Dequeues the oldest packet into `out`, waiting until `deadline` (kTimedOut). A
  // deadline in the past polls. For an owned packet, calls its owner's OnPacketDequeued
  // after releasing the port lock, before returning.
  // `queued_ns`, if not null, gets the packet's OwnedPacket::queued_ns.
  Status Wait(Deadline deadline, PortPacket* out, uint64_t* queued_ns = nullptr);
  // Queues a copy of `packet` (any type; Port checks it is a user packet). kNoMemory if
  // the copy cannot be allocated.
  Status QueueUser(const PortPacket& packet);
  // Queues `packet`, which must not be queued anywhere, on behalf of `owner` (non-null).
  // Never fails and never allocates.
  void QueueOwned(OwnedPacket* packet, std::shared_ptr<PacketOwner> owner);
  // Takes `packet` back if it is still queued here: returns true and the packet is the
  // caller's again (OnPacketDequeued is not called). False if it was read, is being handed
  // back, or was dropped by a dead port. The caller must keep the owner alive across the
  // call (the port's reference is released in here).
  bool Withdraw(OwnedPacket* packet);
  // Removes every queued packet whose key is `key`. Each owned one is reported to its
  // owner with OnPacketDequeued exactly as if it had been read (outside the port lock).
  // kNotFound if there was none.
  Status CancelKey(uint64_t key);

  // Packets in the queue (tests and diagnostics).
  size_t queued_count() const;

 private:
  using PacketList =
      boost::intrusive::list<OwnedPacket, boost::intrusive::constant_time_size<true>>;

  // Unlinks `packet` from queue_ and moves it to `out`, taking over the port's reference
  // to its owner; a user packet is moved to `user_out` to be freed outside the lock.
  void UnlinkLocked(OwnedPacket* packet, PacketList* out, PacketList* user_out)
      UPAGER_REQUIRES(mutex_);
  // Frees user packets and drops owner references, with no port lock held (dropping the
  // last reference to an owner runs its destructor).
  static void Release(PacketList* owned, PacketList* user);

  mutable Mutex mutex_;
  CondVar cv_;
  PacketList queue_ UPAGER_GUARDED_BY(mutex_);
  uint64_t handles_ UPAGER_GUARDED_BY(mutex_) = 0;
  bool dead_ UPAGER_GUARDED_BY(mutex_) = false;
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_PAGER_PORT_OBJECT_H_
