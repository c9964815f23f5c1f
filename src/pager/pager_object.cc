#include "pager/pager_object.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "base/handle_access.h"
#include "base/koid.h"
#include "upager/page_source.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

PagerObject::PagerObject() : koid_(NextKoid()) {}

PagerObject::~PagerObject() { Close(); }

void PagerObject::AddHandle() {
  MutexLock lock(&mutex_);
  ++handles_;
}

void PagerObject::RemoveHandle() {
  {
    MutexLock lock(&mutex_);
    assert(handles_ > 0);
    if (--handles_ > 0) {
      return;
    }
  }
  Close();
}

bool PagerObject::is_closed() const {
  MutexLock lock(&mutex_);
  return closed_;
}

Status PagerObject::CreateVmo(uint32_t options, std::shared_ptr<PortObject> port, uint64_t key,
                              uint64_t size, Vmo* out) {
  if ((options & ~(kVmoResizable | kVmoTrapDirty | kVmoUnbounded)) != 0 ||
      (options & (kVmoResizable | kVmoUnbounded)) == (kVmoResizable | kVmoUnbounded)) {
    return Status::kInvalidArgs;
  }
  if (size > kMaxVmoSize) {
    return Status::kOutOfRange;
  }
  if (is_closed()) {
    return Status::kBadState;
  }
  auto proxy = std::make_shared<PagerProxy>(std::move(port), key, (options & kVmoTrapDirty) != 0);
  auto source = std::make_shared<PageSource>(proxy);
  proxy->SetSource(source);
  std::shared_ptr<VmObjectPaged> object;
  // Rounded up to pages there (an unbounded VMO keeps `size` as its stream size).
  Status status = VmObjectPaged::CreatePagerBacked(size, options, source, koid_, &object);

  bool registered = false;
  if (status == Status::kOk) {
    MutexLock lock(&mutex_);
    if (closed_) {
      status = Status::kBadState;  // lost a race with Close
    } else {
      std::erase_if(proxies_, [](const std::weak_ptr<PagerProxy>& p) { return p.expired(); });
      proxies_.push_back(proxy);
      registered = true;
    }
  }
  if (!registered) {
    // No handle will ever name this VMO: retire the proxy as a closed pager would, so that
    // closing the source on the way out does not send a COMPLETE for a VMO nobody saw.
    proxy->OnPagerClosed();
    return status;
  }
  *out = HandleAccess::Make<Vmo>(std::move(object));
  return Status::kOk;
}

void PagerObject::Close() {
  std::vector<std::weak_ptr<PagerProxy>> proxies;
  {
    MutexLock lock(&mutex_);
    if (closed_) {
      return;
    }
    closed_ = true;
    proxies.swap(proxies_);
  }
  // Without mutex_: closing a proxy closes its source, which calls back into the proxy
  // and takes the port lock.
  for (const std::weak_ptr<PagerProxy>& weak : proxies) {
    if (std::shared_ptr<PagerProxy> proxy = weak.lock()) {
      proxy->OnPagerClosed();
    }
  }
}

}  // namespace upager::internal
