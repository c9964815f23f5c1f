// The public Port handle: a counted reference to a PortObject.
#include "upager/port.h"

#include <utility>

#include "pager/port_object.h"

namespace upager {

Port::Port() = default;

Port::~Port() { Reset(); }

Port::Port(Port&& other) noexcept : object_(std::move(other.object_)) {}

Port& Port::operator=(Port&& other) noexcept {
  if (this != &other) {
    Reset();
    object_ = std::move(other.object_);
  }
  return *this;
}

Status Port::Create(uint32_t options, Port* out) {
  if (options != 0 || out == nullptr) {
    return Status::kInvalidArgs;
  }
  Port port;
  port.object_ = std::make_shared<internal::PortObject>();
  port.object_->AddHandle();
  *out = std::move(port);
  return Status::kOk;
}

Status Port::Duplicate(Port* out) const {
  if (object_ == nullptr) {
    return Status::kBadHandle;
  }
  if (out == nullptr) {
    return Status::kInvalidArgs;
  }
  object_->AddHandle();
  Port port;
  port.object_ = object_;
  *out = std::move(port);
  return Status::kOk;
}

void Port::Reset() {
  if (object_ != nullptr) {
    // Keep the object alive through RemoveHandle, which may drop the last other references.
    std::shared_ptr<internal::PortObject> object = std::move(object_);
    object->RemoveHandle();
  }
}

Status Port::Wait(Deadline deadline, PortPacket* out) const {
  if (object_ == nullptr) {
    return Status::kBadHandle;
  }
  if (out == nullptr) {
    return Status::kInvalidArgs;
  }
  return object_->Wait(deadline, out);
}

Status Port::Queue(const PortPacket& packet) const {
  if (object_ == nullptr) {
    return Status::kBadHandle;
  }
  if (packet.type != kPktTypeUser) {
    return Status::kInvalidArgs;
  }
  return object_->QueueUser(packet);
}

Status Port::CancelKey(uint64_t key) const {
  if (object_ == nullptr) {
    return Status::kBadHandle;
  }
  return object_->CancelKey(key);
}

}  // namespace upager
