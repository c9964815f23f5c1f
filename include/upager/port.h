// Port: a queue of packets, as Zircon's port object. A pager delivers page requests for
// its VMOs here (kPktTypePageRequest); user code may queue its own packets too.
#ifndef UPAGER_PORT_H_
#define UPAGER_PORT_H_

#include <cstdint>

#include "upager/internal/handle.h"
#include "upager/packet.h"
#include "upager/status.h"

namespace upager {

namespace internal {
class PortObject;
// Instantiated in the library, which alone sees the object type.
extern template class Handle<PortObject>;
}  // namespace internal

// Move-only handle; Duplicate makes another. The port lives while any handle or any object
// that delivers to it (a pager's VMO) does: closing every handle does not stop packets from
// being queued (nobody reads them).
class Port : private internal::Handle<internal::PortObject> {
 public:
  // `options` must be 0.
  static Status Create(uint32_t options, Port* out);
  Status Duplicate(Port* out) const;
  bool is_valid() const { return Handle::is_valid(); }
  void Reset() { Handle::Reset(); }

  // Dequeues the oldest packet, waiting until `deadline`; kTimedOut if none came (a
  // deadline in the past polls). kBadHandle on an invalid handle.
  Status Wait(Deadline deadline, PortPacket* out) const;
  // Queues a user packet (type must be kPktTypeUser, else kInvalidArgs).
  Status Queue(const PortPacket& packet) const;
  // Removes every queued packet with `key`; for a pager's packet this behaves like a
  // dequeue (the request stays outstanding and later packets still flow). kNotFound if
  // there was none.
  Status CancelKey(uint64_t key) const;

 private:
  friend struct internal::HandleAccess;
};

}  // namespace upager

#endif  // UPAGER_PORT_H_
