// Encoding and checking of handle-connection messages (handle_protocol.h).
#include "pager/handle_protocol.h"

#include <cstring>

namespace upager::internal {

namespace {

template <typename T>
bool ReadHeader(const void* packet, size_t len, T* out) {
  if (len < sizeof(T)) return false;
  std::memcpy(out, packet, sizeof(T));
  return out->magic == kHandleWireMagic && out->version == kHandleWireVersion;
}

// A field of VmoInfo that HandleWireInfo does not carry would read as 0 in every holder.
static_assert(sizeof(VmoInfo) == sizeof(HandleWireInfo),
              "a new VmoInfo field needs a place in HandleWireInfo, and a new wire version");

}  // namespace

uint16_t WireVersion(const void* packet, size_t len) {
  uint32_t magic = 0;
  uint16_t version = 0;
  if (len < sizeof magic + sizeof version) return 0;
  std::memcpy(&magic, packet, sizeof magic);
  std::memcpy(&version, static_cast<const std::byte*>(packet) + sizeof magic, sizeof version);
  return magic == kHandleWireMagic ? version : 0;
}

HandleWireInfo MakeWireInfo(const VmoInfo& info) {
  return HandleWireInfo{info.koid,  info.size_bytes,   info.committed_bytes, info.populated_bytes,
                        info.flags, info.num_children, info.parent_koid};
}

bool DecodeWireInfo(const void* data, size_t len, uint64_t koid, VmoInfo* out) {
  HandleWireInfo wire;
  if (len != sizeof wire) return false;
  std::memcpy(&wire, data, sizeof wire);
  const auto pages = [](uint64_t bytes) { return bytes % kPageSize == 0 && bytes <= kMaxVmoSize; };
  if (wire.koid != koid || wire.parent_koid == koid || (wire.flags & ~kHandleWireInfoFlags) != 0 ||
      !pages(wire.size_bytes) || !pages(wire.committed_bytes) || !pages(wire.populated_bytes)) {
    return false;
  }
  *out = VmoInfo{wire.koid,  wire.size_bytes,   wire.committed_bytes, wire.populated_bytes,
                 wire.flags, wire.num_children, wire.parent_koid};
  return true;
}

bool DecodeRequest(const void* packet, size_t len, size_t num_fds, DecodedRequest* out,
                   std::string* why) {
  HandleRequest header;
  if (!ReadHeader(packet, len, &header)) {
    const uint16_t version = WireVersion(packet, len);
    *why = version != 0 && version != kHandleWireVersion
               ? "a request of protocol version " + std::to_string(version) + " (this is " +
                     std::to_string(kHandleWireVersion) + ")"
           : len < sizeof header ? "a request shorter than its header"
                                 : "a request with a bad magic";
    return false;
  }
  const bool map = header.op == static_cast<uint16_t>(HandleOp::kMap);
  if (map ? num_fds != 2 && num_fds != 3 : num_fds != 0) {
    *why = "a request with the wrong number of descriptors";
    return false;
  }
  if (header.data_len != len - sizeof header) {
    *why = "a request whose length does not match its header";
    return false;
  }
  out->op = static_cast<HandleOp>(header.op);
  out->arg = header.arg;
  out->offset = header.offset;
  out->len = header.len;
  out->data = static_cast<const std::byte*>(packet) + sizeof header;
  out->data_len = header.data_len;
  switch (out->op) {
    case HandleOp::kRead:
      if (header.len > kHandleWireMaxData || header.data_len != 0) {
        *why = "a read longer than a message";
        return false;
      }
      return true;
    case HandleOp::kWrite:
      if (header.len > kHandleWireMaxData || header.data_len != header.len) {
        *why = "a write whose data does not match its length";
        return false;
      }
      return true;
    case HandleOp::kGetSize:
    case HandleOp::kSetSize:
    case HandleOp::kOpRange:
    case HandleOp::kGetInfo:
    case HandleOp::kDuplicate:
    case HandleOp::kTransfer:
    case HandleOp::kMemfd:
    case HandleOp::kCancel:
    case HandleOp::kCreateChild:
    case HandleOp::kRootMemfd:
      if (header.data_len != 0) {
        *why = "data attached to a request that takes none";
        return false;
      }
      return true;
    case HandleOp::kMap:
      if (header.data_len != sizeof(HandleMapRequest)) {
        *why = "a map request of the wrong size";
        return false;
      }
      std::memcpy(&out->map, out->data, sizeof out->map);
      if (out->map.writable > 1 || out->map.base % 4096 != 0 || out->offset % 4096 != 0 ||
          out->len == 0 || out->len % 4096 != 0 || out->map.base + out->len < out->map.base) {
        *why = "a map request with a bad range";
        return false;
      }
      return true;
    case HandleOp::kWelcome: break;
  }
  *why = "an unknown request";
  return false;
}

bool DecodeReply(const void* packet, size_t len, HandleOp op, size_t capacity, HandleReply* out,
                 const std::byte** data) {
  if (!ReadHeader(packet, len, out)) return false;
  if (out->op != static_cast<uint16_t>(op) || out->data_len != len - sizeof *out ||
      out->data_len > capacity) {
    return false;
  }
  if (out->status != 0 && out->data_len != 0) return false;
  if (op == HandleOp::kGetInfo && out->status == 0 && out->data_len != sizeof(HandleWireInfo)) {
    return false;
  }
  if (op != HandleOp::kRead && op != HandleOp::kGetInfo && out->data_len != 0) return false;
  *data = static_cast<const std::byte*>(packet) + sizeof *out;
  return true;
}

bool DecodeWelcome(const void* packet, size_t len, HandleWelcome* out) {
  return len == sizeof *out && ReadHeader(packet, len, out) &&
         out->op == static_cast<uint16_t>(HandleOp::kWelcome) && out->koid != 0 &&
         out->parent_koid != out->koid;
}

bool DecodeForkMessage(const void* packet, size_t len, ForkOp op, HandleForkMessage* out) {
  return len == sizeof *out && ReadHeader(packet, len, out) &&
         out->op == static_cast<uint16_t>(op) && out->offset % 4096 == 0 && out->len % 4096 == 0 &&
         out->len != 0 && out->offset + out->len > out->offset;
}

HandleForkMessage MakeForkMessage(ForkOp op, uint64_t serial, uint64_t offset, uint64_t len) {
  HandleForkMessage m{};
  m.magic = kHandleWireMagic;
  m.version = kHandleWireVersion;
  m.op = static_cast<uint16_t>(op);
  m.serial = serial;
  m.offset = offset;
  m.len = len;
  return m;
}

HandleRequest MakeRequest(HandleOp op, uint32_t arg, uint64_t offset, uint64_t len,
                          uint32_t data_len) {
  HandleRequest r{};
  r.magic = kHandleWireMagic;
  r.version = kHandleWireVersion;
  r.op = static_cast<uint16_t>(op);
  r.arg = arg;
  r.data_len = data_len;
  r.offset = offset;
  r.len = len;
  return r;
}

HandleReply MakeReply(HandleOp op, int32_t status, uint32_t data_len, uint64_t value) {
  HandleReply r{};
  r.magic = kHandleWireMagic;
  r.version = kHandleWireVersion;
  r.op = static_cast<uint16_t>(op);
  r.status = status;
  r.data_len = data_len;
  r.value = value;
  return r;
}

}  // namespace upager::internal
