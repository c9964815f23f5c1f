// The holder's side of the process boundary against a hostile or mistaken peer, in one
// process (channel_test.cc explains the AsRemote stand-in): a handle from a fake owner, and
// descriptors a holder must never get. docs/processes.md, "Security at the boundary".
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

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
