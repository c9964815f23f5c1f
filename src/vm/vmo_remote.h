// VmoRemote: what a Vmo handle stands on when its VMO lives in another process.
//
// A Vmo is either local (the VmObjectPaged of this process behind Handle<VmObjectPaged>) or
// remote: a handle received from another process, whose calls are requests to that process
// (src/pager/remote_vmo.h implements this interface over a handle connection). The Vmo
// methods check rights and arguments the same way for both, then call one or the other.
#ifndef UPAGER_SRC_VM_VMO_REMOTE_H_
#define UPAGER_SRC_VM_VMO_REMOTE_H_

#include <cstdint>

#include "upager/status.h"
#include "upager/vmo.h"

namespace upager::internal {

class VmoRemote {
 public:
  virtual ~VmoRemote() = default;

  // The VMO's koid in its owner's process (the same in every process).
  virtual uint64_t koid() const = 0;
  virtual Status Read(void* data, uint64_t offset, uint64_t len) = 0;
  virtual Status Write(const void* data, uint64_t offset, uint64_t len) = 0;
  virtual Status GetSize(uint64_t* size) = 0;
  virtual Status SetSize(uint64_t size) = 0;
  virtual Status OpRange(uint32_t op, uint64_t offset, uint64_t len) = 0;
  virtual Status GetInfo(VmoInfo* out) = 0;
  // A new handle with `rights` (already checked against this handle's).
  virtual Status Duplicate(uint32_t rights, Vmo* out) = 0;
  // A child made by the owner with this handle (Vmo::CreateChild's arguments, checked again
  // there); `*out` is a handle to it, held from the owner as this one.
  virtual Status CreateChild(uint32_t options, uint64_t offset, uint64_t size, Vmo* out) = 0;
  // Another descriptor for this handle with the same rights, for sending it on (the
  // caller owns it; the sender then drops this handle).
  virtual Status Transfer(int* fd) = 0;
  // Mappings of the VMO in this process (src/pager/remote_vmo.h says what they do).
  virtual Status MemfdForMapping(bool writable, int* fd) = 0;
  // A read-through clone (docs/clones.md): mapped as its root's memfd (read-only, at
  // `*fd_offset` for `vmo_offset`) with its own pages over it.
  virtual bool reads_through_parent() const = 0;
  virtual Status RootMemfdForMapping(uint64_t vmo_offset, int* fd, uint64_t* fd_offset) = 0;
  // `forks`: a clone's fork socket (handle_protocol.h, HandleForkMessage), or -1.
  virtual Status Map(uint64_t vmo_offset, uint64_t len, bool writable, uintptr_t base, int uffd,
                     int failure_page, int forks, int* connection) = 0;
  // The connection descriptor that is this handle.
  virtual int connection() const = 0;
};

// Another handle to a local VMO with the same rights (the export service's own handles).
Vmo CopyVmoHandle(const Vmo& vmo);

}  // namespace upager::internal

#endif  // UPAGER_SRC_VM_VMO_REMOTE_H_
