// Helpers shared by the mapped reproductions of Zircon's pager writeback tests
// (pager_writeback_vmar_test.cc and pager_writeback_vmar_*_test.cc).
#ifndef UPAGER_TESTS_PAGER_WRITEBACK_VMAR_UTIL_H_
#define UPAGER_TESTS_PAGER_WRITEBACK_VMAR_UTIL_H_

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "mapping_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
constexpr std::chrono::milliseconds kPoll{0};
constexpr uint64_t kZ = kVmoDirtyRangeIsZero;

// A 64-bit word whose bytes are all `byte`.
constexpr uint64_t Bytes(uint8_t byte) { return 0x0101010101010101ull * byte; }

// Expands a TEST_WITH_AND_WITHOUT_TRAP_DIRTY entry into NameTrapDirty and NameNoTrapDirty.
#define TEST_WITH_AND_WITHOUT_TRAP_DIRTY(name, base_options)                          \
  void name(uint32_t create_option);                                                  \
  TEST(PagerWritebackVmar, name##TrapDirty) { name((base_options) | kVmoTrapDirty); } \
  TEST(PagerWritebackVmar, name##NoTrapDirty) { name(base_options); }                 \
  void name(uint32_t create_option)

// The content UserPager supplies for pages [first, first+count) of `vmo`.
inline std::vector<uint8_t> Pattern(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<uint8_t> out(P(count));
  for (uint64_t i = 0; i < count; ++i) {
    UserPager::Pattern(vmo.key, first + i, out.data() + P(i));
  }
  return out;
}

// Puts `value` in the word at byte `offset` of `expected`.
inline void SetWord(std::vector<uint8_t>* expected, uint64_t offset, uint64_t value) {
  std::memcpy(expected->data() + offset, &value, sizeof(value));
}

inline ::testing::AssertionResult Compare(const std::vector<uint8_t>& data, const uint8_t* expected,
                                          uint64_t first, const char* how) {
  for (uint64_t i = 0; i < data.size(); ++i) {
    if (data[i] != expected[i]) {
      return ::testing::AssertionFailure()
             << how << ": byte " << i % kPageSize << " of page " << first + i / kPageSize << " is "
             << int{data[i]} << ", expected " << int{expected[i]};
    }
  }
  return ::testing::AssertionSuccess();
}

// check_buffer_data through Vmo::Read: pages [first, first+count) hold `expected`, which
// covers the whole VMO from page 0.
inline ::testing::AssertionResult CheckData(const TestVmo& vmo, uint64_t first, uint64_t count,
                                            const std::vector<uint8_t>& expected) {
  std::vector<uint8_t> data(P(count));
  if (Status s = vmo.vmo.Read(data.data(), P(first), P(count)); s != Status::kOk) {
    return ::testing::AssertionFailure() << "Vmo::Read failed: " << s;
  }
  return Compare(data, expected.data() + P(first), first, "Vmo::Read");
}

// check_buffer_data through the mapping: pages [first, first+count) of `map` (page indices
// within the mapping) hold `expected` (which covers the whole mapping). A fault fails.
inline ::testing::AssertionResult CheckMapped(const Mapping& map, uint64_t first, uint64_t count,
                                              const std::vector<uint8_t>& expected) {
  std::vector<uint8_t> data(P(count));
  const Probe probe = mapping_util_internal::Run(
      [&] { std::memcpy(data.data(), map.data() + P(first), P(count)); });
  if (!probe.ok) {
    return ::testing::AssertionFailure()
           << "mapped read faulted: signal " << probe.signo << " at " << probe.addr << " ("
           << FaultStatusForAddress(probe.addr) << ")";
  }
  return Compare(data, expected.data() + P(first), first, "mapping");
}

// Both of the above for single pages of a mapping of the whole VMO.
inline ::testing::AssertionResult CheckPages(const TestVmo& vmo, const Mapping& map,
                                             std::initializer_list<uint64_t> pages,
                                             const std::vector<uint8_t>& expected) {
  for (uint64_t page : pages) {
    if (auto r = CheckData(vmo, page, 1, expected); !r) return r;
    if (auto r = CheckMapped(map, page, 1, expected); !r) return r;
  }
  return ::testing::AssertionSuccess();
}

// Fills pages [first, first+count) of `map` with `value` in increasing address order (so the
// pages fault one after the other), catching a fault.
inline Probe FillPages(const Mapping& map, uint64_t first, uint64_t count, uint8_t value) {
  return mapping_util_internal::Run([&] {
    auto* words = reinterpret_cast<volatile uint64_t*>(map.data() + P(first));
    for (uint64_t i = 0; i < P(count) / sizeof(uint64_t); ++i) words[i] = Bytes(value);
  });
}

// WaitForCrash(addr, status): the access raised SIGBUS at `addr` because of `status`.
inline ::testing::AssertionResult CrashedWith(const Probe& probe, const void* addr, Status status) {
  if (probe.ok) return ::testing::AssertionFailure() << "the access did not fault";
  if (probe.signo != SIGBUS) {
    return ::testing::AssertionFailure() << "signal " << probe.signo << ", expected SIGBUS";
  }
  if (probe.addr != addr) {
    return ::testing::AssertionFailure() << "si_addr " << probe.addr << ", expected " << addr;
  }
  if (const Status actual = FaultStatusForAddress(addr); actual != status) {
    return ::testing::AssertionFailure()
           << "FaultStatusForAddress " << actual << ", expected " << status;
  }
  return ::testing::AssertionSuccess();
}

// No READ or DIRTY request for `vmo` is waiting.
inline bool NoRequests(UserPager& pager, const TestVmo& vmo) {
  return !pager.HasPageRequest(vmo, kPagerVmoRead, kPoll) &&
         !pager.HasPageRequest(vmo, kPagerVmoDirty, kPoll);
}

inline uint64_t CommittedBytes(const TestVmo& vmo) {
  VmoInfo info{};
  vmo.vmo.GetInfo(&info);
  return info.committed_bytes;
}

inline Status Resize(const TestVmo& vmo, uint64_t pages) { return vmo.vmo.SetSize(P(pages)); }

inline Status ZeroPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
  return vmo.vmo.OpRange(kVmoOpZero, P(first), P(count));
}

// Supplies pages [first, first+count) from an aux VMO with no committed pages: zero markers.
inline Status SupplyZeroPages(UserPager& pager, const TestVmo& vmo, uint64_t first,
                              uint64_t count) {
  Vmo aux;
  if (Status s = Vmo::Create(P(count), 0, &aux); s != Status::kOk) return s;
  return pager.pager().SupplyPages(vmo.vmo, P(first), P(count), aux, 0);
}

// Maps pages [first, first+count) of `vmo` for reading and writing.
inline Status Map(const TestVmo& vmo, uint64_t first, uint64_t count, Mapping* map) {
  return Mapping::Create(vmo.vmo, P(first), P(count), kMapRead | kMapWrite, map);
}

}  // namespace upager::testing

#endif  // UPAGER_TESTS_PAGER_WRITEBACK_VMAR_UTIL_H_
