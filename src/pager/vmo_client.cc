// VmoClient: the connecting side of named VMOs (vmo_service.h, vmo_service_wire.h).
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "pager/vmo_service_wire.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/vmo_service.h"

namespace upager {

namespace {

using internal::ServiceMessage;
using internal::ServiceOp;

// Waits until `fd` can take a message, or `deadline`: kOk or kTimedOut.
Status WaitWritable(int fd, Deadline deadline) {
  while (true) {
    int timeout_ms = -1;
    if (deadline != kInfiniteDeadline) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return Status::kTimedOut;
      timeout_ms = static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
    }
    pollfd p{fd, POLLOUT, 0};
    const int n = ::poll(&p, 1, timeout_ms);
    if (n > 0) return Status::kOk;
    if (n < 0 && errno != EINTR) return Status::kOk;  // let the write say what is wrong
  }
}

// The next message on `channel` of `op` (a handle, if any, into *vmo), or kPeerClosed /
// kTimedOut; a message that is not one the service sends is kPeerClosed.
Status ReceiveReply(const Channel& channel, ServiceOp op, Deadline deadline, ServiceMessage* out,
                    Vmo* vmo) {
  while (true) {
    if (Status s = channel.Wait(deadline); s != Status::kOk) return s;
    // Room for a longer message of another version, which must say so, not break.
    char m[256];
    uint32_t len = 0, handles = 0;
    Vmo got;
    const Status s = channel.Read(m, sizeof m, &len, &got, 1, &handles);
    if (s == Status::kShouldWait) continue;
    if (s != Status::kOk) return Status::kPeerClosed;
    if (!internal::DecodeServiceReply(m, len, op, out)) return Status::kPeerClosed;
    if (vmo != nullptr) *vmo = std::move(got);
    return Status::kOk;
  }
}

}  // namespace

struct VmoClient::State {
  Channel channel;
  PeerCredentials service;
  internal::Mutex mutex;
  uint32_t next_id UPAGER_GUARDED_BY(mutex) = 1;
};

VmoClient::VmoClient() = default;
VmoClient::~VmoClient() = default;
VmoClient::VmoClient(VmoClient&&) noexcept = default;
VmoClient& VmoClient::operator=(VmoClient&&) noexcept = default;

bool VmoClient::is_valid() const { return state_ != nullptr && state_->channel.is_valid(); }
void VmoClient::Reset() { state_.reset(); }

const PeerCredentials& VmoClient::service_credentials() const {
  static const PeerCredentials kNone;
  return state_ != nullptr ? state_->service : kNone;
}

Status VmoClient::Connect(std::string_view path, Deadline deadline, VmoClient* out) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (out == nullptr || path.empty() || path.size() >= sizeof addr.sun_path ||
      path.find('\0') != std::string_view::npos) {
    return Status::kInvalidArgs;
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::kNoResources;
  // A Unix socket connects at once or not at all; EAGAIN means that the service's backlog
  // is full: try again until the deadline.
  while (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN && std::chrono::steady_clock::now() < deadline) {
      ::poll(nullptr, 0, 1);
      continue;
    }
    ::close(fd);
    switch (err) {
      case EACCES:
      case EPERM: return Status::kAccessDenied;
      case ENAMETOOLONG: return Status::kInvalidArgs;
      case EAGAIN: return Status::kTimedOut;
      case ENOMEM:
      case ENOBUFS: return Status::kNoResources;
      default:  // ENOENT, ECONNREFUSED, ENOTDIR, ...: no service there
        return Status::kPeerClosed;
    }
  }
  auto state = std::make_unique<State>();
  ucred cred{};
  socklen_t cred_len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0) {
    state->service = PeerCredentials{cred.pid, cred.uid, cred.gid};
  }
  if (Channel::FromFd(fd, &state->channel) != Status::kOk) {
    ::close(fd);
    return Status::kPeerClosed;
  }
  ServiceMessage hello;
  if (Status s = ReceiveReply(state->channel, ServiceOp::kHello, deadline, &hello, nullptr);
      s != Status::kOk) {
    return s;
  }
  if (hello.version != internal::kServiceWireVersion) return Status::kNotSupported;
  if (hello.status != 0) return static_cast<Status>(hello.status);
  out->state_ = std::move(state);
  return Status::kOk;
}

Status VmoClient::Open(std::string_view name, Vmo* out, uint64_t* content_size,
                       Deadline deadline) const {
  if (!is_valid()) return Status::kBadHandle;
  if (out == nullptr || !internal::ValidServiceName(name)) return Status::kInvalidArgs;
  State& st = *state_;
  internal::MutexLock lock(&st.mutex);
  if (!st.channel.is_valid()) return Status::kPeerClosed;
  ServiceMessage request;
  request.op = static_cast<uint16_t>(ServiceOp::kOpen);
  request.id = st.next_id++;
  request.name_len = static_cast<uint32_t>(name.size());
  char buffer[internal::kServiceMaxRequest];
  std::memcpy(buffer, &request, sizeof request);
  std::memcpy(buffer + sizeof request, name.data(), name.size());
  const uint32_t len = static_cast<uint32_t>(sizeof request + name.size());
  while (true) {
    const Status s = st.channel.Write(buffer, len, nullptr, 0);
    if (s == Status::kOk) break;
    if (s != Status::kShouldWait) return Status::kPeerClosed;
    if (Status w = WaitWritable(st.channel.fd(), deadline); w != Status::kOk) return w;
  }
  while (true) {
    ServiceMessage reply;
    Vmo vmo;
    if (Status s = ReceiveReply(st.channel, ServiceOp::kOpened, deadline, &reply, &vmo);
        s != Status::kOk) {
      return s;
    }
    // A reply to an earlier request that timed out is skipped.
    if (reply.id != request.id) continue;
    const Status status = static_cast<Status>(reply.status);
    if (status != Status::kOk) return status;
    if (!vmo.is_valid()) return Status::kPeerClosed;
    if (content_size != nullptr) *content_size = reply.content_size;
    *out = std::move(vmo);
    return Status::kOk;
  }
}

Status OpenServedVmo(std::string_view path, std::string_view name, Vmo* out, uint64_t* content_size,
                     Deadline deadline) {
  VmoClient client;
  if (Status s = VmoClient::Connect(path, deadline, &client); s != Status::kOk) return s;
  return client.Open(name, out, content_size, deadline);
}

}  // namespace upager
