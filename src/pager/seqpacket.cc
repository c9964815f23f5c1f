// Messages with descriptors on SOCK_SEQPACKET sockets (seqpacket.h).
#include "pager/seqpacket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace upager::internal {

namespace {

// Room for the largest SCM_RIGHTS message we accept, aligned for cmsghdr.
union ControlBuffer {
  char bytes[CMSG_SPACE(sizeof(int) * kMaxMessageFds) + CMSG_SPACE(sizeof(ucred))];
  cmsghdr align;
};

}  // namespace

void CloseFds(const int* fds, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (fds[i] >= 0) ::close(fds[i]);
  }
}

SendResult SendMessage(int socket, const void* data, size_t len, const int* fds, size_t num_fds) {
  if (num_fds > kMaxMessageFds) return SendResult::kTooBig;
  iovec iov{const_cast<void*>(data), len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ControlBuffer control;
  if (num_fds > 0) {
    std::memset(&control, 0, sizeof control);
    msg.msg_control = control.bytes;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * num_fds);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * num_fds);
    std::memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * num_fds);
  }
  while (true) {
    if (::sendmsg(socket, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) return SendResult::kOk;
    switch (errno) {
      case EINTR: continue;
      case EAGAIN: return SendResult::kWouldBlock;
      case EPIPE:
      case ECONNRESET:
      case ENOTCONN: return SendResult::kPeerClosed;
      case EMSGSIZE: return SendResult::kTooBig;
      default: return SendResult::kError;
    }
  }
}

ReceiveResult ReceiveMessage(int socket, void* buffer, size_t capacity, bool blocking,
                             Received* out) {
  out->len = 0;
  out->num_fds = 0;
  out->pid = 0;
  out->uid = 0;
  iovec iov{buffer, capacity};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ControlBuffer control;
  msg.msg_control = control.bytes;
  msg.msg_controllen = sizeof control.bytes;
  ssize_t n;
  while (true) {
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC | (blocking ? 0 : MSG_DONTWAIT));
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return ReceiveResult::kWouldBlock;
    if (errno == ECONNRESET) return ReceiveResult::kPeerClosed;
    return ReceiveResult::kError;
  }
  // Whatever descriptors arrived are ours now, whether or not the message is usable.
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_CREDENTIALS &&
        cmsg->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
      ucred cred;
      std::memcpy(&cred, CMSG_DATA(cmsg), sizeof cred);
      out->pid = cred.pid;
      out->uid = cred.uid;
      continue;
    }
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const auto* data = reinterpret_cast<const unsigned char*>(CMSG_DATA(cmsg));
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, data + i * sizeof(int), sizeof fd);
      if (out->num_fds < kMaxMessageFds) {
        out->fds[out->num_fds++] = fd;
      } else {
        ::close(fd);
      }
    }
  }
  if (n == 0 && out->num_fds == 0) return ReceiveResult::kPeerClosed;
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
    CloseFds(out->fds, out->num_fds);
    out->num_fds = 0;
    return ReceiveResult::kTruncated;
  }
  out->len = static_cast<size_t>(n);
  return ReceiveResult::kOk;
}

ReceiveResult PeekMessage(int socket, void* head, size_t head_len, size_t* len) {
  iovec iov{head, head_len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  while (true) {
    // No control buffer: the kernel delivers no descriptors to a peek that has no room.
    const ssize_t n = ::recvmsg(socket, &msg, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    if (n > 0) {
      *len = static_cast<size_t>(n);
      return ReceiveResult::kOk;
    }
    if (n == 0) return ReceiveResult::kPeerClosed;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return ReceiveResult::kWouldBlock;
    if (errno == ECONNRESET) return ReceiveResult::kPeerClosed;
    return ReceiveResult::kError;
  }
}

bool IsConnectedSeqpacket(int fd) {
  int value = 0;
  socklen_t size = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &size) != 0 || value != AF_UNIX) {
    return false;
  }
  size = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &size) != 0 || value != SOCK_SEQPACKET) {
    return false;
  }
  sockaddr_storage peer;
  socklen_t peer_size = sizeof peer;
  return ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) == 0;
}

}  // namespace upager::internal
