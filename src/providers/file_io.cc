#include "providers/file_io.h"

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

}  // namespace upager::internal
