#include "providers/file_io.h"

#include <unistd.h>

#include <cerrno>

namespace upager::internal {

Status StatusFromErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR: return Status::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS: return Status::kAccessDenied;
    case EISDIR: return Status::kWrongType;
    case ENOMEM: return Status::kNoMemory;
    default: return Status::kIo;
  }
}

ssize_t PreadFull(int fd, void* buf, size_t len, uint64_t offset) {
  size_t done = 0;
  while (done < len) {
    const ssize_t n =
        pread(fd, static_cast<char*>(buf) + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

bool PwriteFull(int fd, const void* buf, size_t len, uint64_t offset) {
  size_t done = 0;
  while (done < len) {
    const ssize_t n = pwrite(fd, static_cast<const char*>(buf) + done, len - done,
                             static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace upager::internal
