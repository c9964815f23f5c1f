// A clone's forks in a mapping of it (docs/clones.md, "Mapped clones"): the clone's own
// storage mapped over a forked page, in place of its root's; and taken back when another
// mapping of the clone could not take the fork (the process at its VMA limit).
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

#include "fault/mapping_object.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

namespace {
// One VMA of the process kept in reserve, so that a fork placed in one mapping of a clone can
// be taken back when the next mapping cannot take it: the first placement may be the one
// that took the process above vm.max_map_count, and then no mmap succeeds, not even the one
// that gives that VMA back, until one VMA is given up. A shared anonymous page of its own
// file, never touched: it merges with nothing and costs no memory.
std::atomic<uintptr_t> g_spare_vma{0};
}  // namespace

void KeepSpareVma() {
  if (g_spare_vma.load(std::memory_order_relaxed) != 0) return;
  void* p = ::mmap(nullptr, kPageSize, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;  // at the limit: kept again after the next fork taken back
  uintptr_t none = 0;
  if (!g_spare_vma.compare_exchange_strong(none, reinterpret_cast<uintptr_t>(p))) {
    ::munmap(p, kPageSize);
  }
}

bool GiveUpSpareVma() {
  const uintptr_t p = g_spare_vma.exchange(0);
  if (p == 0) return false;
  ::munmap(reinterpret_cast<void*>(p), kPageSize);
  return true;
}

bool MappingObject::MapOwn(uint64_t offset, uint64_t len, bool protect, bool last_resort) {
  if (!Clip(&offset, &len)) return true;
  if (for_holder()) return holder_forks_ < 0 || MapOwnInHolder(offset, len, protect);
  MutexLock lock(&pieces_mutex_);
  uint64_t placed = 0;  // the live parts placed, from offset: taken back if a later one fails
  bool ok = true;
  ForEachLiveLocked(offset - vmo_offset(), len, [&](uint64_t rel, uint64_t n) {
    ok = MapOwnPiece(vmo_offset() + rel, n, protect, last_resort);
    if (ok) placed = vmo_offset() + rel + n - offset;
    return ok;
  });
  if (!ok && placed > 0) {
    ForEachLiveLocked(offset - vmo_offset(), placed, [&](uint64_t rel, uint64_t n) {
      MapRootPiece(vmo_offset() + rel, n);
      return true;
    });
  }
  if (last_resort) KeepSpareVma();  // if it was given up
  return ok;
}

bool MappingObject::UnmapOwn(uint64_t offset, uint64_t len) {
  if (!Clip(&offset, &len)) return true;
  if (for_holder()) return holder_forks_ < 0 || UnmapOwnInHolder(offset, len);
  MutexLock lock(&pieces_mutex_);
  bool ok = true;
  ForEachLiveLocked(offset - vmo_offset(), len, [&](uint64_t rel, uint64_t n) {
    ok = MapRootPiece(vmo_offset() + rel, n) && ok;
    return true;
  });
  KeepSpareVma();  // if it was given up
  return ok;
}

bool MappingObject::MapOwnPiece(uint64_t offset, uint64_t len, bool protect, bool last_resort) {
  const uintptr_t start = AddressOf(offset);
  // The clone's storage over these pages, in place of its root's (the VMA splits; adjacent
  // pieces merge once registered alike). Then registered again, as the new piece is not:
  // faults on a zero marker or a hole there must still come to us. A fork is the clone's own
  // page: not write-protected unless asked (until every mapping of the clone has it).
  // The system call itself, not the libc wrapper: a sanitizer's mmap interceptor takes the
  // replacement for a fresh write of the whole range by this thread, but the threads that
  // read it after are ordered by the kernel (their fault waits for the wake below), which
  // it cannot see. The bytes are the same ones the access would have seen.
  const int prot = PROT_READ | (writable() ? PROT_WRITE : 0);
  long ret = ::syscall(SYS_mmap, start, len, prot, MAP_SHARED | MAP_FIXED, vmo_->own_memfd(),
                       static_cast<off_t>(offset));
  if (ret == -1 && errno == ENOMEM && last_resort && GiveUpSpareVma()) {
    ret = ::syscall(SYS_mmap, start, len, prot, MAP_SHARED | MAP_FIXED, vmo_->own_memfd(),
                    static_cast<off_t>(offset));
  }
  // A failed mmap leaves the range as it was: the root's storage, write-protected.
  if (ret == -1) return false;
  if (!RegisterPiece(start, len, protect)) {
    MapRootPiece(offset, len);
    return false;
  }
  return true;
}

bool MappingObject::MapRootPiece(uint64_t offset, uint64_t len) {
  const uintptr_t start = AddressOf(offset);
  const int prot = PROT_READ | (writable() ? PROT_WRITE : 0);
  const auto root_offset = static_cast<off_t>(map_fd_offset_ + (offset - vmo_offset()));
  // The piece given back (with what it merged into) is one VMA less: at the limit, the mmap
  // that gives it back must first get below it, which the reserve is for.
  long ret = ::syscall(SYS_mmap, start, len, prot, MAP_SHARED | MAP_FIXED, map_fd_, root_offset);
  if (ret == -1 && errno == ENOMEM && GiveUpSpareVma()) {
    ret = ::syscall(SYS_mmap, start, len, prot, MAP_SHARED | MAP_FIXED, map_fd_, root_offset);
  }
  if (ret == -1 || !RegisterPiece(start, len, /*protect=*/true, minor_)) {
    std::fprintf(stderr,
                 "upager: a page of a mapped clone could not be given back to its root "
                 "(vm.max_map_count?): that mapping keeps a copy of it\n");
    return false;
  }
  return true;
}

bool MappingObject::RegisterPiece(uintptr_t start, uint64_t len, bool protect, bool minor) {
  ::madvise(reinterpret_cast<void*>(start), len, MADV_DONTFORK);
  if (!takes_faults()) return true;
  return stripes_.ForEach(RelOf(start), len,
                          [&](const Userfaultfd& uffd, uint64_t rel, uint64_t n) {
                            const uintptr_t piece = reinterpret_cast<uintptr_t>(base_) + rel;
                            const bool wp = writable() && uffd.has_write_protect();
                            if (!uffd.Register(piece, n, wp, minor)) return false;
                            if (protect && wp) uffd.WriteProtect(piece, n, true);
                            return true;
                          });
}

}  // namespace upager::internal
