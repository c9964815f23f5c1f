// Pager: the user-pager API, Zircon's zx_pager_* calls.
//
// A pager creates VMOs whose content it supplies on demand. Every page request for such a
// VMO arrives as a packet on the port given at creation (one packet per VMO in the port at
// a time, FIFO behind it); the pager answers with SupplyPages, or OpRange(kPagerOpFail),
// and acknowledges DIRTY requests of kVmoTrapDirty VMOs with OpRange(kPagerOpDirty).
// The VMO handles passed in must carry the rights of docs/zircon-semantics.md section 11
// (kAccessDenied otherwise; vmo.h lists them); Pager and Port handles carry no rights.
#ifndef UPAGER_PAGER_H_
#define UPAGER_PAGER_H_

#include <cstddef>
#include <cstdint>

#include "upager/dirty_state.h"
#include "upager/internal/handle.h"
#include "upager/port.h"
#include "upager/status.h"
#include "upager/vmo.h"

namespace upager {

namespace internal {
class PagerObject;
// Instantiated in the library, which alone sees the object type.
extern template class Handle<PagerObject>;
}  // namespace internal

inline constexpr uint32_t kPagerOpFail = 1, kPagerOpDirty = 2, kPagerOpWritebackBegin = 3,
                          kPagerOpWritebackEnd = 4;

class Pager : private internal::Handle<internal::PagerObject> {
 public:
  // `options` must be 0.
  static Status Create(uint32_t options, Pager* out);
  Status Duplicate(Pager* out) const;
  // Closing the last handle closes the pager: its VMOs are detached, queued packets are
  // withdrawn and none are delivered any more (docs/zircon-semantics.md 5.3).
  void Reset() { Handle::Reset(); }
  bool is_valid() const { return Handle::is_valid(); }

  // A pager-backed VMO of `size` bytes (rounded up to pages) whose requests are queued on
  // `port` with `key`. Options: kVmoResizable, kVmoTrapDirty.
  Status CreateVmo(uint32_t options, const Port& port, uint64_t key, uint64_t size, Vmo* out) const;
  // Detaches `vmo` from this pager (9.2): outstanding and later requests fail with
  // kBadState, clean pages are dropped, dirty ones kept; a COMPLETE packet is queued.
  Status DetachVmo(const Vmo& vmo) const;
  // Moves the pages of `aux` [aux_offset, +len) into `vmo` [offset, +len), filling only
  // absent slots; uncommitted aux pages become zero pages; the aux range ends decommitted.
  Status SupplyPages(const Vmo& vmo, uint64_t offset, uint64_t len, const Vmo& aux,
                     uint64_t aux_offset) const;
  // upager extension: supplies from memory instead of an aux VMO (one copy fewer). Same
  // rules and errors as SupplyPages, with `data` standing for a fully committed aux range.
  Status SupplyPagesFromBuffer(const Vmo& vmo, uint64_t offset, uint64_t len,
                               const void* data) const;
  // kPagerOpFail (data = the failure code, sign-extended), kPagerOpDirty,
  // kPagerOpWritebackBegin (data 0 or kVmoDirtyRangeIsZero), kPagerOpWritebackEnd.
  Status OpRange(uint32_t op, const Vmo& vmo, uint64_t offset, uint64_t len, uint64_t data) const;
  // Dirty ranges of [offset, offset+len) as VmoDirtyRange entries (13).
  Status QueryDirtyRanges(const Vmo& vmo, uint64_t offset, uint64_t len, void* buffer,
                          size_t buffer_size, size_t* actual, size_t* avail) const;
  // PagerVmoStats of `vmo`; options 0 or kPagerResetVmoStats (14).
  Status QueryVmoStats(const Vmo& vmo, uint32_t options, void* buffer, size_t buffer_size) const;

 private:
  friend struct internal::HandleAccess;
};

}  // namespace upager

#endif  // UPAGER_PAGER_H_
