// KernelCopyScope: marks the calling thread as copying to or from a caller's buffer inside
// the kernel (pread, pwrite, UFFDIO_COPY) on behalf of a library call.
//
// The buffer may be mapped memory of a pager-backed VMO. A fault there is taken in kernel
// mode, where a queued signal cannot end it: the kernel would retry it, asking the pager
// again and again, and the SIGBUS would only arrive after the call returned. So the fault
// backend fails such a fault differently: it makes the copy itself fail (EFAULT), records
// the pager's status in the thread's scope, and undoes its traces when the scope closes.
#ifndef UPAGER_SRC_BASE_KERNEL_COPY_H_
#define UPAGER_SRC_BASE_KERNEL_COPY_H_

#include "upager/status.h"

namespace upager::internal {

class KernelCopyScope {
 public:
  KernelCopyScope();
  ~KernelCopyScope();
  KernelCopyScope(const KernelCopyScope&) = delete;
  KernelCopyScope& operator=(const KernelCopyScope&) = delete;

  // The status a failed fault in this scope's copies was failed with; kOk if none.
  Status failure() const;

  // For the fault backend.
  // True if thread `tid` is inside a scope; then `status` is recorded for it.
  static bool FailCopy(int tid, Status status);
  // Called on the thread as its scope closes, if a copy of it was failed.
  static void SetCloseHook(void (*hook)(int tid));

 private:
  int slot_ = -1;
  int tid_ = 0;
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_BASE_KERNEL_COPY_H_
