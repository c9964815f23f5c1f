#include "base/kernel_copy.h"

#include <unistd.h>

#include <array>
#include <atomic>

namespace upager::internal {
namespace {

struct Slot {
  std::atomic<int> tid{0};
  std::atomic<int> status{0};  // Status of a failed copy, 0 (kOk) if none
};

// A fixed table: the copy path must not allocate. A thread that finds it full copies
// unmarked (its failing faults then behave as plain mapped accesses).
std::array<Slot, 256> g_slots;
std::atomic<void (*)(int)> g_close_hook{nullptr};

int CurrentTid() {
  thread_local const int tid = static_cast<int>(::gettid());
  return tid;
}

}  // namespace

KernelCopyScope::KernelCopyScope() : tid_(CurrentTid()) {
  for (size_t i = 0; i < g_slots.size(); ++i) {
    int expected = 0;
    if (g_slots[i].tid.compare_exchange_strong(expected, tid_, std::memory_order_acq_rel)) {
      g_slots[i].status.store(0, std::memory_order_relaxed);
      slot_ = static_cast<int>(i);
      return;
    }
  }
}

KernelCopyScope::~KernelCopyScope() {
  if (slot_ < 0) return;
  Slot& slot = g_slots[static_cast<size_t>(slot_)];
  if (slot.status.load(std::memory_order_acquire) != 0) {
    if (auto* hook = g_close_hook.load(std::memory_order_acquire)) hook(tid_);
  }
  slot.tid.store(0, std::memory_order_release);
}

Status KernelCopyScope::failure() const {
  if (slot_ < 0) return Status::kOk;
  return static_cast<Status>(
      g_slots[static_cast<size_t>(slot_)].status.load(std::memory_order_acquire));
}

bool KernelCopyScope::FailCopy(int tid, Status status) {
  for (Slot& slot : g_slots) {
    if (slot.tid.load(std::memory_order_acquire) == tid) {
      slot.status.store(static_cast<int>(status), std::memory_order_release);
      return true;
    }
  }
  return false;
}

void KernelCopyScope::SetCloseHook(void (*hook)(int tid)) {
  g_close_hook.store(hook, std::memory_order_release);
}

}  // namespace upager::internal
