// UntrackedFaultWatch: the safety net under the fault path. It finds threads of this
// process that have slept in a userfaultfd page fault for a whole watch interval without
// the library having any record of that fault.
//
// Why: every mapped fault the library reads is either answered at once or recorded (a
// fault record, marked blocked on the pager) until its request resolves, and records are
// held to the overtime limits (thread.h). A fault whose message was lost, or whose
// wake-up was lost after it was answered, has no record: its thread would sleep for ever,
// silently. The watch makes such a thread visible (one log line, a counter) and recovers
// it by waking the mapped ranges: the woken thread retries the access and faults again,
// and this time the fault is handled.
//
// How: the kernel names the function a sleeping thread waits in (/proc/self/task/T/wchan:
// "handle_userfault" for a userfaultfd fault). A thread found there, not marked as blocked
// on the pager, is a suspect; it is confirmed at the next scan if it is still there, still
// unmarked, and has not run since (its count of voluntary context switches is unchanged):
// it has slept in the same untracked fault for the whole interval. A fault the library is
// dispatching at the moment of a scan is untracked only for microseconds, and a thread
// that faulted again in between has run, so neither is confirmed.
//
// Best effort: where wchan is not readable (a kernel without it, restricted /proc), the
// watch finds nothing. A userfaultfd of some other library in the same process could be
// taken for a lost fault; waking upager's ranges does nothing to it, but it is logged.
#ifndef UPAGER_SRC_FAULT_UNTRACKED_FAULTS_H_
#define UPAGER_SRC_FAULT_UNTRACKED_FAULTS_H_

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace upager::internal {

class UntrackedFaultWatch {
 public:
  // Scans this process's threads. `tracked(tid)` tells whether the library has a record of
  // the fault `tid` sleeps in. Appends to *confirmed the threads that were suspects at the
  // previous scan and still are (see above). Not thread-safe: one fault thread scans at a
  // time (the caller serialises).
  void Scan(bool (*tracked)(pid_t tid), std::vector<pid_t>* confirmed);

 private:
  struct Suspect {
    pid_t tid;
    uint64_t switches;  // voluntary context switches when it was seen
  };
  std::vector<Suspect> suspects_;
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_FAULT_UNTRACKED_FAULTS_H_
