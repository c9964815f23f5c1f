// RunCatchingFaults (fault_catcher.h): process-wide SIGBUS/SIGSEGV handlers that siglongjmp
// back into the RunCatchingFaults frame of the faulting thread.
#include "upager_zx_testing/fault_catcher.h"

#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include <mutex>

#include "upager/mapping.h"

namespace upager_zx_testing {
namespace {

struct CatchFrame {
  sigjmp_buf jump;
  FaultReport* report;
  CatchFrame* outer;
};

// The innermost RunCatchingFaults of this thread. Written by the thread before it runs
// anything that may fault, so the handler only reads an initialized slot.
thread_local CatchFrame* tls_frame = nullptr;

struct sigaction previous_bus, previous_segv;

void PassOn(int signo, siginfo_t* info, void* context) {
  const struct sigaction& previous = signo == SIGBUS ? previous_bus : previous_segv;
  if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction != nullptr) {
    previous.sa_sigaction(signo, info, context);
    return;
  }
  if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN &&
      previous.sa_handler != nullptr) {
    previous.sa_handler(signo);
    return;
  }
  // Nobody else wants it: the default action, as if no handler had been installed.
  signal(signo, SIG_DFL);
  if (info->si_code <= 0) {
    raise(signo);  // a sent signal does not come back by itself
  }
  // A fault raised by the kernel comes back when the access is retried on return.
}

void OnFault(int signo, siginfo_t* info, void* context) {
  CatchFrame* frame = tls_frame;
  if (frame == nullptr) {
    PassOn(signo, info, context);
    return;
  }
  const void* address = info->si_addr;
  frame->report->signo = signo;
  frame->report->address = reinterpret_cast<uintptr_t>(address);
  frame->report->status = static_cast<zx_status_t>(upager::FaultStatusForAddress(address));
  siglongjmp(frame->jump, 1);
}

void InstallHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_sigaction = OnFault;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous_bus);
    sigaction(SIGSEGV, &action, &previous_segv);
  });
}

}  // namespace

bool RunCatchingFaults(void (*fn)(void*), void* arg, FaultReport* report) {
  InstallHandlers();
  *report = FaultReport{};
  CatchFrame frame;
  frame.report = report;
  frame.outer = tls_frame;
  // savemask = 1: the jump restores this thread's signal mask, which had SIGBUS or SIGSEGV
  // blocked while the handler ran.
  if (sigsetjmp(frame.jump, 1) != 0) {
    tls_frame = frame.outer;
    return false;
  }
  tls_frame = &frame;
  fn(arg);
  tls_frame = frame.outer;
  return true;
}

}  // namespace upager_zx_testing
