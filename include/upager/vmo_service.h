// VmoService and VmoClient: named VMOs on a Unix socket path, for other processes to find.
//
// A pager process makes a VmoService on a path and exports VMOs under names, each with the
// rights its holders get; a client process connects to the path and opens a name: it
// receives a VMO handle (channel.h: the same object, whose reads of absent pages join the
// one PageSource of the pager's process) with exactly those rights.
//
//   // The pager's process:
//   upager::MappingSupport();   // clients' mapped faults are served here
//   std::unique_ptr<upager::VmoService> service;
//   upager::VmoService::Create("/run/weights.sock", {}, &service);
//   service->Export("weights", provider->vmo(), upager::kServedReadOnlyRights,
//                   provider->content_size());
//
//   // Any other process (of the same user, by default):
//   upager::Vmo vmo;
//   uint64_t size = 0;
//   upager::OpenServedVmo("/run/weights.sock", "weights", &vmo, &size);
//   vmo.Read(buf, 0, 4096);
//
// Who may connect: the socket file is created with mode 0600 (VmoServiceOptions::mode), so
// that by default only the service's own user (and root) can connect; the directory it is
// in must be trusted too. On top of that, the service can check each peer's credentials as
// the kernel reports them at connect time (SO_PEERCRED: pid, uid, gid): an allowed-uid list
// and/or a callback. A refused peer is told kAccessDenied and dropped.
//
// Clients that map what they open (Mapping::Create) have their faults served in the
// service's process by upager's fault layer: call MappingSupport() (mapping.h) there once
// before exporting, or their Mapping::Create says kNotSupported (Vmo::Read works anyway).
//
// A client can reach only the names exported, with only the rights exported: the handle
// it receives cannot be widened (rights.h), and with no kRightWrite nothing it can do
// modifies the pages (docs/processes.md).
//
// Hostile clients: a connection that sends anything but a well-formed request (garbage,
// truncated or oversized messages, descriptors or handles), or that does not read its
// replies, is dropped with one line on stderr; the service and its other clients go on.
// Handles it already received stay valid.
//
// The protocol is versioned (docs/processes.md): the service greets each connection with
// its version; a client of another version gets kNotSupported from Connect.
//
// Threads: a VmoService answers on one thread of its own (a request only looks a name up
// and duplicates a handle: it never waits for a pager). Export, Remove and the getters may
// be called from any thread while it runs.
#ifndef UPAGER_VMO_SERVICE_H_
#define UPAGER_VMO_SERVICE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "upager/channel.h"
#include "upager/rights.h"
#include "upager/status.h"
#include "upager/vmo.h"

namespace upager {

// What VmoService::Export grants unless told otherwise: reading and mapping for reading,
// and passing the handle on (duplicate, transfer), plus the rights no call needs yet that
// do not modify anything (wait, inspect, get-property). No kRightWrite: a holder cannot
// change the pages, nor the VMO's size.
inline constexpr uint32_t kServedReadOnlyRights = kRightRead | kRightMap | kRightTransfer |
                                                  kRightDuplicate | kRightWait | kRightInspect |
                                                  kRightGetProperty;

// The longest name a service exports (bytes; any bytes but NUL).
inline constexpr size_t kVmoServiceMaxName = 255;

// For VmoService::Export: the content size is the VMO's size at the time a client opens it.
inline constexpr uint64_t kContentSizeOfVmo = UINT64_MAX;

// The credentials of the process at the other end of a connection, as the kernel recorded
// them when it connected (SO_PEERCRED), in the reader's pid namespace.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct VmoServiceOptions {
  // The socket file's permission bits (before listening starts, so that no connection is
  // ever accepted under looser ones).
  mode_t mode = 0600;
  // If not empty, only peers whose uid is listed are served.
  std::vector<uid_t> allowed_uids;
  // If set, called on the service thread for each peer that passed `allowed_uids`; false
  // refuses it. It must not call into this VmoService.
  std::function<bool(const PeerCredentials&)> accept_peer;
  // Connections served at once; one more is refused (kNoResources at its Connect).
  size_t max_connections = 256;
};

class VmoService {
 public:
  // Listens on `path` (an AF_UNIX SOCK_SEQPACKET socket) and serves it on a thread of its
  // own. A socket file left at `path` by a service that is gone (nobody accepts on it) is
  // replaced; anything else there is kept and the call fails:
  //   kInvalidArgs    `path` is empty, longer than a socket path can be, or has a NUL
  //   kAlreadyExists  a service is listening on `path`, or it is not a socket file
  //   kAccessDenied   the directory refuses it
  //   kNotFound       the directory does not exist
  //   kNoResources    the socket or the thread cannot be made
  static Status Create(std::string_view path, const VmoServiceOptions& options,
                       std::unique_ptr<VmoService>* out);

  // Stops: closes the listening socket and every connection (clients then see kPeerClosed),
  // joins the thread and removes the socket file (if it is still the one it made). Handles
  // already given out stay valid: they are connections of the VMO, not of the service.
  ~VmoService();

  VmoService(const VmoService&) = delete;
  VmoService& operator=(const VmoService&) = delete;

  // Serves `vmo` under `name` from now on: each client that opens `name` gets a new handle
  // to it with `rights`, and `content_size` (kContentSizeOfVmo: the VMO's size then). The
  // service keeps a handle of its own (a duplicate of `vmo`, which stays the caller's), so
  // the VMO lives at least as long as the name is exported.
  //   kInvalidArgs    `name` is empty, too long or has a NUL; `rights` adds a right `vmo`
  //                   lacks, or lacks kRightTransfer
  //   kBadHandle      `vmo` is not valid
  //   kAccessDenied   `vmo` lacks kRightDuplicate
  //   kAlreadyExists  `name` is exported already
  Status Export(std::string_view name, const Vmo& vmo, uint32_t rights = kServedReadOnlyRights,
                uint64_t content_size = kContentSizeOfVmo);

  // Stops serving `name` (kNotFound if it is not exported). Handles given out stay valid.
  Status Remove(std::string_view name);

  const std::string& path() const;
  // Connections open now (greeted, and not yet closed or dropped).
  size_t connection_count() const;

  class Impl;

 private:
  explicit VmoService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One connection to a VmoService. Move-only; one call at a time (calls on one VmoClient
// from several threads take turns).
class VmoClient {
 public:
  VmoClient();
  ~VmoClient();
  VmoClient(VmoClient&&) noexcept;
  VmoClient& operator=(VmoClient&&) noexcept;

  // Connects to the service at `path` and waits for its greeting until `deadline`.
  //   kInvalidArgs    `path` is empty, too long or has a NUL
  //   kPeerClosed     no service there (no socket file, or nobody listening), or it closed
  //                   the connection before greeting it
  //   kAccessDenied   the socket file's permissions, or the service's credential check,
  //                   refused this process
  //   kNoResources    the service has all the connections it takes, or this process
  //                   cannot make a socket
  //   kNotSupported   the service speaks another version of the protocol
  //   kTimedOut       no greeting by `deadline` (or the service's backlog stayed full)
  static Status Connect(std::string_view path, Deadline deadline, VmoClient* out);

  // Opens `name`: on kOk, `*out` is a new handle to the VMO exported under it, with the
  // rights the service grants, and `*content_size` (if not null) the bytes of content.
  //   kNotFound       nothing is exported under `name`
  //   kInvalidArgs    `name` is empty, too long or has a NUL
  //   kPeerClosed     the service is gone (stopped, its process died, or it dropped this
  //                   connection); every later call says the same
  //   kBadHandle      this client is not connected
  //   kTimedOut       no answer by `deadline`
  //   other           the service could not make the handle (kNoResources, ...)
  Status Open(std::string_view name, Vmo* out, uint64_t* content_size = nullptr,
              Deadline deadline = kInfiniteDeadline) const;

  // The service's process, as the kernel saw it when this client connected.
  const PeerCredentials& service_credentials() const;

  bool is_valid() const;
  void Reset();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// VmoClient::Connect then Open, with the connection closed afterwards (the handle does not
// need it). Its statuses are theirs.
Status OpenServedVmo(std::string_view path, std::string_view name, Vmo* out,
                     uint64_t* content_size = nullptr, Deadline deadline = kInfiniteDeadline);

}  // namespace upager

#endif  // UPAGER_VMO_SERVICE_H_
