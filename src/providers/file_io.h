// File I/O helpers shared by the providers: whole reads and writes that retry EINTR and
// short transfers, and the Status a failed open or read stands for.
#ifndef UPAGER_SRC_PROVIDERS_FILE_IO_H_
#define UPAGER_SRC_PROVIDERS_FILE_IO_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "upager/status.h"

namespace upager::internal {

// ENOENT/ENOTDIR -> kNotFound, EACCES/EPERM/EROFS -> kAccessDenied, EISDIR -> kWrongType,
// ENOMEM -> kNoMemory, anything else kIo.
Status StatusFromErrno(int err);

// pread of `len` bytes at `offset`, fewer only at end of file. Returns the count, or -1
// with errno set.
ssize_t PreadFull(int fd, void* buf, size_t len, uint64_t offset);

// pwrite of exactly `len` bytes at `offset`. False with errno set on failure.
bool PwriteFull(int fd, const void* buf, size_t len, uint64_t offset);

}  // namespace upager::internal

#endif  // UPAGER_SRC_PROVIDERS_FILE_IO_H_
