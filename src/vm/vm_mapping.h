// VmMapping: what a paged VMO needs from a mapping of itself, so that the VM layer can keep
// mappings coherent without knowing how faults are delivered (the userfaultfd backend in
// src/fault implements it).
//
// A VMO keeps the list of its mappings under its lock. Every call below is made with that
// lock held, which is what orders page-state changes and the mapping updates that go with
// them (for example WRITEBACK_BEGIN's write-protect against a fault that would un-protect).
#ifndef UPAGER_SRC_VM_VM_MAPPING_H_
#define UPAGER_SRC_VM_VM_MAPPING_H_

#include <cstdint>

namespace upager::internal {

class VmMapping {
 public:
  // The VMO range mapped, in bytes.
  uint64_t vmo_offset() const { return vmo_offset_; }
  uint64_t length() const { return length_; }
  bool writable() const { return writable_; }
  bool Covers(uint64_t offset) const {
    return offset >= vmo_offset_ && offset - vmo_offset_ < length_;
  }

  // Places `len` bytes from `src` at VMO `offset` both in the VMO's storage and in this
  // mapping's page tables, and wakes the threads faulting there. The range must be inside
  // the mapping and every page must be a hole in the storage. `write_protect`: a later
  // store faults. Returns the bytes placed (fewer on failure: the caller writes the rest to
  // storage).
  //
  // The faults of this mapping waiting on a placed page have been woken by the install, so
  // the completions of their requests that the same supply resolves, right after, need not
  // wake them again: the mapping marks them, from the ranges passed here, until
  // EndInstalls.
  virtual uint64_t Install(uint64_t offset, const void* src, uint64_t len, bool write_protect) = 0;
  // Ends what the installs since the last call count for: the supply (or fault) that made
  // them has reported its pages, and a later completion must wake its thread as usual.
  // Called after every Install, once the pages it placed are reported.
  virtual void EndInstalls() = 0;
  // Write-protects (or un-protects and wakes) the part of [offset, offset+len) this mapping
  // covers. Write-protecting a page that is not mapped arms it: the store after the page
  // comes back still faults.
  virtual void WriteProtect(uint64_t offset, uint64_t len, bool protect) = 0;
  // Wakes threads faulting on the part of [offset, offset+len) this mapping covers.
  virtual void Wake(uint64_t offset, uint64_t len) = 0;
  // The reclaimer's clock (docs/eviction.md). Unmap takes the part of [offset, offset+len)
  // this mapping covers out of its page tables while the pages stay in the VMO's storage,
  // so that the next access takes a MINOR fault. Continue maps back the page-aligned range
  // [offset, offset+len) from storage (a MINOR fault's page), write-protected if
  // `write_protect`, and wakes the threads faulting there; false if nothing was mapped (the
  // caller wakes them).
  virtual void Unmap(uint64_t offset, uint64_t len) = 0;
  virtual bool Continue(uint64_t offset, uint64_t len, bool write_protect) = 0;
  // Mapped clones (docs/clones.md): a mapping of a read-through clone maps its root's
  // storage; MapOwn maps the clone's own storage over the part of the page-aligned
  // [offset, offset+len) this mapping covers instead (the clone owns those pages now:
  // forked or zeroed, or no longer seen in its parent), write-protected if `protect`. It
  // wakes nobody: the caller wakes the threads faulting there once every mapping of the
  // clone has the page (Wake), so that a thread woken in one mapping never finds the root's
  // page in another. False if the pages could not be placed (the process is at its VMA
  // limit, vm.max_map_count): the part then maps what it mapped before. `last_resort`: the
  // VMA kept in reserve for UnmapOwn may be given up for it.
  virtual bool MapOwn(uint64_t offset, uint64_t len, bool protect, bool last_resort) = 0;
  // Takes back a MapOwn of a fork that another mapping could not take: the root's storage
  // mapped over the part of [offset, offset+len) this mapping covers again, write-protected
  // (the VMA the first MapOwn took is given back; one kept in reserve covers the moment in
  // between). False if even that failed: the part keeps the clone's storage.
  virtual bool UnmapOwn(uint64_t offset, uint64_t len) = 0;
  // Whether Install never places pages here (a mapping in another process that maps the
  // memfd privately, docs/processes.md): what is not in the storage must be put there
  // before the wake, or the retried access faults again.
  virtual bool MapsOnlyStorage() const { return false; }
  // Whether a fault of this mapping (of this process) waits on the page at VMO `offset`:
  // a supply of its root's page may then map it here at once (docs/clones.md).
  virtual bool FaultWaitsAt(uint64_t /*offset*/) { return false; }

 protected:
  VmMapping(uint64_t vmo_offset, uint64_t length, bool writable)
      : vmo_offset_(vmo_offset), length_(length), writable_(writable) {}
  virtual ~VmMapping() = default;

 private:
  const uint64_t vmo_offset_;
  const uint64_t length_;
  const bool writable_;
};

// What a fault on a mapping asks of the VMO.
struct FaultInfo {
  uint64_t offset;  // page-aligned VMO offset of the faulting page
  bool write;       // a store
  bool wp;          // a store to a write-protected present page (otherwise the page is missing)
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_VM_VM_MAPPING_H_
