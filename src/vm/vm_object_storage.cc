// Storage I/O on a VMO's memfd: full-length reads and writes, in-kernel copies between VMOs,
// and the VMO's own storage steps (holes, stores through mappings, write protection).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "base/full_io.h"
#include "base/kernel_copy.h"
#include "vm/vm_object_impl.h"

namespace upager::internal {

namespace {

// A copy that faulted (EFAULT): the pager's status where the fault was on a mapped page
// whose request failed (KernelCopyScope); otherwise the buffer is simply not accessible,
// kInvalidArgs, as for a Zircon syscall whose user copy faults.
Status FaultStatus(const KernelCopyScope& scope) {
  return scope.failure() != Status::kOk ? scope.failure() : Status::kInvalidArgs;
}

}  // namespace

Status PreadAll(int fd, void* buf, uint64_t len, uint64_t offset) {
  KernelCopyScope scope;
  const IoResult r = PreadFull(fd, buf, len, offset);
  if (r.error == EFAULT) return FaultStatus(scope);
  return r.error == 0 && r.done == len ? Status::kOk : Status::kIo;
}

Status PwriteAll(int fd, const void* buf, uint64_t len, uint64_t offset, uint64_t* written) {
  KernelCopyScope scope;
  const IoResult r = PwriteFull(fd, buf, len, offset);
  if (written) *written += r.done;
  if (r.error == EFAULT) return FaultStatus(scope);
  if (r.error == 0) return Status::kOk;
  return r.error == ENOSPC || r.error == ENOMEM ? Status::kNoMemory : Status::kIo;
}

bool HasStorage(int fd, uint64_t page) {
  const off_t data = ::lseek(fd, static_cast<off_t>(Bytes(page)), SEEK_DATA);
  return data == static_cast<off_t>(Bytes(page));
}

Status CopyFdRange(int from, uint64_t from_offset, int to, uint64_t to_offset, uint64_t len) {
  auto in = static_cast<loff_t>(from_offset);
  auto out = static_cast<loff_t>(to_offset);
  while (len > 0) {
    const ssize_t n = ::copy_file_range(from, &in, to, &out, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Fall back to a bounce buffer (copy_file_range may refuse some file pairs).
      std::vector<char> buf(std::min<uint64_t>(len, 1 << 20));
      while (len > 0) {
        const uint64_t chunk = std::min<uint64_t>(len, buf.size());
        if (Status s = PreadAll(from, buf.data(), chunk, static_cast<uint64_t>(in));
            s != Status::kOk) {
          return s;
        }
        if (Status s = PwriteAll(to, buf.data(), chunk, static_cast<uint64_t>(out));
            s != Status::kOk) {
          return s;
        }
        in += static_cast<loff_t>(chunk);
        out += static_cast<loff_t>(chunk);
        len -= chunk;
      }
      return Status::kOk;
    }
    len -= static_cast<uint64_t>(n);
  }
  return Status::kOk;
}

Status MakeMemfd(uint64_t size, bool resizable, int* out) {
  const int fd = ::memfd_create("upager-vmo", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return Status::kNoResources;
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    ::close(fd);
    return Status::kNoMemory;
  }
  // A holder with a writable descriptor could otherwise seal writes away from the pager, or
  // truncate the pages from under everyone's mappings.
  const int seals = F_SEAL_SEAL | (resizable ? 0 : F_SEAL_SHRINK | F_SEAL_GROW);
  if (::fcntl(fd, F_ADD_SEALS, seals) != 0) {
    ::close(fd);
    return Status::kNoResources;
  }
  *out = fd;
  return Status::kOk;
}

// ---- The VMO's storage under its lock ----

void VmObjectPaged::Impl::PunchHole(uint64_t first, uint64_t end) {
  if (first >= end) return;
  // The kernel takes a punched page out of every mapping one page at a time, which costs
  // as much again as the punch; clearing a long run from the page tables first, a mapping
  // at a time, halves it (a run of 128 MiB: 50 ms against 26). An access in between maps
  // the page again from storage (or takes a MINOR fault that waits for this lock), and the
  // punch then takes it out as before.
  if (end - first >= kZapFirstPages) {
    for (VmMapping* mapping : mappings) mapping->Unmap(Bytes(first), Bytes(end - first));
  }
  ::fallocate(memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(Bytes(first)),
              static_cast<off_t>(Bytes(end - first)));
  WriteProtect(first, end);
}

void VmObjectPaged::Impl::WriteProtect(uint64_t first, uint64_t end) {
  for (VmMapping* mapping : mappings) {
    if (mapping->writable()) mapping->WriteProtect(Bytes(first), Bytes(end - first), true);
  }
}

void VmObjectPaged::Impl::EndInstalls() {
  for (VmMapping* mapping : mappings) mapping->EndInstalls();
}

Status VmObjectPaged::Impl::Store(uint64_t first, uint64_t end, const char* src) {
  uint64_t page = first;
  while (page < end) {
    VmMapping* best = nullptr;
    uint64_t next_covered = end;
    for (VmMapping* mapping : mappings) {
      const uint64_t map_first = PageOf(mapping->vmo_offset());
      const uint64_t map_end = map_first + PageOf(mapping->length());
      if (map_first <= page && page < map_end) {
        if (best == nullptr || map_end > PageOf(best->vmo_offset() + best->length())) {
          best = mapping;
        }
      } else if (map_first > page) {
        next_covered = std::min(next_covered, map_first);
      }
    }
    uint64_t piece_end = next_covered;
    if (best != nullptr) {
      piece_end = std::min(end, PageOf(best->vmo_offset() + best->length()));
      uint64_t placed;
      Status copy_failure;
      {
        KernelCopyScope scope;  // `src` may be mapped memory whose fault fails
        placed =
            best->Install(Bytes(page), src + Bytes(page - first), Bytes(piece_end - page), true);
        copy_failure = scope.failure();
      }
      if (copy_failure != Status::kOk) return copy_failure;
      if (best == fault_watch.mapping && fault_watch.page >= page &&
          fault_watch.page < page + PageOf(placed)) {
        fault_watch.installed = true;
      }
      page += PageOf(placed);
    }
    if (page < piece_end) {
      if (Status s =
              PwriteAll(memfd, src + Bytes(page - first), Bytes(piece_end - page), Bytes(page));
          s != Status::kOk) {
        return s;
      }
    }
    page = piece_end;
  }
  return Status::kOk;
}

}  // namespace upager::internal
