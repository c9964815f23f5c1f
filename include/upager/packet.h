// Port packets: what a Port carries, and the page-request packets a pager receives in them.
//
// Part of the lowest layer: telemetry (src/base) names packet commands, and port.h includes
// this header, so code that names these types through port.h keeps working.
#ifndef UPAGER_PACKET_H_
#define UPAGER_PACKET_H_

#include <cstdint>

#include "upager/status.h"

namespace upager {

inline constexpr uint16_t kPagerVmoRead = 0, kPagerVmoComplete = 1, kPagerVmoDirty = 2;

struct PageRequestPacket {
  uint16_t command;
  uint16_t flags;
  uint32_t reserved0;
  uint64_t offset;
  uint64_t length;
  uint64_t reserved1;
};

inline constexpr uint32_t kPktTypeUser = 0, kPktTypePageRequest = 9;

struct PortPacket {
  uint64_t key;
  uint32_t type;
  Status status;
  union {
    PageRequestPacket page_request;
    uint8_t user[32];
  };
};

}  // namespace upager

#endif  // UPAGER_PACKET_H_
