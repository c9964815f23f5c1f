#include "providers/request_queue.h"

#include <algorithm>

namespace upager::internal {

bool RequestQueue::Push(uint64_t offset, uint64_t length) {
  {
    MutexLock lock(&mutex_);
    if (closed_) return false;
    pending_.push_back({offset, length});
    cv_.NotifyOne();
  }
  if (notify_) notify_();
  return true;
}

bool RequestQueue::WaitPending() {
  MutexLock lock(&mutex_);
  while (pending_.empty() && !closed_) cv_.Wait(&mutex_);
  return !closed_ || !pending_.empty();
}

bool RequestQueue::HasPending() {
  MutexLock lock(&mutex_);
  return !pending_.empty();
}

std::vector<ByteRange> RequestQueue::TakeMerged() {
  std::vector<ByteRange> pending;
  std::vector<ByteRange> pieces;
  MutexLock lock(&mutex_);
  pending.swap(pending_);
  // Each request minus the ranges in flight.
  for (const ByteRange& r : pending) {
    uint64_t start = r.offset;
    const uint64_t end = r.end();
    auto it = in_flight_.upper_bound(start);
    if (it != in_flight_.begin() && std::prev(it)->second > start) {
      start = std::prev(it)->second;
    }
    while (start < end) {
      const uint64_t piece_end = (it != in_flight_.end() && it->first < end) ? it->first : end;
      if (piece_end > start) pieces.push_back({start, piece_end - start});
      if (piece_end == end) break;
      start = it->second;
      ++it;
    }
  }
  std::sort(pieces.begin(), pieces.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
  // Join adjacent and overlapping pieces, up to max_batch_ bytes a range.
  std::vector<ByteRange> out;
  for (const ByteRange& p : pieces) {
    if (out.empty() || p.offset > out.back().end()) {
      out.push_back(p);
      continue;
    }
    ByteRange& last = out.back();
    if (p.end() <= last.end()) continue;  // covered
    const uint64_t joined = p.end() - last.offset;
    if (joined <= max_batch_) {
      last.length = joined;
    } else {
      const uint64_t start = last.end();
      out.push_back({start, p.end() - start});
    }
  }
  return out;
}

uint64_t RequestQueue::StartFlight(uint64_t offset, uint64_t length) {
  MutexLock lock(&mutex_);
  auto it = in_flight_.upper_bound(offset);
  if (it != in_flight_.begin() && std::prev(it)->second > offset) return 0;
  uint64_t end = offset + length;
  if (it != in_flight_.end() && it->first < end) end = it->first;
  if (end <= offset) return 0;
  in_flight_.emplace(offset, end);
  return end - offset;
}

void RequestQueue::EndFlight(uint64_t offset, uint64_t length) {
  MutexLock lock(&mutex_);
  auto it = in_flight_.find(offset);
  if (it != in_flight_.end() && it->second == offset + length) in_flight_.erase(it);
}

size_t RequestQueue::InFlight() {
  MutexLock lock(&mutex_);
  return in_flight_.size();
}

void RequestQueue::Close() {
  {
    MutexLock lock(&mutex_);
    closed_ = true;
    cv_.NotifyAll();
  }
  if (notify_) notify_();
}

bool RequestQueue::closed() {
  MutexLock lock(&mutex_);
  return closed_;
}

}  // namespace upager::internal
