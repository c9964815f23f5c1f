// lib/zx's zx::vmo over zx_vmo_* (upager's zx layer; docs/zx-compat.md).
#ifndef UPAGER_COMPAT_LIB_ZX_VMO_H_
#define UPAGER_COMPAT_LIB_ZX_VMO_H_

#include <lib/zx/handle.h>
#include <lib/zx/object.h>

namespace zx {

class vmo final : public object<vmo> {
 public:
  static constexpr zx_obj_type_t TYPE = ZX_OBJ_TYPE_VMO;

  constexpr vmo() = default;
  explicit vmo(zx_handle_t value) : object(value) {}
  explicit vmo(handle&& h) : object(h.release()) {}
  vmo(vmo&& other) noexcept : object(other.release()) {}
  vmo& operator=(vmo&& other) noexcept {
    reset(other.release());
    return *this;
  }

  static zx_status_t create(uint64_t size, uint32_t options, vmo* result) {
    return zx_vmo_create(size, options, result->reset_and_get_address());
  }

  zx_status_t read(void* data, uint64_t offset, size_t len) const {
    return zx_vmo_read(get(), data, offset, len);
  }
  zx_status_t write(const void* data, uint64_t offset, size_t len) const {
    return zx_vmo_write(get(), data, offset, len);
  }
  zx_status_t get_size(uint64_t* size) const { return zx_vmo_get_size(get(), size); }
  zx_status_t set_size(uint64_t size) const { return zx_vmo_set_size(get(), size); }
  zx_status_t get_stream_size(uint64_t* size) const { return zx_vmo_get_stream_size(get(), size); }
  zx_status_t set_stream_size(uint64_t size) const { return zx_vmo_set_stream_size(get(), size); }
  zx_status_t op_range(uint32_t op, uint64_t offset, uint64_t size, void* buffer,
                       size_t buffer_size) const {
    return zx_vmo_op_range(get(), op, offset, size, buffer, buffer_size);
  }
  // `result` may be this vmo: the new handle is stored only once the call returned.
  zx_status_t create_child(uint32_t options, uint64_t offset, uint64_t size, vmo* result) const {
    zx_handle_t out = ZX_HANDLE_INVALID;
    const zx_status_t status = zx_vmo_create_child(get(), options, offset, size, &out);
    result->reset(out);
    return status;
  }
};

using unowned_vmo = unowned<vmo>;

}  // namespace zx

#endif  // UPAGER_COMPAT_LIB_ZX_VMO_H_
