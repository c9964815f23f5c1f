// FaultService: the process's userfaultfds, the threads that read them, and the registry of
// mapped ranges the faults are dispatched to.
//
// The threads start with the first mapping that needs fault service and stop when the last
// one goes. A fault-handling thread never waits for a pager: it looks the page up, installs
// it (or has it filled, fault_filler.h) or populates an asynchronous request whose
// completion wakes (or fails) the faulting thread later, and goes on with the next fault.
//
// Each fault thread has a lane: its own userfaultfd, which only it reads, so that two
// threads never race for one fault message (with one userfaultfd read by two threads, a
// third of the reads found the message taken and the futex traffic rose a thousandfold)
// and a second thread is never slower than one. A small mapping is registered with one
// lane, the one with the fewest mappings. A mapping of at least two stripes is cut into
// stripes (kMinStripe or more, at most kMaxStripes of them) dealt out to the lanes in turn,
// so that the faults of one big mapping are served by every fault thread in parallel
// (docs/scaling.md). Every ioctl on a range of the mapping goes to the userfaultfd of the
// stripe it is in (Stripes).
#ifndef UPAGER_SRC_FAULT_FAULT_SERVICE_H_
#define UPAGER_SRC_FAULT_FAULT_SERVICE_H_

#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fault/untracked_faults.h"
#include "fault/userfaultfd.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/status.h"

namespace upager::internal {

class ThreadState;

class MappingObject;

// Lets this process serve the faults of other processes' mappings of its VMOs
// (holder_mapping.cc); called when the service starts.
void ServeHolderMappings();

// The reclaimer's clock runs when mappings get MINOR faults (minor_faults.cc): called with
// whether a new mapping's userfaultfd has them; logs the fallback once.
void NoteMinorFaults(bool available);

class FaultService {
 public:
  // One start-to-stop of the fault threads: the descriptor they read and how to stop them.
  // Mappings and threads share it, so it outlives whichever lets go last.
  struct Generation;

  // Which lane's userfaultfd serves each part of a mapping: stripe i (of 2^shift bytes,
  // counted from the mapping's start) is served by uffd[i % count]. count == 0: the
  // mapping takes no faults.
  struct Stripes {
    static constexpr size_t kMaxLanes = 64;
    const Userfaultfd* uffd[kMaxLanes] = {};
    uint32_t count = 0;
    uint32_t shift = 63;
    // The userfaultfd of the byte at `rel` bytes from the mapping's start.
    const Userfaultfd& At(uint64_t rel) const { return *uffd[(rel >> shift) % count]; }
    // Calls f(uffd, rel, len) for each piece of [rel, rel + len) within one stripe, in order;
    // stops when f returns false. Returns whether every piece was done.
    template <typename F>
    bool ForEach(uint64_t rel, uint64_t len, F f) const {
      while (len > 0) {
        const uint64_t stripe_end = ((rel >> shift) + 1) << shift;
        const uint64_t n = shift >= 63 ? len : std::min(len, stripe_end - rel);
        if (!f(At(rel), rel, n)) return false;
        rel += n;
        len -= n;
      }
      return true;
    }
  };
  static constexpr uint64_t kMinStripe = 2 << 20;
  static constexpr uint64_t kMaxStripes = 64;

  static FaultService& Get();
  // The service if Get has made it, else null; never allocates (signal handlers call it: a
  // process that never had a mapping has no failures to report).
  static FaultService* IfCreated();

  // kOk if userfaultfd works here; otherwise kNotSupported, logged once, and the reason.
  Status Support(std::string* why);
  Status SetThreads(size_t threads);

  // Makes `mapping`'s range [start, start+len) known. With `faults`, also starts the threads
  // if needed and returns the generation (which keeps the descriptors open) and the lanes'
  // userfaultfds that the stripes of the range must be registered with.
  Status Attach(MappingObject* mapping, uintptr_t start, uint64_t len, bool faults,
                std::shared_ptr<Generation>* generation, Stripes* stripes);
  // Forgets the mapping (every piece of it left, see BeginReplace), waits until no fault
  // thread is using it, and stops the threads if it was the last mapping needing them.
  // `stripes`: the ones Attach gave it.
  void Detach(MappingObject* mapping, bool faults, const Stripes& stripes);

  // Replacing [start, start+len) (mapping_replace.cc): a fixed mapping or a reservation is
  // about to take the place of whatever mappings lie there. BeginReplace waits until no
  // fault thread dispatches to those mappings, takes the range out of their entries (the
  // parts outside stay registered) and returns them in `replaced` (at most kMaxReplaced;
  // false if there are more). Until EndReplace, a fault in the range waits: its thread
  // must not retry before the replacement is registered. One replace at a time.
  static constexpr size_t kMaxReplaced = 16;
  bool BeginReplace(uintptr_t start, uint64_t len, MappingObject** replaced, size_t* count);
  void EndReplace();

  // Failed accesses: remembers the status for FaultStatusForAddress, then queues SIGBUS to
  // the faulting thread and wakes it.
  // `uffd`: the one the address is registered with.
  void FailAccess(const Userfaultfd& uffd, uintptr_t address, pid_t tid, Status status);
  Status StatusForAddress(uintptr_t address);
  // Drops the statuses recorded for [start, start+len): its mapping is gone or replaced.
  void ForgetFailures(uintptr_t start, uint64_t len);
  // KernelCopyScope's close hook: clears the poison left for the thread's failed copies.
  static void ClearPoisons(int tid);

  // Threads asleep in a fault that waits for a pager, for ThreadHandle::IsBlockedOnPager.
  // Mark returns a token for Unmark (-1 if the table is full: the thread is then not seen).
  static int MarkBlocked(pid_t tid);
  static void UnmarkBlocked(int token);
  // Threads whose fault a suspension holds (held_faults.cc), for ThreadHandle::IsParked:
  // the same kind of table.
  static int MarkHeld(pid_t tid);
  static void UnmarkHeld(int token);
  static bool IsHeld(pid_t tid);
  // ThreadState's suspend hook (thread_state.h): holds the faults of a suspended thread on
  // every mapping, releases them once it is resumed or killed. Serialised per process.
  static void OnSuspendChanged(ThreadState* state);
  // A fault of thread `tid` on `mapping` has just started to wait for a pager: if the thread
  // is suspended (as OnSuspendChanged last saw it), the fault is held at once, as if the
  // suspension had come while it waited. Allocates nothing unless the thread is suspended.
  static void HoldIfSuspended(MappingObject* mapping, pid_t tid);

  // Faults waiting for a pager, process-wide: while there are any, fault threads wake up
  // periodically to check them against the overtime limits.
  static inline std::atomic<int64_t> waiting_faults{0};

  // For tests of the untracked-fault watch: the next fault message read is dropped, as if
  // it had been lost, leaving its thread asleep with no record.
  static void DropNextFaultForTesting();
  // The index of the lane serving the mapping that starts at `start` (its first stripe);
  // -1 if none.
  static int LaneForTesting(const void* start);
  // How many lanes serve the mapping that starts at `start`, and its stripe size (0 if it
  // has one lane).
  static uint32_t StripesForTesting(const void* start, uint64_t* stripe);
  // Fault messages read by lane `lane` of the running fault threads since they started.
  static uint64_t LaneFaultsForTesting(int lane);
  // How many times the watch has scanned the process's threads.
  static uint64_t WatchScansForTesting();

 private:
  struct Lane;
  struct Entry {
    MappingObject* mapping;
    uint64_t len;
    int users;         // fault threads dispatching to it right now
    Stripes stripes;   // count 0 if it takes no faults
    Lane* first_lane;  // its first stripe's lane; null if it takes no faults
  };
  FaultService() = default;
  void Run(const std::shared_ptr<Generation>& generation, Lane* lane);
  // The entry of the mapped range holding `page`, counted in its users until LeaveRange
  // (so that Detach waits for the fault thread); null if no mapping holds it any more.
  Entry* EnterRange(uintptr_t page);
  void LeaveRange(Entry* entry);
  void Dispatch(const Userfaultfd& uffd, uintptr_t address, bool write, bool wp, pid_t tid);
  // A MINOR fault (minor_faults.cc): to the mapping's OnMinorFault.
  void DispatchMinor(const Userfaultfd& uffd, uintptr_t address);
  void Stop(std::shared_ptr<Generation> generation);
  // Runs MappingObject::CheckOvertime on every mapping, at most once per scan interval.
  void ScanOvertime();
  // Runs `fn` on every mapping, each held like a fault in progress meanwhile.
  template <typename Fn>
  void ForEachMapping(Fn fn);
  Mutex suspend_mutex_;  // orders OnSuspendChanged calls
  static std::chrono::milliseconds ScanInterval();
  // Runs the untracked-fault watch at most once per watch interval; wakes the mapped ranges
  // if it confirms a thread (untracked_faults.h).
  void WatchUntracked();
  // How often the watch runs: half the overtime log interval (or of the timeout, if the
  // log is off), so that a lost fault is reported about when a tracked one would be; zero
  // when both limits are off.
  static std::chrono::milliseconds WatchInterval();

  Mutex mutex_;
  CondVar idle_;  // an entry's users dropped to zero, or a replace ended
  // The range being replaced (BeginReplace), while `replacing_`.
  bool replacing_ UPAGER_GUARDED_BY(mutex_) = false;
  uintptr_t replacing_start_ UPAGER_GUARDED_BY(mutex_) = 0;
  uint64_t replacing_len_ UPAGER_GUARDED_BY(mutex_) = 0;
  std::map<uintptr_t, Entry> ranges_ UPAGER_GUARDED_BY(mutex_);
  size_t faulting_mappings_ UPAGER_GUARDED_BY(mutex_) = 0;
  size_t threads_ UPAGER_GUARDED_BY(mutex_) = 1;
  std::shared_ptr<Generation> generation_ UPAGER_GUARDED_BY(mutex_);
  bool probed_ UPAGER_GUARDED_BY(mutex_) = false;
  Status support_ UPAGER_GUARDED_BY(mutex_) = Status::kOk;
  std::string why_ UPAGER_GUARDED_BY(mutex_);
  std::atomic<int64_t> last_scan_ns_{0};
  std::atomic<int64_t> last_watch_ns_{0};
  Mutex watch_mutex_;  // one scan at a time
  UntrackedFaultWatch watch_ UPAGER_GUARDED_BY(watch_mutex_);
  // Pages poisoned to fail a copy in the kernel, until their thread's copy scope closes.
  struct Poisoned {
    int tid;
    uintptr_t page;
  };
  std::vector<Poisoned> poisoned_ UPAGER_GUARDED_BY(mutex_);
};

template <typename Fn>
void FaultService::ForEachMapping(Fn fn) {
  std::vector<Entry*> entries;
  {
    MutexLock lock(&mutex_);
    for (auto& [start, entry] : ranges_) {
      ++entry.users;
      entries.push_back(&entry);
    }
  }
  for (Entry* entry : entries) fn(entry->mapping);
  MutexLock lock(&mutex_);
  for (Entry* entry : entries) {
    if (--entry->users == 0) idle_.NotifyAll();
  }
}

}  // namespace upager::internal

#endif  // UPAGER_SRC_FAULT_FAULT_SERVICE_H_
