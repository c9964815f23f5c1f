// How a Vmo handle travels in a Channel message (vmo_wire.h).
#include "pager/vmo_wire.h"

#include <unistd.h>

#include "base/handle_access.h"
#include "pager/remote_vmo.h"
#include "pager/vmo_export.h"

namespace upager::internal {

Status VmoToWire(const Vmo& vmo, int* fd) {
  if (VmoRemote* remote = HandleAccess::Remote(vmo); remote != nullptr) {
    return remote->Transfer(fd);
  }
  return ExportVmo(CopyVmoHandle(vmo), fd);
}

Status VmoFromWire(int fd, Vmo* out) {
  if (TakeLocalExport(fd, out)) {
    ::close(fd);
    return Status::kOk;
  }
  return RemoteVmo::Import(fd, out);
}

}  // namespace upager::internal
