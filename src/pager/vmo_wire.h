// How a Vmo handle travels in a Channel message: as one descriptor, a handle connection
// (handle_protocol.h), whichever process owns the VMO.
#ifndef UPAGER_SRC_PAGER_VMO_WIRE_H_
#define UPAGER_SRC_PAGER_VMO_WIRE_H_

#include "upager/status.h"
#include "upager/vmo.h"

namespace upager::internal {

// A new descriptor standing for another handle to `vmo`'s object with `vmo`'s rights; the
// caller owns it and `vmo` is untouched (the caller drops it once the descriptor is sent).
// A local VMO gets a connection of this process's ExportService; a remote one, another
// connection from its owner. kBadState if a remote VMO's owner is gone.
Status VmoToWire(const Vmo& vmo, int* fd);

// The handle `fd` stands for (`fd` is taken over: adopted or closed). A connection of this
// process's own ExportService becomes a local handle again. kInvalidArgs if `fd` is not a
// handle connection.
Status VmoFromWire(int fd, Vmo* out);

}  // namespace upager::internal

#endif  // UPAGER_SRC_PAGER_VMO_WIRE_H_
