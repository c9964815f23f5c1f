// Channel: Zircon's channel between two processes (or two threads): messages of bytes and
// VMO handles, in order, with the handles moved from the writer to the reader.
//
// A Channel is one end of an AF_UNIX SOCK_SEQPACKET socket pair: Create makes both ends in
// this process; one end's fd() may be inherited across exec (clear FD_CLOEXEC in the child)
// or sent to another process, which adopts it with FromFd, as may a socket accepted from a
// listening Unix socket.
//
// A VMO handle written to a channel keeps being the same object in the reader's process:
// same koid, size and pages; its Read, Write, OpRange, GetSize, SetSize, GetInfo and
// Duplicate act on the VMO in the process that owns it (the one that created it), with the
// handle's rights; a read of an absent page there joins the one request of the VMO's
// PageSource that every process's readers share. docs/processes.md has the design, the
// protocol and what a holder can and cannot do; a handle that comes back to its owner's
// process is a local handle again.
//
//   upager::Channel a, b;
//   upager::Channel::Create(0, &a, &b);
//   a.Write("hi", 2, &vmo, 1);            // vmo is invalid afterwards
//   char bytes[16]; upager::Vmo got; uint32_t n, h;
//   b.Read(bytes, sizeof bytes, &n, &got, 1, &h);
//
// Thread-safe: any thread may write or read an end; each message is taken by one reader.
#ifndef UPAGER_CHANNEL_H_
#define UPAGER_CHANNEL_H_

#include <cstdint>

#include "upager/status.h"
#include "upager/vmo.h"

namespace upager {

inline constexpr uint32_t kChannelMaxMsgBytes = 65536, kChannelMaxMsgHandles = 64;

class Channel {
 public:
  Channel() = default;
  ~Channel() { Reset(); }
  Channel(Channel&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Channel& operator=(Channel&& other) noexcept;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Both ends of a new channel. `options` must be 0 (kInvalidArgs); kNoResources if the
  // system refuses a socket pair.
  static Status Create(uint32_t options, Channel* out0, Channel* out1);

  // Adopts `fd`, a connected AF_UNIX SOCK_SEQPACKET socket (kInvalidArgs for anything else,
  // and `fd` stays the caller's). On kOk the Channel owns it and sets FD_CLOEXEC and
  // O_NONBLOCK on it.
  static Status FromFd(int fd, Channel* out);

  // The socket, owned by the Channel: pollable (POLLIN: a message or the peer's close).
  int fd() const { return fd_; }
  void Reset();
  bool is_valid() const { return fd_ >= 0; }

  // Sends `num_bytes` bytes and moves the `num_vmos` handles into the message: on kOk each
  // vmos[i] is invalid afterwards. kBadHandle for an invalid channel or handle; kOutOfRange
  // past kChannelMaxMsgBytes / kChannelMaxMsgHandles; kAccessDenied if a handle lacks
  // kRightTransfer; kPeerClosed if the other end is gone; kShouldWait if the other end's
  // queue is full. On any error nothing is sent and every handle is kept.
  Status Write(const void* bytes, uint32_t num_bytes, Vmo* vmos, uint32_t num_vmos) const;

  // Takes the next message. kShouldWait if there is none; kPeerClosed if there is none and
  // the other end is gone; kBufferTooSmall if it does not fit `bytes_capacity` or
  // `vmos_capacity` (it stays queued, and *actual_bytes / *actual_vmos say what it needs).
  // A message that is not one a Channel wrote (or carries descriptors that are not VMO
  // handles) is consumed and refused: its descriptors are closed, the reason is logged, and
  // this end is shut down: kPeerClosed.
  Status Read(void* bytes, uint32_t bytes_capacity, uint32_t* actual_bytes, Vmo* vmos,
              uint32_t vmos_capacity, uint32_t* actual_vmos) const;

  // kOk once a message is readable; kPeerClosed if none is and the other end is gone;
  // kTimedOut at `deadline`.
  Status Wait(Deadline deadline) const;

 private:
  int fd_ = -1;
};

}  // namespace upager

#endif  // UPAGER_CHANNEL_H_
