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
// the rights; kNoResources if no descriptor can be made.
Status MemfdForHolder(const Vmo& vmo, bool writable, int* fd);

// A read-only descriptor of the VMO's memfd (-1 on failure), for the holder to keep: after
// the owner dies it still reads the pages that were present (remote_vmo.cc). The memfd is
// narrowed to owner-read first, so that a holder running as another user cannot reopen it
// read-write through /proc (docs/processes.md).
int ReadOnlyMemfd(const Vmo& vmo);

// The kMap request `r` of process `pid` on `vmo`, checked (rights, range, a sender the
// kernel named), then made by `mapper` into `*out`. `uffd` and `failure_page` are taken
// over: closed on every failure.
Status MapForHolderChecked(const Vmo& vmo, const DecodedRequest& r, int uffd, int failure_page,
                           pid_t pid, RemoteMapper mapper, std::unique_ptr<ExportedMapping>* out);

}  // namespace upager::internal

#endif  // UPAGER_SRC_PAGER_EXPORT_REQUESTS_H_
