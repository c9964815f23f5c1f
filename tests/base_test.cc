// The small shared pieces of the library: the status texts, the whole-transfer I/O loop
// (base/full_io.h), the steady-clock stamps (base/clock.h), and the handle base that Vmo,
// Port and Pager share (counted handles: the last one closes the object).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/full_io.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/status.h"
#include "upager/vmo.h"

namespace upager {
namespace {

constexpr Status kAllStatuses[] = {
    Status::kOk,        Status::kInternal,        Status::kNotSupported,   Status::kNoResources,
    Status::kNoMemory,  Status::kIntrRetry,       Status::kInvalidArgs,    Status::kBadHandle,
    Status::kWrongType, Status::kOutOfRange,      Status::kBufferTooSmall, Status::kBadState,
    Status::kTimedOut,  Status::kShouldWait,      Status::kCanceled,       Status::kPeerClosed,
    Status::kNotFound,  Status::kAlreadyExists,   Status::kUnavailable,    Status::kAccessDenied,
    Status::kIo,        Status::kIoDataIntegrity, Status::kNoSpace,        Status::kIntrKilled,
};

TEST(StatusTextTest, ZirconNamesAndDescriptions) {
  EXPECT_STREQ(StatusString(Status::kOk), "ZX_OK");
  EXPECT_STREQ(StatusString(Status::kIoDataIntegrity), "ZX_ERR_IO_DATA_INTEGRITY");
  EXPECT_STREQ(StatusString(Status::kIntrKilled), "ZX_ERR_INTERNAL_INTR_KILLED");
  EXPECT_STREQ(StatusDescription(Status::kIoDataIntegrity),
               "data integrity error (ZX_ERR_IO_DATA_INTEGRITY)");
  EXPECT_STREQ(StatusDescription(Status::kAccessDenied),
               "permission denied (ZX_ERR_ACCESS_DENIED)");
  EXPECT_STREQ(StatusDescription(Status::kUnavailable), "unreachable (ZX_ERR_UNAVAILABLE)");
  EXPECT_STREQ(StatusString(static_cast<Status>(-999)), "(unknown)");
  EXPECT_STREQ(StatusDescription(static_cast<Status>(-999)), "(unknown)");
}

// Every status has its own Zircon name, and its description is some words followed by it.
TEST(StatusTextTest, EveryStatusHasBothTexts) {
  std::vector<std::string> names;
  for (Status s : kAllStatuses) {
    const std::string name = StatusString(s);
    ASSERT_EQ(name.rfind("ZX_", 0), 0u) << name;
    for (const std::string& other : names) EXPECT_NE(name, other);
    names.push_back(name);
    const std::string description = StatusDescription(s);
    const std::string suffix = " (" + name + ")";
    ASSERT_GT(description.size(), suffix.size()) << description;
    EXPECT_EQ(description.substr(description.size() - suffix.size()), suffix) << description;
  }
}

// A temporary file, removed at the end.
class TempFile {
 public:
  TempFile() {
    path_ = ::testing::TempDir() + "upager-base-XXXXXX";
    fd_ = mkstemp(path_.data());
  }
  ~TempFile() {
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

TEST(FullIoTest, PwriteThenPreadAtAnOffset) {
  TempFile file;
  ASSERT_GE(file.fd(), 0);
  const std::string data = "0123456789abcdef";
  const internal::IoResult w = internal::PwriteFull(file.fd(), data.data(), data.size(), 100);
  EXPECT_EQ(w.error, 0);
  EXPECT_EQ(w.done, data.size());
  std::string back(data.size(), '?');
  const internal::IoResult r = internal::PreadFull(file.fd(), back.data(), back.size(), 100);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.done, data.size());
  EXPECT_EQ(back, data);
  // The hole before it reads as zeros.
  char hole[4] = {1, 1, 1, 1};
  EXPECT_EQ(internal::PreadFull(file.fd(), hole, sizeof(hole), 10).done, sizeof(hole));
  EXPECT_EQ(std::string(hole, 4), std::string(4, '\0'));
}

// A read stops at the end of the file without an error, with what it got.
TEST(FullIoTest, ReadsStopAtEndOfFile) {
  TempFile file;
  ASSERT_GE(file.fd(), 0);
  ASSERT_EQ(internal::WriteFull(file.fd(), "0123456789", 10).done, 10u);
  char buf[32];
  internal::IoResult r = internal::PreadFull(file.fd(), buf, sizeof(buf), 4);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.done, 6u);
  EXPECT_EQ(std::string(buf, 6), "456789");
  r = internal::PreadFull(file.fd(), buf, sizeof(buf), 10);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.done, 0u);
  ASSERT_EQ(lseek(file.fd(), 3, SEEK_SET), 3);
  r = internal::ReadFull(file.fd(), buf, sizeof(buf));
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.done, 7u);
  EXPECT_EQ(std::string(buf, 7), "3456789");
}

// A seqpacket socket returns one record per read: a whole read of three records must loop.
TEST(FullIoTest, ReadLoopsOverShortTransfers) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  const std::string a(1000, 'a'), b(1000, 'b'), c(1000, 'c');
  for (const std::string* piece : {&a, &b, &c}) {
    ASSERT_EQ(write(fds[0], piece->data(), piece->size()), 1000);
  }
  std::string got(3000, '?');
  const internal::IoResult r = internal::ReadFull(fds[1], got.data(), got.size());
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.done, 3000u);
  EXPECT_EQ(got, a + b + c);
  // The writer gone: end of file, no error.
  close(fds[0]);
  char more[8];
  const internal::IoResult end = internal::ReadFull(fds[1], more, sizeof(more));
  EXPECT_EQ(end.error, 0);
  EXPECT_EQ(end.done, 0u);
  close(fds[1]);
}

TEST(FullIoTest, ErrorsCarryErrno) {
  TempFile file;
  ASSERT_GE(file.fd(), 0);
  const int read_only = open(file.path().c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(read_only, 0);
  const internal::IoResult w = internal::PwriteFull(read_only, "x", 1, 0);
  EXPECT_EQ(w.error, EBADF);
  EXPECT_EQ(w.done, 0u);
  EXPECT_EQ(internal::WriteFull(read_only, "x", 1).error, EBADF);
  close(read_only);
  char buf[4];
  EXPECT_EQ(internal::PreadFull(-1, buf, sizeof(buf), 0).error, EBADF);
  EXPECT_EQ(internal::ReadFull(-1, buf, sizeof(buf)).error, EBADF);
}

TEST(ClockTest, StampsAreSteadyClockNanoseconds) {
  using std::chrono::steady_clock;
  EXPECT_EQ(internal::SteadyNs(steady_clock::time_point{}), 0u);
  EXPECT_EQ(internal::SteadyNs(steady_clock::time_point{} + std::chrono::microseconds(3)), 3000u);
  const uint64_t before = internal::SteadyNs(steady_clock::now());
  const uint64_t stamp = internal::SteadyNowNs();
  const uint64_t after = internal::SteadyNs(steady_clock::now());
  EXPECT_LE(before, stamp);
  EXPECT_LE(stamp, after);
}

// The handle rules Vmo, Port and Pager share, seen through a pager-backed VMO: its COMPLETE
// packet is queued exactly when the last of its handles goes, however the handles were
// made (duplicated, moved, duplicated onto themselves).
TEST(HandleTest, LastHandleOfAVmoClosesIt) {
  Pager pager;
  Port port;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Vmo vmo;
  ASSERT_EQ(pager.CreateVmo(0, port, 7, kPageSize, &vmo), Status::kOk);
  auto complete_queued = [&port] {
    PortPacket packet{};
    if (port.Wait(Deadline{}, &packet) != Status::kOk) return false;
    EXPECT_EQ(packet.key, 7u);
    EXPECT_EQ(packet.type, kPktTypePageRequest);
    EXPECT_EQ(packet.page_request.command, kPagerVmoComplete);
    return true;
  };

  EXPECT_EQ(Vmo().Duplicate(&vmo), Status::kBadHandle);  // leaves `vmo` alone
  EXPECT_EQ(vmo.Duplicate(nullptr), Status::kInvalidArgs);
  ASSERT_TRUE(vmo.is_valid());
  ASSERT_EQ(vmo.Duplicate(&vmo), Status::kOk);  // onto itself: still one handle
  ASSERT_TRUE(vmo.is_valid());
  Vmo dup;
  ASSERT_EQ(vmo.Duplicate(&dup), Status::kOk);
  EXPECT_EQ(dup.koid(), vmo.koid());
  Vmo moved = std::move(vmo);
  EXPECT_FALSE(vmo.is_valid());  // NOLINT(bugprone-use-after-move): the rule under test
  Vmo& same = moved;
  moved = std::move(same);  // onto itself: nothing changes
  ASSERT_TRUE(moved.is_valid());

  moved.Reset();
  EXPECT_FALSE(moved.is_valid());
  EXPECT_FALSE(complete_queued());  // `dup` is still open
  dup = Vmo();                      // move-assigning over the last handle closes it
  EXPECT_FALSE(dup.is_valid());
  EXPECT_TRUE(complete_queued());
  EXPECT_FALSE(complete_queued());  // exactly one
}

// A Pager closes when its last handle goes: VMOs can no longer be created through a
// handle made before, and a duplicate keeps it open until then.
TEST(HandleTest, LastHandleOfAPagerClosesIt) {
  Pager pager;
  Port port;
  ASSERT_EQ(Pager::Create(0, &pager), Status::kOk);
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  Pager dup;
  ASSERT_EQ(pager.Duplicate(&dup), Status::kOk);
  pager.Reset();
  EXPECT_FALSE(pager.is_valid());
  Vmo vmo;
  EXPECT_EQ(dup.CreateVmo(0, port, 1, kPageSize, &vmo), Status::kOk);
  EXPECT_EQ(pager.CreateVmo(0, port, 1, kPageSize, &vmo), Status::kBadHandle);
  Pager other;
  ASSERT_EQ(Pager::Create(0, &other), Status::kOk);
  dup = std::move(other);  // the first pager's last handle: closed, its VMO detached
  uint64_t value = 0;
  EXPECT_EQ(vmo.Read(&value, 0, sizeof(value)), Status::kBadState);
}

}  // namespace
}  // namespace upager
