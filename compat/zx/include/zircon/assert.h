/* upager's zx compatibility layer: ZX_ASSERT and its kin. A failed assertion prints the
 * condition, the file and the line (and the message, for the _MSG forms) to stderr and
 * aborts. ZX_DEBUG_ASSERT checks only when NDEBUG is not defined. Written for upager from
 * Zircon's public documentation. */
#ifndef UPAGER_ZX_ZIRCON_ASSERT_H_
#define UPAGER_ZX_ZIRCON_ASSERT_H_

#include <stdio.h>
#include <stdlib.h>

#define ZX_PANIC(...)                                           \
  do {                                                          \
    fprintf(stderr, "ZX_PANIC at %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                               \
    fputc('\n', stderr);                                        \
    abort();                                                    \
  } while (0)

#define ZX_ASSERT(x)                                                              \
  do {                                                                            \
    if (!(x)) {                                                                   \
      fprintf(stderr, "ZX_ASSERT failed at %s:%d: %s\n", __FILE__, __LINE__, #x); \
      abort();                                                                    \
    }                                                                             \
  } while (0)

#define ZX_ASSERT_MSG(x, ...)                                                     \
  do {                                                                            \
    if (!(x)) {                                                                   \
      fprintf(stderr, "ZX_ASSERT failed at %s:%d: %s: ", __FILE__, __LINE__, #x); \
      fprintf(stderr, __VA_ARGS__);                                               \
      fputc('\n', stderr);                                                        \
      abort();                                                                    \
    }                                                                             \
  } while (0)

#ifdef NDEBUG
#define ZX_DEBUG_ASSERT_IMPLEMENTED 0
#else
#define ZX_DEBUG_ASSERT_IMPLEMENTED 1
#endif
#define ZX_DEBUG_ASSERT(x)             \
  do {                                 \
    if (ZX_DEBUG_ASSERT_IMPLEMENTED) { \
      ZX_ASSERT(x);                    \
    }                                  \
  } while (0)
#define ZX_DEBUG_ASSERT_MSG(x, ...)    \
  do {                                 \
    if (ZX_DEBUG_ASSERT_IMPLEMENTED) { \
      ZX_ASSERT_MSG(x, __VA_ARGS__);   \
    }                                  \
  } while (0)

#endif /* UPAGER_ZX_ZIRCON_ASSERT_H_ */
