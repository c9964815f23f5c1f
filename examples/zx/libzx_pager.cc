// A user pager written with lib/zx's C++ classes, as it would be written for Fuchsia.
//
// One pager and one port serve two VMOs, told apart by their packet keys. Each READ is filled
// with bytes generated from the VMO's key and offset, except that the second VMO's "file" is
// only half as long as the VMO: a READ beyond that fails with ZX_PAGER_OP_FAIL and ZX_ERR_IO,
// which the reader sees as the status of its zx_vmo_read. The first VMO is read through a
// mapping, the second with vmo::read; every byte is checked. Exits 0 on success; 1, with a
// message, on the first failure.
//
// Built with the examples, and from an installed upager by tests/install (find_package).
#include <lib/zx/pager.h>
#include <lib/zx/port.h>
#include <lib/zx/vmar.h>
#include <lib/zx/vmo.h>
#include <zircon/status.h>
#include <zircon/syscalls/port.h>

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr uint64_t kPages = 16;
constexpr uint64_t kStopKey = 100;

void Check(zx_status_t status, const char* what) {
  if (status != ZX_OK) {
    std::fprintf(stderr, "%s: %s\n", what, zx_status_get_string(status));
    std::exit(1);
  }
}

unsigned char ContentAt(uint64_t key, uint64_t offset) {
  return static_cast<unsigned char>(key * 71 + (offset / 4096) * 31 + offset % 251);
}

class Server {
 public:
  Server(const zx::pager& pager, const zx::port& port, uint64_t page)
      : pager_(pager), port_(port), page_(page) {
    Check(zx::vmo::create(kPages * page, 0, &scratch_), "scratch vmo");
  }

  // The VMO with packet key `key`, whose content ends `valid_bytes` in.
  void Add(uint64_t key, const zx::vmo* vmo, uint64_t valid_bytes) {
    vmos_.push_back({key, vmo, valid_bytes});
  }

  void Run() {
    std::vector<unsigned char> bytes(kPages * page_);
    for (;;) {
      zx_port_packet_t packet;
      Check(port_.wait(zx::time::infinite(), &packet), "port wait");
      if (packet.type == ZX_PKT_TYPE_USER && packet.key == kStopKey) return;
      if (packet.type != ZX_PKT_TYPE_PAGE_REQUEST ||
          packet.page_request.command != ZX_PAGER_VMO_READ) {
        continue;  // ZX_PAGER_VMO_COMPLETE when a VMO goes
      }
      const Entry* entry = Find(packet.key);
      if (entry == nullptr) continue;
      const uint64_t offset = packet.page_request.offset;
      const uint64_t length = packet.page_request.length;
      if (offset + length > entry->valid_bytes) {
        Check(pager_.op_range(ZX_PAGER_OP_FAIL, *entry->vmo, offset, length, ZX_ERR_IO),
              "op_range FAIL");
        ++failed_;
        continue;
      }
      for (uint64_t i = 0; i < length; ++i) bytes[i] = ContentAt(packet.key, offset + i);
      Check(scratch_.write(bytes.data(), 0, length), "scratch write");
      Check(pager_.supply_pages(*entry->vmo, offset, length, scratch_, 0), "supply_pages");
      supplied_ += length / page_;
    }
  }

  uint64_t supplied() const { return supplied_; }
  uint64_t failed() const { return failed_; }

 private:
  struct Entry {
    uint64_t key;
    const zx::vmo* vmo;
    uint64_t valid_bytes;
  };
  const Entry* Find(uint64_t key) const {
    for (const Entry& e : vmos_) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }

  const zx::pager& pager_;
  const zx::port& port_;
  const uint64_t page_;
  zx::vmo scratch_;
  std::vector<Entry> vmos_;
  uint64_t supplied_ = 0;
  uint64_t failed_ = 0;
};

bool Expect(const unsigned char* got, uint64_t key, uint64_t offset, uint64_t len,
            const char* how) {
  for (uint64_t i = 0; i < len; ++i) {
    if (got[i] != ContentAt(key, offset + i)) {
      std::fprintf(stderr, "%s: byte %llu of VMO %llu is %u, expected %u\n", how,
                   static_cast<unsigned long long>(offset + i),
                   static_cast<unsigned long long>(key), got[i], ContentAt(key, offset + i));
      return false;
    }
  }
  return true;
}

}  // namespace

int main() {
  const uint64_t page = zx_system_get_page_size();
  const uint64_t size = kPages * page;
  zx::pager pager;
  zx::port port;
  Check(zx::pager::create(0, &pager), "pager create");
  Check(zx::port::create(0, &port), "port create");
  zx::vmo mapped_vmo, read_vmo;
  Check(pager.create_vmo(0, port, 1, size, &mapped_vmo), "create_vmo 1");
  Check(pager.create_vmo(0, port, 2, size, &read_vmo), "create_vmo 2");

  Server server(pager, port, page);
  server.Add(1, &mapped_vmo, size);
  server.Add(2, &read_vmo, size / 2);
  std::thread thread([&server] { server.Run(); });

  zx_vaddr_t addr = 0;
  Check(zx::vmar::root_self()->map(ZX_VM_PERM_READ, 0, mapped_vmo, 0, size, &addr), "map");
  if (!Expect(reinterpret_cast<const unsigned char*>(addr), 1, 0, size, "mapping")) return 1;
  Check(zx::vmar::root_self()->unmap(addr, size), "unmap");

  std::vector<unsigned char> buffer(size);
  Check(read_vmo.read(buffer.data(), 0, size / 2), "read of the valid half");
  if (!Expect(buffer.data(), 2, 0, size / 2, "vmo::read")) return 1;
  const zx_status_t beyond = read_vmo.read(buffer.data(), size / 2, page);
  if (beyond != ZX_ERR_IO) {
    std::fprintf(stderr, "read beyond the file: %s, expected ZX_ERR_IO\n",
                 zx_status_get_string(beyond));
    return 1;
  }

  zx_port_packet_t stop{};
  stop.key = kStopKey;
  stop.type = ZX_PKT_TYPE_USER;
  Check(port.queue(&stop), "port queue");
  thread.join();
  // Every page of the mapped VMO once (one READ per page touched), the readable half of the
  // other in one READ, and the one failed READ.
  if (server.supplied() != kPages + kPages / 2 || server.failed() != 1) {
    std::fprintf(stderr, "supplied %llu pages and failed %llu READs; expected %llu and 1\n",
                 static_cast<unsigned long long>(server.supplied()),
                 static_cast<unsigned long long>(server.failed()),
                 static_cast<unsigned long long>(kPages + kPages / 2));
    return 1;
  }
  std::printf("lib/zx pager: %llu pages supplied, 1 READ failed with ZX_ERR_IO, bytes checked\n",
              static_cast<unsigned long long>(server.supplied()));
  return 0;
}
