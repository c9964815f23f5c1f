// lib/arch/intrin.h for the zx layer's test support (test-only; docs/zx-compat.md): the
// CPU hints Fuchsia's tests call, on the compiler's builtins.
#ifndef UPAGER_COMPAT_LIB_ARCH_INTRIN_H_
#define UPAGER_COMPAT_LIB_ARCH_INTRIN_H_

#include <atomic>

namespace arch {

// A spin-wait hint.
inline void Yield() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield" ::: "memory");
#else
  std::atomic_signal_fence(std::memory_order_seq_cst);
#endif
}

inline void DeviceMemoryBarrier() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void ThreadMemoryBarrier() { std::atomic_thread_fence(std::memory_order_seq_cst); }

}  // namespace arch

#endif  // UPAGER_COMPAT_LIB_ARCH_INTRIN_H_
