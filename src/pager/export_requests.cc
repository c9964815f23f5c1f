// The ExportService's kMemfd and kMap requests (export_requests.h).
#include "pager/export_requests.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>

#include "base/handle_access.h"
#include "upager/rights.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

int ReadOnlyMemfd(const Vmo& vmo) {
  const auto& object = HandleAccess::Object(vmo);
  if (object == nullptr) return -1;
  const int memfd = object->memfd();
  ::fchmod(memfd, 0400);
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
  return ::open(path, O_RDONLY | O_CLOEXEC);
}

Status MemfdForHolder(const Vmo& vmo, bool writable, int* fd) {
  const uint32_t needed = kRightMap | kRightRead | (writable ? kRightWrite : 0);
  if ((vmo.rights() & needed) != needed) return Status::kAccessDenied;
  const auto& object = HandleAccess::Object(vmo);
  if (object == nullptr) return Status::kNoResources;
  // A writable descriptor of a resizable VMO's memfd could truncate it: the memfd of a
  // resizable VMO cannot be sealed against that, since the owner resizes it. The holder
  // would take the pages from under the owner's own mappings, so it gets no such descriptor
  // and cannot map the VMO writable (docs/processes.md).
  if (writable && object->is_resizable()) return Status::kNotSupported;
  // A clone's memfd holds only the pages it forked: mapping it would show holes for the
  // rest. Clones are not mapped in other processes yet (docs/clones.md).
  if (object->reads_through_parent()) return Status::kNotSupported;
  *fd = writable ? ::dup(object->memfd()) : ReadOnlyMemfd(vmo);
  return *fd >= 0 ? Status::kOk : Status::kNoResources;
}

Status MapForHolderChecked(const Vmo& vmo, const DecodedRequest& r, int uffd, int failure_page,
                           pid_t pid, RemoteMapper mapper, std::unique_ptr<ExportedMapping>* out) {
  const uint32_t needed = kRightMap | kRightRead | (r.map.writable != 0 ? kRightWrite : 0);
  uint64_t size = 0;
  vmo.GetSize(&size);
  Status s = Status::kOk;
  if ((vmo.rights() & needed) != needed) {
    s = Status::kAccessDenied;
  } else if (r.offset > size || r.len > size - r.offset) {
    s = Status::kOutOfRange;
  } else if (pid <= 0) {
    s = Status::kBadState;  // no credentials came with the request
  } else if (mapper == nullptr) {
    std::fprintf(stderr,
                 "upager: a process asked to map VMO %" PRIu64
                 ", but this process serves no mappings (it has not started upager's fault "
                 "layer: see docs/processes.md)\n",
                 vmo.koid());
    s = Status::kNotSupported;
  }
  if (s != Status::kOk) {
    ::close(uffd);
    ::close(failure_page);
    return s;
  }
  const RemoteMapRequest request{r.map.base, r.offset, r.len,       r.map.writable != 0,
                                 pid,        uffd,     failure_page};
  return mapper(vmo, request, out);
}

}  // namespace upager::internal
