// Helpers shared by the Vmo reproductions of Zircon's pager writeback tests
// (pager_writeback_test.cc and pager_writeback_*_test.cc).
// Section numbers refer to docs/zircon-semantics.md.
#ifndef UPAGER_TESTS_PAGER_WRITEBACK_UTIL_H_
#define UPAGER_TESTS_PAGER_WRITEBACK_UTIL_H_

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "test_util.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/thread.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
constexpr std::chrono::milliseconds kPoll{0};

// Expands a TEST_WITH_AND_WITHOUT_TRAP_DIRTY entry into NameTrapDirty and NameNoTrapDirty.
#define TEST_WITH_AND_WITHOUT_TRAP_DIRTY(name, base_options)                      \
  void name(uint32_t create_option);                                              \
  TEST(PagerWriteback, name##TrapDirty) { name((base_options) | kVmoTrapDirty); } \
  TEST(PagerWriteback, name##NoTrapDirty) { name(base_options); }                 \
  void name(uint32_t create_option)

// The content UserPager supplies for pages [first, first+count) of `vmo`.
inline std::vector<uint8_t> Pattern(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<uint8_t> out(P(count));
  for (uint64_t i = 0; i < count; ++i) {
    UserPager::Pattern(vmo.key, first + i, out.data() + P(i));
  }
  return out;
}

// check_buffer_data: pages [first, first+count) must hold `expected` (which covers them).
inline ::testing::AssertionResult CheckData(const TestVmo& vmo, uint64_t first, uint64_t count,
                                            const uint8_t* expected) {
  std::vector<uint8_t> data(P(count));
  if (Status s = vmo.vmo.Read(data.data(), P(first), P(count)); s != Status::kOk) {
    return ::testing::AssertionFailure() << "read failed: " << s;
  }
  for (uint64_t i = 0; i < P(count); ++i) {
    if (data[i] != expected[i]) {
      return ::testing::AssertionFailure()
             << "byte " << i << " of page " << first << "+: " << int{data[i]} << " expected "
             << int{expected[i]};
    }
  }
  return ::testing::AssertionSuccess();
}
inline ::testing::AssertionResult CheckData(const TestVmo& vmo, uint64_t first, uint64_t count,
                                            const std::vector<uint8_t>& expected) {
  return CheckData(vmo, first, count, expected.data());
}

// CheckData for single pages: written-back zero ranges are absent (10.5) and reading them
// would need a READ, which Zircon's mapping-based checks happen not to trigger.
inline ::testing::AssertionResult CheckPages(const TestVmo& vmo,
                                             std::initializer_list<uint64_t> pages,
                                             const std::vector<uint8_t>& expected) {
  for (uint64_t page : pages) {
    if (auto r = CheckData(vmo, page, 1, expected.data() + P(page)); !r) return r;
  }
  return ::testing::AssertionSuccess();
}

constexpr uint64_t kZ = kVmoDirtyRangeIsZero;

// No READ or DIRTY request for `vmo` is waiting (GetPageRead/DirtyRequest with timeout 0).
inline bool NoRequests(UserPager& pager, const TestVmo& vmo) {
  return !pager.HasPageRequest(vmo, kPagerVmoRead, kPoll) &&
         !pager.HasPageRequest(vmo, kPagerVmoDirty, kPoll);
}

inline uint64_t CommittedBytes(const TestVmo& vmo) {
  VmoInfo info{};
  vmo.vmo.GetInfo(&info);
  return info.committed_bytes;
}

// Writes `count` pages of `value` at page `first`.
inline Status WriteFill(const TestVmo& vmo, uint64_t first, uint64_t count, uint8_t value) {
  std::vector<uint8_t> data(P(count), value);
  return vmo.vmo.Write(data.data(), P(first), P(count));
}
inline Status WriteByte(const TestVmo& vmo, uint64_t offset, uint8_t value) {
  return vmo.vmo.Write(&value, offset, 1);
}
inline Status ReadPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<uint8_t> data(P(count));
  return vmo.vmo.Read(data.data(), P(first), P(count));
}

// Supplies pages [first, first+count) from an aux VMO that has no committed pages, which
// leaves zero markers (10.1).
inline Status SupplyZeroPages(UserPager& pager, const TestVmo& vmo, uint64_t first,
                              uint64_t count) {
  Vmo aux;
  if (Status s = Vmo::Create(P(count), 0, &aux); s != Status::kOk) return s;
  return pager.pager().SupplyPages(vmo.vmo, P(first), P(count), aux, 0);
}

inline Status Resize(const TestVmo& vmo, uint64_t pages) { return vmo.vmo.SetSize(P(pages)); }

// Writes `count` pages of `value` at `first` on a thread, acknowledging the DIRTY request
// [first, first+count) if the VMO traps.
inline void WriteAndAck(UserPager& pager, const TestVmo& vmo, uint32_t options, uint64_t first,
                        uint64_t count, uint8_t value) {
  TestThread t([&] { return WriteFill(vmo, first, count, value); });
  t.Start();
  if (options & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(vmo, first, count));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(vmo, first, count));
  }
  ASSERT_TRUE(t.Wait());
}

inline Status ZeroPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
  return vmo.vmo.OpRange(kVmoOpZero, P(first), P(count));
}

}  // namespace upager::testing

#endif  // UPAGER_TESTS_PAGER_WRITEBACK_UTIL_H_
