// Fuzzes Channel::Read and the holder's side of a handle connection with packets a hostile
// peer could send: a channel message, and a handle's welcome followed by a reply (to a read,
// or to a GetInfo). Nothing may crash, hang or leak a descriptor; a bad message is refused
// with kPeerClosed, a bad welcome with kInvalidArgs (kNotSupported for another protocol
// version), a bad reply turns the handle into a detached one (a bad GetInfo reply is
// kIoDataIntegrity first); a bad fork message (a mapped clone's, handle_protocol.h) and info
// no VMO could have (HandleWireInfo) are refused.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "pager/handle_protocol.h"
#include "pager/remote_vmo.h"
#include "upager/channel.h"
#include "upager/vmo.h"

namespace {

using upager::internal::HandleOp;

// Makes `*input` a well-framed exchange, so that the fuzzing reaches what the messages carry:
// its first sizeof(HandleWelcome) bytes are the welcome, which names this process as its owner
// (handle_boundary_test checks the owner), and the reply that follows starts with this
// protocol's magic, version and the op asked (kGetInfo if `get_info`, else kRead). The koids
// of the welcome and of a kGetInfo reply's info are this process's: XORed with its pid << 32,
// a bijection, so that an input means the same in every run. Returns where the welcome ends.
size_t Frame(std::vector<uint8_t>* input, bool get_info) {
  const uint64_t mine = static_cast<uint64_t>(::getpid()) << 32;
  upager::internal::HandleWelcome welcome;
  std::memcpy(&welcome, input->data(), sizeof welcome);
  welcome.owner_pid = static_cast<int32_t>(::getpid());
  welcome.koid ^= mine;
  welcome.parent_koid ^= mine;
  std::memcpy(input->data(), &welcome, sizeof welcome);
  uint8_t* reply = input->data() + sizeof welcome;
  const size_t reply_len = input->size() - sizeof welcome;
  const upager::internal::HandleReply framing =
      upager::internal::MakeReply(get_info ? HandleOp::kGetInfo : HandleOp::kRead, 0, 0, 0);
  const size_t header = sizeof framing.magic + sizeof framing.version + sizeof framing.op;
  if (reply_len >= header) std::memcpy(reply, &framing, header);
  upager::internal::HandleWireInfo info;
  if (get_info && reply_len >= sizeof framing + sizeof info) {
    std::memcpy(&info, reply + sizeof framing, sizeof info);
    info.koid ^= mine;
    info.parent_koid ^= mine;
    std::memcpy(reply + sizeof framing, &info, sizeof info);
  }
  return sizeof welcome;
}

}  // namespace

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
  //    then a read of the handle, or (bit 0 of the input's last byte) its GetInfo; data[0]
  //    says where the welcome ends, or (bit 1 of the last byte) the exchange is framed.
  const uint8_t last = size > 0 ? data[size - 1] : 0;
  std::vector<uint8_t> input(data, data + size);
  size_t split = size > 0 ? data[0] % (size + 1) : 0;
  if ((last & 2) != 0 && size >= sizeof(upager::internal::HandleWelcome)) {
    split = Frame(&input, (last & 1) != 0);
  }
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, ends) != 0) {
    std::abort();
  }
  ::send(ends[0], input.data(), split, MSG_NOSIGNAL);
  ::send(ends[0], input.data() + split, size - split, MSG_NOSIGNAL);
  ::shutdown(ends[0], SHUT_WR);  // no further reply ever comes
  upager::Vmo vmo;
  if (upager::internal::RemoteVmo::Import(ends[1], &vmo) == Status::kOk) {
    if ((last & 1) != 0) {
      // Whatever the reply, the info is this handle's: the owner's (checked), or the
      // detached handle's.
      upager::VmoInfo info{};
      const Status s = vmo.GetInfo(&info);
      if (s == Status::kOk && info.koid != vmo.koid()) std::abort();
    } else {
      char buf[64];
      (void)vmo.Read(buf, 0, sizeof buf);
    }
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
  // 4. The input as a kGetInfo reply's info, for the VMO its first 8 bytes name: taken only
  //    at its exact size, and only as info some VMO of that koid could have.
  uint64_t koid = 0;
  std::memcpy(&koid, data, std::min(size, sizeof koid));
  upager::VmoInfo info{};
  if (upager::internal::DecodeWireInfo(data, size, koid, &info) &&
      (size != sizeof(upager::internal::HandleWireInfo) || info.koid != koid ||
       info.parent_koid == koid || (info.flags & ~upager::internal::kHandleWireInfoFlags) != 0 ||
       info.size_bytes % upager::kPageSize != 0 || info.size_bytes > upager::kMaxVmoSize ||
       info.committed_bytes % upager::kPageSize != 0 ||
       info.populated_bytes % upager::kPageSize != 0)) {
    std::abort();
  }
  return 0;
}
