// Userfaultfd: one userfaultfd file descriptor and the few ioctls the fault backend uses.
//
// Debian's kernel headers are older than the kernels we run on; the constants we need are
// defined here when the headers lack them.
#ifndef UPAGER_SRC_FAULT_USERFAULTFD_H_
#define UPAGER_SRC_FAULT_USERFAULTFD_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "upager/status.h"

namespace upager::internal {

class Userfaultfd {
 public:
  Userfaultfd() = default;
  ~Userfaultfd();
  Userfaultfd(const Userfaultfd&) = delete;
  Userfaultfd& operator=(const Userfaultfd&) = delete;

  // Opens a non-blocking userfaultfd with shmem MISSING faults, the faulting thread's id and
  // exact fault addresses, and shmem write protection if the kernel has it. kNotSupported
  // with the reason in `why` when the kernel or the permissions refuse.
  Status Open(std::string* why);
  // Takes over `fd`, a userfaultfd whose API handshake another process made (a holder's,
  // sent to serve its mapping here), with the features it reported.
  void Adopt(int fd, bool write_protect);
  int fd() const { return fd_; }
  bool has_write_protect() const { return has_wp_; }
  bool has_poison() const { return has_poison_; }
  // Shmem MINOR faults (a page in the memfd but not in this mapping's page tables), and
  // UFFDIO_CONTINUE able to map a page write-protected: what the reclaimer's clock needs
  // (docs/eviction.md). False when the kernel lacks either, or UPAGER_NO_MINOR_FAULTS is set.
  bool has_minor() const { return has_minor_; }

  // Registers [start, start+len) for MISSING faults, write-protect faults if `wp`, and
  // MINOR faults if `minor` (only with has_minor()).
  bool Register(uintptr_t start, size_t len, bool wp, bool minor = false) const;
  // Maps the page-cache pages of [start, start+len) (a MINOR fault's page), write-protected
  // if `wp`, and wakes the threads faulting there. False if nothing was mapped (the page is
  // already mapped, or no longer in the memfd).
  bool Continue(uintptr_t start, size_t len, bool wp) const;
  // Copies `len` bytes into the registered range at `dst` (the pages must be missing), write
  // protected if `wp`, waking the threads faulting there if `wake`. Returns the bytes
  // copied; a page that is already present stops the copy.
  uint64_t Copy(uintptr_t dst, const void* src, size_t len, bool wp, bool wake) const;
  void Wake(uintptr_t start, size_t len) const;
  // Write-protects, or un-protects and wakes.
  void WriteProtect(uintptr_t start, size_t len, bool protect) const;
  // Removes write protection from [start, start+len) without waking anyone (on a page that
  // is not there, this removes the write-protect marker).
  void ClearWriteProtectMarker(uintptr_t start, size_t len) const;
  // Marks the missing pages of [start, start+len) poisoned (an access gets SIGBUS, a copy
  // in the kernel EFAULT, until the mapping's page table entry is zapped) and wakes.
  bool Poison(uintptr_t start, size_t len) const;

 private:
  // UFFDIO_WRITEPROTECT with `mode`, retried while the address space is changing.
  void SetWriteProtect(uintptr_t start, size_t len, uint64_t mode) const;

  int fd_ = -1;
  bool has_wp_ = false;
  bool has_poison_ = false;
  bool has_minor_ = false;
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_FAULT_USERFAULTFD_H_
