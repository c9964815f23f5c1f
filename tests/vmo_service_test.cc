// VmoService and VmoClient (vmo_service.h): names, rights, refusals, the socket file, hostile
// clients and stopping. Most clients run in this process (a handle that comes back to its
// owner's process is a local one, with the rights granted); the test binary re-executes
// itself (UPAGER_TEST_CHILD) for a client in another process and for one of another user.
#include "upager/vmo_service.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pager/vmo_export.h"
#include "pager/vmo_service_wire.h"
#include "upager/channel.h"
#include "upager/rights.h"
#include "upager/vmo.h"

extern char** environ;

namespace upager {
namespace {

Deadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(20); }

size_t CountEntries(const char* dir_path) {
  size_t n = 0;
  DIR* dir = ::opendir(dir_path);
  while (::readdir(dir) != nullptr) ++n;
  ::closedir(dir);
  return n;
}

// What /proc/self/fd holds: "fd -> target" lines, for failure messages.
std::string FdList() {
  std::string out;
  DIR* dir = ::opendir("/proc/self/fd");
  for (dirent* e = ::readdir(dir); e != nullptr; e = ::readdir(dir)) {
    char path[300], target[256] = {};
    std::snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    if (::readlink(path, target, sizeof target - 1) > 0) {
      out += std::string(e->d_name) + " -> " + target + "\n";
    }
  }
  ::closedir(dir);
  return out;
}

// Polls `done` until it holds or 20 s pass.
template <typename F>
bool Eventually(F done) {
  const Deadline deadline = Soon();
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class VmoServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/upager-svc-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
    path_ = dir_ + "/sock";
    ASSERT_EQ(Vmo::Create(4 * kPageSize, 0, &vmo_), Status::kOk);
    content_.resize(4 * kPageSize);
    for (size_t i = 0; i < content_.size(); ++i) content_[i] = static_cast<char>(i * 7 + 3);
    ASSERT_EQ(vmo_.Write(content_.data(), 0, content_.size()), Status::kOk);
  }
  void TearDown() override {
    service_.reset();
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }

  void Start(const VmoServiceOptions& options = {}) {
    ASSERT_EQ(VmoService::Create(path_, options, &service_), Status::kOk);
    ASSERT_EQ(service_->Export("data", vmo_), Status::kOk);
  }

  // A raw client socket connected to the service, its greeting read.
  int RawConnect() {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path_.c_str());
    const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    char hello[256];
    EXPECT_GT(::recv(fd, hello, sizeof hello, 0), 0);
    return fd;
  }

  // True once the service has closed `fd`'s connection (its end reads EOF).
  static bool DroppedByService(int fd) {
    const Deadline deadline = Soon();
    char buf[256];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) continue;
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0) return true;
      if (n < 0 && errno != EAGAIN) return true;
    }
    return false;
  }

  // A well-behaved client still gets the exported VMO, with its content.
  void ExpectServing() {
    Vmo got;
    ASSERT_EQ(OpenServedVmo(path_, "data", &got, nullptr, Soon()), Status::kOk);
    std::vector<char> page(kPageSize);
    ASSERT_EQ(got.Read(page.data(), kPageSize, kPageSize), Status::kOk);
    EXPECT_EQ(std::memcmp(page.data(), content_.data() + kPageSize, kPageSize), 0);
  }

  std::string dir_, path_;
  Vmo vmo_;
  std::string content_;
  std::unique_ptr<VmoService> service_;
};

TEST_F(VmoServiceTest, EachNameGivesItsVmoWithItsRights) {
  Start();
  Vmo writable;
  ASSERT_EQ(Vmo::Create(kPageSize, 0, &writable), Status::kOk);
  const uint32_t rw = kRightRead | kRightWrite | kRightTransfer;
  ASSERT_EQ(service_->Export("rw", writable, rw, 123), Status::kOk);

  VmoClient client;
  ASSERT_EQ(VmoClient::Connect(path_, Soon(), &client), Status::kOk);
  EXPECT_EQ(client.service_credentials().pid, ::getpid());
  EXPECT_EQ(client.service_credentials().uid, ::getuid());
  Vmo data;
  uint64_t size = 0;
  ASSERT_EQ(client.Open("data", &data, &size, Soon()), Status::kOk);
  EXPECT_EQ(data.rights(), kServedReadOnlyRights);
  EXPECT_EQ(data.koid(), vmo_.koid());
  EXPECT_EQ(size, 4 * kPageSize);  // kContentSizeOfVmo: the VMO's size
  std::string got(content_.size(), '\0');
  ASSERT_EQ(data.Read(got.data(), 0, got.size()), Status::kOk);
  EXPECT_EQ(got, content_);
  EXPECT_EQ(data.Write("x", 0, 1), Status::kAccessDenied);
  Vmo wider;
  EXPECT_EQ(data.Duplicate(kRightRead | kRightWrite, &wider), Status::kInvalidArgs);

  Vmo other;
  ASSERT_EQ(client.Open("rw", &other, &size, Soon()), Status::kOk);
  EXPECT_EQ(other.rights(), rw);
  EXPECT_EQ(size, 123u);
  ASSERT_EQ(other.Write("hello", 0, 5), Status::kOk);
  char back[5];
  ASSERT_EQ(writable.Read(back, 0, 5), Status::kOk);
  EXPECT_EQ(std::string(back, 5), "hello");
  // Each open is a new handle; the connection serves any number of them.
  Vmo again;
  ASSERT_EQ(client.Open("data", &again, nullptr, Soon()), Status::kOk);
  EXPECT_EQ(again.koid(), vmo_.koid());
}

TEST_F(VmoServiceTest, UnknownAndRemovedNamesAreNotFound) {
  Start();
  VmoClient client;
  ASSERT_EQ(VmoClient::Connect(path_, Soon(), &client), Status::kOk);
  Vmo got;
  EXPECT_EQ(client.Open("nope", &got, nullptr, Soon()), Status::kNotFound);
  EXPECT_FALSE(got.is_valid());
  EXPECT_EQ(client.Open("", &got), Status::kInvalidArgs);
  EXPECT_EQ(client.Open(std::string(kVmoServiceMaxName + 1, 'a'), &got), Status::kInvalidArgs);
  EXPECT_EQ(client.Open(std::string("da\0ta", 5), &got), Status::kInvalidArgs);
  ASSERT_EQ(client.Open("data", &got, nullptr, Soon()), Status::kOk);
  ASSERT_EQ(service_->Remove("data"), Status::kOk);
  EXPECT_EQ(service_->Remove("data"), Status::kNotFound);
  Vmo after;
  EXPECT_EQ(client.Open("data", &after, nullptr, Soon()), Status::kNotFound);
  char c;
  EXPECT_EQ(got.Read(&c, 0, 1), Status::kOk);  // a handle given out stays valid
  VmoClient unconnected;
  EXPECT_EQ(unconnected.Open("data", &got), Status::kBadHandle);
}

TEST_F(VmoServiceTest, ExportChecksItsArguments) {
  ASSERT_EQ(VmoService::Create(path_, {}, &service_), Status::kOk);
  EXPECT_EQ(service_->Export("", vmo_), Status::kInvalidArgs);
  EXPECT_EQ(service_->Export(std::string(kVmoServiceMaxName + 1, 'n'), vmo_), Status::kInvalidArgs);
  EXPECT_EQ(service_->Export("x", Vmo()), Status::kBadHandle);
  EXPECT_EQ(service_->Export("x", vmo_, kRightRead), Status::kInvalidArgs);  // no transfer
  Vmo narrow;
  ASSERT_EQ(vmo_.Duplicate(kRightRead | kRightTransfer | kRightDuplicate, &narrow), Status::kOk);
  EXPECT_EQ(service_->Export("x", narrow, kRightRead | kRightWrite | kRightTransfer),
            Status::kInvalidArgs);
  Vmo no_dup;
  ASSERT_EQ(vmo_.Duplicate(kRightRead | kRightTransfer, &no_dup), Status::kOk);
  EXPECT_EQ(service_->Export("x", no_dup, kRightRead | kRightTransfer), Status::kAccessDenied);
  ASSERT_EQ(service_->Export("x", narrow, kRightRead | kRightTransfer), Status::kOk);
  EXPECT_EQ(service_->Export("x", vmo_), Status::kAlreadyExists);
}

TEST_F(VmoServiceTest, CredentialsCanBeRefused) {
  VmoServiceOptions options;
  options.allowed_uids = {::getuid() + 1};
  Start(options);
  VmoClient client;
  EXPECT_EQ(VmoClient::Connect(path_, Soon(), &client), Status::kAccessDenied);
  EXPECT_FALSE(client.is_valid());
  service_.reset();

  std::mutex mutex;
  PeerCredentials seen;
  bool accept = false;
  options.allowed_uids = {::getuid()};
  options.accept_peer = [&](const PeerCredentials& peer) {
    std::lock_guard lock(mutex);
    seen = peer;
    return accept;
  };
  Start(options);
  EXPECT_EQ(VmoClient::Connect(path_, Soon(), &client), Status::kAccessDenied);
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(seen.pid, ::getpid());
    EXPECT_EQ(seen.uid, ::getuid());
    EXPECT_EQ(seen.gid, ::getgid());
    accept = true;
  }
  EXPECT_EQ(VmoClient::Connect(path_, Soon(), &client), Status::kOk);
  Vmo got;
  EXPECT_EQ(client.Open("data", &got, nullptr, Soon()), Status::kOk);
}

TEST_F(VmoServiceTest, TheSocketIs0600UnlessToldAndTheConnectionsAreCapped) {
  Start();
  struct stat st;
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  service_.reset();
  EXPECT_NE(::lstat(path_.c_str(), &st), 0);  // removed on stop

  VmoServiceOptions options;
  options.mode = 0660;
  options.max_connections = 2;
  Start(options);
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  VmoClient a, b, c;
  ASSERT_EQ(VmoClient::Connect(path_, Soon(), &a), Status::kOk);
  ASSERT_EQ(VmoClient::Connect(path_, Soon(), &b), Status::kOk);
  EXPECT_EQ(VmoClient::Connect(path_, Soon(), &c), Status::kNoResources);
  ASSERT_TRUE(Eventually([&] { return service_->connection_count() == 2; }));
  a.Reset();
  ASSERT_TRUE(Eventually([&] { return service_->connection_count() == 1; }));
  EXPECT_EQ(VmoClient::Connect(path_, Soon(), &c), Status::kOk);
}

TEST_F(VmoServiceTest, StaleSocketsAreReplacedAndEverythingElseKept) {
  // A socket file nobody listens on: what a killed service leaves.
  const int stale = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path_.c_str());
  ASSERT_EQ(::bind(stale, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(stale);
  Start();
  ExpectServing();
  // A live service is not replaced.
  std::unique_ptr<VmoService> second;
  EXPECT_EQ(VmoService::Create(path_, {}, &second), Status::kAlreadyExists);
  ExpectServing();
  service_.reset();
  // Nor is a file that is not a socket.
  const int file = ::open(path_.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(file, 0);
  ::close(file);
  EXPECT_EQ(VmoService::Create(path_, {}, &second), Status::kAlreadyExists);
  struct stat st;
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  ::unlink(path_.c_str());
  // Bad paths.
  EXPECT_EQ(VmoService::Create("", {}, &second), Status::kInvalidArgs);
  EXPECT_EQ(VmoService::Create(std::string(200, 'p'), {}, &second), Status::kInvalidArgs);
  EXPECT_EQ(VmoService::Create(dir_ + "/no/such/dir", {}, &second), Status::kNotFound);
  VmoClient client;
  EXPECT_EQ(VmoClient::Connect("", Soon(), &client), Status::kInvalidArgs);
  EXPECT_EQ(VmoClient::Connect(std::string(200, 'p'), Soon(), &client), Status::kInvalidArgs);
  // No service there: gone.
  EXPECT_EQ(VmoClient::Connect(path_, Soon(), &client), Status::kPeerClosed);
}

TEST_F(VmoServiceTest, HostileClientsAreDroppedAndOthersServed) {
  Start();
  ExpectServing();  // the export service's own descriptors exist from here on
  ASSERT_TRUE(Eventually(
      [&] { return internal::ExportCountForTesting() == 0 && service_->connection_count() == 0; }));
  const size_t fds_before = CountEntries("/proc/self/fd");
  const std::string fds_before_list = FdList();
  // Garbage: bytes no Channel wrote.
  int fd = RawConnect();
  ASSERT_EQ(::send(fd, "garbage!", 8, 0), 8);
  EXPECT_TRUE(DroppedByService(fd));
  ::close(fd);
  ExpectServing();
  // A Channel message that is not a request, and one far longer than any request.
  for (size_t len : {size_t{5}, size_t{40000}}) {
    Channel c;
    ASSERT_EQ(Channel::FromFd(RawConnect(), &c), Status::kOk);
    std::vector<char> bytes(len, 'z');
    ASSERT_EQ(c.Write(bytes.data(), static_cast<uint32_t>(len), nullptr, 0), Status::kOk);
    EXPECT_TRUE(DroppedByService(c.fd()));
    ExpectServing();
  }
  // A well-formed request whose name length lies.
  {
    Channel c;
    ASSERT_EQ(Channel::FromFd(RawConnect(), &c), Status::kOk);
    internal::ServiceMessage m;
    m.op = static_cast<uint16_t>(internal::ServiceOp::kOpen);
    m.name_len = 100;
    char buf[sizeof m + 4];
    std::memcpy(buf, &m, sizeof m);
    std::memcpy(buf + sizeof m, "data", 4);
    ASSERT_EQ(c.Write(buf, sizeof buf, nullptr, 0), Status::kOk);
    EXPECT_TRUE(DroppedByService(c.fd()));
  }
  // A request carrying a handle.
  {
    Channel c;
    ASSERT_EQ(Channel::FromFd(RawConnect(), &c), Status::kOk);
    Vmo extra;
    ASSERT_EQ(Vmo::Create(kPageSize, 0, &extra), Status::kOk);
    ASSERT_EQ(c.Write("x", 1, &extra, 1), Status::kOk);
    EXPECT_TRUE(DroppedByService(c.fd()));
  }
  // A flood of descriptors.
  {
    fd = RawConnect();
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    std::vector<int> many(200, pipe_fds[0]);
    char payload[32] = {};
    iovec iov{payload, sizeof payload};
    std::vector<char> control(CMSG_SPACE(sizeof(int) * many.size()));
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * many.size());
    std::memcpy(CMSG_DATA(cmsg), many.data(), sizeof(int) * many.size());
    ASSERT_EQ(::sendmsg(fd, &msg, 0), static_cast<ssize_t>(sizeof payload));
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    EXPECT_TRUE(DroppedByService(fd));
    ::close(fd);
  }
  ExpectServing();
  // The service kept none of their descriptors (nor of the handles it exported to them).
  ASSERT_TRUE(Eventually([&] { return service_->connection_count() == 0; }));
  ASSERT_TRUE(Eventually([] { return internal::ExportCountForTesting() == 0; }));
  EXPECT_EQ(CountEntries("/proc/self/fd"), fds_before) << fds_before_list << "now:\n" << FdList();
}

TEST_F(VmoServiceTest, AClientThatNeverReadsIsDropped) {
  Start();
  VmoClient good;
  ASSERT_EQ(VmoClient::Connect(path_, Soon(), &good), Status::kOk);
  Channel c;
  ASSERT_EQ(Channel::FromFd(RawConnect(), &c), Status::kOk);
  internal::ServiceMessage m;
  m.op = static_cast<uint16_t>(internal::ServiceOp::kOpen);
  m.name_len = 4;
  char buf[sizeof m + 4];
  std::memcpy(buf, &m, sizeof m);
  std::memcpy(buf + sizeof m, "data", 4);
  // Requests, never a reply read: the replies (each with a handle) fill its socket, and the
  // service drops it rather than wait.
  Status s = Status::kOk;
  for (int i = 0; i < 1000000 && s != Status::kPeerClosed; ++i) {
    s = c.Write(buf, sizeof buf, nullptr, 0);
    if (s == Status::kShouldWait) {
      pollfd p{c.fd(), POLLOUT, 0};
      ::poll(&p, 1, 1000);
    }
  }
  EXPECT_EQ(s, Status::kPeerClosed);
  Vmo got;
  EXPECT_EQ(good.Open("data", &got, nullptr, Soon()), Status::kOk);
  c.Reset();  // the replies queued for it go, with their handles
  ASSERT_TRUE(Eventually([&] { return service_->connection_count() == 1; }));
  got.Reset();
  ASSERT_TRUE(Eventually([] { return internal::ExportCountForTesting() == 0; }));
}

TEST_F(VmoServiceTest, StoppingClosesEveryConnection) {
  Start();
  ExpectServing();  // the export service's thread exists from here on
  const size_t threads_before = CountEntries("/proc/self/task");
  VmoClient a, b;
  ASSERT_EQ(VmoClient::Connect(path_, Soon(), &a), Status::kOk);
  ASSERT_EQ(VmoClient::Connect(path_, Soon(), &b), Status::kOk);
  Vmo got;
  ASSERT_EQ(a.Open("data", &got, nullptr, Soon()), Status::kOk);
  ASSERT_TRUE(Eventually([&] { return service_->connection_count() == 2; }));
  service_.reset();
  Vmo more;
  EXPECT_EQ(a.Open("data", &more, nullptr, Soon()), Status::kPeerClosed);
  EXPECT_EQ(b.Open("data", &more, nullptr, Soon()), Status::kPeerClosed);
  EXPECT_EQ(a.Open("data", &more, nullptr, Soon()), Status::kPeerClosed);
  struct stat st;
  EXPECT_NE(::lstat(path_.c_str(), &st), 0);
  EXPECT_LT(CountEntries("/proc/self/task"), threads_before);  // its thread is gone
  std::string page(kPageSize, '\0');
  ASSERT_EQ(got.Read(page.data(), 0, kPageSize), Status::kOk);
  EXPECT_EQ(page, content_.substr(0, kPageSize));
}

// A listening socket that is no VmoService: what Connect says of what it finds there.
TEST_F(VmoServiceTest, ConnectSaysWhatItFoundThere) {
  const int listener = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path_.c_str());
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  VmoClient client;
  // Nobody greets: the deadline.
  EXPECT_EQ(VmoClient::Connect(path_, DeadlineAfter(std::chrono::milliseconds(50)), &client),
            Status::kTimedOut);
  ::close(::accept(listener, nullptr, nullptr));
  // A greeting of another version of the protocol, or none at all.
  for (uint16_t version : {uint16_t{2}, uint16_t{0}}) {
    Status connected = Status::kInternal;
    std::thread connect([&] { connected = VmoClient::Connect(path_, Soon(), &client); });
    Channel server;
    ASSERT_EQ(Channel::FromFd(::accept(listener, nullptr, nullptr), &server), Status::kOk);
    if (version != 0) {
      internal::ServiceMessage hello;
      hello.op = static_cast<uint16_t>(internal::ServiceOp::kHello);
      hello.version = version;
      ASSERT_EQ(server.Write(&hello, sizeof hello, nullptr, 0), Status::kOk);
    }
    server.Reset();
    connect.join();
    EXPECT_EQ(connected, version != 0 ? Status::kNotSupported : Status::kPeerClosed);
    EXPECT_FALSE(client.is_valid());
  }
  ::close(listener);
}

// The service's decoding accepts only a whole, well-formed kOpen: mutated and truncated
// copies of one are refused unless they still are one.
TEST(VmoServiceWire, DecodingAcceptsOnlyWellFormedRequests) {
  internal::ServiceMessage m;
  m.op = static_cast<uint16_t>(internal::ServiceOp::kOpen);
  m.name_len = 7;
  std::vector<char> good(sizeof m + 7);
  std::memcpy(good.data(), &m, sizeof m);
  std::memcpy(good.data() + sizeof m, "weights", 7);
  internal::ServiceMessage header;
  std::string_view name;
  ASSERT_TRUE(internal::DecodeOpen(good.data(), good.size(), &header, &name));
  EXPECT_EQ(name, "weights");
  uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  for (int i = 0; i < 200000; ++i) {
    std::vector<char> bytes = good;
    const int flips = 1 + static_cast<int>(next() % 3);
    for (int f = 0; f < flips; ++f)
      bytes[next() % bytes.size()] ^= static_cast<char>(1 + next() % 255);
    bytes.resize(next() % 4 == 0 ? next() % (bytes.size() + 1) : bytes.size());
    if (!internal::DecodeOpen(bytes.data(), bytes.size(), &header, &name)) continue;
    // Accepted: then it is a kOpen whose name is exactly the rest of the message.
    EXPECT_EQ(header.magic, internal::kServiceWireMagic);
    EXPECT_EQ(header.version, internal::kServiceWireVersion);
    EXPECT_EQ(header.op, static_cast<uint16_t>(internal::ServiceOp::kOpen));
    EXPECT_EQ(header.name_len + sizeof header, bytes.size());
    EXPECT_EQ(name.data(), bytes.data() + sizeof header);
    EXPECT_TRUE(internal::ValidServiceName(name));
  }
  EXPECT_FALSE(internal::DecodeOpen(nullptr, 0, &header, &name));
  std::vector<char> long_name(internal::kServiceMaxRequest + 1, 'a');
  m.name_len = static_cast<uint32_t>(long_name.size() - sizeof m);
  std::memcpy(long_name.data(), &m, sizeof m);
  EXPECT_FALSE(internal::DecodeOpen(long_name.data(), long_name.size(), &header, &name));
}

// ---- Other processes ----

// A child that opens `name` at UPAGER_TEST_SOCKET and reads its first page; its exit code
// says how far it got (the statuses negated, for the parent to compare).
int OpenerChild(bool as_nobody) {
  if (as_nobody && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 100;
  Vmo vmo;
  uint64_t size = 0;
  const Status s = OpenServedVmo(std::getenv("UPAGER_TEST_SOCKET"), "data", &vmo, &size, Soon());
  if (s != Status::kOk) return static_cast<int>(-static_cast<int32_t>(s));
  char page[kPageSize];
  if (vmo.Read(page, 0, kPageSize) != Status::kOk) return 101;
  for (size_t i = 0; i < kPageSize; ++i) {
    if (page[i] != static_cast<char>(i * 7 + 3)) return 102;
  }
  if (vmo.Write("x", 0, 1) != Status::kAccessDenied) return 103;
  return size == 4 * kPageSize ? 0 : 104;
}

int RunChild(const char* role) {
  if (std::strcmp(role, "opener") == 0) return OpenerChild(false);
  if (std::strcmp(role, "nobody") == 0) return OpenerChild(true);
  return 99;
}

int SpawnAndWait(const char* role, const std::string& socket) {
  std::string role_env = std::string("UPAGER_TEST_CHILD=") + role;
  std::string socket_env = "UPAGER_TEST_SOCKET=" + socket;
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  env.push_back(role_env.data());
  env.push_back(socket_env.data());
  env.push_back(nullptr);
  char exe[] = "/proc/self/exe";
  char* argv[] = {exe, nullptr};
  pid_t pid = -1;
  EXPECT_EQ(::posix_spawn(&pid, exe, nullptr, nullptr, argv, env.data()), 0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

TEST_F(VmoServiceTest, AnotherProcessOpensByName) {
  Start();
  EXPECT_EQ(SpawnAndWait("opener", path_), 0);
  ASSERT_TRUE(Eventually(
      [] { return internal::ExportCountForTesting() == 0; }));  // its handle went with it
}

TEST_F(VmoServiceTest, AnotherUserCannotConnectToA0600Socket) {
  if (::geteuid() != 0) GTEST_FAIL() << "needs root, to start the child as another user";
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);  // the directory lets it reach the socket
  Start();
  EXPECT_EQ(SpawnAndWait("nobody", path_), -static_cast<int32_t>(Status::kAccessDenied));
  service_.reset();
  VmoServiceOptions options;
  options.mode = 0666;  // the socket lets it in; the uid list does not
  options.allowed_uids = {0};
  Start(options);
  EXPECT_EQ(SpawnAndWait("nobody", path_), -static_cast<int32_t>(Status::kAccessDenied));
  options.allowed_uids = {0, 65534};
  service_.reset();
  Start(options);
  EXPECT_EQ(SpawnAndWait("nobody", path_), 0);
}

}  // namespace
}  // namespace upager

int main(int argc, char** argv) {
  if (const char* role = std::getenv("UPAGER_TEST_CHILD"); role != nullptr) {
    ::unsetenv("UPAGER_TEST_CHILD");
    return upager::RunChild(role);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
