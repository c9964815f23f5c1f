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

#endif /* UPAGER_ZX_ZIRCON_COMPILER_H_ */
