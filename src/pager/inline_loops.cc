#include "pager/inline_loops.h"

#include <algorithm>

namespace upager::internal {

InlineLoops& InlineLoops::Get() {
  static InlineLoops* loops = new InlineLoops;  // used by fault threads until exit
  return *loops;
}

void InlineLoops::Add(PagerLoop* loop) {
  MutexLock lock(&mutex_);
  loops_.push_back(loop);
  count_.store(loops_.size(), std::memory_order_release);
}

void InlineLoops::Remove(PagerLoop* loop) {
  MutexLock lock(&mutex_);
  std::erase(loops_, loop);
  count_.store(loops_.size(), std::memory_order_release);
}

void InlineLoops::PollAll() {
  if (count_.load(std::memory_order_acquire) == 0) return;
  MutexLock lock(&mutex_);
  for (PagerLoop* loop : loops_) loop->Poll();
}

}  // namespace upager::internal
