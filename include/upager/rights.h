// Rights: what a handle lets its holder do, as Zircon's handle rights, with Zircon's values.
//
// Every Vmo handle carries a set of rights. Vmo::Create and Pager::CreateVmo give
// kDefaultVmoRights; Vmo::Duplicate(rights) and Vmo::Replace make handles with fewer. A call
// that needs a right the handle lacks fails with kAccessDenied (vmo.h says which call needs
// which right; docs/zircon-semantics.md section 11 has Zircon's table). Rights never grow:
// asking for one the handle lacks is kInvalidArgs.
//
//   upager::Vmo reader;
//   vmo.Duplicate(upager::kRightRead | upager::kRightMap | upager::kRightDuplicate, &reader);
//   reader.Write(buf, 0, len);   // kAccessDenied
#ifndef UPAGER_RIGHTS_H_
#define UPAGER_RIGHTS_H_

#include <cstdint>

namespace upager {

inline constexpr uint32_t kRightNone = 0;
inline constexpr uint32_t kRightDuplicate = 1u << 0;    // Vmo::Duplicate
inline constexpr uint32_t kRightTransfer = 1u << 1;     // sending the handle over a channel
inline constexpr uint32_t kRightRead = 1u << 2;         // Read, PREFETCH, mapping, queries
inline constexpr uint32_t kRightWrite = 1u << 3;        // Write, SetSize, COMMIT, supplying
inline constexpr uint32_t kRightMap = 1u << 5;          // Mapping::Create
inline constexpr uint32_t kRightGetProperty = 1u << 6;  // (no upager call needs these yet)
inline constexpr uint32_t kRightSetProperty = 1u << 7;
inline constexpr uint32_t kRightSignal = 1u << 12;
inline constexpr uint32_t kRightWait = 1u << 14;
inline constexpr uint32_t kRightInspect = 1u << 15;
// Not a right: asks Duplicate / Replace for the same rights as the source handle.
inline constexpr uint32_t kRightSameRights = 1u << 31;

// What Vmo::Create and Pager::CreateVmo give, as Zircon's default VMO rights: the basic
// rights (transfer, duplicate, wait, inspect), read and write, the property rights, map
// and signal. Zircon adds a resize right for a resizable VMO; upager has none (SetSize
// needs kRightWrite, and kUnavailable still refuses a VMO created without kVmoResizable).
inline constexpr uint32_t kDefaultVmoRights =
    kRightDuplicate | kRightTransfer | kRightWait | kRightInspect | kRightRead | kRightWrite |
    kRightGetProperty | kRightSetProperty | kRightMap | kRightSignal;

}  // namespace upager

#endif  // UPAGER_RIGHTS_H_
