// AsRemote: a handle to a VMO of this process as another process would hold it, for tests
// of the holder's side without a second process (channel_test.cc, handle_boundary_test.cc).
#ifndef UPAGER_TESTS_REMOTE_HANDLE_H_
#define UPAGER_TESTS_REMOTE_HANDLE_H_

#include <gtest/gtest.h>

#include "pager/remote_vmo.h"
#include "pager/vmo_wire.h"
#include "upager/vmo.h"

namespace upager::testing {

// A handle to `vmo`'s object as another process would hold it: a connection to this
// process's ExportService, not the local shortcut.
inline Vmo AsRemote(const Vmo& vmo) {
  int fd = -1;
  EXPECT_EQ(internal::VmoToWire(vmo, &fd), Status::kOk);
  Vmo remote;
  EXPECT_EQ(internal::RemoteVmo::Import(fd, &remote), Status::kOk);
  return remote;
}

}  // namespace upager::testing

#endif  // UPAGER_TESTS_REMOTE_HANDLE_H_
