// The ExportService's requests that hand a holder more than data (vmo_export.h): the VMO's
// memfd (kMemfd), and the service of a mapping in the holder's process (kMap). Each checks
// the handle's rights as zx_vmar_map would, whatever the holder checked (its checks are
// advisory: it could be any program).
#ifndef UPAGER_SRC_PAGER_EXPORT_REQUESTS_H_
#define UPAGER_SRC_PAGER_EXPORT_REQUESTS_H_

#include <sys/types.h>

#include <memory>

#include "pager/handle_protocol.h"
#include "pager/vmo_export.h"
#include "upager/status.h"
#include "upager/vmo.h"

namespace upager::internal {

// A descriptor of `vmo`'s memfd for the holder to map, `*fd` the caller's: read-only (which
// needs kRightMap and kRightRead), or read-write (kRightWrite too). kAccessDenied without
// the rights; kNoResources if no descriptor can be made. For a read-through clone, its own
// memfd (its forks); kNotSupported for a slice.
Status MemfdForHolder(const Vmo& vmo, bool writable, int* fd);

// kRootMemfd: for a read-through clone, a read-only descriptor of its root's memfd and the
// root's offset for the clone's `offset` (a holder maps it under the clone's own pages).
// kNotSupported for anything else (a slice too); kAccessDenied without kRightMap and
// kRightRead; kOutOfRange for an offset beyond the VMO or not page-aligned.
Status RootMemfdForHolder(const Vmo& vmo, uint64_t offset, int* fd, uint64_t* fd_offset);

// The welcome's flags for a handle to `vmo` (kWelcomeReadsThroughParent).
uint32_t WelcomeFlags(const Vmo& vmo);

// A read-only descriptor of the VMO's memfd (-1 on failure), for the holder to keep: after
// the owner dies it still reads the pages that were present (remote_vmo.cc). The memfd is
// narrowed to owner-read first, so that a holder running as another user cannot reopen it
// read-write through /proc (docs/processes.md).
int ReadOnlyMemfd(const Vmo& vmo);

// The kMap request `r` of process `pid` on `vmo`, checked (rights, range, a sender the
// kernel named), then made by `mapper` into `*out`. `fds` (the userfaultfd, the failure
// page, and for a clone the fork socket) are taken over: closed on every failure.
Status MapForHolderChecked(const Vmo& vmo, const DecodedRequest& r, const int* fds, size_t num_fds,
                           pid_t pid, RemoteMapper mapper, std::unique_ptr<ExportedMapping>* out);

}  // namespace upager::internal

#endif  // UPAGER_SRC_PAGER_EXPORT_REQUESTS_H_
