/* upager's zx compatibility layer: <zircon/process.h>, where Fuchsia declares the calls that
 * name the caller's own objects (zx_thread_self, zx_vmar_root_self). Here they are declared
 * in <zircon/syscalls.h>, which this header includes. */
#ifndef UPAGER_ZX_ZIRCON_PROCESS_H_
#define UPAGER_ZX_ZIRCON_PROCESS_H_

#include <zircon/syscalls.h>
#include <zircon/types.h>

#endif /* UPAGER_ZX_ZIRCON_PROCESS_H_ */
