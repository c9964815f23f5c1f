// The ExportService's kMemfd and kMap requests (export_requests.h).
#include "pager/export_requests.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>

#include "base/handle_access.h"
#include "pager/seqpacket.h"
#include "upager/rights.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

namespace {

// A read-only descriptor of `memfd`, narrowed to owner-read first (ReadOnlyMemfd).
int ReadOnlyFd(int memfd) {
  if (memfd < 0) return -1;
  ::fchmod(memfd, 0400);
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
  return ::open(path, O_RDONLY | O_CLOEXEC);
}

// Whether `object` is a read-through clone: mapped as its root's memfd with its own pages
// over it (docs/clones.md). A slice reads through its parent too, but is not one.
bool IsReadThroughClone(const std::shared_ptr<VmObjectPaged>& object) {
  VmObjectPaged::MapTarget target;
  return object->reads_through_parent() &&
         VmObjectPaged::GetMapTarget(object, 0, &target) == Status::kOk && target.vmo == object;
}

}  // namespace

int ReadOnlyMemfd(const Vmo& vmo) {
  const auto& object = HandleAccess::Object(vmo);
  return object == nullptr ? -1 : ReadOnlyFd(object->memfd());
}

uint32_t WelcomeFlags(const Vmo& vmo) {
  const auto& object = HandleAccess::Object(vmo);
  return object != nullptr && IsReadThroughClone(object) ? kWelcomeReadsThroughParent : 0;
}

Status RootMemfdForHolder(const Vmo& vmo, uint64_t offset, int* fd, uint64_t* fd_offset) {
  constexpr uint32_t kNeeded = kRightMap | kRightRead;
  if ((vmo.rights() & kNeeded) != kNeeded) return Status::kAccessDenied;
  const auto& object = HandleAccess::Object(vmo);
  if (object == nullptr) return Status::kNoResources;
  if (offset % kPageSize != 0 || offset > object->size()) return Status::kOutOfRange;
  VmObjectPaged::MapTarget target;
  if (!object->reads_through_parent()) return Status::kNotSupported;
  if (Status s = VmObjectPaged::GetMapTarget(object, offset, &target); s != Status::kOk) return s;
  // A slice is not mapped across processes (docs/clones.md). Nor a clone that does not see
  // all of its root: the root's memfd would show the holder pages its handle cannot read.
  if (target.vmo != object || !object->SeesWholeRoot()) return Status::kNotSupported;
  *fd = ReadOnlyFd(target.fd);
  *fd_offset = target.fd_offset;
  return *fd >= 0 ? Status::kOk : Status::kNoResources;
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
  // A read-through clone's own memfd holds its forks: the holder maps it over its root's
  // (kRootMemfd) where the owner says (HandleForkMessage). A slice is not mapped here.
  int memfd = object->memfd();
  if (object->reads_through_parent()) {
    if (!IsReadThroughClone(object)) return Status::kNotSupported;
    memfd = object->own_memfd();
  }
  *fd = writable ? ::dup(memfd) : ReadOnlyFd(memfd);
  return *fd >= 0 ? Status::kOk : Status::kNoResources;
}

Status MapForHolderChecked(const Vmo& vmo, const DecodedRequest& r, const int* fds, size_t num_fds,
                           pid_t pid, RemoteMapper mapper, std::unique_ptr<ExportedMapping>* out) {
  const int uffd = fds[0];
  const int failure_page = fds[1];
  const int forks = num_fds > 2 ? fds[2] : -1;
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
    CloseFds(fds, num_fds);
    return s;
  }
  const RemoteMapRequest request{r.map.base, r.offset, r.len,        r.map.writable != 0,
                                 pid,        uffd,     failure_page, forks};
  return mapper(vmo, request, out);
}

}  // namespace upager::internal
