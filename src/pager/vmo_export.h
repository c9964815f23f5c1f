// ExportService: the owner's side of VMO handles held by other processes.
//
// When a handle to a VMO of this process leaves it (Channel::Write), the service makes a
// socket pair, keeps one end bound to a handle of the VMO with the rights being sent, and
// gives the other end to be sent (handle_protocol.h). From then on the service answers that
// end's requests on the holder's behalf, with the handle's rights, through the same Vmo calls
// a local thread makes: a holder's read of an absent page is a request of the VMO's one
// PageSource, joined with every other waiter in every process.
//
// Threads: one service thread polls every connection and answers what never waits (size,
// info, duplicate). Requests that may wait for the pager (read, write, op_range, set_size)
// run on a pool of worker threads, at most one per connection at a time. When a holder's
// end closes (the handle was closed, or the process died) while its request waits, the
// worker running it is killed (ThreadHandle::Kill): its wait returns kIntrKilled, as a
// killed thread's would in Zircon, and the worker exits; the connection's handle goes, and
// with the last handle the VMO (the pager's COMPLETE).
//
// A connection that breaks the protocol (handle_protocol.h) is dropped with one log line;
// others go on.
#ifndef UPAGER_SRC_PAGER_VMO_EXPORT_H_
#define UPAGER_SRC_PAGER_VMO_EXPORT_H_

#include <sys/types.h>

#include <memory>

#include "upager/status.h"
#include "upager/vmo.h"

namespace upager::internal {

// A mapping in a holder's process whose faults are served here: the holder sent its
// userfaultfd (kMap), and the service thread reads it. Made by the fault layer.
class ExportedMapping {
 public:
  virtual ~ExportedMapping() = default;
  // The holder's userfaultfd, polled by the service thread.
  virtual int fault_fd() const = 0;
  // Reads and serves the fault messages waiting there. Never blocks.
  virtual void ServeFaults() = 0;
  // Holds the faults waiting for the pager to the overtime limits (PagerTimeouts): logs
  // those waiting long, fails those waiting too long with kTimedOut. Never blocks.
  virtual void CheckOvertime(Deadline now) = 0;
};

struct RemoteMapRequest {
  uint64_t base;  // in the holder's address space
  uint64_t vmo_offset;
  uint64_t len;
  bool writable;
  pid_t pid;         // the holder's process, as the kernel vouched for it
  int uffd;          // the holder's userfaultfd: taken over by the mapper, even on failure
  int failure_page;  // its failure page (handle_protocol.h): the same
  int forks;         // a clone's: the holder's fork socket (HandleForkMessage), or -1; the same
};

// Makes the ExportedMapping for `request` on `vmo` (rights already checked).
using RemoteMapper = Status (*)(const Vmo& vmo, const RemoteMapRequest& request,
                                std::unique_ptr<ExportedMapping>* out);
// Installed by the fault layer when it starts (FaultService::Get): until then, holders'
// mapping requests are refused with kNotSupported (and one log line says why).
void SetRemoteMapper(RemoteMapper mapper);

// Makes a new connection for `vmo` (a handle of this process, consumed: the service keeps
// it for as long as the connection lives) and returns in `*holder_fd` the end to send, which
// the caller owns (close-on-exec). kNoResources if the socket pair or the service thread
// cannot be made.
Status ExportVmo(Vmo vmo, int* holder_fd);

// If `holder_fd` is the holder's end of one of this process's own connections (a handle
// that went out and came back), sets `*out` to a local handle to its VMO with its rights and
// returns true; the caller then closes `holder_fd`, which ends the connection. False for
// anything else.
bool TakeLocalExport(int holder_fd, Vmo* out);

// Connections alive now (for tests: a closed or dropped one is gone once the service
// thread has seen it; see WaitForExportCount).
size_t ExportCountForTesting();
// Waits until ExportCountForTesting() == n, or `deadline`; true if it did.
bool WaitForExportCount(size_t n, Deadline deadline);
// Requests of holders that wait on a pager right now (their worker is blocked in a
// page-request wait): what a test waits for before it supplies.
size_t ExportWaitersForTesting();

}  // namespace upager::internal

#endif  // UPAGER_SRC_PAGER_VMO_EXPORT_H_
