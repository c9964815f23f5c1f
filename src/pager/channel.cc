// Channel: messages of bytes and VMO handles on a SOCK_SEQPACKET socket pair (channel.h).
//
// On the wire a message is one packet: a ChannelHeader, then the bytes; its handles travel
// as SCM_RIGHTS descriptors, one per handle, in order (vmo_wire.h).
#include "upager/channel.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/handle_access.h"
#include "pager/seqpacket.h"
#include "pager/vmo_wire.h"
#include "upager/internal/mutex.h"
#include "upager/rights.h"

namespace upager {

namespace {

constexpr uint32_t kChannelMagic = 0x4d435055;  // "UPCM"
constexpr uint16_t kChannelVersion = 1;

struct ChannelHeader {
  uint32_t magic;
  uint16_t version;
  uint16_t num_handles;
  uint32_t num_bytes;
  uint32_t reserved;
};

// Read peeks at a message before taking it; readers of one end take turns, so that the
// message peeked at is the one taken. Striped by descriptor: ends are few.
internal::Mutex g_read_mutexes[64];

internal::Mutex& ReadMutexOf(int fd) { return g_read_mutexes[static_cast<unsigned>(fd) % 64]; }

bool SetFlags(int fd) {
  const int fd_flags = ::fcntl(fd, F_GETFD);
  const int fl_flags = ::fcntl(fd, F_GETFL);
  return fd_flags >= 0 && fl_flags >= 0 && ::fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) == 0 &&
         ::fcntl(fd, F_SETFL, fl_flags | O_NONBLOCK) == 0;
}

}  // namespace

Channel& Channel::operator=(Channel&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void Channel::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status Channel::Create(uint32_t options, Channel* out0, Channel* out1) {
  if (options != 0 || out0 == nullptr || out1 == nullptr || out0 == out1) {
    return Status::kInvalidArgs;
  }
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, ends) != 0) {
    return Status::kNoResources;
  }
  out0->Reset();
  out1->Reset();
  out0->fd_ = ends[0];
  out1->fd_ = ends[1];
  return Status::kOk;
}

Status Channel::FromFd(int fd, Channel* out) {
  if (out == nullptr || fd < 0 || !internal::IsConnectedSeqpacket(fd) || !SetFlags(fd)) {
    return Status::kInvalidArgs;
  }
  out->Reset();
  out->fd_ = fd;
  return Status::kOk;
}

Status Channel::Write(const void* bytes, uint32_t num_bytes, Vmo* vmos, uint32_t num_vmos) const {
  if (fd_ < 0) return Status::kBadHandle;
  if ((bytes == nullptr && num_bytes > 0) || (vmos == nullptr && num_vmos > 0)) {
    return Status::kInvalidArgs;
  }
  if (num_bytes > kChannelMaxMsgBytes || num_vmos > kChannelMaxMsgHandles) {
    return Status::kOutOfRange;
  }
  for (uint32_t i = 0; i < num_vmos; ++i) {
    if (!vmos[i].is_valid()) return Status::kBadHandle;
    if ((vmos[i].rights() & kRightTransfer) == 0) return Status::kAccessDenied;
    for (uint32_t j = 0; j < i; ++j) {
      if (&vmos[j] == &vmos[i]) return Status::kInvalidArgs;
    }
  }
  std::array<int, kChannelMaxMsgHandles> fds;
  for (uint32_t i = 0; i < num_vmos; ++i) {
    if (Status s = internal::VmoToWire(vmos[i], &fds[i]); s != Status::kOk) {
      internal::CloseFds(fds.data(), i);
      return s;
    }
  }
  std::vector<std::byte> packet(sizeof(ChannelHeader) + num_bytes);
  const ChannelHeader header{kChannelMagic, kChannelVersion, static_cast<uint16_t>(num_vmos),
                             num_bytes, 0};
  std::memcpy(packet.data(), &header, sizeof header);
  if (num_bytes > 0) std::memcpy(packet.data() + sizeof header, bytes, num_bytes);
  const internal::SendResult sent =
      internal::SendMessage(fd_, packet.data(), packet.size(), fds.data(), num_vmos);
  // The message holds its own references to the descriptors; ours go either way.
  internal::CloseFds(fds.data(), num_vmos);
  switch (sent) {
    case internal::SendResult::kOk:
      for (uint32_t i = 0; i < num_vmos; ++i) vmos[i].Reset();
      return Status::kOk;
    case internal::SendResult::kWouldBlock: return Status::kShouldWait;
    case internal::SendResult::kPeerClosed: return Status::kPeerClosed;
    default: return Status::kNoResources;
  }
}

Status Channel::Read(void* bytes, uint32_t bytes_capacity, uint32_t* actual_bytes, Vmo* vmos,
                     uint32_t vmos_capacity, uint32_t* actual_vmos) const {
  if (fd_ < 0) return Status::kBadHandle;
  if ((bytes == nullptr && bytes_capacity > 0) || (vmos == nullptr && vmos_capacity > 0)) {
    return Status::kInvalidArgs;
  }
  internal::MutexLock lock(&ReadMutexOf(fd_));
  ChannelHeader header{};
  size_t len = 0;
  switch (internal::PeekMessage(fd_, &header, sizeof header, &len)) {
    case internal::ReceiveResult::kOk: break;
    case internal::ReceiveResult::kWouldBlock: return Status::kShouldWait;
    default: return Status::kPeerClosed;
  }
  const bool well_formed =
      len >= sizeof header && header.magic == kChannelMagic && header.version == kChannelVersion &&
      header.num_bytes == len - sizeof header && header.num_bytes <= kChannelMaxMsgBytes &&
      header.num_handles <= kChannelMaxMsgHandles;
  if (well_formed) {
    if (actual_bytes != nullptr) *actual_bytes = header.num_bytes;
    if (actual_vmos != nullptr) *actual_vmos = header.num_handles;
    if (header.num_bytes > bytes_capacity || header.num_handles > vmos_capacity) {
      return Status::kBufferTooSmall;
    }
  }
  std::vector<std::byte> packet(sizeof header + kChannelMaxMsgBytes);
  internal::Received received;
  const internal::ReceiveResult r =
      internal::ReceiveMessage(fd_, packet.data(), packet.size(), false, &received);
  if (r == internal::ReceiveResult::kWouldBlock) return Status::kShouldWait;
  if (r == internal::ReceiveResult::kPeerClosed) return Status::kPeerClosed;
  const char* why = nullptr;
  if (r != internal::ReceiveResult::kOk) {
    why = "a message too long for a channel";
  } else if (!well_formed) {
    why = "a message that no Channel wrote";
  } else if (received.len != len || received.num_fds != header.num_handles) {
    why = "a message whose descriptors do not match its header";
  }
  std::array<Vmo, kChannelMaxMsgHandles> received_vmos;
  for (size_t i = 0; why == nullptr && i < received.num_fds; ++i) {
    const int fd = received.fds[i];
    received.fds[i] = -1;
    if (internal::VmoFromWire(fd, &received_vmos[i]) != Status::kOk) {
      why = "a descriptor that is not a VMO handle";
    }
  }
  if (why != nullptr) {
    internal::CloseFds(received.fds, received.num_fds);
    std::fprintf(stderr, "upager: a channel received %s; shutting it down\n", why);
    ::shutdown(fd_, SHUT_RDWR);
    return Status::kPeerClosed;
  }
  if (header.num_bytes > 0) std::memcpy(bytes, packet.data() + sizeof header, header.num_bytes);
  for (size_t i = 0; i < header.num_handles; ++i) vmos[i] = std::move(received_vmos[i]);
  return Status::kOk;
}

Status Channel::Wait(Deadline deadline) const {
  if (fd_ < 0) return Status::kBadHandle;
  while (true) {
    int timeout_ms = -1;
    if (deadline != kInfiniteDeadline) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      timeout_ms = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left.count(), 1 << 30)));
    }
    pollfd p{fd_, POLLIN, 0};
    const int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      if (deadline != kInfiniteDeadline && std::chrono::steady_clock::now() >= deadline) {
        return Status::kTimedOut;
      }
      continue;
    }
    if (n < 0) return Status::kBadHandle;
    // A message queued before the peer's close is still there to read.
    size_t len;
    char head;
    const internal::ReceiveResult r = internal::PeekMessage(fd_, &head, 1, &len);
    if (r == internal::ReceiveResult::kOk) return Status::kOk;
    if (r == internal::ReceiveResult::kWouldBlock) continue;
    return Status::kPeerClosed;
  }
}

}  // namespace upager
