// Channel in one process: every status of api.md's Channel, and VMO handles moved through
// it. The holder's side of a handle received from another process is exercised here too,
// by importing this process's own export as if it came from elsewhere (RemoteVmo::Import),
// so that its requests go through the ExportService exactly as a child's would;
// process_test.cc does the same across real processes.
#include "upager/channel.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "base/handle_access.h"
#include "pager/handle_protocol.h"
#include "pager/remote_vmo.h"
#include "pager/seqpacket.h"
#include "pager/vmo_export.h"
#include "pager/vmo_wire.h"
#include "remote_handle.h"
#include "upager/mapping.h"
#include "upager/rights.h"
#include "upager/thread.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager {
namespace {

using testing::AsRemote;
using testing::TestVmo;
using testing::UserPager;

Deadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(10); }

size_t OpenFds() {
  size_t n = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  while (::readdir(dir) != nullptr) ++n;
  ::closedir(dir);
  return n;
}

Vmo MakeVmo(const char* text) {
  Vmo vmo;
  EXPECT_EQ(Vmo::Create(kPageSize, 0, &vmo), Status::kOk);
  EXPECT_EQ(vmo.Write(text, 0, std::strlen(text)), Status::kOk);
  return vmo;
}

TEST(Channel, CreateTakesNoOptions) {
  Channel a, b;
  EXPECT_EQ(Channel::Create(1, &a, &b), Status::kInvalidArgs);
  EXPECT_FALSE(a.is_valid());
  ASSERT_EQ(Channel::Create(0, &a, &b), Status::kOk);
  EXPECT_TRUE(a.is_valid());
  EXPECT_TRUE(b.is_valid());
  EXPECT_NE(::fcntl(a.fd(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(Channel, BytesArriveWholeAndInOrder) {
  Channel a, b;
  ASSERT_EQ(Channel::Create(0, &a, &b), Status::kOk);
  ASSERT_EQ(a.Write("first", 5, nullptr, 0), Status::kOk);
  ASSERT_EQ(a.Write("second!", 7, nullptr, 0), Status::kOk);
  ASSERT_EQ(a.Write(nullptr, 0, nullptr, 0), Status::kOk);
  char buf[16] = {};
  uint32_t n = 99, h = 99;
  ASSERT_EQ(b.Read(buf, sizeof buf, &n, nullptr, 0, &h), Status::kOk);
  EXPECT_EQ(std::string(buf, n), "first");
  EXPECT_EQ(h, 0u);
  ASSERT_EQ(b.Read(buf, sizeof buf, &n, nullptr, 0, &h), Status::kOk);
  EXPECT_EQ(std::string(buf, n), "second!");
  ASSERT_EQ(b.Read(buf, sizeof buf, &n, nullptr, 0, &h), Status::kOk);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(b.Read(buf, sizeof buf, &n, nullptr, 0, &h), Status::kShouldWait);
  // Both directions.
  ASSERT_EQ(b.Write("back", 4, nullptr, 0), Status::kOk);
  ASSERT_EQ(a.Read(buf, sizeof buf, &n, nullptr, 0, &h), Status::kOk);
  EXPECT_EQ(std::string(buf, n), "back");
}

TEST(Channel, TheLargestMessageFitsAndOneByteMoreIsOutOfRange) {
  Channel a, b;
  ASSERT_EQ(Channel::Create(0, &a, &b), Status::kOk);
  std::vector<char> big(kChannelMaxMsgBytes + 1, 'x');
  big[kChannelMaxMsgBytes - 1] = 'y';
  EXPECT_EQ(a.Write(big.data(), kChannelMaxMsgBytes + 1, nullptr, 0), Status::kOutOfRange);
  ASSERT_EQ(a.Write(big.data(), kChannelMaxMsgBytes, nullptr, 0), Status::kOk);
  std::vector<char> got(kChannelMaxMsgBytes);
  uint32_t n = 0, h = 0;
  ASSERT_EQ(b.Read(got.data(), kChannelMaxMsgBytes, &n, nullptr, 0, &h), Status::kOk);
  EXPECT_EQ(n, kChannelMaxMsgBytes);
  EXPECT_EQ(got.back(), 'y');
  Vmo vmos[kChannelMaxMsgHandles + 1];
  EXPECT_EQ(a.Write(nullptr, 0, vmos, kChannelMaxMsgHandles + 1), Status::kOutOfRange);
}

TEST(Channel, ATooSmallBufferLeavesTheMessageQueued) {
  Channel a, b;
  ASSERT_EQ(Channel::Create(0, &a, &b), Status::kOk);
  Vmo vmo = MakeVmo("kept");
  ASSERT_EQ(a.Write("0123456789", 10, &vmo, 1), Status::kOk);
  char buf[16];
  uint32_t n = 0, h = 0;
  Vmo got;
  EXPECT_EQ(b.Read(buf, 4, &n, &got, 1, &h), Status::kBufferTooSmall);
  EXPECT_EQ(n, 10u);
  EXPECT_EQ(h, 1u);
  n = h = 0;
  EXPECT_EQ(b.Read(buf, sizeof buf, &n, nullptr, 0, &h), Status::kBufferTooSmall);
  EXPECT_EQ(n, 10u);
  EXPECT_EQ(h, 1u);
  ASSERT_EQ(b.Read(buf, sizeof buf, &n, &got, 1, &h), Status::kOk);
  EXPECT_EQ(std::string(buf, n), "0123456789");
  char text[4];
  ASSERT_EQ(got.Read(text, 0, 4), Status::kOk);
  EXPECT_EQ(std::string(text, 4), "kept");
}

TEST(Channel, PeerClosedAfterTheQueuedMessages) {
  Channel a, b;
  ASSERT_EQ(Channel::Create(0, &a, &b), Status::kOk);
  ASSERT_EQ(a.Write("last", 4, nullptr, 0), Status::kOk);
  a.Reset();
  EXPECT_EQ(b.Wait(Soon()), Status::kOk);
  char buf[8];
  uint32_t n = 0, h = 0;
  ASSERT_EQ(b.Read(buf, sizeof buf, &n, nullptr, 0, &h), Status::kOk);
  EXPECT_EQ(std::string(buf, n), "last");
  EXPECT_EQ(b.Read(buf, sizeof buf, &n, nullptr, 0, &h), Status::kPeerClosed);
  EXPECT_EQ(b.Wait(Soon()), Status::kPeerClosed);
  Vmo vmo = MakeVmo("stay");
  EXPECT_EQ(b.Write("x", 1, &vmo, 1), Status::kPeerClosed);
  EXPECT_TRUE(vmo.is_valid());
}

TEST(Channel, BadHandles) {
  Channel none;
  char buf[4];
  uint32_t n, h;
  EXPECT_EQ(none.Write("x", 1, nullptr, 0), Status::kBadHandle);
  EXPECT_EQ(none.Read(buf, 4, &n, nullptr, 0, &h), Status::kBadHandle);
  EXPECT_EQ(none.Wait(Soon()), Status::kBadHandle);
  Channel a, b;
  ASSERT_EQ(Channel::Create(0, &a, &b), Status::kOk);
  Vmo vmos[2];
  vmos[0] = MakeVmo("ok");
  EXPECT_EQ(a.Write("x", 1, vmos, 2), Status::kBadHandle);
  EXPECT_TRUE(vmos[0].is_valid());
  EXPECT_EQ(b.Read(buf, 4, &n, nullptr, 0, &h), Status::kShouldWait);
}

TEST(Channel, AHandleWithoutTransferIsRefusedAndNothingIsSent) {
  Channel a, b;
  ASSERT_EQ(Channel::Create(0, &a, &b), Status::kOk);
  Vmo vmos[2];
  vmos[0] = MakeVmo("one");
  Vmo full = MakeVmo("two");
  ASSERT_EQ(full.Duplicate(kRightRead | kRightDuplicate, &vmos[1]), Status::kOk);
  EXPECT_EQ(a.Write("x", 1, vmos, 2), Status::kAccessDenied);
  EXPECT_TRUE(vmos[0].is_valid());
  EXPECT_TRUE(vmos[1].is_valid());
  char buf[4];
  uint32_t n, h;
  EXPECT_EQ(b.Read(buf, 4, &n, nullptr, 0, &h), Status::kShouldWait);
}

TEST(Channel, AHandleComesBackAsTheSameObjectWithItsRights) {
  Channel a, b;
  ASSERT_EQ(Channel::Create(0, &a, &b), Status::kOk);
  Vmo full = MakeVmo("shared");
  Vmo reader;
  const uint32_t rights = kRightRead | kRightTransfer | kRightDuplicate;
  ASSERT_EQ(full.Duplicate(rights, &reader), Status::kOk);
  ASSERT_EQ(a.Write(nullptr, 0, &reader, 1), Status::kOk);
  EXPECT_FALSE(reader.is_valid());
  Vmo got;
  uint32_t n, h;
  ASSERT_EQ(b.Read(nullptr, 0, &n, &got, 1, &h), Status::kOk);
  ASSERT_EQ(h, 1u);
  EXPECT_EQ(got.koid(), full.koid());
  EXPECT_EQ(got.rights(), rights);
  char text[6];
  ASSERT_EQ(got.Read(text, 0, 6), Status::kOk);
  EXPECT_EQ(std::string(text, 6), "shared");
  EXPECT_EQ(got.Write("x", 0, 1), Status::kAccessDenied);
  // Back in its own process, the handle is local again: no connection stays open for it.
  EXPECT_TRUE(internal::WaitForExportCount(0, Soon()));
}

TEST(Channel, WaitTimesOutThenSeesAMessage) {
  Channel a, b;
  ASSERT_EQ(Channel::Create(0, &a, &b), Status::kOk);
  EXPECT_EQ(b.Wait(std::chrono::steady_clock::now() + std::chrono::milliseconds(20)),
            Status::kTimedOut);
  std::thread writer([&] { EXPECT_EQ(a.Write("x", 1, nullptr, 0), Status::kOk); });
  EXPECT_EQ(b.Wait(Soon()), Status::kOk);
  writer.join();
}

TEST(Channel, AFullQueueIsShouldWaitAndKeepsTheHandle) {
  Channel a, b;
  ASSERT_EQ(Channel::Create(0, &a, &b), Status::kOk);
  std::vector<char> big(kChannelMaxMsgBytes, 'z');
  Status s = Status::kOk;
  for (int i = 0; i < 10000 && s == Status::kOk; ++i) {
    s = a.Write(big.data(), kChannelMaxMsgBytes, nullptr, 0);
  }
  ASSERT_EQ(s, Status::kShouldWait);
  Vmo vmo = MakeVmo("kept");
  EXPECT_EQ(a.Write(big.data(), kChannelMaxMsgBytes, &vmo, 1), Status::kShouldWait);
  EXPECT_TRUE(vmo.is_valid());
  // The connection made for the refused message goes with it.
  EXPECT_TRUE(internal::WaitForExportCount(0, Soon()));
}

TEST(Channel, FromFdTakesOnlyAConnectedSeqpacketSocket) {
  Channel c;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  EXPECT_EQ(Channel::FromFd(pipe_fds[0], &c), Status::kInvalidArgs);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  int stream[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, stream), 0);
  EXPECT_EQ(Channel::FromFd(stream[0], &c), Status::kInvalidArgs);
  ::close(stream[0]);
  ::close(stream[1]);
  const int unconnected = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
  EXPECT_EQ(Channel::FromFd(unconnected, &c), Status::kInvalidArgs);
  ::close(unconnected);
  int seq[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, seq), 0);
  Channel x, y;
  ASSERT_EQ(Channel::FromFd(seq[0], &x), Status::kOk);
  ASSERT_EQ(Channel::FromFd(seq[1], &y), Status::kOk);
  EXPECT_NE(::fcntl(x.fd(), F_GETFD) & FD_CLOEXEC, 0);
  ASSERT_EQ(x.Write("hi", 2, nullptr, 0), Status::kOk);
  char buf[2];
  uint32_t n, h;
  ASSERT_EQ(y.Read(buf, 2, &n, nullptr, 0, &h), Status::kOk);
  EXPECT_EQ(std::string(buf, n), "hi");
}

TEST(Channel, AForeignMessageShutsTheChannelAndLeaksNoDescriptor) {
  Channel a, b;
  ASSERT_EQ(Channel::Create(0, &a, &b), Status::kOk);
  ASSERT_TRUE(internal::WaitForExportCount(0, Soon()));  // earlier tests' connections gone
  const size_t fds_before = OpenFds();
  // Bytes no Channel wrote.
  ASSERT_EQ(::send(a.fd(), "garbage!", 8, 0), 8);
  char buf[16];
  uint32_t n, h;
  EXPECT_EQ(b.Read(buf, sizeof buf, &n, nullptr, 0, &h), Status::kPeerClosed);
  EXPECT_EQ(b.Read(buf, sizeof buf, &n, nullptr, 0, &h), Status::kPeerClosed);
  EXPECT_EQ(OpenFds(), fds_before);
}

TEST(Channel, ADescriptorThatIsNotAHandleIsRefusedAndClosed) {
  Channel a, b;
  ASSERT_EQ(Channel::Create(0, &a, &b), Status::kOk);
  ASSERT_TRUE(internal::WaitForExportCount(0, Soon()));  // earlier tests' connections gone
  const size_t fds_before = OpenFds();
  // A well-formed header that announces one handle, and a pipe in its place.
  const uint32_t header[4] = {0x4d435055, 1u | (1u << 16), 0, 0};
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{const_cast<uint32_t*>(header), sizeof header};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &pipe_fds[0], sizeof(int));
  ASSERT_EQ(::sendmsg(a.fd(), &msg, 0), static_cast<ssize_t>(sizeof header));
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  Vmo got;
  uint32_t n, h;
  EXPECT_EQ(b.Read(nullptr, 0, &n, &got, 1, &h), Status::kPeerClosed);
  EXPECT_FALSE(got.is_valid());
  EXPECT_EQ(OpenFds(), fds_before);
}

// ---- The holder's side of a remote handle, served by this process's ExportService ----

TEST(RemoteVmo, EveryCallReachesTheOwnersVmo) {
  Vmo local;
  ASSERT_EQ(Vmo::Create(4 * kPageSize, kVmoResizable, &local), Status::kOk);
  Vmo remote = AsRemote(local);
  ASSERT_TRUE(remote.is_valid());
  EXPECT_EQ(remote.koid(), local.koid());
  EXPECT_EQ(remote.rights(), local.rights());
  // A write longer than one message, read back both ways.
  std::vector<char> data(3 * kPageSize);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  std::vector<char> back(data.size());
  ASSERT_EQ(remote.Write(data.data(), 100, data.size()), Status::kOk);
  ASSERT_EQ(local.Read(back.data(), 100, back.size()), Status::kOk);
  EXPECT_EQ(back, data);
  std::fill(back.begin(), back.end(), 0);
  ASSERT_EQ(remote.Read(back.data(), 100, back.size()), Status::kOk);
  EXPECT_EQ(back, data);
  uint64_t size = 0;
  ASSERT_EQ(remote.GetSize(&size), Status::kOk);
  EXPECT_EQ(size, 4 * kPageSize);
  ASSERT_EQ(remote.SetSize(8 * kPageSize), Status::kOk);
  ASSERT_EQ(local.GetSize(&size), Status::kOk);
  EXPECT_EQ(size, 8 * kPageSize);
  VmoInfo info{}, expected{};
  ASSERT_EQ(remote.GetInfo(&info), Status::kOk);
  ASSERT_EQ(local.GetInfo(&expected), Status::kOk);
  EXPECT_EQ(info.koid, expected.koid);
  EXPECT_EQ(info.size_bytes, expected.size_bytes);
  EXPECT_EQ(info.committed_bytes, expected.committed_bytes);
  EXPECT_EQ(info.flags, expected.flags);
  EXPECT_EQ(remote.OpRange(kVmoOpZero, 0, kPageSize), Status::kOk);
  // The owner's statuses come back as they are.
  EXPECT_EQ(remote.Read(back.data(), 8 * kPageSize, 1), Status::kOutOfRange);
  EXPECT_EQ(remote.OpRange(12345, 0, kPageSize), local.OpRange(12345, 0, kPageSize));
}

TEST(RemoteVmo, TheOwnerEnforcesTheHandlesRights) {
  Vmo local = MakeVmo("secret");
  Vmo reader;
  ASSERT_EQ(local.Duplicate(kRightRead | kRightDuplicate | kRightTransfer, &reader), Status::kOk);
  Vmo remote = AsRemote(reader);
  EXPECT_EQ(remote.rights(), kRightRead | kRightDuplicate | kRightTransfer);
  EXPECT_EQ(remote.Write("x", 0, 1), Status::kAccessDenied);
  EXPECT_EQ(remote.SetSize(0), Status::kAccessDenied);
  Vmo fewer;
  ASSERT_EQ(remote.Duplicate(kRightRead, &fewer), Status::kOk);
  EXPECT_EQ(fewer.koid(), local.koid());
  EXPECT_EQ(fewer.rights(), kRightRead);
  char text[6];
  ASSERT_EQ(fewer.Read(text, 0, 6), Status::kOk);
  EXPECT_EQ(std::string(text, 6), "secret");
  Vmo again;
  EXPECT_EQ(fewer.Duplicate(kRightRead, &again), Status::kAccessDenied);
  EXPECT_EQ(remote.Duplicate(kRightRead | kRightWrite, &again), Status::kInvalidArgs);
  // Replace with fewer rights gets a new connection from the owner.
  Vmo replaced;
  ASSERT_EQ(remote.Replace(kRightTransfer, &replaced), Status::kOk);
  EXPECT_FALSE(remote.is_valid());
  EXPECT_EQ(replaced.rights(), kRightTransfer);
  EXPECT_EQ(replaced.Read(text, 0, 6), Status::kAccessDenied);
}

TEST(RemoteVmo, AMessageOutsideTheProtocolDropsOnlyThatConnection) {
  Vmo local = MakeVmo("fine");
  Vmo good = AsRemote(local);
  ASSERT_TRUE(internal::WaitForExportCount(1, Soon()));
  int fd = -1;
  ASSERT_EQ(internal::VmoToWire(local, &fd), Status::kOk);
  ASSERT_TRUE(internal::WaitForExportCount(2, Soon()));
  // The welcome, then a request with a bad magic.
  char welcome[64];
  ASSERT_GT(::recv(fd, welcome, sizeof welcome, 0), 0);
  const char junk[40] = "not a request at all, not even close";
  ASSERT_EQ(::send(fd, junk, sizeof junk, 0), static_cast<ssize_t>(sizeof junk));
  ASSERT_TRUE(internal::WaitForExportCount(1, Soon()));
  char byte;
  EXPECT_EQ(::recv(fd, &byte, 1, 0), 0);  // the owner closed its end
  ::close(fd);
  char text[4];
  ASSERT_EQ(good.Read(text, 0, 4), Status::kOk);
  EXPECT_EQ(std::string(text, 4), "fine");
}

TEST(RemoteVmo, ReadersInEveryProcessShareOnePageRequest) {
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(4);
  ASSERT_NE(vmo, nullptr);
  Vmo remote = AsRemote(vmo->vmo);
  std::vector<char> local_buf(kPageSize), remote_buf(kPageSize);
  std::thread local_reader(
      [&] { EXPECT_EQ(vmo->vmo.Read(local_buf.data(), kPageSize, kPageSize), Status::kOk); });
  std::thread remote_reader(
      [&] { EXPECT_EQ(remote.Read(remote_buf.data(), kPageSize, kPageSize), Status::kOk); });
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  // Both wait before the supply: the remote one in the owner's worker thread.
  for (int i = 0; i < 10000 && internal::ExportWaitersForTesting() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(internal::ExportWaitersForTesting(), 1u);
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  local_reader.join();
  remote_reader.join();
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 1, 1, local_buf.data()));
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 1, 1, remote_buf.data()));
  EXPECT_FALSE(pager.AnyPacket());
}

// A holder's thread waiting for the owner's pager is killable and suspendable as a local
// waiter is: kIntrKilled / kIntrRetry, blocked-on-pager meanwhile, and the owner's thread
// that ran the request is killed in its place (no waiter is left on the request).
TEST(RemoteVmo, AThreadWaitingForTheOwnerIsKillableAndSuspendable) {
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  Vmo remote = AsRemote(vmo->vmo);
  for (const bool kill : {false, true}) {
    ThreadHandle handle;
    std::atomic<bool> ready{false};
    Status result = Status::kOk;
    std::thread reader([&] {
      handle = ThreadHandle::Current();
      ready = true;
      std::vector<char> buf(kPageSize);
      result = remote.Read(buf.data(), 0, kPageSize);
    });
    for (int i = 0; i < 10000 && (!ready || !handle.IsBlockedOnPager()); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(handle.IsBlockedOnPager());
    for (int i = 0; i < 10000 && internal::ExportWaitersForTesting() < 1; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(internal::ExportWaitersForTesting(), 1u);
    if (kill) {
      handle.Kill();
    } else {
      handle.Suspend();
    }
    reader.join();
    EXPECT_EQ(result, kill ? Status::kIntrKilled : Status::kIntrRetry);
    EXPECT_FALSE(handle.IsBlockedOnPager());
    for (int i = 0; i < 10000 && internal::ExportWaitersForTesting() > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(internal::ExportWaitersForTesting(), 0u);
  }
  // The handle still works: the next read is served.
  std::vector<char> buf(kPageSize);
  std::thread reader([&] { EXPECT_EQ(remote.Read(buf.data(), 0, kPageSize), Status::kOk); });
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  reader.join();
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 0, 1, buf.data()));
}

TEST(RemoteVmo, APagerFailureReachesTheHolder) {
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  Vmo remote = AsRemote(vmo->vmo);
  std::vector<char> buf(kPageSize);
  std::thread reader(
      [&] { EXPECT_EQ(remote.Read(buf.data(), 0, kPageSize), Status::kIoDataIntegrity); });
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.FailPages(*vmo, 0, 1, Status::kIoDataIntegrity), Status::kOk);
  reader.join();
}

// A kMap request whose descriptors are not what the protocol says: the owner refuses it
// (kInvalidArgs), maps and serves nothing, and keeps serving the connection.
Status SendMap(int fd, int uffd, int failure_page) {
  const internal::HandleMapRequest map{0x10000000, 0, 0};
  std::vector<std::byte> packet(sizeof(internal::HandleRequest) + sizeof map);
  const internal::HandleRequest header =
      internal::MakeRequest(internal::HandleOp::kMap, 0, 0, kPageSize, sizeof map);
  std::memcpy(packet.data(), &header, sizeof header);
  std::memcpy(packet.data() + sizeof header, &map, sizeof map);
  const int fds[2] = {uffd, failure_page};
  if (internal::SendMessage(fd, packet.data(), packet.size(), fds, 2) !=
      internal::SendResult::kOk) {
    return Status::kInternal;
  }
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 10000) != 1) return Status::kTimedOut;
  internal::HandleReply reply{};
  internal::Received received;
  if (internal::ReceiveMessage(fd, &reply, sizeof reply, false, &received) !=
      internal::ReceiveResult::kOk) {
    return Status::kPeerClosed;
  }
  return static_cast<Status>(reply.status);
}

TEST(RemoteVmo, AMapRequestWithForeignDescriptorsIsRefused) {
  ASSERT_EQ(MappingSupport(), Status::kOk);  // this process serves mappings
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  // Earlier tests' connections close on the service thread: let them, before counting.
  ASSERT_TRUE(internal::WaitForExportCount(0, Soon()));
  int fd = -1;
  ASSERT_EQ(internal::VmoToWire(vmo->vmo, &fd), Status::kOk);
  char welcome[64];
  ASSERT_GT(::recv(fd, welcome, sizeof welcome, 0), 0);
  const size_t fds_before = OpenFds();
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  // A pipe where the userfaultfd should be.
  const int page = ::memfd_create("page", MFD_ALLOW_SEALING);
  ASSERT_EQ(::ftruncate(page, kPageSize), 0);
  ASSERT_EQ(::fcntl(page, F_ADD_SEALS, F_SEAL_SHRINK), 0);
  EXPECT_EQ(SendMap(fd, pipe_fds[0], page), Status::kInvalidArgs);
  // A failure page its sender could shrink under the owner.
  const int uffd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  ASSERT_GE(uffd, 0);
  const int unsealed = ::memfd_create("page", 0);
  ASSERT_EQ(::ftruncate(unsealed, kPageSize), 0);
  EXPECT_EQ(SendMap(fd, uffd, unsealed), Status::kInvalidArgs);
  for (int f : {pipe_fds[0], pipe_fds[1], page, uffd, unsealed}) ::close(f);
  EXPECT_EQ(OpenFds(), fds_before);  // the owner kept none of them
  ::close(fd);
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(RemoteVmo, TheLastRemoteHandleBringsTheComplete) {
  UserPager pager;
  std::unique_ptr<TestVmo> vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  Vmo remote = AsRemote(vmo->vmo);
  vmo->vmo.Reset();
  EXPECT_FALSE(pager.WaitForPageComplete(vmo->key, std::chrono::milliseconds(0)));
  remote.Reset();
  EXPECT_TRUE(pager.WaitForPageComplete(vmo->key));
}

}  // namespace
}  // namespace upager
