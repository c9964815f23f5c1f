/* upager's zx compatibility layer: the C/C++ linkage and attribute helpers that Fuchsia's
 * public headers use. Written for upager from Zircon's public documentation. */
#ifndef UPAGER_ZX_ZIRCON_COMPILER_H_
#define UPAGER_ZX_ZIRCON_COMPILER_H_

#ifndef __BEGIN_CDECLS
#ifdef __cplusplus
#define __BEGIN_CDECLS extern "C" {
#define __END_CDECLS }
#else
#define __BEGIN_CDECLS
#define __END_CDECLS
#endif
#endif

#ifndef __WARN_UNUSED_RESULT
#define __WARN_UNUSED_RESULT __attribute__((__warn_unused_result__))
#endif
#ifndef __NO_RETURN
#define __NO_RETURN __attribute__((__noreturn__))
#endif
#ifndef __UNUSED
#define __UNUSED __attribute__((__unused__))
#endif

/* Clang's thread-safety attributes under Zircon's names (no-ops elsewhere). */
#if defined(__clang__)
#define UPAGER_ZX_TA_(x) __attribute__((x))
#else
#define UPAGER_ZX_TA_(x)
#endif
#ifndef __TA_CAPABILITY
#define __TA_CAPABILITY(x) UPAGER_ZX_TA_(capability(x))
#define __TA_GUARDED(x) UPAGER_ZX_TA_(guarded_by(x))
#define __TA_PT_GUARDED(x) UPAGER_ZX_TA_(pt_guarded_by(x))
#define __TA_ACQUIRE(...) UPAGER_ZX_TA_(acquire_capability(__VA_ARGS__))
#define __TA_TRY_ACQUIRE(...) UPAGER_ZX_TA_(try_acquire_capability(__VA_ARGS__))
#define __TA_RELEASE(...) UPAGER_ZX_TA_(release_capability(__VA_ARGS__))
#define __TA_REQUIRES(...) UPAGER_ZX_TA_(requires_capability(__VA_ARGS__))
#define __TA_EXCLUDES(...) UPAGER_ZX_TA_(locks_excluded(__VA_ARGS__))
#define __TA_RETURN_CAPABILITY(x) UPAGER_ZX_TA_(lock_returned(x))
#define __TA_SCOPED_CAPABILITY UPAGER_ZX_TA_(scoped_lockable)
#define __TA_NO_THREAD_SAFETY_ANALYSIS UPAGER_ZX_TA_(no_thread_safety_analysis)
#endif

#endif /* UPAGER_ZX_ZIRCON_COMPILER_H_ */
