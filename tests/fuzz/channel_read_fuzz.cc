// Fuzzes Channel::Read and the holder's side of a handle connection with packets a hostile
// peer could send: a channel message, and a handle's welcome followed by a reply. Nothing
// may crash, hang or leak a descriptor; a bad message is refused with kPeerClosed, a bad
// welcome with kInvalidArgs, a bad reply turns the handle into a detached one; a bad fork
// message (a mapped clone's, handle_protocol.h) is refused.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "pager/handle_protocol.h"
#include "pager/remote_vmo.h"
#include "upager/channel.h"
#include "upager/vmo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using upager::Status;
  // 1. The whole input as one channel packet.
  {
    upager::Channel a, b;
    if (upager::Channel::Create(0, &a, &b) != Status::kOk) std::abort();
    ::send(a.fd(), data, size, MSG_NOSIGNAL);
    std::vector<char> bytes(upager::kChannelMaxMsgBytes);
    upager::Vmo vmos[upager::kChannelMaxMsgHandles];
    uint32_t n = 0, h = 0;
    const Status s = b.Read(bytes.data(), static_cast<uint32_t>(bytes.size()), &n, vmos,
                            upager::kChannelMaxMsgHandles, &h);
    if (s != Status::kOk && s != Status::kPeerClosed && s != Status::kShouldWait) std::abort();
  }
  // 2. A welcome (the first part of the input) and a reply (the rest) from a fake owner,
  //    then a read of the handle.
  const size_t split = size > 0 ? data[0] % (size + 1) : 0;
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, ends) != 0) {
    std::abort();
  }
  ::send(ends[0], data, split, MSG_NOSIGNAL);
  ::send(ends[0], data + split, size - split, MSG_NOSIGNAL);
  ::shutdown(ends[0], SHUT_WR);  // no further reply ever comes
  upager::Vmo vmo;
  if (upager::internal::RemoteVmo::Import(ends[1], &vmo) == Status::kOk) {
    char buf[64];
    (void)vmo.Read(buf, 0, sizeof buf);
    uint64_t vmo_size = 0;
    (void)vmo.GetSize(&vmo_size);
  }
  ::close(ends[0]);
  // 3. The input as a fork message from the owner of a mapped clone (remote_mapping.cc):
  //    accepted only with a page-aligned, non-empty range that does not wrap.
  upager::internal::HandleForkMessage fork;
  if (upager::internal::DecodeForkMessage(data, size, upager::internal::ForkOp::kMapOwn, &fork) &&
      (fork.offset % upager::kPageSize != 0 || fork.len % upager::kPageSize != 0 || fork.len == 0 ||
       fork.offset + fork.len < fork.offset)) {
    std::abort();
  }
  return 0;
}
