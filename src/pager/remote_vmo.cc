// A VMO handle received from another process (remote_vmo.h).
#include "pager/remote_vmo.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "base/full_io.h"
#include "base/handle_access.h"
#include "base/thread_state.h"
#include "pager/seqpacket.h"

namespace upager::internal {

RemoteVmo::RemoteVmo(int fd, int memfd, const HandleWelcome& welcome)
    : fd_(fd),
      memfd_(memfd),
      koid_(welcome.koid),
      parent_koid_(welcome.parent_koid),
      vmo_flags_(welcome.vmo_flags),
      welcome_flags_(welcome.welcome_flags),
      owner_pid_(welcome.owner_pid) {}

RemoteVmo::~RemoteVmo() {
  ::close(fd_);
  if (memfd_ >= 0) ::close(memfd_);
}

namespace {

// Whether the welcome on `connection` comes from the process it names. The owner makes
// every connection to a handle with socketpair(2), so the kernel records the owner as the
// connection's peer, which no process can forge; and a koid carries the pid of the process
// that made it (koid.h). A peer that names another process, or koids of another process, is
// a fake owner: a handle from it would pass for a VMO it does not hold.
bool FromNamedOwner(int connection, const HandleWelcome& welcome) {
  ucred peer{};
  socklen_t len = sizeof peer;
  if (::getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0) return false;
  if (peer.pid == welcome.owner_pid && (welcome.koid >> 32) == static_cast<uint32_t>(peer.pid)) {
    return true;
  }
  std::fprintf(stderr,
               "upager: refused a VMO handle whose owner names pid %d and koid %llu (made by pid "
               "%llu), while pid %d made its connection: a fake owner, or a process in another "
               "pid namespace\n",
               static_cast<int>(welcome.owner_pid), static_cast<unsigned long long>(welcome.koid),
               static_cast<unsigned long long>(welcome.koid >> 32), static_cast<int>(peer.pid));
  return false;
}

}  // namespace

Status RemoteVmo::Import(int connection, Vmo* out) {
  HandleWelcome welcome{};
  Received received;
  const ReceiveResult r = ReceiveMessage(connection, &welcome, sizeof welcome, false, &received);
  // A welcome of another version, even one longer than this version's (truncated here).
  const uint16_t version = r == ReceiveResult::kOk          ? WireVersion(&welcome, received.len)
                           : r == ReceiveResult::kTruncated ? WireVersion(&welcome, sizeof welcome)
                                                            : 0;
  if (version != 0 && version != kHandleWireVersion) {
    std::fprintf(stderr,
                 "upager: refused a VMO handle whose owner speaks handle protocol version %u; "
                 "this process speaks version %u (both must run the same upager)\n",
                 static_cast<unsigned>(version), static_cast<unsigned>(kHandleWireVersion));
    CloseFds(received.fds, received.num_fds);
    ::close(connection);
    return Status::kNotSupported;
  }
  if (r != ReceiveResult::kOk || !DecodeWelcome(&welcome, received.len, &welcome) ||
      received.num_fds > 1 || !FromNamedOwner(connection, welcome)) {
    CloseFds(received.fds, received.num_fds);
    ::close(connection);
    return Status::kInvalidArgs;
  }
  const int memfd = received.num_fds == 1 ? received.fds[0] : -1;
  const uint32_t rights = welcome.rights;
  std::shared_ptr<VmoRemote> remote(new RemoteVmo(connection, memfd, welcome));
  *out = HandleAccess::MakeRemote<Vmo>(std::move(remote), rights);
  return Status::kOk;
}

namespace {

// One request on `fd` and its reply (see RemoteVmo::Call); kPeerClosed if the owner is gone
// or answered outside the protocol (then `*broke` says how, if `broke` is not null).
Status CallOn(int fd, HandleOp op, uint32_t arg, uint64_t offset, uint64_t len, const void* data,
              uint32_t data_len, const int* fds, size_t num_fds, void* reply_data,
              uint32_t capacity, uint64_t* value, int* fd_out, bool interruptible = false,
              const char** broke = nullptr) {
  // A request that may wait for the pager waits as Zircon's page-request waits do: killable
  // and suspendable (ThreadHandle), and seen as blocked on the pager meanwhile.
  ThreadState* self = interruptible ? ThreadState::Current() : nullptr;
  if (self != nullptr && self->killed()) return Status::kIntrKilled;
  std::optional<BlockedOnPagerScope> blocked;
  if (self != nullptr) blocked.emplace();
  const int interrupt = self != nullptr ? self->InterruptFd() : -1;
  Status interrupted = Status::kOk;  // set once the request is cancelled
  std::vector<std::byte> packet(sizeof(HandleRequest) +
                                std::max<size_t>(data_len, capacity + sizeof(HandleReply)));
  const HandleRequest request = MakeRequest(op, arg, offset, len, data_len);
  std::memcpy(packet.data(), &request, sizeof request);
  if (data_len > 0) std::memcpy(packet.data() + sizeof request, data, data_len);
  if (SendMessage(fd, packet.data(), sizeof request + data_len, fds, num_fds) != SendResult::kOk) {
    return Status::kPeerClosed;
  }
  while (true) {
    pollfd p[2] = {{fd, POLLIN, 0}, {interrupt, POLLIN, 0}};
    const bool watch_interrupt = interrupt >= 0 && interrupted == Status::kOk;
    if (::poll(p, watch_interrupt ? 2 : 1, -1) < 0) continue;  // EINTR
    if (watch_interrupt && p[1].revents != 0) {
      self->DrainInterrupt();
      if (self->killed() || self->suspended()) {
        // The owner kills the thread running the request; its reply still comes, and is
        // taken below so that the connection stays in step.
        interrupted = self->killed() ? Status::kIntrKilled : Status::kIntrRetry;
        const HandleRequest cancel = MakeRequest(HandleOp::kCancel, 0, 0, 0, 0);
        if (SendMessage(fd, &cancel, sizeof cancel, nullptr, 0) != SendResult::kOk) {
          return Status::kPeerClosed;
        }
      }
      continue;
    }
    Received received;
    const ReceiveResult r =
        ReceiveMessage(fd, packet.data(), packet.size(), /*blocking=*/false, &received);
    if (r == ReceiveResult::kWouldBlock) continue;
    HandleReply reply;
    const std::byte* payload = nullptr;
    const char* why = nullptr;
    if (r == ReceiveResult::kTruncated) {
      why = "a reply longer than any";
    } else if (r != ReceiveResult::kOk) {
      // The owner is gone.
    } else if (received.num_fds > (fd_out != nullptr ? 1u : 0u)) {
      why = "a reply with descriptors it cannot carry";
    } else if (!DecodeReply(packet.data(), received.len, op, capacity, &reply, &payload)) {
      const uint16_t version = WireVersion(packet.data(), received.len);
      why = version != 0 && version != kHandleWireVersion ? "a reply of another protocol version"
                                                          : "a reply that does not decode";
    }
    if (r != ReceiveResult::kOk || why != nullptr) {
      CloseFds(received.fds, received.num_fds);
      if (broke != nullptr) *broke = why;
      return Status::kPeerClosed;
    }
    const auto status = static_cast<Status>(reply.status);
    if (fd_out != nullptr) {
      if (status == Status::kOk && received.num_fds != 1) {
        CloseFds(received.fds, received.num_fds);
        if (broke != nullptr) *broke = "a success without its descriptor";
        return Status::kPeerClosed;
      }
      *fd_out = received.num_fds == 1 ? received.fds[0] : -1;
    }
    if (value != nullptr) *value = reply.value;
    if (reply_data != nullptr && reply.data_len > 0) {
      std::memcpy(reply_data, payload, reply.data_len);
    }
    return interrupted != Status::kOk ? interrupted : status;
  }
}

}  // namespace

Status RemoteVmo::Call(HandleOp op, uint32_t arg, uint64_t offset, uint64_t len, const void* data,
                       uint32_t data_len, void* reply_data, uint32_t capacity, uint64_t* value,
                       int* fd_out) {
  if (gone_) return Status::kPeerClosed;
  // The calls the owner may make wait for its pager.
  const bool may_wait = op == HandleOp::kRead || op == HandleOp::kWrite ||
                        op == HandleOp::kSetSize || op == HandleOp::kOpRange;
  const char* broke = nullptr;
  const Status s = CallOn(fd_, op, arg, offset, len, data, data_len, nullptr, 0, reply_data,
                          capacity, value, fd_out, may_wait, &broke);
  if (broke != nullptr) {
    BrokeProtocol(op, broke);
  } else if (s == Status::kPeerClosed) {
    gone_ = true;
  }
  return s;
}

void RemoteVmo::BrokeProtocol(HandleOp op, const char* why) {
  std::fprintf(stderr,
               "upager: the owner (pid %d) of VMO %llu answered request %u with %s; the handle "
               "is detached now\n",
               static_cast<int>(owner_pid_), static_cast<unsigned long long>(koid_),
               static_cast<unsigned>(op), why);
  gone_ = true;
  broke_protocol_ = true;
}

Status RemoteVmo::Read(void* data, uint64_t offset, uint64_t len) {
  MutexLock lock(&mutex_);
  auto* to = static_cast<std::byte*>(data);
  uint64_t done = 0;
  while (done < len || len == 0) {
    const auto piece = static_cast<uint32_t>(std::min<uint64_t>(kHandleWireMaxData, len - done));
    const Status s = Call(HandleOp::kRead, 0, offset + done, piece, nullptr, 0, to + done, piece,
                          nullptr, nullptr);
    if (s == Status::kPeerClosed) return ReadDetached(to + done, offset + done, len - done);
    if (s != Status::kOk || len == 0) return s;
    done += piece;
  }
  return Status::kOk;
}

Status RemoteVmo::ReadDetached(void* data, uint64_t offset, uint64_t len) const {
  if (memfd_ < 0) return Status::kBadState;
  struct stat st;
  if (::fstat(memfd_, &st) != 0) return Status::kBadState;
  const auto size = static_cast<uint64_t>(st.st_size);
  if (offset > size || len > size - offset) return Status::kOutOfRange;
  if (len == 0) return Status::kOk;
  if ((vmo_flags_ & kVmoInfoPagerBacked) != 0) {
    // Every page of the range must be in the memfd: a hole is a page the pager never
    // supplied (or that was evicted), which a detached VMO cannot supply any more.
    const uint64_t first = offset / kPageSize * kPageSize;
    const off_t hole = ::lseek(memfd_, static_cast<off_t>(first), SEEK_HOLE);
    if (hole < 0 || static_cast<uint64_t>(hole) < offset + len) return Status::kBadState;
  }
  const IoResult r = PreadFull(memfd_, data, len, offset);
  return r.error == 0 && r.done == len ? Status::kOk : Status::kBadState;
}

Status RemoteVmo::Write(const void* data, uint64_t offset, uint64_t len) {
  MutexLock lock(&mutex_);
  const auto* from = static_cast<const std::byte*>(data);
  uint64_t done = 0;
  while (done < len || len == 0) {
    const auto piece = static_cast<uint32_t>(std::min<uint64_t>(kHandleWireMaxData, len - done));
    const Status s = Call(HandleOp::kWrite, 0, offset + done, piece, from + done, piece, nullptr, 0,
                          nullptr, nullptr);
    if (s == Status::kPeerClosed) return Status::kBadState;
    if (s != Status::kOk || len == 0) return s;
    done += piece;
  }
  return Status::kOk;
}

Status RemoteVmo::GetSize(uint64_t* size) {
  MutexLock lock(&mutex_);
  const Status s = Call(HandleOp::kGetSize, 0, 0, 0, nullptr, 0, nullptr, 0, size, nullptr);
  if (s != Status::kPeerClosed) return s;
  struct stat st;
  if (memfd_ < 0 || ::fstat(memfd_, &st) != 0) return Status::kBadState;
  *size = static_cast<uint64_t>(st.st_size);
  return Status::kOk;
}

Status RemoteVmo::SetSize(uint64_t size) {
  MutexLock lock(&mutex_);
  const Status s = Call(HandleOp::kSetSize, 0, size, 0, nullptr, 0, nullptr, 0, nullptr, nullptr);
  return s == Status::kPeerClosed ? Status::kBadState : s;
}

Status RemoteVmo::OpRange(uint32_t op, uint64_t offset, uint64_t len) {
  MutexLock lock(&mutex_);
  const Status s =
      Call(HandleOp::kOpRange, op, offset, len, nullptr, 0, nullptr, 0, nullptr, nullptr);
  return s == Status::kPeerClosed ? Status::kBadState : s;
}

Status RemoteVmo::GetInfo(VmoInfo* out) {
  MutexLock lock(&mutex_);
  HandleWireInfo wire{};
  const bool was_broken = broke_protocol_;
  const Status s =
      Call(HandleOp::kGetInfo, 0, 0, 0, nullptr, 0, &wire, sizeof wire, nullptr, nullptr);
  if (s == Status::kOk) {
    if (DecodeWireInfo(&wire, sizeof wire, koid_, out)) return s;
    BrokeProtocol(HandleOp::kGetInfo, "info that cannot be its VMO's");
    return Status::kIoDataIntegrity;
  }
  // This reply broke the protocol: say so once; later calls see a detached handle.
  if (broke_protocol_ && !was_broken) return Status::kIoDataIntegrity;
  if (s != Status::kPeerClosed) return s;
  // The owner is gone, and with it the VMO's children: what the holder still knows.
  struct stat st;
  const uint64_t size = memfd_ >= 0 && ::fstat(memfd_, &st) == 0 ? st.st_size : 0;
  const uint64_t held = memfd_ >= 0 && ::fstat(memfd_, &st) == 0 ? st.st_blocks * 512ull : 0;
  *out = VmoInfo{koid_, size, held, held, vmo_flags_, 0, parent_koid_};
  return Status::kOk;
}

Status RemoteVmo::Duplicate(uint32_t rights, Vmo* out) {
  int fd = -1;
  {
    MutexLock lock(&mutex_);
    const Status s = Call(HandleOp::kDuplicate, rights, 0, 0, nullptr, 0, nullptr, 0, nullptr, &fd);
    if (s == Status::kPeerClosed) return Status::kBadState;
    if (s != Status::kOk) return s;
  }
  return Import(fd, out);
}

Status RemoteVmo::CreateChild(uint32_t options, uint64_t offset, uint64_t size, Vmo* out) {
  int fd = -1;
  {
    MutexLock lock(&mutex_);
    const Status s =
        Call(HandleOp::kCreateChild, options, offset, size, nullptr, 0, nullptr, 0, nullptr, &fd);
    if (s == Status::kPeerClosed) return Status::kBadState;
    if (s != Status::kOk) return s;
  }
  return Import(fd, out);
}

Status RemoteVmo::Transfer(int* fd) {
  MutexLock lock(&mutex_);
  const Status s = Call(HandleOp::kTransfer, 0, 0, 0, nullptr, 0, nullptr, 0, nullptr, fd);
  return s == Status::kPeerClosed ? Status::kBadState : s;
}

Status RemoteVmo::MemfdForMapping(bool writable, int* fd) {
  MutexLock lock(&mutex_);
  const Status s =
      Call(HandleOp::kMemfd, writable ? 1 : 0, 0, 0, nullptr, 0, nullptr, 0, nullptr, fd);
  return s == Status::kPeerClosed ? Status::kBadState : s;
}

Status RemoteVmo::RootMemfdForMapping(uint64_t vmo_offset, int* fd, uint64_t* fd_offset) {
  MutexLock lock(&mutex_);
  const Status s =
      Call(HandleOp::kRootMemfd, 0, vmo_offset, 0, nullptr, 0, nullptr, 0, fd_offset, fd);
  return s == Status::kPeerClosed ? Status::kBadState : s;
}

Status RemoteVmo::Map(uint64_t vmo_offset, uint64_t len, bool writable, uintptr_t base, int uffd,
                      int failure_page, int forks, int* connection) {
  // The mapping gets a connection of its own: it lives as long as the mapping, whatever
  // becomes of this handle.
  int fd = -1;
  if (Status s = Transfer(&fd); s != Status::kOk) return s;
  HandleWelcome welcome;
  Received received;
  if (ReceiveMessage(fd, &welcome, sizeof welcome, false, &received) != ReceiveResult::kOk ||
      !DecodeWelcome(&welcome, received.len, &welcome) || !FromNamedOwner(fd, welcome)) {
    CloseFds(received.fds, received.num_fds);
    ::close(fd);
    return Status::kBadState;
  }
  CloseFds(received.fds, received.num_fds);
  const HandleMapRequest map{base, writable ? 1u : 0u, 0};
  const int fds[3] = {uffd, failure_page, forks};
  const Status s = CallOn(fd, HandleOp::kMap, 0, vmo_offset, len, &map, sizeof map, fds,
                          forks >= 0 ? 3 : 2, nullptr, 0, nullptr, nullptr);
  if (s != Status::kOk) {
    ::close(fd);
    return s == Status::kPeerClosed ? Status::kBadState : s;
  }
  *connection = fd;
  return Status::kOk;
}

}  // namespace upager::internal
