#include "base/full_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace upager::internal {
namespace {

// Calls `step(done, remaining)` (one read or write of at most `remaining` bytes, returning
// what the system call did) until `len` bytes moved, the file ended or an error.
template <bool kIsWrite, typename Step>
IoResult Loop(uint64_t len, Step step) {
  IoResult result;
  while (result.done < len) {
    const ssize_t n = step(result.done, static_cast<size_t>(len - result.done));
    if (n < 0) {
      if (errno == EINTR) continue;
      result.error = errno;
      break;
    }
    if (n == 0) {
      if constexpr (kIsWrite) result.error = EIO;
      break;
    }
    result.done += static_cast<uint64_t>(n);
  }
  return result;
}

}  // namespace

IoResult PreadFull(int fd, void* buf, uint64_t len, uint64_t offset) {
  return Loop<false>(len, [&](uint64_t done, size_t n) {
    return pread(fd, static_cast<char*>(buf) + done, n, static_cast<off_t>(offset + done));
  });
}

IoResult PwriteFull(int fd, const void* buf, uint64_t len, uint64_t offset) {
  return Loop<true>(len, [&](uint64_t done, size_t n) {
    return pwrite(fd, static_cast<const char*>(buf) + done, n, static_cast<off_t>(offset + done));
  });
}

IoResult ReadFull(int fd, void* buf, uint64_t len) {
  return Loop<false>(
      len, [&](uint64_t done, size_t n) { return read(fd, static_cast<char*>(buf) + done, n); });
}

IoResult WriteFull(int fd, const void* buf, uint64_t len) {
  return Loop<true>(len, [&](uint64_t done, size_t n) {
    return write(fd, static_cast<const char*>(buf) + done, n);
  });
}

}  // namespace upager::internal
