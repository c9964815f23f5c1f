// The protocol between a VmoService and its clients (vmo_service.h, docs/processes.md).
//
// A connection is a Channel (channel.h) on a socket accepted from the service's listening
// socket. Every message is one ServiceMessage, sometimes followed by bytes or a handle:
//
//   service -> client, once, first:  kHello   status: kOk, or why the client is refused
//                                              (then the service closes the connection)
//   client -> service:               kOpen    id, name_len, then the name's bytes
//   service -> client, per kOpen:    kOpened  id, status, rights, content_size; with one
//                                              VMO handle when status is kOk
//
// Anything else from a client (another magic or version, another op, a name_len that does
// not match, a name out of bounds, any handle or descriptor) gets its connection dropped.
// A client may send several kOpen before reading the replies, but one whose replies fill
// its socket is dropped. Both sides run on one machine: host byte order.
//
// Decoding is pure (no I/O), so that it can be fuzzed.
#ifndef UPAGER_SRC_PAGER_VMO_SERVICE_WIRE_H_
#define UPAGER_SRC_PAGER_VMO_SERVICE_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "upager/vmo_service.h"

namespace upager::internal {

inline constexpr uint32_t kServiceWireMagic = 0x53565055;  // "UPVS"
inline constexpr uint16_t kServiceWireVersion = 1;

enum class ServiceOp : uint16_t { kHello = 1, kOpen = 2, kOpened = 3 };

struct ServiceMessage {
  uint32_t magic = kServiceWireMagic;
  uint16_t version = kServiceWireVersion;
  uint16_t op = 0;            // ServiceOp
  int32_t status = 0;         // kHello, kOpened
  uint32_t id = 0;            // kOpen, and the kOpened that answers it
  uint32_t rights = 0;        // kOpened
  uint32_t name_len = 0;      // kOpen
  uint64_t content_size = 0;  // kOpened
};
static_assert(sizeof(ServiceMessage) == 32);

// The largest message a client may send.
inline constexpr size_t kServiceMaxRequest = sizeof(ServiceMessage) + kVmoServiceMaxName;

// True if `name` can be exported: 1..kVmoServiceMaxName bytes, no NUL.
bool ValidServiceName(std::string_view name);

// Decodes a client's message of `len` bytes: on true, `*header` is its header and `*name`
// points into `data`. False for anything but a well-formed kOpen.
bool DecodeOpen(const void* data, size_t len, ServiceMessage* header, std::string_view* name);

// Decodes a service's message (kHello or kOpened; `op`): false unless it is one, whole.
// A message of another version decodes (so that the client can say so) with only magic,
// version and op checked.
bool DecodeServiceReply(const void* data, size_t len, ServiceOp op, ServiceMessage* out);

}  // namespace upager::internal

#endif  // UPAGER_SRC_PAGER_VMO_SERVICE_WIRE_H_
