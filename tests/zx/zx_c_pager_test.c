/* A pager written in plain C against <zircon/syscalls.h>, as a Fuchsia pager would be: it
 * creates a pager-backed VMO, answers the READ packet a reader thread's zx_vmo_read causes
 * with zx_pager_supply_pages, and checks the bytes the reader got and every packet field.
 * Exits 0 on success, 1 (with a message) on the first mismatch. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zircon/assert.h> /* valid C too */
#include <zircon/status.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/port.h>

#define PAGE 4096u
#define KEY 0x600dull

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

#define CHECK_OK(call)                                              \
  do {                                                              \
    zx_status_t status_ = (call);                                   \
    if (status_ != ZX_OK) {                                         \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, \
              zx_status_get_string(status_));                       \
      exit(1);                                                      \
    }                                                               \
  } while (0)

struct reader_args {
  zx_handle_t vmo;
  unsigned char bytes[PAGE];
  zx_status_t status;
};

static void* reader(void* p) {
  struct reader_args* args = (struct reader_args*)p;
  args->status = zx_vmo_read(args->vmo, args->bytes, PAGE, PAGE);
  return NULL;
}

int main(void) {
  zx_handle_t pager, port, vmo, aux;
  CHECK_OK(zx_pager_create(0, &pager));
  CHECK_OK(zx_port_create(0, &port));
  CHECK_OK(zx_pager_create_vmo(pager, 0, port, KEY, 2 * PAGE, &vmo));
  CHECK_OK(zx_vmo_create(PAGE, 0, &aux));

  static struct reader_args args;
  args.vmo = vmo;
  args.status = ZX_ERR_INTERNAL;
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, reader, &args) == 0);

  zx_port_packet_t packet;
  CHECK_OK(zx_port_wait(port, zx_deadline_after(ZX_SEC(30)), &packet));
  CHECK(packet.key == KEY);
  CHECK(packet.type == ZX_PKT_TYPE_PAGE_REQUEST);
  CHECK(packet.status == ZX_OK);
  CHECK(packet.page_request.command == ZX_PAGER_VMO_READ);
  CHECK(packet.page_request.flags == 0);
  CHECK(packet.page_request.offset == PAGE);
  CHECK(packet.page_request.length == PAGE);
  CHECK(packet.page_request.reserved0 == 0 && packet.page_request.reserved1 == 0);

  /* The content: the page number in each byte's position pattern. */
  unsigned char content[PAGE];
  for (unsigned i = 0; i < PAGE; ++i) content[i] = (unsigned char)(i * 13u + 1u);
  CHECK_OK(zx_vmo_write(aux, content, 0, PAGE));
  CHECK_OK(zx_pager_supply_pages(pager, vmo, packet.page_request.offset, packet.page_request.length,
                                 aux, 0));
  CHECK(pthread_join(thread, NULL) == 0);
  CHECK_OK(args.status);
  CHECK(memcmp(args.bytes, content, PAGE) == 0);

  /* The page is there now: a second read asks nothing. */
  unsigned char again[16];
  CHECK_OK(zx_vmo_read(vmo, again, PAGE + 100, sizeof again));
  CHECK(memcmp(again, content + 100, sizeof again) == 0);
  CHECK(zx_port_wait(port, 0, &packet) == ZX_ERR_TIMED_OUT);

  /* Closing the VMO's only handle ends it: COMPLETE. */
  CHECK_OK(zx_handle_close(vmo));
  CHECK_OK(zx_port_wait(port, zx_deadline_after(ZX_SEC(30)), &packet));
  CHECK(packet.key == KEY && packet.type == ZX_PKT_TYPE_PAGE_REQUEST);
  CHECK(packet.page_request.command == ZX_PAGER_VMO_COMPLETE);
  CHECK(packet.page_request.offset == 0 && packet.page_request.length == 0);

  CHECK_OK(zx_handle_close(aux));
  CHECK_OK(zx_handle_close(port));
  CHECK_OK(zx_handle_close(pager));
  printf("zx_c_pager_test: ok\n");
  return 0;
}
