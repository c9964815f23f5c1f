#include "fault/userfaultfd.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#ifndef UFFD_FEATURE_EXACT_ADDRESS
#define UFFD_FEATURE_EXACT_ADDRESS (1 << 11)
#endif
#ifndef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1 << 12)
#endif
// Linux 6.6.
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#define _UFFDIO_POISON (0x08)
struct uffdio_poison {
  struct uffdio_range range;
  __u64 mode;
  __s64 updated;
};
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif
// Linux 6.5: UFFDIO_CONTINUE maps the page write-protected.
#ifndef UFFDIO_CONTINUE_MODE_WP
#define UFFDIO_CONTINUE_MODE_WP ((__u64)1 << 1)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

namespace upager::internal {
namespace {

int OpenRaw(std::string* why) {
  int fd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  if (fd >= 0) return fd;
  const int syscall_errno = errno;
  // Without vm.unprivileged_userfaultfd, /dev/userfaultfd may still be open to us.
  const int dev = ::open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
  if (dev >= 0) {
    fd = ::ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
    ::close(dev);
    if (fd >= 0) return fd;
  }
  // An unprivileged process may still have faults from user mode only (its kernel copies
  // from absent pages of such a range then fail with EFAULT instead of waiting).
  fd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY));
  if (fd >= 0) return fd;
  if (why) *why = std::string("userfaultfd: ") + std::strerror(syscall_errno);
  return -1;
}

// Whether UFFDIO_CONTINUE takes UFFDIO_CONTINUE_MODE_WP (no feature bit announces it). The
// mode is checked before the range is looked up: a kernel without it answers EINVAL, one
// with it ENOENT for a page that no userfaultfd registered.
bool ContinueTakesWriteProtect(int fd) {
  void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return false;
  uffdio_continue cont{};
  cont.range.start = reinterpret_cast<uintptr_t>(page);
  cont.range.len = 4096;
  cont.mode = UFFDIO_CONTINUE_MODE_WP | UFFDIO_CONTINUE_MODE_DONTWAKE;
  const bool ok = ::ioctl(fd, UFFDIO_CONTINUE, &cont) != 0 && errno == ENOENT;
  ::munmap(page, 4096);
  return ok;
}

}  // namespace

Userfaultfd::~Userfaultfd() {
  if (fd_ >= 0) ::close(fd_);
}

void Userfaultfd::Adopt(int fd, bool write_protect) {
  fd_ = fd;
  has_wp_ = write_protect;
}

Status Userfaultfd::Open(std::string* why) {
  // Ask which features exist on a probe descriptor (the API handshake is once per fd).
  int probe = OpenRaw(why);
  if (probe < 0) return Status::kNotSupported;
  uffdio_api api{};
  api.api = UFFD_API;
  const int probed = ::ioctl(probe, UFFDIO_API, &api);
  const int probe_errno = errno;
  ::close(probe);
  if (probed != 0) {
    if (why) *why = std::string("UFFDIO_API: ") + std::strerror(probe_errno);
    return Status::kNotSupported;
  }
  const uint64_t required =
      UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_EXACT_ADDRESS;
  if ((api.features & required) != required) {
    if (why)
      *why = "userfaultfd: the kernel lacks shmem missing faults, thread ids or exact addresses";
    return Status::kNotSupported;
  }
  const uint64_t minor =
      std::getenv("UPAGER_NO_MINOR_FAULTS") == nullptr ? UFFD_FEATURE_MINOR_SHMEM : 0;
  const uint64_t wanted =
      required | (api.features & (UFFD_FEATURE_WP_HUGETLBFS_SHMEM | UFFD_FEATURE_POISON | minor));
  fd_ = OpenRaw(why);
  if (fd_ < 0) return Status::kNotSupported;
  uffdio_api real{};
  real.api = UFFD_API;
  real.features = wanted;
  if (::ioctl(fd_, UFFDIO_API, &real) != 0) {
    if (why) *why = std::string("UFFDIO_API: ") + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return Status::kNotSupported;
  }
  has_wp_ = (wanted & UFFD_FEATURE_WP_HUGETLBFS_SHMEM) != 0;
  has_poison_ = (wanted & UFFD_FEATURE_POISON) != 0;
  has_minor_ = (wanted & UFFD_FEATURE_MINOR_SHMEM) != 0 && ContinueTakesWriteProtect(fd_);
  return Status::kOk;
}

bool Userfaultfd::Register(uintptr_t start, size_t len, bool wp, bool minor) const {
  uffdio_register reg{};
  reg.range.start = start;
  reg.range.len = len;
  reg.mode = UFFDIO_REGISTER_MODE_MISSING | (wp ? UFFDIO_REGISTER_MODE_WP : 0) |
             (minor && has_minor_ ? UFFDIO_REGISTER_MODE_MINOR : 0);
  return ::ioctl(fd_, UFFDIO_REGISTER, &reg) == 0;
}

bool Userfaultfd::Continue(uintptr_t start, size_t len, bool wp) const {
  for (int retries = 0; retries < 100; ++retries) {
    uffdio_continue cont{};
    cont.range.start = start;
    cont.range.len = len;
    cont.mode = wp ? UFFDIO_CONTINUE_MODE_WP : 0;
    if (::ioctl(fd_, UFFDIO_CONTINUE, &cont) == 0) return true;
    // EAGAIN: the address space changed under the call; anything else (EEXIST: mapped
    // already; ENOENT/EFAULT: the page left the memfd) is for the caller's wake-up.
    if (errno != EAGAIN) return false;
  }
  return false;
}

uint64_t Userfaultfd::Copy(uintptr_t dst, const void* src, size_t len, bool wp, bool wake) const {
  uint64_t done = 0;
  int retries = 0;
  while (done < len) {
    uffdio_copy copy{};
    copy.dst = dst + done;
    copy.src = reinterpret_cast<uintptr_t>(src) + done;
    copy.len = len - done;
    copy.mode = (wake ? 0 : UFFDIO_COPY_MODE_DONTWAKE) | (wp ? UFFDIO_COPY_MODE_WP : 0);
    const int rc = ::ioctl(fd_, UFFDIO_COPY, &copy);
    if (copy.copy > 0) done += static_cast<uint64_t>(copy.copy);
    if (rc == 0) continue;
    // EAGAIN: the address space changed under the copy; go on from where it stopped.
    if (errno == EAGAIN && ++retries < 100) continue;
    break;  // EEXIST (a page is there already) or a real error: the caller takes over
  }
  return done;
}

void Userfaultfd::Wake(uintptr_t start, size_t len) const {
  uffdio_range range{start, len};
  ::ioctl(fd_, UFFDIO_WAKE, &range);
}

void Userfaultfd::ClearWriteProtectMarker(uintptr_t start, size_t len) const {
  SetWriteProtect(start, len, UFFDIO_WRITEPROTECT_MODE_DONTWAKE);
}

bool Userfaultfd::Poison(uintptr_t start, size_t len) const {
  if (!has_poison_) return false;
  uffdio_poison poison{};
  poison.range.start = start;
  poison.range.len = len;
  return ::ioctl(fd_, UFFDIO_POISON, &poison) == 0;
}

void Userfaultfd::WriteProtect(uintptr_t start, size_t len, bool protect) const {
  SetWriteProtect(start, len, protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0);
}

void Userfaultfd::SetWriteProtect(uintptr_t start, size_t len, uint64_t mode) const {
  uffdio_writeprotect wp{};
  wp.range.start = start;
  wp.range.len = len;
  wp.mode = mode;
  while (::ioctl(fd_, UFFDIO_WRITEPROTECT, &wp) != 0 && errno == EAGAIN) {
  }
}

}  // namespace upager::internal
