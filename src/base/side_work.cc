#include "base/side_work.h"

namespace upager::internal {
namespace {
thread_local SideWork* t_current = nullptr;
}  // namespace

SideWork::SideWork() : previous_(t_current) { t_current = this; }

SideWork::~SideWork() {
  // OnStop may still add or remove watches of its own: take each out before stopping it.
  while (count_ > 0) {
    Watcher* watcher = watches_[count_ - 1].watcher;
    --count_;
    watcher->OnStop();
  }
  t_current = previous_;
}

SideWork* SideWork::Current() { return t_current; }

bool SideWork::Add(int fd, Watcher* watcher) {
  if (count_ == watches_.size() || fd < 0 || watcher == nullptr) return false;
  watches_[count_++] = Watch{fd, watcher};
  return true;
}

void SideWork::Remove(Watcher* watcher) {
  for (size_t i = 0; i < count_;) {
    if (watches_[i].watcher == watcher) {
      watches_[i] = watches_[--count_];
    } else {
      ++i;
    }
  }
}

size_t SideWork::Fill(pollfd* fds) const {
  for (size_t i = 0; i < count_; ++i) fds[i] = pollfd{watches_[i].fd, POLLIN, 0};
  return count_;
}

void SideWork::Dispatch(const pollfd* fds, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (fds[i].revents == 0) continue;
    // Still watched? OnReady of an earlier one may have removed it.
    for (size_t j = 0; j < count_; ++j) {
      if (watches_[j].fd == fds[i].fd) {
        watches_[j].watcher->OnReady();
        break;
      }
    }
  }
}

}  // namespace upager::internal
