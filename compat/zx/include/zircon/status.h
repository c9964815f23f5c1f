/* upager's zx compatibility layer: status names. */
#ifndef UPAGER_ZX_ZIRCON_STATUS_H_
#define UPAGER_ZX_ZIRCON_STATUS_H_

#include <zircon/compiler.h>
#include <zircon/types.h>

__BEGIN_CDECLS

/* The symbolic name of `status` ("ZX_OK", "ZX_ERR_BAD_HANDLE", ...); "(UNKNOWN)" for a value
 * with no name. The string is static. */
const char* zx_status_get_string(zx_status_t status);

__END_CDECLS

#endif /* UPAGER_ZX_ZIRCON_STATUS_H_ */
