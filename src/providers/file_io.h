// The Status a failed open, read or write stands for, as the providers report it. (Whole
// reads and writes are base/full_io.h.)
#ifndef UPAGER_SRC_PROVIDERS_FILE_IO_H_
#define UPAGER_SRC_PROVIDERS_FILE_IO_H_

#include "upager/status.h"

namespace upager::internal {

// ENOENT/ENOTDIR -> kNotFound, EACCES/EPERM/EROFS -> kAccessDenied, EISDIR -> kWrongType,
// ENOMEM -> kNoMemory, anything else kIo.
Status StatusFromErrno(int err);

}  // namespace upager::internal

#endif  // UPAGER_SRC_PROVIDERS_FILE_IO_H_
