// Whole transfers on a file descriptor: each call loops over short transfers and EINTR,
// the one loop every reader and writer of files in upager shares.
#ifndef UPAGER_SRC_BASE_FULL_IO_H_
#define UPAGER_SRC_BASE_FULL_IO_H_

#include <cstdint>

namespace upager::internal {

struct IoResult {
  uint64_t done = 0;  // bytes transferred, also when the transfer stopped part-way
  int error = 0;      // 0, or the errno that stopped it
};

// Reads stop early with error 0 only at end of file. A write that makes no progress fails
// with EIO. The P* forms work at `offset`, the others at (and advance) the file position.
IoResult PreadFull(int fd, void* buf, uint64_t len, uint64_t offset);
IoResult PwriteFull(int fd, const void* buf, uint64_t len, uint64_t offset);
IoResult ReadFull(int fd, void* buf, uint64_t len);
IoResult WriteFull(int fd, const void* buf, uint64_t len);

}  // namespace upager::internal

#endif  // UPAGER_SRC_BASE_FULL_IO_H_
