// The protocol of a handle connection: how a process that holds a VMO handle it received
// from another process asks the VMO's owner to act on it (docs/processes.md).
//
// A VMO handle that leaves its process becomes one end of a SOCK_SEQPACKET socket pair; the
// owner's ExportService keeps the other end, bound to one VMO with the rights of the handle.
// Holding the socket is holding the handle: moving it (SCM_RIGHTS) moves the handle, closing
// it closes the handle. Every message is one packet of the socket:
//
//   owner -> holder, once, first:  Welcome  (+ one descriptor: the VMO's memfd, read-only)
//   holder -> owner:               Request  (+ `data_len` bytes for kWrite; no descriptors)
//   owner -> holder, one per request, in order:
//                                  Reply    (+ bytes for kRead / kGetInfo; + one descriptor,
//                                            the new connection, for kDuplicate / kTransfer)
//
// A handle is sent on to a third process by kTransfer, not by passing the connection
// itself: its welcome has been read, and the receiver must get one from the owner.
//
// A holder has at most one request outstanding. Anything else — a bad magic or version, a
// length that does not match, an unknown op, a descriptor on a request, a second request
// before the reply — makes the owner drop that connection (the holder's handle then behaves
// as a handle to a VMO whose pager is gone). Both sides run on one machine, so fields are
// in host byte order. Every header starts with the magic and the `version`: a peer of
// another version is refused (a welcome with kNotSupported, a request by dropping the
// connection), never read as this one. Version 2 added num_children and parent_koid to
// HandleWireInfo and parent_koid to the welcome.
//
// Decoding is pure (no I/O), so that it can be fuzzed: tests/fuzz/channel_read_fuzz.cc (the
// holder's side) and tests/fuzz/handle_service_fuzz.cc (the owner's).
#ifndef UPAGER_SRC_PAGER_HANDLE_PROTOCOL_H_
#define UPAGER_SRC_PAGER_HANDLE_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "upager/vmo.h"

namespace upager::internal {

inline constexpr uint32_t kHandleWireMagic = 0x48505055;  // "UPPH"
inline constexpr uint16_t kHandleWireVersion = 2;
// The most bytes one kRead or kWrite moves; longer transfers take several requests.
inline constexpr uint32_t kHandleWireMaxData = 64 * 1024;

enum class HandleOp : uint16_t {
  kWelcome = 1,
  kRead = 2,          // offset, len -> data
  kWrite = 3,         // offset, len, data
  kGetSize = 4,       // -> value
  kSetSize = 5,       // offset = the new size
  kOpRange = 6,       // arg = op, offset, len
  kGetInfo = 7,       // -> HandleWireInfo
  kDuplicate = 8,     // arg = rights -> one descriptor
  kTransfer = 9,      // -> one descriptor: another connection for this handle, same rights,
                      //    for sending it on (the sender then closes this one)
  kMemfd = 10,        // arg = 1 for read-write -> one descriptor: the VMO's memfd, to map
                      //    (of a read-through clone: its own memfd, which holds its forks)
  kMap = 11,          // offset, len, data = HandleMapRequest, two descriptors (the holder's
                      //    userfaultfd, its failure page; for a clone also the holder's end of
                      //    a socket pair for HandleForkMessages): serve that mapping's faults
                      //    here
  kCancel = 12,       // no reply: the thread waiting for the outstanding request was killed or
                      //    suspended; kill the owner's thread that runs it (its reply, kIntrKilled
                      //    or whatever it got first, still comes). The one message a holder may
                      //    send while a request is outstanding; ignored when none is.
  kCreateChild = 13,  // arg = options, offset, len = size -> one descriptor: a connection to
                      //    the child, which the owner makes with this handle (docs/clones.md)
  kRootMemfd = 14,    // offset = a mapping's offset in a read-through clone -> value = the
                      //    root's offset for it, one descriptor: the root's memfd, read-only
};

// What a kMap request says of the mapping, besides its VMO range (offset, len).
struct HandleMapRequest {
  uint64_t base;      // the mapping's address in the holder's process
  uint32_t writable;  // mapped PROT_WRITE (registered for write-protect faults)
  uint32_t reserved;
};

// The holder's failure page, shared with the owner: when the owner fails a fault of the
// mapping, it writes the page's address and the status in a slot, then sends the faulting
// thread SIGBUS; the holder's FaultStatusForAddress reads it back (the newest slot of that
// page wins). One page; all fields are written with atomic stores.
struct RemoteFailureSlot {
  uint64_t page;  // 0: empty
  int32_t status;
  uint32_t serial;  // larger is newer
};
inline constexpr size_t kRemoteFailureSlots = 4096 / sizeof(RemoteFailureSlot) - 1;
struct RemoteFailurePage {
  uint32_t next_serial;
  uint32_t reserved[3];
  RemoteFailureSlot slots[kRemoteFailureSlots];
};
static_assert(sizeof(RemoteFailurePage) <= 4096);

struct HandleWelcome {
  uint32_t magic;
  uint16_t version;
  uint16_t op;         // kWelcome
  uint32_t rights;     // of this handle
  uint32_t vmo_flags;  // VmoInfo::flags
  uint64_t koid;
  int32_t owner_pid;       // the owner's process id (in the owner's pid namespace)
  uint32_t welcome_flags;  // kWelcomeReadsThroughParent
  uint64_t parent_koid;    // VmoInfo::parent_koid (for GetInfo once the owner is gone)
};
static_assert(sizeof(HandleWelcome) == 40);
// The VMO is a read-through clone (docs/clones.md): a mapping of it maps its root's memfd
// (kRootMemfd) with the clone's own memfd (kMemfd) placed over it page by page, at the
// owner's word (HandleForkMessage).
inline constexpr uint32_t kWelcomeReadsThroughParent = 1;

// A mapping of a clone in a holder's process: the owner cannot change the holder's address
// space, so it asks the holder to map the clone's own memfd over [offset, offset+len) (VMO
// offsets of the clone, page-aligned) on the socket pair sent with kMap, and waits for the
// holder's answer (the same message, op kForkMapped, same serial) before it wakes the
// faulting thread. kMapOwnProtected is kMapOwn with the piece write-protected, and kMapRoot
// asks for the root's memfd back there (a fork taken back: another mapping of the clone
// could not take it). A holder that cannot map (its VMA limit, vm.max_map_count) answers
// kForkFailed, its mapping as it was. Nothing else travels on that socket.
enum class ForkOp : uint16_t {
  kMapOwn = 1,
  kForkMapped = 2,
  kMapOwnProtected = 3,
  kMapRoot = 4,
  kForkFailed = 5,
};
struct HandleForkMessage {
  uint32_t magic;
  uint16_t version;
  uint16_t op;  // ForkOp
  uint64_t serial;
  uint64_t offset;
  uint64_t len;
};
// Checks a fork message of `op` (`len` bytes): header, op, a page-aligned range.
bool DecodeForkMessage(const void* packet, size_t len, ForkOp op, HandleForkMessage* out);
HandleForkMessage MakeForkMessage(ForkOp op, uint64_t serial, uint64_t offset, uint64_t len);

struct HandleRequest {
  uint32_t magic;
  uint16_t version;
  uint16_t op;
  uint32_t arg;
  uint32_t data_len;  // bytes following the header (kWrite only)
  uint64_t offset;
  uint64_t len;
};

struct HandleReply {
  uint32_t magic;
  uint16_t version;
  uint16_t op;  // the request's
  int32_t status;
  uint32_t data_len;  // bytes following the header
  uint64_t value;     // kGetSize: the size
};

// What kGetInfo returns: every field of VmoInfo, fixed in size and layout on the wire.
struct HandleWireInfo {
  uint64_t koid;
  uint64_t size_bytes;
  uint64_t committed_bytes;
  uint64_t populated_bytes;
  uint32_t flags;
  uint32_t num_children;
  uint64_t parent_koid;
};
static_assert(sizeof(HandleWireInfo) == 48);
// Every flag VmoInfo::flags may carry; the holder refuses info with any other.
inline constexpr uint32_t kHandleWireInfoFlags = kVmoInfoPagerBacked;
HandleWireInfo MakeWireInfo(const VmoInfo& info);
// Checks the data of a kGetInfo reply (`len` bytes) of the VMO `koid`: its exact size, that
// koid, a parent other than itself, known flags, page-aligned sizes no larger than
// kMaxVmoSize. Reads nothing past `len`.
bool DecodeWireInfo(const void* data, size_t len, uint64_t koid, VmoInfo* out);

// A request as the owner acts on it; `data` points into the decoded buffer.
struct DecodedRequest {
  HandleOp op;
  uint32_t arg;
  uint64_t offset;
  uint64_t len;
  const std::byte* data;
  uint32_t data_len;
  HandleMapRequest map;  // kMap
};

// Checks one received packet (`len` bytes, `num_fds` descriptors: two for kMap, none for
// the others) as a request. On failure
// returns false and says why in `*why` (for the owner's log line).
bool DecodeRequest(const void* packet, size_t len, size_t num_fds, DecodedRequest* out,
                   std::string* why);

// Checks a reply to a request of `op`: header, op, and a data length that fits `capacity`
// and is what the op returns. `*data` points at the data in `packet`.
bool DecodeReply(const void* packet, size_t len, HandleOp op, size_t capacity, HandleReply* out,
                 const std::byte** data);

// Checks a welcome packet.
bool DecodeWelcome(const void* packet, size_t len, HandleWelcome* out);

// The version of a packet (`len` bytes) that starts with this protocol's magic, or 0 for one
// that does not: to tell a peer of another version from garbage.
uint16_t WireVersion(const void* packet, size_t len);

HandleRequest MakeRequest(HandleOp op, uint32_t arg, uint64_t offset, uint64_t len,
                          uint32_t data_len);
HandleReply MakeReply(HandleOp op, int32_t status, uint32_t data_len, uint64_t value);

}  // namespace upager::internal

#endif  // UPAGER_SRC_PAGER_HANDLE_PROTOCOL_H_
