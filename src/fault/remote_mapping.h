// RemoteMapping: a Mapping of a VMO held from another process (channel.h), on the
// holder's side. docs/processes.md has the design; holder_mapping.cc the owner's side.
//
// The holder maps the VMO's memfd itself (read-only unless the handle has kRightWrite),
// registers the range with a userfaultfd of its own and sends that userfaultfd to the
// VMO's owner, whose service thread then reads the faults and answers them exactly as it
// answers its own: the faulting thread here sleeps in the kernel until the owner's supply
// copies the page in, with no thread of this process in between. A page supplied once is
// in the memfd, seen by every process that maps it.
//
// Failure: the owner writes the status to this mapping's failure page, then queues SIGBUS
// to the faulting thread (si_addr = the address); FaultStatusForAddress reads the status
// back (FailureFor).
//
// A read-through clone (docs/clones.md, Mapped clones in another process): the holder maps
// the ROOT's memfd, read-only and private, so that loads of unforked pages are the root's
// page-cache pages, write-protected. A store to one is a write-protect fault that the owner
// serves by forking the page; the owner then asks this process, on the mapping's fork
// socket, to map the clone's own memfd over that page (the owner cannot change another
// process's address space), and wakes the faulting thread only once every mapping of the
// clone, here and everywhere, maps the fork. The watcher thread does the mapping.
//
// The owner's death: a watcher thread of this process notices the mapping's connection
// close, wakes the threads asleep in the range (their faults were the owner's, now
// unanswered) and from then on reads the userfaultfd itself, failing every access to an
// absent page with kBadState (SIGBUS), as after a detach. Present pages stay mapped and
// readable.
#ifndef UPAGER_SRC_FAULT_REMOTE_MAPPING_H_
#define UPAGER_SRC_FAULT_REMOTE_MAPPING_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "fault/userfaultfd.h"
#include "pager/handle_protocol.h"
#include "upager/status.h"
#include "upager/vmo.h"

namespace upager::internal {

class RemoteMapping {
 public:
  // As Mapping::Create, for a remote `vmo` (rights and flags already checked).
  static Status Create(const Vmo& vmo, uint64_t vmo_offset, uint64_t len, bool writable,
                       std::unique_ptr<RemoteMapping>* out);
  // Unmaps and ends the mapping's connection (the owner stops serving it).
  ~RemoteMapping();

  std::byte* data() const { return base_; }
  uint64_t size() const { return len_; }

  // The status the owner reported for the latest failed access to the page of `address`
  // in a remote mapping; kNotFound if none. Async-signal-safe.
  static Status FailureFor(uintptr_t address);

  // For the watcher (remote_mapping.cc): the owner is gone.
  void Orphan();
  void ServeOrphanFaults();
  // A clone's fork socket has a message: map the clone's own memfd (or the root's back)
  // where the owner says and answer: placed, or failed (this process at its VMA limit). False
  // if the owner is gone or broke the protocol (the mapping is orphaned).
  bool ServeForks();
  int connection() const { return connection_; }
  int uffd() const { return uffd_.fd(); }
  int forks() const { return forks_; }

 private:
  RemoteMapping() = default;

  std::byte* base_ = nullptr;
  uint64_t len_ = 0;
  bool writable_ = false;
  Userfaultfd uffd_;
  int connection_ = -1;
  int failure_fd_ = -1;
  // A read-through clone's (docs/clones.md): the mapping maps its root's memfd privately,
  // and the clone's own memfd over it where the owner says (HandleForkMessage on forks_).
  // The root's memfd is kept too (at root_offset_ for vmo_offset_), to map a page back to it
  // when the owner takes a fork back (ForkOp::kMapRoot).
  uint64_t vmo_offset_ = 0;
  int own_fd_ = -1;
  int root_fd_ = -1;
  uint64_t root_offset_ = 0;
  // Maps `fd` at `fd_offset` over the piece at `start`, as the mapping maps it, registered
  // (and write-protected if `protect`); false if the mmap failed (the piece as it was).
  bool PlacePiece(uintptr_t start, uint64_t len, int fd, uint64_t fd_offset, bool shared,
                  bool protect, bool last_resort);
  int forks_ = -1;
  RemoteFailurePage* failures_ = nullptr;
  int slot_ = -1;  // in the process's table of failure pages
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_FAULT_REMOTE_MAPPING_H_
