// PagerObject: the object behind a Pager handle. It creates pager-backed VMOs (each with a
// PagerProxy delivering to a port and a PageSource tracking its requests) and, when its last
// handle goes, closes them all (docs/zircon-semantics.md 5.3).
#ifndef UPAGER_SRC_PAGER_PAGER_OBJECT_H_
#define UPAGER_SRC_PAGER_PAGER_OBJECT_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "pager/pager_proxy.h"
#include "pager/port_object.h"
#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/status.h"
#include "upager/vmo.h"

namespace upager::internal {

class PagerObject {
 public:
  PagerObject();
  ~PagerObject();
  PagerObject(const PagerObject&) = delete;
  PagerObject& operator=(const PagerObject&) = delete;

  // Unique among all objects with a koid; VMOs created here record it.
  uint64_t koid() const { return koid_; }

  // Handles of the public Pager; the first AddHandle is done by Pager::Create, and the
  // RemoveHandle of the last one closes the pager.
  void AddHandle();
  void RemoveHandle();

  // A pager-backed VMO of `size` bytes (rounded up to pages) whose packets go to `port`
  // with `key`. kInvalidArgs for option bits other than kVmoResizable | kVmoTrapDirty,
  // kOutOfRange for a size above kMaxVmoSize, kBadState once the pager is closed.
  Status CreateVmo(uint32_t options, std::shared_ptr<PortObject> port, uint64_t key, uint64_t size,
                   Vmo* out);

  // Closes every VMO's source and withdraws their queued packets; later CreateVmo calls
  // fail with kBadState. Idempotent.
  void Close();
  bool is_closed() const;

 private:
  const uint64_t koid_;
  mutable Mutex mutex_;
  uint64_t handles_ UPAGER_GUARDED_BY(mutex_) = 0;
  bool closed_ UPAGER_GUARDED_BY(mutex_) = false;
  // Weak: a proxy lives as long as its source or its queued packet; expired entries are
  // pruned as VMOs are created.
  std::vector<std::weak_ptr<PagerProxy>> proxies_ UPAGER_GUARDED_BY(mutex_);
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_PAGER_PAGER_OBJECT_H_
