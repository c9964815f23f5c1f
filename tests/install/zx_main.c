/* A C consumer of an installed upager::zx: the headers compile as C, and the calls link and
 * run (an anonymous VMO written and read back, and a user packet through a port). */
#include <stdio.h>
#include <string.h>
#include <zircon/status.h>
#include <zircon/syscalls.h>

int main(void) {
  zx_handle_t vmo, port;
  if (zx_vmo_create(4096, 0, &vmo) != ZX_OK || zx_port_create(0, &port) != ZX_OK) return 1;
  const char text[] = "zx";
  char got[sizeof text] = {0};
  if (zx_vmo_write(vmo, text, 0, sizeof text) != ZX_OK) return 1;
  if (zx_vmo_read(vmo, got, 0, sizeof got) != ZX_OK || strcmp(got, text) != 0) return 1;
  zx_port_packet_t packet;
  memset(&packet, 0, sizeof packet);
  packet.key = 42;
  if (zx_port_queue(port, &packet) != ZX_OK) return 1;
  memset(&packet, 0, sizeof packet);
  if (zx_port_wait(port, 0, &packet) != ZX_OK || packet.key != 42) return 1;
  if (zx_handle_close(vmo) != ZX_OK || zx_handle_close(port) != ZX_OK) return 1;
  printf("upager::zx consumer: %s\n", zx_status_get_string(ZX_OK));
  return 0;
}
