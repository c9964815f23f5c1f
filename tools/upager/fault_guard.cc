// The SIGBUS handler and the per-thread jump buffer behind GuardedCopy / GuardedCall.
#include "fault_guard.h"

#include <setjmp.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
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
  CopyFunction copy;
};

void DoCopy(void* arg) {
  auto* a = static_cast<CopyArgs*>(arg);
  a->copy(a->dst, a->src, a->len);
}

void Memcpy(void* dst, const void* src, size_t len) { std::memcpy(dst, src, len); }

// Bytes from `addr` to the end of its page.
size_t ToPageEnd(const void* addr) {
  return kPageSize - (reinterpret_cast<uintptr_t>(addr) & (kPageSize - 1));
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
  CopyArgs args{dst, src, len, &Memcpy};
  return GuardedCall(&DoCopy, &args, fault);
}

void CopyAscending(void* dst, const void* src, size_t len) {
  auto* out = static_cast<char*>(dst);
  const auto* in = static_cast<const char*>(src);
  while (len > 0) {
    const size_t n = std::min(len, ToPageEnd(in));
    std::memcpy(out, in, n);
    out += n;
    in += n;
    len -= n;
  }
}

size_t CopyUntilFailure(void* dst, const void* src, size_t len, FaultInfo* fault,
                        CopyFunction copy) {
  CopyArgs args{dst, src, len, copy};
  FaultInfo first;
  if (GuardedCall(&DoCopy, &args, &first)) return len;
  // Where the SIGBUS hit says nothing about the pages before it (the copy may have gone
  // backward, or in blocks): find the first failing page from the start.
  auto* out = static_cast<char*>(dst);
  const auto* in = static_cast<const char*>(src);
  for (size_t done = 0; done < len;) {
    const size_t n = std::min(len - done, ToPageEnd(in + done));
    if (!GuardedCopy(out + done, in + done, n, fault)) {
      fault->addr = in + done;
      return done;
    }
    done += n;
  }
  return len;
}

}  // namespace upager::cli
