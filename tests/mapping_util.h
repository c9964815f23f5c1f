// Helpers for tests that touch mapped VMOs: skipping where userfaultfd is unavailable, and
// probing an access that may fault (SIGBUS or SIGSEGV) from the faulting thread itself, the
// way Zircon's tests catch a fatal page-fault exception.
#ifndef UPAGER_TESTS_MAPPING_UTIL_H_
#define UPAGER_TESTS_MAPPING_UTIL_H_

#include <gtest/gtest.h>
#include <setjmp.h>
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "skip.h"
#include "upager/mapping.h"

namespace upager::testing {

// Skips the test, printing why, where mappings cannot work (fails it in CI: skip.h).
#define UPAGER_REQUIRE_MAPPINGS()                                   \
  do {                                                              \
    std::string why_;                                               \
    if (::upager::MappingSupport(&why_) != ::upager::Status::kOk) { \
      UPAGER_SKIP_OR_FAIL("mappings unavailable here: " + why_);    \
    }                                                               \
  } while (0)

// What an access did.
struct Probe {
  bool ok = false;       // no signal
  int signo = 0;         // SIGBUS or SIGSEGV otherwise
  int code = 0;          // si_code
  void* addr = nullptr;  // si_addr
};

namespace mapping_util_internal {
inline thread_local sigjmp_buf* t_jump = nullptr;
inline thread_local Probe t_probe;

inline void OnFaultSignal(int signo, siginfo_t* info, void* /*context*/) {
  if (t_jump == nullptr) {
    // Not a probed access: die as the default action would.
    signal(signo, SIG_DFL);
    raise(signo);
    return;
  }
  t_probe.signo = signo;
  t_probe.code = info->si_code;
  t_probe.addr = info->si_addr;
  siglongjmp(*t_jump, 1);
}

inline void InstallHandlers() {
  static const bool installed = [] {
    struct sigaction sa {};
    sa.sa_sigaction = &OnFaultSignal;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, nullptr);
    sigaction(SIGSEGV, &sa, nullptr);
    return true;
  }();
  (void)installed;
}

template <typename Fn>
Probe Run(Fn fn) {
  InstallHandlers();
  sigjmp_buf jump;
  t_probe = Probe{};
  if (sigsetjmp(jump, 1) == 0) {
    t_jump = &jump;
    // The handler reads t_jump: keep the compiler from dropping or moving the stores around
    // an access it cannot see fault.
    std::atomic_signal_fence(std::memory_order_seq_cst);
    fn();
    std::atomic_signal_fence(std::memory_order_seq_cst);
    t_jump = nullptr;
    t_probe.ok = true;
    return t_probe;
  }
  t_jump = nullptr;
  return t_probe;
}
}  // namespace mapping_util_internal

// Loads the 64-bit word at `addr` into *value, catching SIGBUS/SIGSEGV.
inline Probe ProbeLoad(const void* addr, uint64_t* value) {
  return mapping_util_internal::Run([&] { *value = *static_cast<const volatile uint64_t*>(addr); });
}

// Stores `value` at `addr`, catching SIGBUS/SIGSEGV.
inline Probe ProbeStore(void* addr, uint64_t value) {
  return mapping_util_internal::Run([&] { *static_cast<volatile uint64_t*>(addr) = value; });
}

}  // namespace upager::testing

#endif  // UPAGER_TESTS_MAPPING_UTIL_H_
