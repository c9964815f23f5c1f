// Fuzzes the owner's side of a handle connection: arbitrary packets sent to this process's
// ExportService, as a hostile holder would send them. Whatever arrives, the service must
// answer with a well-formed reply or drop the connection (never crash, hang or leak), and
// must go on serving a well-behaved holder.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "pager/handle_protocol.h"
#include "pager/seqpacket.h"
#include "pager/vmo_wire.h"
#include "upager/vmo.h"

namespace {

upager::Vmo& TheVmo() {
  static upager::Vmo* vmo = [] {
    auto* v = new upager::Vmo;
    if (upager::Vmo::Create(16 * upager::kPageSize, 0, v) != upager::Status::kOk) std::abort();
    return v;
  }();
  return *vmo;
}

// Takes the next packet within a few seconds: a reply, or the end of the connection.
bool Drain(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) return false;  // the service neither answered nor dropped
  std::vector<std::byte> buf(sizeof(upager::internal::HandleReply) +
                             upager::internal::kHandleWireMaxData);
  upager::internal::Received received;
  const auto r = upager::internal::ReceiveMessage(fd, buf.data(), buf.size(), false, &received);
  upager::internal::CloseFds(received.fds, received.num_fds);
  return r != upager::internal::ReceiveResult::kWouldBlock;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = -1;
  if (upager::internal::VmoToWire(TheVmo(), &fd) != upager::Status::kOk) std::abort();
  if (!Drain(fd)) std::abort();  // the welcome
  // The input as one packet; an empty input is a zero-length packet. A well-formed cancel
  // with nothing outstanding is the one message that gets no answer.
  upager::internal::DecodedRequest request;
  std::string why;
  const bool silent = upager::internal::DecodeRequest(data, size, 0, &request, &why) &&
                      request.op == upager::internal::HandleOp::kCancel;
  if (::send(fd, data, size, MSG_NOSIGNAL) >= 0 && !silent && !Drain(fd)) std::abort();
  ::close(fd);
  // A well-behaved holder is still served.
  upager::Vmo copy;
  if (upager::Vmo::Create(upager::kPageSize, 0, &copy) != upager::Status::kOk) std::abort();
  uint64_t vmo_size = 0;
  if (TheVmo().GetSize(&vmo_size) != upager::Status::kOk) std::abort();
  return 0;
}
