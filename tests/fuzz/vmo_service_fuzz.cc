// Fuzzes VmoService (include/upager/vmo_service.h) with arbitrary packets from a client:
// after its greeting, whatever a client sends must get a well-formed answer or the
// connection dropped (never a crash, a hang or a leak), and the service must go on serving
// a well-behaved client.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "upager/vmo.h"
#include "upager/vmo_service.h"

namespace {

struct Fixture {
  std::string path;
  upager::Vmo vmo;
  std::unique_ptr<upager::VmoService> service;
};

Fixture& TheService() {
  static Fixture* f = [] {
    auto* fixture = new Fixture;
    fixture->path = "/tmp/upager-service-fuzz-" + std::to_string(::getpid()) + ".sock";
    if (upager::Vmo::Create(upager::kPageSize, 0, &fixture->vmo) != upager::Status::kOk ||
        upager::VmoService::Create(fixture->path, upager::VmoServiceOptions{}, &fixture->service) !=
            upager::Status::kOk ||
        fixture->service->Export("fuzz", fixture->vmo) != upager::Status::kOk) {
      std::abort();
    }
    return fixture;
  }();
  return *f;
}

// Takes the next packet (closing any descriptor it carries) within a few seconds; false if
// nothing came at all.
bool Drain(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) return false;
  char buf[1 << 17];
  char control[CMSG_SPACE(sizeof(int) * 64)];
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0) return true;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int received;
      std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof received);
      ::close(received);
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = TheService();
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, f.path.c_str(), f.path.size());
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
  if (!Drain(fd)) std::abort();  // the greeting
  if (::send(fd, data, size, MSG_NOSIGNAL) >= 0 && !Drain(fd)) std::abort();
  ::close(fd);
  // A well-behaved client is still served.
  upager::Vmo vmo;
  if (upager::OpenServedVmo(f.path, "fuzz", &vmo) != upager::Status::kOk) std::abort();
  return 0;
}
