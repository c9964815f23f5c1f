// Decoding the VmoService protocol (vmo_service_wire.h).
#include "pager/vmo_service_wire.h"

#include <algorithm>
#include <cstring>

namespace upager::internal {

bool ValidServiceName(std::string_view name) {
  return !name.empty() && name.size() <= kVmoServiceMaxName &&
         name.find('\0') == std::string_view::npos;
}

bool DecodeOpen(const void* data, size_t len, ServiceMessage* header, std::string_view* name) {
  if (data == nullptr || len < sizeof(ServiceMessage) || len > kServiceMaxRequest) return false;
  std::memcpy(header, data, sizeof *header);
  if (header->magic != kServiceWireMagic || header->version != kServiceWireVersion ||
      header->op != static_cast<uint16_t>(ServiceOp::kOpen) || header->status != 0 ||
      header->rights != 0 || header->content_size != 0 ||
      header->name_len != len - sizeof(ServiceMessage)) {
    return false;
  }
  *name =
      std::string_view(static_cast<const char*>(data) + sizeof(ServiceMessage), header->name_len);
  return ValidServiceName(*name);
}

bool DecodeServiceReply(const void* data, size_t len, ServiceOp op, ServiceMessage* out) {
  // Every version starts with magic, version and op.
  if (data == nullptr || len < 8) return false;
  ServiceMessage m{};
  std::memcpy(&m, data, std::min(len, sizeof m));
  if (m.magic != kServiceWireMagic || m.op != static_cast<uint16_t>(op)) return false;
  if (m.version != kServiceWireVersion) {
    *out = m;
    return true;
  }
  if (len != sizeof m || m.name_len != 0) return false;
  *out = m;
  return true;
}

}  // namespace upager::internal
