// Clones across processes, at the boundary (docs/clones.md, docs/processes.md): what a
// hostile holder of a clone, or of a pager-backed VMO it wants children of, can send the
// owner, as raw requests on a handle connection. Every answer is an exact status; nothing
// that breaks the protocol is served. clone_process_test.cc has the honest holders.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "pager/handle_protocol.h"
#include "pager/seqpacket.h"
#include "pager/vmo_wire.h"
#include "upager/mapping.h"
#include "upager/rights.h"
#include "user_pager.h"

namespace upager {
namespace {

using testing::TestVmo;
using testing::UserPager;

uint64_t P(uint64_t pages) { return pages * kPageSize; }

int32_t S(Status s) { return static_cast<int32_t>(s); }

Vmo MakeChild(const TestVmo& root, uint32_t options, uint64_t pages) {
  Vmo child;
  EXPECT_EQ(root.vmo.CreateChild(options, 0, P(pages), &child), Status::kOk);
  return child;
}

// The next message on `fd` (a non-blocking socket), waiting for it up to Soon().
internal::ReceiveResult ReceiveSoon(int fd, void* buf, size_t len, internal::Received* received) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 20000) != 1) return internal::ReceiveResult::kWouldBlock;
  return internal::ReceiveMessage(fd, buf, len, false, received);
}

// One raw request on a handle connection, and its reply; `fd_out` gets a descriptor in it.
internal::HandleReply RawCall(int fd, const internal::HandleRequest& request, int* fd_out,
                              bool* dropped) {
  internal::HandleReply reply{};
  *dropped = false;
  if (internal::SendMessage(fd, &request, sizeof request, nullptr, 0) !=
      internal::SendResult::kOk) {
    *dropped = true;
    return reply;
  }
  std::vector<std::byte> buf(sizeof reply + internal::kHandleWireMaxData);
  internal::Received received;
  const internal::ReceiveResult r = ReceiveSoon(fd, buf.data(), buf.size(), &received);
  if (r != internal::ReceiveResult::kOk) {
    *dropped = true;
    return reply;
  }
  std::memcpy(&reply, buf.data(), std::min(sizeof reply, received.len));
  *fd_out = received.num_fds > 0 ? received.fds[0] : -1;
  for (size_t i = 1; i < received.num_fds; ++i) ::close(received.fds[i]);
  return reply;
}

// A connection to `vmo` as a holder's, its welcome taken.
int RawConnection(const Vmo& vmo) {
  int fd = -1;
  EXPECT_EQ(internal::VmoToWire(vmo, &fd), Status::kOk);
  std::vector<std::byte> buf(256);
  internal::Received received;
  EXPECT_EQ(ReceiveSoon(fd, buf.data(), buf.size(), &received), internal::ReceiveResult::kOk);
  internal::CloseFds(received.fds, received.num_fds);
  return fd;
}

// A hostile holder: a handle without kRightDuplicate, or without kRightRead, gets no child
// (kAccessDenied, no descriptor); a request with data attached drops only that connection.
TEST(CloneProcess, TheOwnerChecksAHoldersCreateChild) {
  UserPager pager;
  auto root = pager.CreateVmo(2);
  ASSERT_NE(root, nullptr);
  const uint32_t rights = root->vmo.rights();
  for (uint32_t missing : {kRightDuplicate, kRightRead}) {
    Vmo narrow;
    ASSERT_EQ(root->vmo.Duplicate(rights & ~missing, &narrow), Status::kOk);
    const int fd = RawConnection(narrow);
    bool dropped = false;
    int got = -1;
    const internal::HandleReply reply =
        RawCall(fd,
                internal::MakeRequest(internal::HandleOp::kCreateChild,
                                      kVmoChildSnapshotAtLeastOnWrite, 0, P(1), 0),
                &got, &dropped);
    ASSERT_FALSE(dropped);
    EXPECT_EQ(reply.op, static_cast<uint16_t>(internal::HandleOp::kCreateChild));
    EXPECT_EQ(reply.status, S(Status::kAccessDenied));
    EXPECT_EQ(got, -1);
    ::close(fd);
  }
  // Options the holder's library would never send reach the owner's checks all the same.
  const int fd = RawConnection(root->vmo);
  bool dropped = false;
  int got = -1;
  internal::HandleReply reply =
      RawCall(fd, internal::MakeRequest(internal::HandleOp::kCreateChild, 0xffffffffu, 0, P(1), 0),
              &got, &dropped);
  ASSERT_FALSE(dropped);
  EXPECT_EQ(reply.status, S(Status::kInvalidArgs));
  EXPECT_EQ(got, -1);
  reply = RawCall(fd,
                  internal::MakeRequest(internal::HandleOp::kCreateChild,
                                        kVmoChildSnapshotAtLeastOnWrite, P(1), UINT64_MAX, 0),
                  &got, &dropped);
  ASSERT_FALSE(dropped);
  EXPECT_EQ(reply.status, S(Status::kOutOfRange));
  EXPECT_EQ(got, -1);
  // Data attached to a request that takes none: that connection is dropped.
  std::vector<std::byte> packet(sizeof(internal::HandleRequest) + 8);
  const internal::HandleRequest bad = internal::MakeRequest(
      internal::HandleOp::kCreateChild, kVmoChildSnapshotAtLeastOnWrite, 0, P(1), 8);
  std::memcpy(packet.data(), &bad, sizeof bad);
  ASSERT_EQ(internal::SendMessage(fd, packet.data(), packet.size(), nullptr, 0),
            internal::SendResult::kOk);
  std::vector<std::byte> buf(256);
  internal::Received received;
  EXPECT_EQ(ReceiveSoon(fd, buf.data(), buf.size(), &received),
            internal::ReceiveResult::kPeerClosed);
  ::close(fd);
  VmoInfo info{};
  ASSERT_EQ(root->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.num_children, 0u);
  EXPECT_FALSE(pager.AnyPacket());
}

// kRootMemfd and kMap from a hostile holder: the root's memfd only for a read-through clone,
// with kRightMap and kRightRead, at a page-aligned offset inside it; a clone's mapping only
// with a fork socket, any other mapping only without one.
TEST(CloneProcess, TheOwnerChecksAHoldersCloneMapping) {
  ASSERT_EQ(MappingSupport(), Status::kOk);  // this process serves mappings
  UserPager pager;
  auto root = pager.CreateVmo(2);
  ASSERT_NE(root, nullptr);
  Vmo child = MakeChild(*root, kVmoChildSnapshotAtLeastOnWrite, 2);
  Vmo no_map;
  ASSERT_EQ(child.Duplicate(child.rights() & ~kRightMap, &no_map), Status::kOk);
  Vmo window, resizable, slice;
  ASSERT_EQ(root->vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, P(1), P(1), &window),
            Status::kOk);
  ASSERT_EQ(root->vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite | kVmoChildResizable, 0, P(2),
                                  &resizable),
            Status::kOk);
  ASSERT_EQ(root->vmo.CreateChild(kVmoChildSlice, 0, P(1), &slice), Status::kOk);
  Vmo clone_slice;  // mapped locally as its clone, never in another process
  ASSERT_EQ(child.CreateChild(kVmoChildSlice, 0, P(2), &clone_slice), Status::kOk);
  struct Case {
    const Vmo* vmo;
    uint64_t offset;
    Status expected;
  };
  const Case cases[] = {
      {&root->vmo, 0, Status::kNotSupported},  // not a clone
      {&child, P(3), Status::kOutOfRange},
      {&child, 1, Status::kOutOfRange},
      {&no_map, 0, Status::kAccessDenied},
      {&window, 0, Status::kNotSupported},     // would show root pages it does not see
      {&resizable, 0, Status::kNotSupported},  // the same, after a shrink
      {&slice, 0, Status::kNotSupported},
      {&clone_slice, 0, Status::kNotSupported},
      {&child, P(1), Status::kOk},
  };
  for (const Case& c : cases) {
    const int fd = RawConnection(*c.vmo);
    bool dropped = false;
    int got = -1;
    const internal::HandleReply reply =
        RawCall(fd, internal::MakeRequest(internal::HandleOp::kRootMemfd, 0, c.offset, 0, 0), &got,
                &dropped);
    ASSERT_FALSE(dropped);
    EXPECT_EQ(reply.status, S(c.expected)) << c.offset;
    EXPECT_EQ(got >= 0, c.expected == Status::kOk);
    if (c.expected == Status::kOk) {
      EXPECT_EQ(reply.value, P(1));         // the root's offset for the clone's page 1
      EXPECT_EQ(::write(got, "x", 1), -1);  // read-only
    }
    if (got >= 0) ::close(got);
    ::close(fd);
  }
  // Nor a slice of a clone's own memfd (kMemfd), read-only or writable.
  for (const uint32_t writable : {0u, 1u}) {
    const int fd = RawConnection(clone_slice);
    bool dropped = false;
    int got = -1;
    const internal::HandleReply reply = RawCall(
        fd, internal::MakeRequest(internal::HandleOp::kMemfd, writable, 0, 0, 0), &got, &dropped);
    ASSERT_FALSE(dropped);
    EXPECT_EQ(reply.status, S(Status::kNotSupported)) << writable;
    EXPECT_EQ(got, -1);
    if (got >= 0) ::close(got);
    ::close(fd);
  }
  // kMap with a real userfaultfd and failure page: a clone without a fork socket, a root
  // with one, a clone with something else in its place.
  auto send_map = [&](const Vmo& vmo, int third) {
    const int fd = RawConnection(vmo);
    const int uffd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
    const int page = ::memfd_create("page", MFD_ALLOW_SEALING);
    EXPECT_EQ(::ftruncate(page, kPageSize), 0);
    EXPECT_EQ(::fcntl(page, F_ADD_SEALS, F_SEAL_SHRINK), 0);
    std::vector<std::byte> packet(sizeof(internal::HandleRequest) +
                                  sizeof(internal::HandleMapRequest));
    const internal::HandleRequest request = internal::MakeRequest(
        internal::HandleOp::kMap, 0, 0, P(1), sizeof(internal::HandleMapRequest));
    const internal::HandleMapRequest map{0x100000000000ull, 0, 0};
    std::memcpy(packet.data(), &request, sizeof request);
    std::memcpy(packet.data() + sizeof request, &map, sizeof map);
    const int fds[3] = {uffd, page, third};
    EXPECT_EQ(internal::SendMessage(fd, packet.data(), packet.size(), fds, third >= 0 ? 3 : 2),
              internal::SendResult::kOk);
    std::vector<std::byte> buf(256);
    internal::Received received;
    EXPECT_EQ(ReceiveSoon(fd, buf.data(), buf.size(), &received), internal::ReceiveResult::kOk);
    internal::CloseFds(received.fds, received.num_fds);
    internal::HandleReply reply{};
    std::memcpy(&reply, buf.data(), sizeof reply);
    for (int f : {fd, uffd, page}) ::close(f);
    return static_cast<Status>(reply.status);
  };
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair), 0);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  EXPECT_EQ(send_map(child, -1), Status::kNotSupported);
  EXPECT_EQ(send_map(root->vmo, pair[1]), Status::kNotSupported);
  EXPECT_EQ(send_map(child, pipe_fds[0]), Status::kInvalidArgs);
  EXPECT_EQ(send_map(clone_slice, -1), Status::kNotSupported);
  EXPECT_EQ(send_map(clone_slice, pair[1]), Status::kNotSupported);
  for (int f : {pair[0], pair[1], pipe_fds[0], pipe_fds[1]}) ::close(f);
  EXPECT_FALSE(pager.AnyPacket());
}

}  // namespace
}  // namespace upager
