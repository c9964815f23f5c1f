// MappingObject: the object behind a Mapping handle. Maps a VMO's memfd, registers the range
// with the process's userfaultfd (pager-backed VMOs only) and turns the faults dispatched to
// it into requests on the VMO.
//
// Each fault that has to wait gets a FaultRecord: an asynchronous PageRequest whose
// completion wakes the faulting thread (which retries the access, Zircon's retry loop run by
// the kernel) or fails it with SIGBUS. Records are recycled, so a steady stream of faults
// allocates nothing; a mapping needs as many as threads fault on it at once.
#ifndef UPAGER_SRC_FAULT_MAPPING_OBJECT_H_
#define UPAGER_SRC_FAULT_MAPPING_OBJECT_H_

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "fault/fault_service.h"
#include "pager/handle_protocol.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/page_request.h"
#include "upager/status.h"
#include "upager/vmo.h"
#include "vm/vm_mapping.h"

namespace upager::internal {

class VmObjectPaged;

// One VMA of the process kept in reserve for a mapping of a clone to take a fork back at the
// VMA limit (mapping_forks.cc). Keep makes it if there is none; GiveUp unmaps it (false if
// there was none).
void KeepSpareVma();
bool GiveUpSpareVma();

class MappingObject final : public VmMapping {
 public:
  // `fixed`: the page-aligned address to map at (0: the kernel picks). Whatever lies there
  // is replaced (Mapping::CreateAt): the caller's reservation, or parts of other mappings,
  // which lose them (ReplaceRange).
  static Status Create(const Vmo& vmo, uint64_t vmo_offset, uint64_t len, uint32_t flags,
                       std::unique_ptr<MappingObject>* out, uintptr_t fixed = 0);
  // A mapping in another process (a holder's, remote_mapping.h) whose faults are served
  // here: `base` is an address there, `uffd` its userfaultfd, taken over. Failures are
  // written to `failures` (the holder's failure page, mapped here; taken over) and signalled
  // to the faulting thread of process `pid`. Not in the process's registry: the caller
  // reads `uffd` and passes its faults to OnFault.
  // A read-through clone's mapping also takes `forks`, the fork socket (HandleForkMessage):
  // its own pages are mapped over its root's there by the holder, at the owner's word.
  static Status CreateForHolder(const Vmo& vmo, uintptr_t base, uint64_t vmo_offset, uint64_t len,
                                bool writable, pid_t pid, int uffd, int forks,
                                RemoteFailurePage* failures, std::unique_ptr<MappingObject>* out);
  // Unmaps; threads blocked in a fault here are woken and find nothing mapped.
  ~MappingObject() override;

  std::byte* data() const { return base_; }
  // The holder's userfaultfd of a mapping made by CreateForHolder.
  int holder_uffd() const { return holder_uffd_.fd(); }
  // Whether `address` lies in this mapping.
  bool Contains(uintptr_t address) const {
    return address >= reinterpret_cast<uintptr_t>(base_) &&
           address - reinterpret_cast<uintptr_t>(base_) < length();
  }

  // A fault at `address` in this mapping (called by a fault thread).
  void OnFault(uintptr_t address, bool write, bool wp, pid_t tid);
  // A MINOR fault at `address` (minor_faults.cc): the page is in the VMO's storage but not
  // mapped here. Never waits and allocates nothing.
  void OnMinorFault(uintptr_t address);
  // Logs faults waiting longer than the overtime wait and fails those waiting longer than
  // the overtime timeout with kTimedOut (PagerTimeouts), as Zircon's page faults do.
  void CheckOvertime(Deadline now);
  // Suspension of a thread asleep in a fault here (held_faults.cc). Hold abandons the waits
  // of thread `tid`'s faults: their requests are cancelled and the thread stays asleep in
  // the kernel, marked held. Release takes each held fault again, as if it had just been
  // read (a new request if the page is still absent). Never called with a lock held.
  void HoldFaultsOf(pid_t tid);
  void ReleaseFaultsOf(pid_t tid);
  // Parts of the mapping (mapping_replace.cc). Protect changes the protection of
  // [rel, rel+len) (bytes from data()) to `flags` (kMapRead, kMapWrite, or 0 for none).
  // UnmapPart leaves [rel, rel+len) reserved (PROT_NONE) and no longer this mapping's; a
  // thread asleep in a fault there retries and finds no access (SIGSEGV). MapRange maps the
  // pages of [rel, rel+len) present in the VMO, asking the pager for none.
  Status Protect(uint64_t rel, uint64_t len, uint32_t flags);
  Status UnmapPart(uint64_t rel, uint64_t len);
  Status MapRange(uint64_t rel, uint64_t len);
  // Whether all of [rel, rel+len) is still this mapping's.
  bool IsLive(uint64_t rel, uint64_t len);
  // Takes [start, start+len) (addresses) out of this mapping, which another mapping or a
  // reservation replaces: nothing installs, protects or wakes there through it any more, and
  // its faults waiting there are abandoned. Between FaultService::BeginReplace and
  // EndReplace. WakeAddresses then wakes the threads asleep there, with its userfaultfds.
  void Carve(uintptr_t start, uint64_t len);
  void WakeAddresses(uintptr_t start, uint64_t len);

  // Write-protects `page` (an address in this mapping) again if the mapping is writable.
  void RearmWriteProtect(uintptr_t page);
  // True if `page` (an address in this mapping) lies beyond the VMO's current end.
  bool IsBeyondVmoEnd(uintptr_t page) const;

  // VmMapping.
  uint64_t Install(uint64_t offset, const void* src, uint64_t len, bool write_protect) override;
  void EndInstalls() override;
  void WriteProtect(uint64_t offset, uint64_t len, bool protect) override;
  void Wake(uint64_t offset, uint64_t len) override;
  void Unmap(uint64_t offset, uint64_t len) override;
  bool Continue(uint64_t offset, uint64_t len, bool write_protect) override;
  bool MapOwn(uint64_t offset, uint64_t len, bool protect, bool last_resort) override;
  bool UnmapOwn(uint64_t offset, uint64_t len) override;
  // A holder's mapping that is private (read-only, or a clone's: its root's memfd).
  bool MapsOnlyStorage() const override {
    return for_holder() && (!writable() || holder_forks_ >= 0);
  }
  bool FaultWaitsAt(uint64_t offset) override;

 private:
  class FaultRecord;

  MappingObject(std::shared_ptr<VmObjectPaged> vmo, std::byte* base, uint64_t vmo_offset,
                uint64_t len, bool writable);
  uintptr_t AddressOf(uint64_t offset) const {
    return reinterpret_cast<uintptr_t>(base_) + (offset - vmo_offset());
  }
  // Clips [offset, offset+len) to this mapping; false if nothing is left.
  bool Clip(uint64_t* offset, uint64_t* len) const;
  // The parts still this mapping's (offsets from base_, sorted): all of it, until parts are
  // unmapped or replaced (mapping_replace.cc).
  struct Piece {
    uint64_t begin, end;
  };
  // Calls f(rel, n) for each part of [rel, rel+n) still this mapping's, in order, until f
  // returns false.
  template <typename F>
  void ForEachLiveLocked(uint64_t rel, uint64_t n, F f) UPAGER_REQUIRES(pieces_mutex_) {
    for (const Piece& piece : live_) {
      const uint64_t from = std::max(rel, piece.begin);
      const uint64_t to = std::min(rel + n, piece.end);
      if (from < to && !f(from, to - from)) return;
    }
  }
  // Maps [start, start+len) as a PROT_NONE reservation (the range replaced by nothing).
  static void Reserve(uintptr_t start, uint64_t len);
  // Mapped clones (mapping_forks.cc): the clone's own storage over [offset, offset+len), or
  // the root's again, each then registered (and write-protected if `protect`). Under
  // pieces_mutex_, for a live part.
  bool MapOwnPiece(uint64_t offset, uint64_t len, bool protect, bool last_resort);
  bool MapRootPiece(uint64_t offset, uint64_t len);
  bool RegisterPiece(uintptr_t start, uint64_t len, bool protect, bool minor = false);
  // Replacing a fixed range (mapping_replace.cc): BeginReplace and the carving of the
  // mappings there at construction, EndReplace and their wakes at destruction. Does nothing
  // for start 0.
  class ReplaceScope {
   public:
    ReplaceScope(uintptr_t start, uint64_t len);
    ~ReplaceScope();
    ReplaceScope(const ReplaceScope&) = delete;
    ReplaceScope& operator=(const ReplaceScope&) = delete;
    bool ok() const { return ok_; }

   private:
    uintptr_t start_;
    uint64_t len_;
    bool ok_ = true;
    MappingObject* replaced_[FaultService::kMaxReplaced] = {};
    size_t count_ = 0;
  };
  // A record's bookkeeping. Kept here, not in the record, so that the lock guarding it is
  // visible to the analysis.
  struct RecordState {
    int blocked_token = -1;   // FaultService::MarkBlocked's, while the fault waits
    uint64_t generation = 0;  // counts allocations, so a stale reference is recognised
    bool in_use = false;
    bool waiting = false;     // its request is outstanding (the overtime scan may cancel it)
    bool timing_out = false;  // being cancelled by the overtime scan
    bool completed_while_timing_out = false;
    // Held by a suspension (HoldFaultsOf): no request, the thread asleep in the kernel.
    bool held = false;
    int held_token = -1;  // FaultService::MarkHeld's
    bool write = false;   // the fault's kind, to take it again on release
    bool wp = false;
    // The page-aligned VMO offset of the fault, and whether an Install has placed that page
    // here in the supply now resolving (which woke the faulting thread: the completion need
    // not wake it again).
    uint64_t page_offset = 0;
    bool woken_by_install = false;
    Deadline started{};
    Deadline next_log{};
  };
  FaultRecord* AllocRecord(uint64_t page_offset, bool write, bool wp, uint64_t* generation);
  FaultRecord* AddRecordLocked() UPAGER_REQUIRES(records_mutex_);
  RecordState& StateOf(const FaultRecord& record) UPAGER_REQUIRES(records_mutex_);
  void FreeRecordLocked(FaultRecord* record) UPAGER_REQUIRES(records_mutex_);
  // Cancels the faults at offsets [from, to) from base_ and frees their records (Carve).
  void AbandonFaults(uint64_t from, uint64_t to);
  // Marks the faults waiting on a page of [offset, offset+len) as woken by an install.
  void NoteInstalled(uint64_t offset, uint64_t len);
  // Runs under the source lock of the VMO (a completion).
  void OnRecordDone(FaultRecord* record, Status status);
  // Fails the access of thread `tid` at `address` with `status` (SIGBUS): through the
  // FaultService for a mapping of this process, to the holder's process otherwise.
  void Fail(uintptr_t address, pid_t tid, Status status);
  void FailInHolder(uintptr_t address, pid_t tid, Status status);
  // MapOwn and UnmapOwn in a holder's mapping of a clone: ask the holder and wait for its
  // answer (false if it could not: the process at its VMA limit). A holder that does not
  // answer loses its fork socket (true: nothing more is done for it).
  bool MapOwnInHolder(uint64_t offset, uint64_t len, bool protect);
  bool UnmapOwnInHolder(uint64_t offset, uint64_t len);
  bool AskHolder(ForkOp op, uint64_t offset, uint64_t len) UPAGER_REQUIRES(forks_mutex_);
  static constexpr std::chrono::seconds kHolderForkTimeout{5};
  bool for_holder() const { return holder_pid_ != 0; }

  const std::shared_ptr<VmObjectPaged> vmo_;
  // A slice mapped as the VMO it is a window onto (vmo_): kept as long as the mapping, as a
  // Zircon mapping keeps its VMO (its parent counts it as a child until then).
  std::shared_ptr<VmObjectPaged> slice_;
  std::byte* const base_;
  // Set for pager-backed VMOs: the userfaultfd generation the range is registered with.
  std::shared_ptr<FaultService::Generation> generation_;
  // The userfaultfd of each stripe of the mapping (count 0: it takes no faults).
  FaultService::Stripes stripes_;
  bool takes_faults() const { return stripes_.count > 0; }
  uint64_t RelOf(uintptr_t address) const { return address - reinterpret_cast<uintptr_t>(base_); }
  const Userfaultfd& UffdAt(uintptr_t address) const { return stripes_.At(RelOf(address)); }

  // What the mapping maps (set by Create, then constant): the root's memfd for a clone's
  // (alive as long as vmo_), at map_fd_offset_ for vmo_offset().
  int map_fd_ = -1;
  uint64_t map_fd_offset_ = 0;
  // Whether the root-backed part is registered for MINOR faults (the clock): a piece given
  // back to the root (MapRootPiece) is registered the same way.
  bool minor_ = false;

  Mutex records_mutex_;  // a leaf: taken under VMO and source locks
  std::vector<std::unique_ptr<FaultRecord>> records_ UPAGER_GUARDED_BY(records_mutex_);
  std::vector<FaultRecord*> free_records_ UPAGER_GUARDED_BY(records_mutex_);
  std::vector<RecordState> record_states_ UPAGER_GUARDED_BY(records_mutex_);  // by index
  // Set by CreateForHolder, then constant.
  pid_t holder_pid_ = 0;
  Userfaultfd holder_uffd_;
  RemoteFailurePage* holder_failures_ = nullptr;
  Mutex failures_mutex_;  // one writer of the failure page at a time
  // Taken by every operation on the page tables of a range of the mapping (installs,
  // protection, wakes: all under the VMO lock) and by Carve, so that none reaches a part
  // once another mapping has it. A leaf, but for records_mutex_.
  Mutex pieces_mutex_;
  std::vector<Piece> live_ UPAGER_GUARDED_BY(pieces_mutex_);
  int holder_forks_ = -1;  // a clone's fork socket (set by CreateForHolder, then constant)
  Mutex forks_mutex_;      // a leaf: taken under the tree lock (MapOwn)
  uint64_t fork_serial_ UPAGER_GUARDED_BY(forks_mutex_) = 0;
  bool forks_broken_ UPAGER_GUARDED_BY(forks_mutex_) = false;
  // Some record is marked woken_by_install (EndInstalls has work to do).
  bool any_woken_by_install_ UPAGER_GUARDED_BY(records_mutex_) = false;
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_FAULT_MAPPING_OBJECT_H_
