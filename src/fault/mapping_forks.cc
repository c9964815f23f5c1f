// A clone's forks in a mapping of it (docs/clones.md, "Mapped clones"): the clone's own
// storage mapped over a forked page, in place of its root's.
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fault/mapping_object.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

void MappingObject::MapOwn(uint64_t offset, uint64_t len) {
  if (!Clip(&offset, &len)) return;
  if (for_holder()) {
    if (holder_forks_ >= 0) MapOwnInHolder(offset, len);
    return;
  }
  MutexLock lock(&pieces_mutex_);
  ForEachLiveLocked(offset - vmo_offset(), len, [&](uint64_t rel, uint64_t n) {
    MapOwnPiece(vmo_offset() + rel, n);
    return true;
  });
}

void MappingObject::MapOwnPiece(uint64_t offset, uint64_t len) {
  const uintptr_t start = AddressOf(offset);
  // The clone's storage over these pages, in place of its root's (the VMA splits). Then
  // registered again, as the new piece is not: faults on a zero marker or a hole there must
  // still come to us. The piece is not write-protected: a fork is the clone's own page.
  // The system call itself, not the libc wrapper: a sanitizer's mmap interceptor takes the
  // replacement for a fresh write of the whole range by this thread, but the threads that
  // read it after are ordered by the kernel (their fault waits for the wake below), which
  // it cannot see. The bytes are the same ones the access would have seen.
  const long ret = ::syscall(SYS_mmap, start, len, PROT_READ | (writable() ? PROT_WRITE : 0),
                             MAP_SHARED | MAP_FIXED, vmo_->own_memfd(), static_cast<off_t>(offset));
  if (ret == -1) return;  // the access finds the root's page and faults again
  void* addr = reinterpret_cast<void*>(ret);
  ::madvise(addr, len, MADV_DONTFORK);
  if (!takes_faults()) return;
  stripes_.ForEach(RelOf(start), len, [&](const Userfaultfd& uffd, uint64_t rel, uint64_t n) {
    const uintptr_t piece = reinterpret_cast<uintptr_t>(base_) + rel;
    uffd.Register(piece, n, writable() && uffd.has_write_protect(), /*minor=*/false);
    return true;
  });
}

}  // namespace upager::internal
