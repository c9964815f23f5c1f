#include "pager/port_object.h"

#include <cassert>
#include <new>
#include <utility>

#include "base/deferred_wakeups.h"

namespace upager::internal {

PacketOwner::~PacketOwner() = default;

PortObject::PortObject() = default;

PortObject::~PortObject() {
  // Owners that queue here normally hold the port, so only packets of owners that do not
  // (or user packets) can be left; drop them as a dead port would.
  PacketList owned;
  PacketList user;
  {
    MutexLock lock(&mutex_);
    while (!queue_.empty()) {
      UnlinkLocked(&queue_.front(), &owned, &user);
    }
  }
  Release(&owned, &user);
}

void PortObject::AddHandle() {
  MutexLock lock(&mutex_);
  ++handles_;
}

void PortObject::RemoveHandle() {
  PacketList owned;
  PacketList user;
  {
    MutexLock lock(&mutex_);
    assert(handles_ > 0);
    if (--handles_ > 0) {
      return;
    }
    // Nobody can read this port any more: what is queued will never be read, and keeping
    // owned packets would keep their owners (which hold this port) alive forever.
    dead_ = true;
    while (!queue_.empty()) {
      UnlinkLocked(&queue_.front(), &owned, &user);
    }
  }
  Release(&owned, &user);
}

void PortObject::UnlinkLocked(OwnedPacket* packet, PacketList* out, PacketList* user_out) {
  queue_.erase(queue_.iterator_to(*packet));
  packet->queued = false;
  (packet->owner != nullptr ? out : user_out)->push_back(*packet);
}

void PortObject::Release(PacketList* owned, PacketList* user) {
  while (!owned->empty()) {
    OwnedPacket* packet = &owned->front();
    owned->pop_front();
    packet->owner.reset();
  }
  user->clear_and_dispose([](OwnedPacket* packet) { delete packet; });
}

Status PortObject::Wait(Deadline deadline, PortPacket* out, uint64_t* queued_ns) {
  OwnedPacket* packet;
  std::shared_ptr<PacketOwner> owner;
  {
    MutexLock lock(&mutex_);
    while (queue_.empty()) {
      if (deadline == kInfiniteDeadline) {
        cv_.Wait(&mutex_);
      } else if (std::chrono::steady_clock::now() >= deadline ||
                 !cv_.WaitUntil(&mutex_, deadline)) {
        // A waiter that timed out just as a packet arrived may have absorbed the wake-up
        // meant for another waiter: take the packet rather than strand it.
        break;
      }
    }
    if (queue_.empty()) {
      return Status::kTimedOut;
    }
    packet = &queue_.front();
    queue_.pop_front();
    packet->queued = false;
    *out = packet->packet;
    if (queued_ns != nullptr) *queued_ns = packet->queued_ns;
    owner = std::move(packet->owner);
  }
  if (owner == nullptr) {
    delete packet;  // the port's copy of a user packet
  } else {
    owner->OnPacketDequeued(packet);
  }
  return Status::kOk;
}

Status PortObject::QueueUser(const PortPacket& packet) {
  auto* copy = new (std::nothrow) OwnedPacket;
  if (copy == nullptr) {
    return Status::kNoMemory;
  }
  copy->packet = packet;
  {
    MutexLock lock(&mutex_);
    if (!dead_) {
      copy->queued = true;
      queue_.push_back(*copy);
      copy = nullptr;
    }
  }
  delete copy;  // only if dead: never read anyway
  cv_.NotifyOne();
  return Status::kOk;
}

void PortObject::QueueOwned(OwnedPacket* packet, std::shared_ptr<PacketOwner> owner) {
  assert(owner != nullptr);
  {
    MutexLock lock(&mutex_);
    assert(!packet->queued && !packet->is_linked());
    if (dead_) {
      return;  // `owner` is released on return; the caller keeps its owner alive
    }
    packet->owner = std::move(owner);
    packet->queued = true;
    queue_.push_back(*packet);
  }
  // Outside the lock: the woken waiter would otherwise block on it at once. And, when the
  // caller asked for it, after the caller's own locks too (DeferredWakeups).
  DeferredWakeups::NotifyOne(&cv_, weak_from_this().lock());
}

bool PortObject::Withdraw(OwnedPacket* packet) {
  std::shared_ptr<PacketOwner> owner;
  {
    MutexLock lock(&mutex_);
    if (!packet->queued) {
      return false;
    }
    queue_.erase(queue_.iterator_to(*packet));
    packet->queued = false;
    owner = std::move(packet->owner);
  }
  return true;
}

Status PortObject::CancelKey(uint64_t key) {
  PacketList owned;
  PacketList user;
  {
    MutexLock lock(&mutex_);
    for (auto it = queue_.begin(); it != queue_.end();) {
      OwnedPacket* packet = &*it;
      ++it;
      if (packet->packet.key == key) {
        UnlinkLocked(packet, &owned, &user);
      }
    }
  }
  const bool found = !owned.empty() || !user.empty();
  user.clear_and_dispose([](OwnedPacket* packet) { delete packet; });
  // Exactly like a dequeue. Packets are taken off the private list before their owner
  // hears of them, since the owner may queue them again at once.
  while (!owned.empty()) {
    OwnedPacket* packet = &owned.front();
    owned.pop_front();
    std::shared_ptr<PacketOwner> owner = std::move(packet->owner);
    owner->OnPacketDequeued(packet);
  }
  return found ? Status::kOk : Status::kNotFound;
}

size_t PortObject::queued_count() const {
  MutexLock lock(&mutex_);
  return queue_.size();
}

}  // namespace upager::internal
