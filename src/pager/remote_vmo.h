// RemoteVmo: a VMO handle received from another process; the holder's side of a handle
// connection (handle_protocol.h). Section numbers refer to docs/zircon-semantics.md.
//
// Each call is one request to the VMO's owner, answered there through the owner's own Vmo
// calls with this handle's rights (vmo_export.h): a read of an absent page waits, in the
// owner's process, for the one request of the VMO's PageSource that every process's readers
// join. Reads and writes longer than a message are split into requests of
// kHandleWireMaxData bytes. Calls on one handle are made one at a time (a second thread
// waits for the first); separate handles to one VMO (Duplicate) do not wait for each other.
//
// When the owner is gone (its process died, it dropped the connection, or it answered
// outside the protocol: one log line, and a GetInfo that got such an answer returns
// kIoDataIntegrity), the handle behaves as a handle to a detached VMO (section 9.2): pages
// that were present stay readable through the read-only memfd received with the welcome;
// reading an absent page of a pager-backed VMO, and every other call that needs the owner,
// is kBadState. Never zeros in place of data: a page counts as present only if the memfd holds
// it, and nobody can add or drop pages once the owner is gone.
//
// Waits for the owner (Read, Write, SetSize, OpRange) are Zircon's page-request waits: the
// thread counts as blocked on the pager, and ThreadHandle::Kill / Suspend end the wait with
// kIntrKilled / kIntrRetry. The holder then cancels the request (kCancel): the owner kills
// the thread it ran on, as if the holder's thread had been killed there.
#ifndef UPAGER_SRC_PAGER_REMOTE_VMO_H_
#define UPAGER_SRC_PAGER_REMOTE_VMO_H_

#include <sys/types.h>

#include <cstdint>

#include "pager/handle_protocol.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/status.h"
#include "upager/vmo.h"
#include "vm/vmo_remote.h"

namespace upager::internal {

class RemoteVmo final : public VmoRemote {
 public:
  // Makes `*out` a handle on `connection` (taken over: closed on failure), whose owner's
  // welcome must be waiting on it. kInvalidArgs if it is not a handle connection;
  // kNotSupported (with a log line) if its owner speaks another version of the protocol.
  static Status Import(int connection, Vmo* out);

  ~RemoteVmo() override;

  uint64_t koid() const override { return koid_; }
  Status Read(void* data, uint64_t offset, uint64_t len) override;
  Status Write(const void* data, uint64_t offset, uint64_t len) override;
  Status GetSize(uint64_t* size) override;
  Status SetSize(uint64_t size) override;
  Status OpRange(uint32_t op, uint64_t offset, uint64_t len) override;
  Status GetInfo(VmoInfo* out) override;
  Status Duplicate(uint32_t rights, Vmo* out) override;
  Status CreateChild(uint32_t options, uint64_t offset, uint64_t size, Vmo* out) override;
  int connection() const override { return fd_; }

  // Another connection for this handle with the same rights, for sending it on (the
  // sender then drops this one). `*fd` is the caller's. kBadState if the owner is gone.
  Status Transfer(int* fd) override;

  // A descriptor of the VMO's memfd to map (read-write needs kRightWrite); the caller's.
  Status MemfdForMapping(bool writable, int* fd) override;
  // Asks the owner to serve the faults of a mapping of [vmo_offset, vmo_offset+len) at
  // `base` in this process, registered with `uffd`, failures reported through
  // `failure_page` (both sent, and still the caller's). On kOk `*connection` is the
  // mapping's own connection: the owner serves the mapping until it closes.
  Status Map(uint64_t vmo_offset, uint64_t len, bool writable, uintptr_t base, int uffd,
             int failure_page, int forks, int* connection) override;
  bool reads_through_parent() const override {
    return (welcome_flags_ & kWelcomeReadsThroughParent) != 0;
  }
  Status RootMemfdForMapping(uint64_t vmo_offset, int* fd, uint64_t* fd_offset) override;

  pid_t owner_pid() const { return owner_pid_; }

 private:
  RemoteVmo(int fd, int memfd, const HandleWelcome& welcome);

  // One request and its reply. `reply_data` receives up to `capacity` bytes; `value` and
  // `fd_out` (a descriptor in the reply) when not null. kPeerClosed if the owner is gone
  // (then `gone_` is set for good).
  Status Call(HandleOp op, uint32_t arg, uint64_t offset, uint64_t len, const void* data,
              uint32_t data_len, void* reply_data, uint32_t capacity, uint64_t* value, int* fd_out)
      UPAGER_REQUIRES(mutex_);
  // The owner answered `op` outside the protocol (`why`): one log line, and the handle is
  // detached for good.
  void BrokeProtocol(HandleOp op, const char* why) UPAGER_REQUIRES(mutex_);
  // Reads [offset, offset+len) from the memfd once the owner is gone.
  Status ReadDetached(void* data, uint64_t offset, uint64_t len) const;

  const int fd_;
  const int memfd_;  // read-only; -1 if the owner sent none
  const uint64_t koid_;
  const uint64_t parent_koid_;
  const uint32_t vmo_flags_;
  const uint32_t welcome_flags_;
  const pid_t owner_pid_;
  Mutex mutex_;
  bool gone_ UPAGER_GUARDED_BY(mutex_) = false;
  bool broke_protocol_ UPAGER_GUARDED_BY(mutex_) = false;  // gone_ because of a bad reply
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_PAGER_REMOTE_VMO_H_
