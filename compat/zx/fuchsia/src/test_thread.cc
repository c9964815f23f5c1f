// upager's own implementation of the TestThread that Fuchsia's core pager tests declare in
// their test_thread.h (compiled with -DUPAGER_FUCHSIA_SOURCE_DIR; docs/zx-compat.md). It
// replaces Fuchsia's test_thread.cc, which reads crashes from an exception channel: here the
// thread catches its own SIGBUS / SIGSEGV (upager_zx_testing/catching_thread.h), records the
// address and FaultStatusForAddress as the report's synth_code, and exits, so every Wait
// below is a join followed by a look at what happened.
//
// The header's members are used as they are: thrd_ is the thread, zx_thread_ a zx handle to
// it (suspend, ZX_INFO_THREAD, ZX_TASK_TERMINATED), success_ the function's result,
// startup_sync_ holds the function until Start has the handle. exception_channel_ stays
// invalid. What a crash recorded is kept beside the object, in a table keyed by it.
#include "test_thread.h"

#include <stdio.h>
#include <zircon/assert.h>

#include <map>
#include <memory>
#include <mutex>

#include "upager_zx_testing/catching_thread.h"

namespace pager_tests {
namespace {

using upager_zx_testing::ThreadOutcome;

// How long WaitForBlocked polls before it gives up (a thread that never blocks).
constexpr zx_duration_t kBlockedDeadline = ZX_SEC(60);

std::mutex outcomes_mutex;
std::map<const TestThread*, std::unique_ptr<ThreadOutcome>>& Outcomes() {
  static auto* outcomes = new std::map<const TestThread*, std::unique_ptr<ThreadOutcome>>;
  return *outcomes;
}

ThreadOutcome* OutcomeOf(const TestThread* thread) {
  std::lock_guard lock(outcomes_mutex);
  auto& slot = Outcomes()[thread];
  if (!slot) slot = std::make_unique<ThreadOutcome>();
  return slot.get();
}

void ForgetOutcome(const TestThread* thread) {
  std::lock_guard lock(outcomes_mutex);
  Outcomes().erase(thread);
}

}  // namespace

TestThread::TestThread(fit::function<bool()> fn) : fn_(std::move(fn)) {}

TestThread::~TestThread() {
  if (thrd_) {
    ZX_ASSERT(upager_zx_testing::JoinCatchingThread(thrd_));
  }
  ForgetOutcome(this);
}

bool TestThread::Start() {
  ZX_ASSERT(thrd_ == 0);
  zx_handle_t handle = ZX_HANDLE_INVALID;
  const zx_status_t status = upager_zx_testing::StartCatchingThread(
      [](void* self) { static_cast<TestThread*>(self)->Run(); }, this, OutcomeOf(this), &thrd_,
      &handle);
  if (status != ZX_OK) {
    thrd_ = 0;
    fprintf(stderr, "TestThread: cannot start: %s\n", zx_status_get_string(status));
    return false;
  }
  zx_thread_.reset(handle);
  sync_completion_signal(&startup_sync_);
  return true;
}

void TestThread::Run() {
  if (sync_completion_wait(&startup_sync_, ZX_TIME_INFINITE) == ZX_OK) {
    success_ = fn_();
  }
}

bool TestThread::Wait() { return Wait(ExpectStatus::Success, std::nullopt); }

bool TestThread::WaitForFailure() { return Wait(ExpectStatus::Failure, std::nullopt); }

bool TestThread::WaitForCrash(uintptr_t crash_addr, zx_status_t error_status) {
  return Wait(ExpectStatus::Crash, std::make_pair(crash_addr, error_status));
}

bool TestThread::WaitForAnyCrash() { return Wait(ExpectStatus::Crash, std::nullopt); }

bool TestThread::Wait(ExpectStatus expect,
                      std::optional<std::pair<uintptr_t, zx_status_t>> crash_info) {
  // A thread that was never started has nothing to wait for; one already waited for keeps
  // its outcome.
  const ThreadOutcome* outcome = OutcomeOf(this);
  if (thrd_) {
    ZX_ASSERT(upager_zx_testing::JoinCatchingThread(thrd_));
    thrd_ = 0;
  } else if (!zx_thread_.is_valid()) {
    return false;
  }
  if (!outcome->crashed) {
    switch (expect) {
      case ExpectStatus::Success: return success_;
      case ExpectStatus::Failure: return !success_;
      case ExpectStatus::Crash: return false;
    }
  }
  const zx_exception_report_t report = upager_zx_testing::ExceptionReportFor(outcome->fault);
  bool expected = expect == ExpectStatus::Crash;
  if (expected && crash_info) {
    expected = outcome->fault.address == crash_info->first &&
               static_cast<zx_status_t>(report.context.synth_code) == crash_info->second;
  }
  if (!expected) PrintDebugInfo(report);
  return expected;
}

void TestThread::PrintDebugInfo(const zx_exception_report_t& report) {
  const ThreadOutcome* outcome = OutcomeOf(this);
  printf("\nCrash info: signal %d at address %#zx, synth_code %s (%d), exception type %#x\n",
         outcome->fault.signo, static_cast<size_t>(outcome->fault.address),
         zx_status_get_string(static_cast<zx_status_t>(report.context.synth_code)),
         static_cast<int>(report.context.synth_code), report.header.type);
}

bool TestThread::WaitForBlocked() {
  return upager_zx_testing::WaitForBlockedOnPager(zx_thread_.get(),
                                                  zx_deadline_after(kBlockedDeadline));
}

}  // namespace pager_tests
