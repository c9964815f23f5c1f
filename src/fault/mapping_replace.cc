// Parts of a mapping: a fixed mapping replacing others (ZX_VM_SPECIFIC_OVERWRITE), unmapping
// or protecting part of one, and mapping the pages already present (ZX_VM_MAP_RANGE).
//
// A replaced range must never be touched by a thread while it is mapped but not yet
// registered with a userfaultfd: an access there would read the memfd's hole as zeros (and
// fill it) behind the pager's back. So the fault threads hold every fault in the range
// (FaultService::BeginReplace) until the new mapping is registered, and the threads asleep
// in a fault of the old mapping (on its userfaultfd: the kernel does not wake them when the
// VMA goes) are woken only then, so that they retry in the new one.
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fault/mapping_object.h"
#include "upager/mapping.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

bool FaultService::BeginReplace(uintptr_t start, uint64_t len, MappingObject** replaced,
                                size_t* count) {
  MutexLock lock(&mutex_);
  while (replacing_) idle_.Wait(&mutex_);
  replacing_ = true;
  replacing_start_ = start;
  replacing_len_ = len;
  const uintptr_t end = start + len;
  auto overlaps = [&](const std::pair<const uintptr_t, Entry>& e) {
    return e.first < end && start < e.first + e.second.len;
  };
  // No fault thread in them: a fault being handled there could install into the range.
  for (bool busy = true; busy;) {
    busy = false;
    for (auto& e : ranges_) {
      if (overlaps(e) && e.second.users > 0) busy = true;
    }
    if (busy) idle_.Wait(&mutex_);
  }
  size_t n = 0;
  bool fits = true;
  for (auto it = ranges_.begin(); it != ranges_.end();) {
    if (!overlaps(*it)) {
      ++it;
      continue;
    }
    const Entry entry = it->second;
    const uintptr_t from = it->first;
    const uintptr_t to = from + entry.len;
    bool seen = false;
    for (size_t i = 0; i < n; ++i) seen = seen || replaced[i] == entry.mapping;
    if (!seen) {
      if (n < kMaxReplaced) {
        replaced[n++] = entry.mapping;
      } else {
        fits = false;
      }
    }
    it = ranges_.erase(it);
    if (from < start) {
      Entry head = entry;
      head.len = start - from;
      ranges_.emplace(from, head);
    }
    if (to > end) {
      Entry tail = entry;
      tail.len = to - end;
      it = ranges_.emplace(end, tail).first;
      ++it;
    }
  }
  // The old mappings of the range are gone: their failures no longer explain an access there
  // (FaultStatusForAddress; the addresses get a new mapping or a reservation).
  ForgetFailures(start, len);
  *count = n;
  return fits;
}

void FaultService::EndReplace() {
  {
    MutexLock lock(&mutex_);
    replacing_ = false;
    replacing_start_ = 0;
    replacing_len_ = 0;
  }
  idle_.NotifyAll();
}

void MappingObject::Reserve(uintptr_t start, uint64_t len) {
  // The system call itself: see MapOwnPiece (a sanitizer's interceptor takes a MAP_FIXED
  // replacement for a write of the range by this thread).
  ::syscall(SYS_mmap, start, len, PROT_NONE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
}

MappingObject::ReplaceScope::ReplaceScope(uintptr_t start, uint64_t len)
    : start_(start), len_(len) {
  if (start_ == 0) return;
  ok_ = FaultService::Get().BeginReplace(start_, len_, replaced_, &count_);
  for (size_t i = 0; i < count_; ++i) replaced_[i]->Carve(start_, len_);
}

MappingObject::ReplaceScope::~ReplaceScope() {
  if (start_ == 0) return;
  FaultService::Get().EndReplace();
  for (size_t i = 0; i < count_; ++i) replaced_[i]->WakeAddresses(start_, len_);
}

void MappingObject::Carve(uintptr_t start, uint64_t len) {
  const auto base = reinterpret_cast<uintptr_t>(base_);
  const uint64_t from = std::max(start, base) - base;
  const uint64_t to = std::min(start + len, base + length()) - base;
  if (from >= to) return;
  {
    MutexLock lock(&pieces_mutex_);
    std::vector<Piece> left;
    for (const Piece& piece : live_) {
      if (piece.end <= from || piece.begin >= to) {
        left.push_back(piece);
        continue;
      }
      if (piece.begin < from) left.push_back({piece.begin, from});
      if (piece.end > to) left.push_back({to, piece.end});
    }
    live_.swap(left);
  }
  AbandonFaults(from, to);
}

void MappingObject::WakeAddresses(uintptr_t start, uint64_t len) {
  const auto base = reinterpret_cast<uintptr_t>(base_);
  const uint64_t from = std::max(start, base) - base;
  const uint64_t to = std::min(start + len, base + length()) - base;
  if (from >= to || !takes_faults()) return;
  stripes_.ForEach(from, to - from, [&](const Userfaultfd& uffd, uint64_t rel, uint64_t n) {
    uffd.Wake(base + rel, n);
    return true;
  });
}

bool MappingObject::IsLive(uint64_t rel, uint64_t len) {
  MutexLock lock(&pieces_mutex_);
  uint64_t covered = 0;
  ForEachLiveLocked(rel, len, [&](uint64_t, uint64_t n) {
    covered += n;
    return true;
  });
  return covered == len;
}

Status MappingObject::Protect(uint64_t rel, uint64_t len, uint32_t flags) {
  if ((flags & ~(kMapRead | kMapWrite)) != 0 || flags == kMapWrite) return Status::kInvalidArgs;
  if (len == 0 || rel % kPageSize != 0 || len % kPageSize != 0) return Status::kInvalidArgs;
  if (rel > length() || len > length() - rel) return Status::kOutOfRange;
  if ((flags & kMapWrite) != 0 && !writable()) return Status::kAccessDenied;
  if (!IsLive(rel, len)) return Status::kNotFound;
  // Write access to a clean page still faults where it is write-protected (a present clean
  // page carries the marker, so that its first store is seen): mprotect keeps the marker.
  const int prot =
      ((flags & kMapRead) != 0 ? PROT_READ : 0) | ((flags & kMapWrite) != 0 ? PROT_WRITE : 0);
  if (::mprotect(base_ + rel, len, prot) != 0) return Status::kNoMemory;
  return Status::kOk;
}

Status MappingObject::UnmapPart(uint64_t rel, uint64_t len) {
  if (len == 0 || rel % kPageSize != 0 || len % kPageSize != 0) return Status::kInvalidArgs;
  if (rel > length() || len > length() - rel) return Status::kOutOfRange;
  if (for_holder()) return Status::kNotSupported;
  const uintptr_t start = reinterpret_cast<uintptr_t>(base_) + rel;
  ReplaceScope replace(start, len);  // takes the range from this mapping (and any other)
  if (!replace.ok()) return Status::kNoResources;
  Reserve(start, len);
  return Status::kOk;
}

Status MappingObject::MapRange(uint64_t rel, uint64_t len) {
  if (len == 0 || rel % kPageSize != 0 || len % kPageSize != 0) return Status::kInvalidArgs;
  if (rel > length() || len > length() - rel) return Status::kOutOfRange;
  if (!takes_faults()) return Status::kOk;  // no pager: every page is there already
  // Each present page is mapped as its MINOR fault would map it (under the VMO lock,
  // write-protected; Continue skips the parts no longer this mapping's); an absent one is
  // left alone, so the pager is asked for nothing. Without MINOR faults a present page needs
  // no mapping ahead: the kernel maps it from the memfd at the first access, without a fault
  // that reaches us.
  vmo_->MapPresent(this, vmo_offset() + rel, len);
  return Status::kOk;
}

}  // namespace upager::internal
