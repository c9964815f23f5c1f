// upager's PortPacket and Zircon's zx_port_packet_t are the same bytes: the layer copies one
// into the other. Checked here, at compile time, field by field.
#include <zircon/syscalls/port.h>

#include <cstddef>

#include "upager/packet.h"

namespace upager::zx {

static_assert(sizeof(zx_port_packet_t) == 48);
static_assert(sizeof(PortPacket) == sizeof(zx_port_packet_t));
static_assert(offsetof(PortPacket, key) == offsetof(zx_port_packet_t, key));
static_assert(offsetof(PortPacket, type) == offsetof(zx_port_packet_t, type));
static_assert(offsetof(PortPacket, status) == offsetof(zx_port_packet_t, status));
static_assert(offsetof(PortPacket, page_request) == offsetof(zx_port_packet_t, page_request));
static_assert(sizeof(PageRequestPacket) == sizeof(zx_packet_page_request_t));
static_assert(offsetof(PageRequestPacket, command) == offsetof(zx_packet_page_request_t, command));
static_assert(offsetof(PageRequestPacket, flags) == offsetof(zx_packet_page_request_t, flags));
static_assert(offsetof(PageRequestPacket, offset) == offsetof(zx_packet_page_request_t, offset));
static_assert(offsetof(PageRequestPacket, length) == offsetof(zx_packet_page_request_t, length));
static_assert(offsetof(PageRequestPacket, reserved1) ==
              offsetof(zx_packet_page_request_t, reserved1));
static_assert(kPktTypePageRequest == ZX_PKT_TYPE_PAGE_REQUEST);
static_assert(kPktTypeUser == ZX_PKT_TYPE_USER);
static_assert(kPagerVmoRead == ZX_PAGER_VMO_READ && kPagerVmoDirty == ZX_PAGER_VMO_DIRTY &&
              kPagerVmoComplete == ZX_PAGER_VMO_COMPLETE);

}  // namespace upager::zx
