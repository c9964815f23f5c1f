// The SIGBUS handler and the per-thread jump buffer behind GuardedCopy / GuardedCall.
#include "fault_guard.h"

#include <setjmp.h>
#include <signal.h>

#include <atomic>
#include <cstring>
#include <mutex>

#include "upager/mapping.h"

namespace upager::cli {
namespace {

thread_local sigjmp_buf* t_jump = nullptr;
thread_local FaultInfo t_fault;

void OnSigbus(int signo, siginfo_t* info, void* /*context*/) {
  if (t_jump == nullptr) {
    // Not a guarded access: die the way the default action would.
    signal(signo, SIG_DFL);
    raise(signo);
    return;
  }
  t_fault.addr = info->si_addr;
  t_fault.status = FaultStatusForAddress(info->si_addr);
  siglongjmp(*t_jump, 1);
}

struct CopyArgs {
  void* dst;
  const void* src;
  size_t len;
};

void DoCopy(void* arg) {
  auto* a = static_cast<CopyArgs*>(arg);
  std::memcpy(a->dst, a->src, a->len);
}

}  // namespace

void InstallFaultHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = &OnSigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, nullptr);
  });
}

bool GuardedCall(void (*fn)(void*), void* arg, FaultInfo* fault) {
  InstallFaultHandler();
  sigjmp_buf jump;
  if (sigsetjmp(jump, 1) == 0) {
    t_jump = &jump;
    // The handler reads t_jump: keep the stores on either side of the call.
    std::atomic_signal_fence(std::memory_order_seq_cst);
    fn(arg);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    t_jump = nullptr;
    return true;
  }
  t_jump = nullptr;
  *fault = t_fault;
  return false;
}

bool GuardedCopy(void* dst, const void* src, size_t len, FaultInfo* fault) {
  CopyArgs args{dst, src, len};
  return GuardedCall(&DoCopy, &args, fault);
}

}  // namespace upager::cli
