// InlineLoops: the PagerLoops whose packets the fault-handling thread serves itself, right
// after the fault that queued them (PagerLoop's serve_faults_inline).
#ifndef UPAGER_SRC_PAGER_INLINE_LOOPS_H_
#define UPAGER_SRC_PAGER_INLINE_LOOPS_H_

#include <atomic>
#include <vector>

#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"
#include "upager/pager_loop.h"

namespace upager::internal {

class InlineLoops {
 public:
  static InlineLoops& Get();

  void Add(PagerLoop* loop);
  // Returns once no thread serves `loop` any more.
  void Remove(PagerLoop* loop);
  // Serves every registered loop's queued packets on the calling thread.
  void PollAll();

 private:
  // Held while serving, so that Remove waits for a poll in progress.
  Mutex mutex_;
  std::vector<PagerLoop*> loops_ UPAGER_GUARDED_BY(mutex_);
  std::atomic<size_t> count_{0};  // loops_.size(), readable without the lock
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_PAGER_INLINE_LOOPS_H_
