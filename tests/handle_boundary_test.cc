// The holder's side of the process boundary against a hostile or mistaken peer, in one
// process (channel_test.cc explains the AsRemote stand-in): a handle from a fake owner, an
// owner of another protocol version, GetInfo replies outside the protocol, and descriptors a
// holder must never get. docs/processes.md, "Security at the boundary".
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/handle_access.h"
#include "pager/handle_protocol.h"
#include "pager/remote_vmo.h"
#include "pager/seqpacket.h"
#include "remote_handle.h"
#include "upager/mapping.h"
#include "upager/rights.h"
#include "upager/vmo.h"

namespace upager {
namespace {

using testing::AsRemote;

int32_t S(Status s) { return static_cast<int32_t>(s); }

// A handle names its owner in its welcome; the kernel names the process that made the
// connection. A peer that claims to be another process, or hands out another process's
// koids, is refused: its handle would pass for a VMO it does not hold.
TEST(RemoteVmo, AWelcomeFromAFakeOwnerIsRefused) {
  const auto self = static_cast<uint64_t>(::getpid());
  struct Case {
    int32_t owner_pid;
    uint64_t koid;
    Status expected;
  } cases[] = {
      {1, (uint64_t{1} << 32) | 5, Status::kInvalidArgs},                           // names pid 1
      {static_cast<int32_t>(self), (uint64_t{1} << 32) | 5, Status::kInvalidArgs},  // pid 1's koid
      {1, (self << 32) | 5, Status::kInvalidArgs},                                  // names pid 1
      {static_cast<int32_t>(self), (self << 32) | 5, Status::kOk},  // itself, truthfully
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "owner_pid " << c.owner_pid << " koid " << c.koid);
    int ends[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends), 0);
    internal::HandleWelcome welcome{};
    welcome.magic = internal::kHandleWireMagic;
    welcome.version = internal::kHandleWireVersion;
    welcome.op = static_cast<uint16_t>(internal::HandleOp::kWelcome);
    welcome.rights = kRightRead | kRightTransfer;
    welcome.koid = c.koid;
    welcome.owner_pid = c.owner_pid;
    ASSERT_EQ(internal::SendMessage(ends[0], &welcome, sizeof welcome, nullptr, 0),
              internal::SendResult::kOk);
    Vmo vmo;
    EXPECT_EQ(internal::RemoteVmo::Import(ends[1], &vmo), c.expected);  // takes ends[1]
    EXPECT_EQ(vmo.is_valid(), c.expected == Status::kOk);
    if (vmo.is_valid()) {
      EXPECT_EQ(vmo.koid(), c.koid);
    }
    ::close(ends[0]);
  }
}

// A welcome as this process's own owner side would send it, for the VMO `koid`.
internal::HandleWelcome WelcomeFor(uint64_t koid, uint64_t parent_koid) {
  internal::HandleWelcome welcome{};
  welcome.magic = internal::kHandleWireMagic;
  welcome.version = internal::kHandleWireVersion;
  welcome.op = static_cast<uint16_t>(internal::HandleOp::kWelcome);
  welcome.rights = kRightRead | kRightTransfer;
  welcome.koid = koid;
  welcome.owner_pid = static_cast<int32_t>(::getpid());
  welcome.parent_koid = parent_koid;
  return welcome;
}

Status ImportPacket(const void* packet, size_t len, Vmo* vmo) {
  int ends[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends), 0);
  EXPECT_EQ(internal::SendMessage(ends[0], packet, len, nullptr, 0), internal::SendResult::kOk);
  const Status s = internal::RemoteVmo::Import(ends[1], vmo);  // takes ends[1]
  ::close(ends[0]);
  return s;
}

// An owner of another version of the handle protocol (an older upager, whose welcome is
// shorter, or a newer one, whose welcome may be longer) is refused with kNotSupported, never
// read as this version; a welcome of this version of the wrong length is kInvalidArgs.
TEST(RemoteVmo, AWelcomeOfAnotherVersionIsRefused) {
  const uint64_t koid = (static_cast<uint64_t>(::getpid()) << 32) | 5;
  internal::HandleWelcome welcome = WelcomeFor(koid, 0);
  std::vector<char> packet(sizeof welcome + 16);
  struct Case {
    uint16_t version;
    size_t len;
    Status expected;
  } cases[] = {
      {1, 32, Status::kNotSupported},  // version 1's welcome had no parent koid
      {1, sizeof welcome, Status::kNotSupported},
      {3, sizeof welcome + 16, Status::kNotSupported},  // longer than this version's
      {internal::kHandleWireVersion, 32, Status::kInvalidArgs},
      {internal::kHandleWireVersion, sizeof welcome + 8, Status::kInvalidArgs},
      {internal::kHandleWireVersion, 4, Status::kInvalidArgs},
      {internal::kHandleWireVersion, sizeof welcome, Status::kOk},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "version " << c.version << " len " << c.len);
    welcome.version = c.version;
    std::memcpy(packet.data(), &welcome, sizeof welcome);
    Vmo vmo;
    EXPECT_EQ(ImportPacket(packet.data(), c.len, &vmo), c.expected);
    EXPECT_EQ(vmo.is_valid(), c.expected == Status::kOk);
  }
  // A welcome naming the VMO as its own parent.
  welcome = WelcomeFor(koid, koid);
  Vmo vmo;
  EXPECT_EQ(ImportPacket(&welcome, sizeof welcome, &vmo), Status::kInvalidArgs);
}

// A kGetInfo reply carries every VmoInfo field, and the holder takes only one that is
// exactly a reply of this version with this VMO's info: anything else (short, long,
// truncated, of version 1, of another VMO, with unknown flags or sizes no VMO has) is
// kIoDataIntegrity, read no further than the packet, and the handle is detached from then
// on (its GetInfo is what a holder still knows: the welcome's koid and parent koid).
TEST(RemoteVmo, GetInfoTakesOnlyAnExactReply) {
  const auto self = static_cast<uint64_t>(::getpid());
  const uint64_t koid = (self << 32) | 7, parent = (self << 32) | 3;
  const internal::HandleWireInfo good{
      koid, 4 * kPageSize, 2 * kPageSize, 2 * kPageSize, kVmoInfoPagerBacked, 3, parent};
  struct Case {
    const char* what;
    uint16_t version;
    int32_t status;
    internal::HandleWireInfo info;
    size_t data_len;  // in the header
    size_t sent;      // bytes of info sent
    Status expected;
  };
  const auto with = [&good](auto change) {
    internal::HandleWireInfo info = good;
    change(info);
    return info;
  };
  constexpr size_t kInfo = sizeof(internal::HandleWireInfo);
  const Case cases[] = {
      {"exact", internal::kHandleWireVersion, 0, good, kInfo, kInfo, Status::kOk},
      {"an error, no data", internal::kHandleWireVersion, S(Status::kAccessDenied), good, 0, 0,
       Status::kAccessDenied},
      {"version 1's size", internal::kHandleWireVersion, 0, good, 40, 40, Status::kIoDataIntegrity},
      {"version 1", 1, 0, good, kInfo, kInfo, Status::kIoDataIntegrity},
      {"truncated", internal::kHandleWireVersion, 0, good, kInfo, kInfo - 8,
       Status::kIoDataIntegrity},
      {"oversized", internal::kHandleWireVersion, 0, good, kInfo + 8, kInfo + 8,
       Status::kIoDataIntegrity},
      {"longer than any reply", internal::kHandleWireVersion, 0, good, 4096, 4096,
       Status::kIoDataIntegrity},
      {"no data", internal::kHandleWireVersion, 0, good, 0, 0, Status::kIoDataIntegrity},
      {"an error with data", internal::kHandleWireVersion, S(Status::kAccessDenied), good, kInfo,
       kInfo, Status::kIoDataIntegrity},
      {"another VMO", internal::kHandleWireVersion, 0, with([](auto& i) { i.koid += 1; }), kInfo,
       kInfo, Status::kIoDataIntegrity},
      {"its own parent", internal::kHandleWireVersion, 0,
       with([&](auto& i) { i.parent_koid = koid; }), kInfo, kInfo, Status::kIoDataIntegrity},
      {"an unknown flag", internal::kHandleWireVersion, 0, with([](auto& i) { i.flags |= 1; }),
       kInfo, kInfo, Status::kIoDataIntegrity},
      {"a size of no VMO", internal::kHandleWireVersion, 0,
       with([](auto& i) { i.size_bytes += 1; }), kInfo, kInfo, Status::kIoDataIntegrity},
      {"beyond the largest VMO", internal::kHandleWireVersion, 0,
       with([](auto& i) { i.committed_bytes = kMaxVmoSize + kPageSize; }), kInfo, kInfo,
       Status::kIoDataIntegrity},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    int ends[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends), 0);
    const internal::HandleWelcome welcome = WelcomeFor(koid, parent);
    ASSERT_EQ(internal::SendMessage(ends[0], &welcome, sizeof welcome, nullptr, 0),
              internal::SendResult::kOk);
    Vmo vmo;
    ASSERT_EQ(internal::RemoteVmo::Import(ends[1], &vmo), Status::kOk);
    // The reply waits on the socket before the request is made.
    internal::HandleReply reply = internal::MakeReply(internal::HandleOp::kGetInfo, c.status,
                                                      static_cast<uint32_t>(c.data_len), 0);
    reply.version = c.version;
    std::vector<std::byte> packet(sizeof reply + c.sent);
    std::memcpy(packet.data(), &reply, sizeof reply);
    std::memcpy(packet.data() + sizeof reply, &c.info, std::min(c.sent, kInfo));
    ASSERT_EQ(internal::SendMessage(ends[0], packet.data(), packet.size(), nullptr, 0),
              internal::SendResult::kOk);
    VmoInfo info{};
    EXPECT_EQ(vmo.GetInfo(&info), c.expected);
    if (c.expected == Status::kOk) {
      EXPECT_EQ(info.koid, koid);
      EXPECT_EQ(info.size_bytes, 4 * kPageSize);
      EXPECT_EQ(info.committed_bytes, 2 * kPageSize);
      EXPECT_EQ(info.populated_bytes, 2 * kPageSize);
      EXPECT_EQ(info.flags, kVmoInfoPagerBacked);
      EXPECT_EQ(info.num_children, 3u);
      EXPECT_EQ(info.parent_koid, parent);
    }
    // The request the holder made: exactly one kGetInfo of this version.
    internal::HandleRequest request{};
    internal::Received received;
    ASSERT_EQ(internal::ReceiveMessage(ends[0], &request, sizeof request, false, &received),
              internal::ReceiveResult::kOk);
    EXPECT_EQ(received.len, sizeof request);
    EXPECT_EQ(request.version, internal::kHandleWireVersion);
    EXPECT_EQ(request.op, static_cast<uint16_t>(internal::HandleOp::kGetInfo));
    if (c.expected == Status::kIoDataIntegrity) {
      // Detached: no more requests, the welcome's identity, no children.
      info = VmoInfo{};
      EXPECT_EQ(vmo.GetInfo(&info), Status::kOk);
      EXPECT_EQ(info.koid, koid);
      EXPECT_EQ(info.parent_koid, parent);
      EXPECT_EQ(info.num_children, 0u);
      EXPECT_EQ(internal::ReceiveMessage(ends[0], &request, sizeof request, false, &received),
                internal::ReceiveResult::kWouldBlock);
    }
    ::close(ends[0]);
  }
}

// A writable descriptor of a resizable VMO's memfd could truncate it under the owner's own
// mappings, and that memfd cannot be sealed: a holder gets only a read-only one.
TEST(RemoteVmo, AResizableVmosMemfdReachesHoldersOnlyReadOnly) {
  Vmo local;
  ASSERT_EQ(Vmo::Create(4 * kPageSize, kVmoResizable, &local), Status::kOk);
  Vmo remote = AsRemote(local);
  internal::VmoRemote* holder = internal::HandleAccess::Remote(remote);
  ASSERT_NE(holder, nullptr);
  int fd = -1;
  EXPECT_EQ(holder->MemfdForMapping(true, &fd), Status::kNotSupported);
  EXPECT_EQ(fd, -1);
  ASSERT_EQ(holder->MemfdForMapping(false, &fd), Status::kOk);
  EXPECT_EQ(::fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_NE(::ftruncate(fd, 0), 0);
  ::close(fd);
  Mapping map;
  EXPECT_EQ(Mapping::Create(remote, 0, kPageSize, kMapRead | kMapWrite, &map),
            Status::kNotSupported);
  uint64_t size = 0;
  EXPECT_EQ(local.GetSize(&size), Status::kOk);
  EXPECT_EQ(size, 4 * kPageSize);
}

}  // namespace
}  // namespace upager
