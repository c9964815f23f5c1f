// Clang thread-safety analysis attributes.
//
// With clang and -Wthread-safety these let the compiler check, at every access, that the
// lock guarding a field is held. With other compilers they expand to nothing.
#ifndef UPAGER_INTERNAL_THREAD_ANNOTATIONS_H_
#define UPAGER_INTERNAL_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define UPAGER_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define UPAGER_THREAD_ANNOTATION(x)
#endif

#define UPAGER_CAPABILITY(name) UPAGER_THREAD_ANNOTATION(capability(name))
#define UPAGER_SCOPED_CAPABILITY UPAGER_THREAD_ANNOTATION(scoped_lockable)
#define UPAGER_GUARDED_BY(x) UPAGER_THREAD_ANNOTATION(guarded_by(x))
#define UPAGER_PT_GUARDED_BY(x) UPAGER_THREAD_ANNOTATION(pt_guarded_by(x))
#define UPAGER_ACQUIRED_BEFORE(...) UPAGER_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define UPAGER_ACQUIRED_AFTER(...) UPAGER_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define UPAGER_REQUIRES(...) UPAGER_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define UPAGER_EXCLUDES(...) UPAGER_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define UPAGER_ACQUIRE(...) UPAGER_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define UPAGER_RELEASE(...) UPAGER_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define UPAGER_TRY_ACQUIRE(...) UPAGER_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define UPAGER_ASSERT_CAPABILITY(x) UPAGER_THREAD_ANNOTATION(assert_capability(x))
#define UPAGER_RETURN_CAPABILITY(x) UPAGER_THREAD_ANNOTATION(lock_returned(x))
#define UPAGER_NO_THREAD_SAFETY_ANALYSIS UPAGER_THREAD_ANNOTATION(no_thread_safety_analysis)

#endif  // UPAGER_INTERNAL_THREAD_ANNOTATIONS_H_
