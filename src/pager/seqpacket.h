// Messages with descriptors on an AF_UNIX SOCK_SEQPACKET socket: the one transport under
// Channel and under the connections that carry VMO handles between processes
// (docs/processes.md).
//
// A SOCK_SEQPACKET socket keeps message boundaries and delivers descriptors (SCM_RIGHTS)
// with the message they were sent with, so one sendmsg is one message and one recvmsg takes
// exactly one, whole or not at all. These helpers add what every user of such a socket
// needs: no SIGPIPE, close-on-exec on every descriptor received, descriptors closed on every
// path that does not hand them over, and errno mapped to the few outcomes that matter.
#ifndef UPAGER_SRC_PAGER_SEQPACKET_H_
#define UPAGER_SRC_PAGER_SEQPACKET_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace upager::internal {

// The most descriptors one message carries (Linux's SCM_MAX_FD is 253).
inline constexpr size_t kMaxMessageFds = 64;

enum class SendResult { kOk, kWouldBlock, kPeerClosed, kTooBig, kError };

// Sends one message of `len` bytes with `num_fds` descriptors (which stay the caller's: the
// kernel takes its own references). Never blocks: a full socket is kWouldBlock.
SendResult SendMessage(int socket, const void* data, size_t len, const int* fds, size_t num_fds);

enum class ReceiveResult { kOk, kWouldBlock, kPeerClosed, kTruncated, kError };

struct Received {
  size_t len = 0;      // bytes of the message
  size_t num_fds = 0;  // descriptors received (now the caller's), in fds[0 .. num_fds)
  int fds[kMaxMessageFds];
  // The sender's credentials, checked by the kernel (when the receiving socket has
  // SO_PASSCRED); pid 0 if none came.
  pid_t pid = 0;
  uid_t uid = 0;
};

// Takes the next message into `buffer`. kTruncated if it was longer than `capacity` or
// carried more than kMaxMessageFds descriptors: the message is consumed and every
// descriptor of it closed. Never blocks unless `blocking`.
ReceiveResult ReceiveMessage(int socket, void* buffer, size_t capacity, bool blocking,
                             Received* out);

// The size of the next message and up to `head_len` of its first bytes, without taking it
// (its descriptors are not received); kWouldBlock if there is none, kPeerClosed if there is
// none and the peer is gone.
ReceiveResult PeekMessage(int socket, void* head, size_t head_len, size_t* len);

// Closes fds[0 .. n).
void CloseFds(const int* fds, size_t n);

// True if `fd` is a connected AF_UNIX SOCK_SEQPACKET socket.
bool IsConnectedSeqpacket(int fd);

}  // namespace upager::internal

#endif  // UPAGER_SRC_PAGER_SEQPACKET_H_
