#include "fault/mapping_object.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include <boost/container/small_vector.hpp>

#include "base/deferred_wakeups.h"
#include "base/handle_access.h"
#include "base/thread_state.h"
#include "upager/mapping.h"
#include "upager/thread.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

class MappingObject::FaultRecord final : public PageRequestCompletion {
 public:
  FaultRecord(MappingObject* owner, size_t slot)
      : index(slot), owner_(owner), request_(false, this) {}
  ~FaultRecord() override = default;

  void OnPageRequestSignaled(PageRequest* /*request*/, Status status) override {
    owner_->OnRecordDone(this, status);
  }

  PageRequest* request() { return &request_; }
  const size_t index;  // of its bookkeeping in the owner's record_states_
  // Written by the fault thread that took the record, before its request exists (the
  // source lock then publishes them to the completion).
  uintptr_t address = 0;
  pid_t tid = 0;

 private:
  MappingObject* const owner_;
  PageRequest request_;
};

MappingObject::MappingObject(std::shared_ptr<VmObjectPaged> vmo, std::byte* base,
                             uint64_t vmo_offset, uint64_t len, bool writable)
    : VmMapping(vmo_offset, len, writable), vmo_(std::move(vmo)), base_(base) {
  vmo_->AddHandle();  // a mapping keeps the VMO open (docs/zircon-semantics.md 9.3)
  MutexLock lock(&pieces_mutex_);
  live_.push_back({0, len});
}

Status MappingObject::Create(const Vmo& vmo, uint64_t vmo_offset, uint64_t len, uint32_t flags,
                             std::unique_ptr<MappingObject>* out, uintptr_t fixed) {
  // zx_vmar_map's order: the handle and its kRightMap, the flags, the rights the flags ask
  // for (kRightRead, kRightWrite for a writable mapping), then the range.
  if (!vmo.is_valid()) return Status::kBadHandle;
  if ((vmo.rights() & kRightMap) == 0) return Status::kAccessDenied;
  if ((flags & ~(kMapRead | kMapWrite)) != 0 || (flags & kMapRead) == 0) {
    return Status::kInvalidArgs;
  }
  if ((vmo.rights() & kRightRead) == 0 ||
      ((flags & kMapWrite) != 0 && (vmo.rights() & kRightWrite) == 0)) {
    return Status::kAccessDenied;
  }
  if (len == 0 || vmo_offset % kPageSize != 0 || len % kPageSize != 0 || fixed % kPageSize != 0 ||
      fixed > UINTPTR_MAX - len) {
    return Status::kInvalidArgs;
  }
  const std::shared_ptr<VmObjectPaged>& handle_object = HandleAccess::Object(vmo);
  if (handle_object == nullptr) {
    return Status::kNotSupported;  // a VMO held from another process: not mappable yet
  }
  if (vmo_offset > UINT64_MAX - len || vmo_offset + len > handle_object->size()) {
    return Status::kOutOfRange;
  }
  // A child maps its root's storage (docs/clones.md, Mapped clones).
  VmObjectPaged::MapTarget target;
  if (Status s = VmObjectPaged::GetMapTarget(handle_object, vmo_offset, &target);
      s != Status::kOk) {
    return s;
  }
  const std::shared_ptr<VmObjectPaged>& object = target.vmo;
  vmo_offset = target.vmo_offset;
  const bool writable = (flags & kMapWrite) != 0;
  const bool faults = target.faults;
  FaultService& service = FaultService::Get();
  if (faults) {
    if (Status s = service.Support(nullptr); s != Status::kOk) return s;
  }
  // At a fixed address, the mappings there give up the range first; their threads asleep in
  // a fault there are woken once this mapping is registered (ReplaceScope's end), so that
  // they retry here and never touch the range unregistered.
  ReplaceScope replace(fixed, len);
  if (fixed != 0 && !replace.ok()) return Status::kNoResources;
  // At a fixed address, the system call itself, as in MapOwnPiece: a sanitizer's mmap
  // interceptor takes a MAP_FIXED replacement for a write of the range by this thread, but
  // the threads that read it after (those woken at the end of the replace) are ordered by
  // the kernel, which it cannot see.
  const int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void* addr =
      fixed != 0
          ? reinterpret_cast<void*>(::syscall(SYS_mmap, fixed, len, prot, MAP_SHARED | MAP_FIXED,
                                              target.fd, static_cast<off_t>(target.fd_offset)))
          : ::mmap(nullptr, len, prot, MAP_SHARED, target.fd, static_cast<off_t>(target.fd_offset));
  if (addr == MAP_FAILED) {
    if (fixed != 0) Reserve(fixed, len);
    return errno == ENOMEM ? Status::kNoMemory : Status::kNoResources;
  }
  // A failure from here on unmaps the new mapping; at a fixed address the range stays
  // reserved.
  struct Unwind {
    uintptr_t fixed;
    uint64_t len;
    bool armed = true;
    ~Unwind() {
      if (armed && fixed != 0) Reserve(fixed, len);
    }
  } unwind{fixed, len};
  // A child process must not inherit a range nobody serves (its accesses would fill holes
  // in the shared memfd behind the pager's back).
  ::madvise(addr, len, MADV_DONTFORK);
  std::unique_ptr<MappingObject> mapping(
      new MappingObject(object, static_cast<std::byte*>(addr), vmo_offset, len, writable));
  mapping->map_fd_ = target.fd;
  mapping->map_fd_offset_ = target.fd_offset;
  // A clone's forks need VMAs: one in reserve to take one back (mapping_forks.cc).
  if (object->reads_through_parent()) KeepSpareVma();
  const auto start = reinterpret_cast<uintptr_t>(addr);
  if (Status s = service.Attach(mapping.get(), start, len, faults, &mapping->generation_,
                                &mapping->stripes_);
      s != Status::kOk) {
    ::munmap(addr, len);
    mapping->generation_.reset();
    {
      MutexLock lock(&mapping->pieces_mutex_);
      mapping->live_.clear();  // unmapped above; the destructor has nothing left to do
    }
    return s;
  }
  if (faults) {
    const FaultService::Stripes& stripes = mapping->stripes_;
    const bool wp = writable && stripes.At(0).has_write_protect();
    if (writable && !wp) {
      mapping.reset();  // unregisters and unmaps
      return Status::kNotSupported;
    }
    // Each stripe with its lane's userfaultfd (all lanes have the same features).
    auto register_all = [&](bool minor) {
      return stripes.ForEach(0, len, [&](const Userfaultfd& uffd, uint64_t rel, uint64_t n) {
        return uffd.Register(start + rel, n, wp, minor);
      });
    };
    // MINOR faults too where the kernel has them: the reclaimer's clock (minor_faults.cc).
    // Should the kernel refuse them for this range after all, the mapping works without
    // (registering again replaces the modes of a range already registered).
    // A clone's mapping too: its unforked pages are its root's, and a use of one there
    // marks the root's page (VmObjectPaged::HandleCloneMinorFaultLocked). The pieces of the
    // clone's own storage mapped over them later are registered without (MapOwnPiece):
    // forks are on no clock, and the hand never unmaps them.
    bool minor = stripes.At(0).has_minor();
    if (minor && !register_all(true)) minor = false;
    NoteMinorFaults(minor);
    if (!minor && !register_all(false)) {
      mapping.reset();
      return Status::kNotSupported;
    }
    mapping->minor_ = minor;
    // Every page starts write-protected (unmapped ones armed), so the first store to a clean
    // page is seen however the page arrives later (18.7).
    if (wp) {
      stripes.ForEach(0, len, [&](const Userfaultfd& uffd, uint64_t rel, uint64_t n) {
        uffd.WriteProtect(start + rel, n, true);
        return true;
      });
    }
    {
      MutexLock lock(&mapping->records_mutex_);
      for (int i = 0; i < 4; ++i) {
        mapping->AddRecordLocked();
        mapping->free_records_.push_back(mapping->records_.back().get());
      }
    }
  }
  if (object != handle_object) mapping->slice_ = handle_object;
  // A clone's own pages go over its root's: refused if they cannot (the VMA limit).
  if (Status s = object->AddMapping(mapping.get()); s != Status::kOk) {
    mapping.reset();
    return s;
  }
  *out = std::move(mapping);
  unwind.armed = false;
  return Status::kOk;
}

MappingObject::~MappingObject() {
  const auto start = reinterpret_cast<uintptr_t>(base_);
  if (!for_holder()) FaultService::Get().Detach(this, generation_ != nullptr, stripes_);
  // No fault thread uses the mapping now and none will: no new records. Stop the VMO from
  // installing into it, then withdraw the requests still outstanding (a completion racing
  // with this is ordered by the source lock; after the cancel none can run).
  vmo_->RemoveMapping(this);
  std::vector<FaultRecord*> records;
  {
    MutexLock lock(&records_mutex_);
    for (auto& record : records_) records.push_back(record.get());
  }
  for (FaultRecord* record : records) record->request()->CancelRequest();
  std::vector<pid_t> unheld;  // threads a suspension held here: no longer parked
  {
    MutexLock lock(&records_mutex_);
    for (auto& record : records_) {
      if (!StateOf(*record).in_use) continue;
      if (StateOf(*record).held) unheld.push_back(record->tid);
      FreeRecordLocked(record.get());
    }
  }
  for (pid_t tid : unheld) NotifyThreadChanged(tid);
  // Only the parts still ours: the others are other mappings' now (mapping_replace.cc).
  std::vector<Piece> live;
  {
    MutexLock lock(&pieces_mutex_);
    live.swap(live_);
  }
  if (for_holder()) {
    ::munmap(holder_failures_, sizeof(RemoteFailurePage));
    if (holder_forks_ >= 0) ::close(holder_forks_);
  } else {
    for (const Piece& piece : live) ::munmap(base_ + piece.begin, piece.end - piece.begin);
  }
  // Threads still asleep in a fault here retry and find nothing mapped.
  for (const Piece& piece : live) {
    stripes_.ForEach(piece.begin, takes_faults() ? piece.end - piece.begin : 0,
                     [&](const Userfaultfd& uffd, uint64_t rel, uint64_t n) {
                       uffd.Wake(start + rel, n);
                       return true;
                     });
  }
  vmo_->RemoveHandle();
}

void MappingObject::RearmWriteProtect(uintptr_t page) {
  if (!takes_faults() || !writable()) return;
  MutexLock lock(&pieces_mutex_);
  ForEachLiveLocked(RelOf(page), kPageSize, [&](uint64_t, uint64_t) {
    UffdAt(page).WriteProtect(page, kPageSize, true);
    return true;
  });
}

bool MappingObject::IsBeyondVmoEnd(uintptr_t page) const {
  const uint64_t offset = vmo_offset() + (page - reinterpret_cast<uintptr_t>(base_));
  return offset >= vmo_->size();
}

bool MappingObject::Clip(uint64_t* offset, uint64_t* len) const {
  const uint64_t from = std::max(*offset, vmo_offset());
  const uint64_t to = std::min(*offset + *len, vmo_offset() + length());
  if (from >= to) return false;
  *offset = from;
  *len = to - from;
  return true;
}

uint64_t MappingObject::Install(uint64_t offset, const void* src, uint64_t len,
                                bool write_protect) {
  // A read-only holder's mapping is private (remote_mapping.cc): a copy into it would stay
  // there, not reach the memfd. The VMO stores such pages in the memfd, and the wake maps
  // them.
  if (MapsOnlyStorage()) return 0;
  if (!takes_faults() || offset < vmo_offset() || offset + len > vmo_offset() + length()) {
    return 0;
  }
  // Stripe by stripe; a page already present stops the copy, as for one userfaultfd, and so
  // does a part that is no longer this mapping's.
  const auto* from = static_cast<const std::byte*>(src);
  uint64_t done = 0;
  {
    MutexLock lock(&pieces_mutex_);
    uint64_t live = 0;
    ForEachLiveLocked(offset - vmo_offset(), len, [&](uint64_t rel, uint64_t n) {
      if (rel != offset - vmo_offset() + live) return false;
      live += n;
      return true;
    });
    stripes_.ForEach(
        offset - vmo_offset(), live, [&](const Userfaultfd& uffd, uint64_t rel, uint64_t n) {
          const uint64_t copied = uffd.Copy(reinterpret_cast<uintptr_t>(base_) + rel, from + done,
                                            n, write_protect && writable(), /*wake=*/true);
          done += copied;
          return copied == n;
        });
  }
  if (done > 0) NoteInstalled(offset, done);
  return done;
}

void MappingObject::NoteInstalled(uint64_t offset, uint64_t len) {
  MutexLock lock(&records_mutex_);
  for (RecordState& state : record_states_) {
    if (state.in_use && state.page_offset >= offset && state.page_offset - offset < len) {
      state.woken_by_install = true;
      any_woken_by_install_ = true;
    }
  }
}

void MappingObject::EndInstalls() {
  MutexLock lock(&records_mutex_);
  if (!any_woken_by_install_) return;
  for (RecordState& state : record_states_) state.woken_by_install = false;
  any_woken_by_install_ = false;
}

void MappingObject::WriteProtect(uint64_t offset, uint64_t len, bool protect) {
  if (!takes_faults() || !writable() || !Clip(&offset, &len)) return;
  MutexLock lock(&pieces_mutex_);
  ForEachLiveLocked(offset - vmo_offset(), len, [&](uint64_t piece, uint64_t size) {
    stripes_.ForEach(piece, size, [&](const Userfaultfd& uffd, uint64_t rel, uint64_t n) {
      uffd.WriteProtect(reinterpret_cast<uintptr_t>(base_) + rel, n, protect);
      return true;
    });
    return true;
  });
}

void MappingObject::Wake(uint64_t offset, uint64_t len) {
  if (!takes_faults() || !Clip(&offset, &len)) return;
  MutexLock lock(&pieces_mutex_);
  ForEachLiveLocked(offset - vmo_offset(), len, [&](uint64_t piece, uint64_t size) {
    stripes_.ForEach(piece, size, [&](const Userfaultfd& uffd, uint64_t rel, uint64_t n) {
      uffd.Wake(reinterpret_cast<uintptr_t>(base_) + rel, n);
      return true;
    });
    return true;
  });
}

MappingObject::FaultRecord* MappingObject::AllocRecord(uint64_t page_offset, bool write, bool wp,
                                                       uint64_t* generation) {
  MutexLock lock(&records_mutex_);
  FaultRecord* record;
  if (free_records_.empty()) {
    // More threads fault here at once than ever before: grow the pool (rare).
    record = AddRecordLocked();
  } else {
    record = free_records_.back();
    free_records_.pop_back();
  }
  RecordState& state = StateOf(*record);
  state.in_use = true;
  state.page_offset = page_offset;
  state.write = write;
  state.wp = wp;
  state.woken_by_install = false;
  *generation = ++state.generation;
  state.started = std::chrono::steady_clock::now();
  const PagerTimeouts timeouts = GetPagerTimeouts();
  state.next_log = timeouts.overtime_wait.count() > 0 ? state.started + timeouts.overtime_wait
                                                      : kInfiniteDeadline;
  return record;
}

MappingObject::FaultRecord* MappingObject::AddRecordLocked() {
  records_.push_back(std::make_unique<FaultRecord>(this, records_.size()));
  record_states_.emplace_back();
  return records_.back().get();
}

MappingObject::RecordState& MappingObject::StateOf(const FaultRecord& record) {
  return record_states_[record.index];
}

void MappingObject::FreeRecordLocked(FaultRecord* record) {
  RecordState& state = StateOf(*record);
  FaultService::UnmarkBlocked(state.blocked_token);
  state.blocked_token = -1;
  FaultService::UnmarkHeld(state.held_token);
  state.held_token = -1;
  state.held = false;
  if (state.waiting) FaultService::waiting_faults.fetch_sub(1, std::memory_order_relaxed);
  state.waiting = false;
  state.in_use = false;
  free_records_.push_back(record);
}

void MappingObject::CheckOvertime(Deadline now) {
  const PagerTimeouts timeouts = GetPagerTimeouts();
  std::vector<FaultRecord*> expired;
  {
    MutexLock lock(&records_mutex_);
    for (auto& record : records_) {
      RecordState& state = StateOf(*record);
      if (!state.waiting || state.timing_out) continue;
      const auto waited =
          std::chrono::duration_cast<std::chrono::milliseconds>(now - state.started);
      if (timeouts.overtime_timeout.count() > 0 && waited >= timeouts.overtime_timeout) {
        state.timing_out = true;
        expired.push_back(record.get());
      } else if (now >= state.next_log) {
        std::fprintf(stderr, "upager: thread %d blocked in a page fault for %lld ms\n",
                     static_cast<int>(record->tid), static_cast<long long>(waited.count()));
        state.next_log += timeouts.overtime_wait;
      }
    }
  }
  if (expired.empty()) return;
  // Cancel with no lock of ours held (the source lock comes first). A completion that wins
  // the race has already woken or failed the thread; it left the record to us.
  for (FaultRecord* record : expired) record->request()->CancelRequest();
  struct Failure {
    uintptr_t address;
    pid_t tid;
  };
  std::vector<Failure> failures;
  {
    MutexLock lock(&records_mutex_);
    for (FaultRecord* record : expired) {
      RecordState& state = StateOf(*record);
      state.timing_out = false;
      if (state.completed_while_timing_out) {
        state.completed_while_timing_out = false;
      } else {
        failures.push_back({record->address, record->tid});
      }
      FreeRecordLocked(record);
    }
  }
  for (const Failure& f : failures) {
    std::fprintf(stderr, "upager: page fault of thread %d timed out\n", static_cast<int>(f.tid));
    Fail(f.address, f.tid, Status::kTimedOut);
  }
}

void MappingObject::OnFault(uintptr_t address, bool write, bool wp, pid_t tid) {
  const uint64_t page_offset = vmo_offset() + ((address & ~static_cast<uintptr_t>(kPageSize - 1)) -
                                               reinterpret_cast<uintptr_t>(base_));
  uint64_t generation = 0;
  FaultRecord* record = AllocRecord(page_offset, write, wp, &generation);
  record->address = address;
  record->tid = tid;
  Status status;
  {
    DeferredWakeups defer;  // the pager's port reader wakes once the VMO lock is free
    status = vmo_->HandleFault(this, FaultInfo{page_offset, write, wp}, record->request());
  }
  if (status == Status::kShouldWait) {
    bool waiting = false;
    {
      // The record belongs to the request now; unless it completed already, the overtime
      // scan may look at it.
      MutexLock lock(&records_mutex_);
      RecordState& state = StateOf(*record);
      if (state.in_use && state.generation == generation) {
        // Blocked on the pager from now on (the packet is queued), like a Wait.
        if (!for_holder()) state.blocked_token = FaultService::MarkBlocked(tid);
        state.waiting = true;
        waiting = true;
        FaultService::waiting_faults.fetch_add(1, std::memory_order_relaxed);
      }
    }
    // A thread suspended before it faulted is held at once, as one suspended in its fault.
    if (waiting && !for_holder()) FaultService::HoldIfSuspended(this, tid);
    return;
  }
  {
    MutexLock lock(&records_mutex_);
    FreeRecordLocked(record);
  }
  if (status != Status::kOk) Fail(address, tid, status);
}

void MappingObject::HoldFaultsOf(pid_t tid) {
  // As the overtime scan cancels (CheckOvertime): marked first, so that a completion racing
  // with the cancel leaves the record to us.
  // A thread sleeps in one fault at a time: no allocation here (HoldIfSuspended calls this
  // on the fault path).
  boost::container::small_vector<FaultRecord*, 2> hit;
  {
    MutexLock lock(&records_mutex_);
    for (auto& record : records_) {
      RecordState& state = StateOf(*record);
      if (!state.in_use || !state.waiting || state.timing_out || record->tid != tid) continue;
      state.timing_out = true;
      hit.push_back(record.get());
    }
  }
  if (hit.empty()) return;
  for (FaultRecord* record : hit) record->request()->CancelRequest();
  MutexLock lock(&records_mutex_);
  for (FaultRecord* record : hit) {
    RecordState& state = StateOf(*record);
    state.timing_out = false;
    if (state.completed_while_timing_out) {
      // Answered first: the thread was woken (or failed) and runs on to a safe point.
      state.completed_while_timing_out = false;
      FreeRecordLocked(record);
      continue;
    }
    // The thread sleeps on in the kernel, with no request: held, not blocked on a pager.
    FaultService::UnmarkBlocked(state.blocked_token);
    state.blocked_token = -1;
    FaultService::waiting_faults.fetch_sub(1, std::memory_order_relaxed);
    state.waiting = false;
    state.held = true;
    state.held_token = FaultService::MarkHeld(tid);
  }
}

void MappingObject::AbandonFaults(uint64_t from, uint64_t to) {
  // As HoldFaultsOf: marked first, so that a completion racing with the cancel leaves the
  // record to us. Their threads are woken by the replacer and retry in the replacement.
  const auto base = reinterpret_cast<uintptr_t>(base_);
  std::vector<FaultRecord*> hit;
  {
    MutexLock lock(&records_mutex_);
    for (auto& record : records_) {
      RecordState& state = StateOf(*record);
      const uint64_t rel = record->address - base;
      if (!state.in_use || state.timing_out || rel < from || rel >= to) continue;
      state.timing_out = true;
      hit.push_back(record.get());
    }
  }
  for (FaultRecord* record : hit) record->request()->CancelRequest();
  MutexLock lock(&records_mutex_);
  for (FaultRecord* record : hit) {
    RecordState& state = StateOf(*record);
    state.timing_out = false;
    state.completed_while_timing_out = false;
    FreeRecordLocked(record);
  }
}

void MappingObject::ReleaseFaultsOf(pid_t tid) {
  struct Fault {
    uintptr_t address;
    bool write;
    bool wp;
  };
  std::vector<Fault> faults;
  {
    MutexLock lock(&records_mutex_);
    for (auto& record : records_) {
      RecordState& state = StateOf(*record);
      if (!state.in_use || !state.held || record->tid != tid) continue;
      faults.push_back({record->address, state.write, state.wp});
      FreeRecordLocked(record.get());
    }
  }
  // Taken again as a fault thread takes a fault just read. Had the page come meanwhile (and
  // the thread run on), this only finds it present.
  for (const Fault& f : faults) OnFault(f.address, f.write, f.wp, tid);
}

void MappingObject::OnRecordDone(FaultRecord* record, Status status) {
  const uintptr_t address = record->address;
  const pid_t tid = record->tid;
  bool woken_by_install;
  {
    MutexLock lock(&records_mutex_);
    RecordState& state = StateOf(*record);
    woken_by_install = state.woken_by_install;
    if (state.timing_out) {
      state.completed_while_timing_out = true;  // the overtime scan frees it
    } else {
      FreeRecordLocked(record);
    }
  }
  if (status == Status::kOk) {
    // Resolved: the thread retries the access, which maps the page or asks again. A supply
    // that copied the page into this mapping has woken it already.
    if (!woken_by_install) {
      UffdAt(address).Wake(address & ~static_cast<uintptr_t>(kPageSize - 1), kPageSize);
    }
  } else {
    Fail(address, tid, status);
  }
}

void MappingObject::Fail(uintptr_t address, pid_t tid, Status status) {
  if (for_holder()) {
    FailInHolder(address, tid, status);
  } else {
    FaultService::Get().FailAccess(UffdAt(address), address, tid, status);
  }
}

}  // namespace upager::internal
