// Helpers shared by the mapped variants of Zircon's core pager tests (pager_vmar_test.cc,
// pager_vmar_detach_test.cc).
#ifndef UPAGER_TESTS_PAGER_VMAR_UTIL_H_
#define UPAGER_TESTS_PAGER_VMAR_UTIL_H_

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
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
constexpr std::chrono::seconds kLong{10};
constexpr uint64_t kWordsPerPage = kPageSize / sizeof(uint64_t);

// Maps the whole VMO read/write, as Zircon's UserPager::CreateVmo does.
inline Status MapVmo(const TestVmo& vmo, Mapping* map, uint32_t flags = kMapRead | kMapWrite) {
  uint64_t size = 0;
  if (Status s = vmo.vmo.GetSize(&size); s != Status::kOk) return s;
  return Mapping::Create(vmo.vmo, 0, size, flags, map);
}

// mapping_util_internal::Run with compiler barriers around the access. Run publishes its
// jump buffer in a thread_local (`t_jump = &jump; fn(); t_jump = nullptr;`); when `fn` is
// inlined and makes no calls, nothing reads t_jump in between as far as the compiler can
// see, and g++ -O2 drops the first store as dead: a signal then finds t_jump null and
// kills the process. A signal fence (a compiler barrier) keeps the store.
template <typename Fn>
Probe FencedRun(Fn fn) {
  return mapping_util_internal::Run([&] {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    fn();
    std::atomic_signal_fence(std::memory_order_seq_cst);
  });
}

// ProbeLoad, fenced.
inline Probe Load(const void* addr, uint64_t* value) {
  return FencedRun([&] { *value = *static_cast<const volatile uint64_t*>(addr); });
}

// One 8-byte load from an address that is not 8-aligned (x86-64 and arm64 do it in one
// access). Exempt from UBSan's alignment check: its report would print the bytes around the
// address, reading an absent page of the mapping from inside the signal-unsafe runtime.
inline __attribute__((no_sanitize("alignment"), noinline)) uint64_t LoadStraddling(
    const void* addr) {
  return *static_cast<const volatile uint64_t*>(addr);
}

// Loads pages [first, first+count) of the mapping into `out`, word by word and in order (so
// that a scan faults one page after the other), catching SIGBUS/SIGSEGV.
inline Probe LoadMapped(const std::byte* base, uint64_t first, uint64_t count,
                        std::vector<char>* out) {
  out->assign(P(count), 0);
  auto* words = reinterpret_cast<uint64_t*>(out->data());
  const auto* mapped = reinterpret_cast<const volatile uint64_t*>(base + P(first));
  return FencedRun([&] {
    for (uint64_t i = 0; i < count * kWordsPerPage; ++i) words[i] = mapped[i];
  });
}

// Zircon's check_buffer(vmo, first, count, /*check_vmar=*/true): the mapped pages hold the
// pattern UserPager supplies. `probe`, if given, receives what the access did.
inline bool CheckMapped(const Mapping& map, const TestVmo& vmo, uint64_t first, uint64_t count,
                        Probe* probe = nullptr) {
  std::vector<char> data;
  const Probe p = LoadMapped(map.data(), first, count, &data);
  if (probe != nullptr) *probe = p;
  return p.ok && UserPager::CheckPattern(vmo.key, first, count, data.data());
}

// check_buffer_data through the mapping: the mapped pages hold `expected`.
inline bool CheckMappedData(const Mapping& map, uint64_t first, uint64_t count,
                            const void* expected, Probe* probe = nullptr) {
  std::vector<char> data;
  const Probe p = LoadMapped(map.data(), first, count, &data);
  if (probe != nullptr) *probe = p;
  return p.ok && std::memcmp(data.data(), expected, P(count)) == 0;
}

// Zircon's WaitForCrash(addr, status), once the thread has returned: its access ended in
// SIGBUS at `addr` and the status behind it is `status`.
inline ::testing::AssertionResult CrashedAt(const Probe& probe, const void* addr, Status status) {
  if (probe.ok) return ::testing::AssertionFailure() << "the access succeeded";
  if (probe.signo != SIGBUS) {
    return ::testing::AssertionFailure() << "signal " << probe.signo << ", not SIGBUS";
  }
  if (probe.addr != addr) {
    return ::testing::AssertionFailure() << "si_addr " << probe.addr << ", expected " << addr;
  }
  const Status actual = FaultStatusForAddress(probe.addr);
  if (actual != status) {
    return ::testing::AssertionFailure()
           << "FaultStatusForAddress " << actual << ", expected " << status;
  }
  return ::testing::AssertionSuccess();
}

// Zircon's WaitForCrash: joins `t`, whose access recorded in `probe` must have ended in
// SIGBUS at `addr` with `status` behind it (a lost wake-up would show as kTimedOut).
inline ::testing::AssertionResult WaitForCrash(TestThread& t, const Probe& probe, const void* addr,
                                               Status status) {
  t.Join();
  return CrashedAt(probe, addr, status);
}

}  // namespace upager::testing

#endif  // UPAGER_TESTS_PAGER_VMAR_UTIL_H_
