// The public Port handle: a counted reference to a PortObject.
#include "upager/port.h"

#include <utility>

#include "base/handle_access.h"
#include "pager/port_object.h"

namespace upager {

template class internal::Handle<internal::PortObject>;

Status Port::Create(uint32_t options, Port* out) {
  if (options != 0 || out == nullptr) {
    return Status::kInvalidArgs;
  }
  *out = internal::HandleAccess::Make<Port>(std::make_shared<internal::PortObject>());
  return Status::kOk;
}

Status Port::Duplicate(Port* out) const { return DuplicateTo(out); }

Status Port::Wait(Deadline deadline, PortPacket* out) const {
  if (object() == nullptr) {
    return Status::kBadHandle;
  }
  if (out == nullptr) {
    return Status::kInvalidArgs;
  }
  return object()->Wait(deadline, out);
}

Status Port::Queue(const PortPacket& packet) const {
  if (object() == nullptr) {
    return Status::kBadHandle;
  }
  if (packet.type != kPktTypeUser) {
    return Status::kInvalidArgs;
  }
  return object()->QueueUser(packet);
}

Status Port::CancelKey(uint64_t key) const {
  if (object() == nullptr) {
    return Status::kBadHandle;
  }
  return object()->CancelKey(key);
}

}  // namespace upager
