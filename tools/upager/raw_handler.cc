// The raw userfaultfd baseline of `upager bench --faults` (raw_handler.h).
#include "raw_handler.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace upager::cli {
namespace {

constexpr uint64_t kPage = 4096;

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// A userfaultfd for user-mode faults (kernels before 5.11 refuse the flag; then without it).
int OpenUffd(std::string* why) {
  int fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY));
  if (fd < 0 && errno == EINVAL) {
    fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  }
  if (fd < 0) {
    *why = Errno("userfaultfd");
    return -1;
  }
  uffdio_api api{};
  api.api = UFFD_API;
  if (ioctl(fd, UFFDIO_API, &api) != 0) {
    *why = Errno("UFFDIO_API");
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

bool RawFaultHandler::Create(const std::string& path, std::unique_ptr<RawFaultHandler>* out,
                             std::string* why) {
  std::unique_ptr<RawFaultHandler> h(new RawFaultHandler());
  h->file_fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (h->file_fd_ < 0) {
    *why = Errno(path.c_str());
    return false;
  }
  struct stat st {};
  if (fstat(h->file_fd_, &st) != 0 || st.st_size <= 0) {
    *why = path + ": empty or unreadable";
    return false;
  }
  h->file_size_ = static_cast<uint64_t>(st.st_size);
  h->len_ = (h->file_size_ + kPage - 1) & ~(kPage - 1);
  if ((h->uffd_ = OpenUffd(why)) < 0) return false;
  h->stop_fd_ = eventfd(0, EFD_CLOEXEC);
  if (h->stop_fd_ < 0) {
    *why = Errno("eventfd");
    return false;
  }
  void* p = mmap(nullptr, h->len_, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    *why = Errno("mmap");
    return false;
  }
  h->base_ = static_cast<std::byte*>(p);
  uffdio_register reg{};
  reg.range.start = reinterpret_cast<uintptr_t>(h->base_);
  reg.range.len = h->len_;
  reg.mode = UFFDIO_REGISTER_MODE_MISSING;
  if (ioctl(h->uffd_, UFFDIO_REGISTER, &reg) != 0) {
    *why = Errno("UFFDIO_REGISTER");
    return false;
  }
  if ((reg.ioctls & (1ULL << _UFFDIO_COPY)) == 0) {
    *why = "UFFDIO_REGISTER: no UFFDIO_COPY for this region";
    return false;
  }
  h->thread_ = std::thread([raw = h.get()] { raw->Serve(); });
  *out = std::move(h);
  return true;
}

RawFaultHandler::~RawFaultHandler() { Close(); }

void RawFaultHandler::Close() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    if (write(stop_fd_, &one, sizeof(one)) != sizeof(one)) failed_ = true;
    thread_.join();
  }
  if (base_ != nullptr) munmap(base_, len_);  // also unregisters the range
  base_ = nullptr;
  for (int* fd : {&uffd_, &stop_fd_, &file_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

void RawFaultHandler::Serve() {
  // One page of the file, as read; reused for every fault (UFFDIO_COPY copies it out).
  std::vector<std::byte> buffer(kPage);
  pollfd fds[2] = {{uffd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  uffd_msg msgs[16];
  for (;;) {
    const int ready = poll(fds, 2, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      failed_ = true;
      return;
    }
    if (fds[1].revents != 0) return;
    const ssize_t got = read(uffd_, msgs, sizeof(msgs));
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      failed_ = true;
      return;
    }
    for (size_t i = 0; i < static_cast<size_t>(got) / sizeof(uffd_msg); ++i) {
      if (msgs[i].event != UFFD_EVENT_PAGEFAULT) continue;
      Resolve(msgs[i].arg.pagefault.address, buffer.data());
    }
  }
}

void RawFaultHandler::Resolve(uint64_t address, std::byte* buffer) {
  const uint64_t page = address & ~(kPage - 1);
  const uint64_t offset = page - reinterpret_cast<uintptr_t>(base_);
  uint64_t done = 0;
  while (done < kPage && offset + done < file_size_) {
    const ssize_t n =
        pread(file_fd_, buffer + done, kPage - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failed_ = true;
      break;
    }
    done += static_cast<uint64_t>(n);
  }
  if (done < kPage) std::memset(buffer + done, 0, kPage - done);
  uffdio_copy copy{};
  copy.dst = page;
  copy.src = reinterpret_cast<uintptr_t>(buffer);
  copy.len = kPage;
  int rc;
  while ((rc = ioctl(uffd_, UFFDIO_COPY, &copy)) != 0 && errno == EAGAIN) {
    copy.copy = 0;  // the address space changed under the copy: try again
  }
  if (rc == 0) {
    copied_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (errno != EEXIST) {
    failed_ = true;
    return;
  }
  // Another fault on the page was resolved first: wake whoever still waits on it.
  uffdio_range range{page, kPage};
  if (ioctl(uffd_, UFFDIO_WAKE, &range) != 0) failed_ = true;
}

}  // namespace upager::cli
